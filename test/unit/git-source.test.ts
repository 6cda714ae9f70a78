// git_url address rules (issue 9): which addresses are public, how every URL form is checked after
// DNS resolution, the operator's allow list, and the options that pin a clone to what was checked.
import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { nonPublicKind, parseIp } from "../../src/lib/ip-address";
import { checkGitSource, clonePlan, GitSourceRefused, parseGitRemote, type GitPolicy, type Resolver } from "../../src/lib/git-source";
import { gitCloneCommands } from "../../src/lib/git";
import { loadServeConfig } from "../../src/config";
import { ZodError } from "zod";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(120_000);

const kind = (a: string) => nonPublicKind(parseIp(a)!);
const member: GitPolicy = { allowLocal: false, allow: [], unresolved: "accept" };
const beforeClone: GitPolicy = { allowLocal: true, allow: [], unresolved: "refuse" };
const dns = (table: Record<string, string[]>): Resolver => async (host) => {
  if (!table[host]) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
  return table[host]!;
};
async function refusal(url: string, policy: GitPolicy = member, resolve?: Resolver): Promise<string> {
  try {
    await checkGitSource(url, policy, resolve);
  } catch (e) {
    expect(e).toBeInstanceOf(GitSourceRefused);
    return (e as Error).message;
  }
  throw new Error(`expected ${url} to be refused`);
}

describe("address classes", () => {
  test("loopback, private, link-local, CGNAT, unspecified and their IPv6 forms are not public", () => {
    const cases: [string, RegExp][] = [
      ["127.0.0.1", /loopback/],
      ["127.255.0.9", /loopback/],
      ["10.1.2.3", /private/],
      ["172.16.0.1", /private/],
      ["172.31.255.255", /private/],
      ["192.168.1.1", /private/],
      ["169.254.169.254", /link-local/],
      ["100.64.0.1", /CGNAT/],
      ["100.127.255.254", /CGNAT/],
      ["0.0.0.0", /unspecified/],
      ["224.0.0.1", /multicast/],
      ["255.255.255.255", /reserved/],
      ["::", /unspecified/],
      ["::1", /loopback/],
      ["fe80::1", /link-local/],
      ["febf:ffff::1", /link-local/],
      ["fc00::1", /private/],
      ["fd12:3456::1", /private/],
      ["::ffff:127.0.0.1", /loopback, inside an IPv6 address/],
      ["::ffff:7f00:1", /loopback, inside an IPv6 address/],
      ["::ffff:10.0.0.1", /private, inside/],
      ["::ffff:169.254.169.254", /link-local, inside/],
      ["::ffff:0.0.0.0", /unspecified, inside/],
      ["::127.0.0.1", /loopback, inside/],
      ["64:ff9b::a00:1", /private, inside/],
      ["2002:7f00:1::", /loopback, inside/],
      ["2001::1", /Teredo/],
      ["[::1]", /loopback/],
      ["fe80::1%eth0", /link-local/],
    ];
    for (const [a, k] of cases) expect([a, kind(a)]).toEqual([a, expect.stringMatching(k)]);
  });

  test("public addresses stay public (also mapped into IPv6)", () => {
    for (const a of ["8.8.8.8", "140.82.121.3", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2a00:1450::1"]) expect([a, kind(a)]).toEqual([a, null]);
  });

  test("only real addresses parse", () => {
    for (const s of ["256.0.0.1", "1.2.3", "1.2.3.4.5", "::g", "1:2:3:4:5:6:7:8:9", "1::2::3", "example.com", ""]) expect([s, parseIp(s)]).toEqual([s, null]);
  });
});

describe("checkGitSource", () => {
  test("names are judged by what they resolve to: localhost (real resolver) and names pointing inside", async () => {
    expect(await refusal("https://localhost/acme/app.git")).toMatch(/'localhost' resolves to (127\.0\.0\.1|::1) \(loopback\)/);
    expect(await refusal("https://LOCALHOST./x.git")).toMatch(/loopback/);
    const evil = dns({ "git.evil.test": ["140.82.121.3", "10.0.0.7"], "v6.evil.test": ["::ffff:127.0.0.1"], "meta.evil.test": ["169.254.169.254"] });
    expect(await refusal("https://git.evil.test/x.git", member, evil)).toContain("resolves to 10.0.0.7 (private)"); // every answer must be public
    expect(await refusal("ssh://git@v6.evil.test/x.git", member, evil)).toContain("loopback, inside an IPv6 address");
    expect(await refusal("git@meta.evil.test:acme/app.git", member, evil)).toContain("link-local");
    expect(await refusal("https://git.evil.test/x.git", member, evil)).toContain("--git-allow-hosts");
  });

  test("address literals in every spelling the URL parser accepts", async () => {
    for (const url of [
      "http://127.0.0.1:3000/acme/app",
      "http://0x7f.1/x.git",
      "http://2130706433/x.git",
      "http://017700000001/x.git",
      "https://[::1]/x.git",
      "https://[::ffff:127.0.0.1]/x.git",
      "https://[::ffff:7f00:1]/x.git",
      "git://0.0.0.0/x.git",
      "https://[::]/x.git",
      "ssh://git@[fe80::1]:22/x.git",
      "https://user@169.254.169.254/latest/meta-data",
      "http://evil.com@192.168.0.1/x.git",
    ]) {
      expect([url, await refusal(url)]).toEqual([url, expect.stringMatching(/only public addresses are allowed/)]);
    }
  });

  test("transports: file:// for administrators only, ext::/file:: helpers, local paths and other schemes never", async () => {
    expect(await refusal("file:///srv/git/app.git")).toContain("only server administrators");
    expect((await checkGitSource("file:///srv/git/app.git", { ...member, allowLocal: true })).remote.transport).toBe("file");
    for (const url of ["ext::sh -c id", "file::/srv/repo", "fd::3", "/srv/git/app.git", "../app.git", "ftp://example.com/x.git", "https://a.example\\@127.0.0.1/x"]) {
      const message = await refusal(url, { ...member, allowLocal: true });
      expect([url, message]).toEqual([url, expect.stringMatching(/remote helpers|local paths|not allowed|backslashes/)]);
    }
  });

  test("public answers pass with the addresses to pin; names that do not resolve: accepted when saved, refused before a clone", async () => {
    const r = dns({ "github.com": ["140.82.121.3"] });
    expect(await checkGitSource("https://github.com/acme/app.git", member, r)).toMatchObject({ addresses: ["140.82.121.3"], remote: { host: "github.com", port: 443 } });
    expect((await checkGitSource("https://nowhere.invalid/x.git", member, r)).addresses).toEqual([]);
    expect(await refusal("https://nowhere.invalid/x.git", beforeClone, r)).toContain("does not resolve");
  });

  test("--git-allow-hosts: CIDRs, addresses, names and *.suffix open private hosts", async () => {
    const r = dns({ "git.corp.example": ["10.0.0.5"], "gitea.lab.example": ["192.168.1.9"] });
    const allow = (entries: string[]) => ({ ...member, allow: entries });
    expect((await checkGitSource("http://127.0.0.1:3000/acme/app", allow(["127.0.0.0/8"]))).addresses).toEqual(["127.0.0.1"]);
    expect((await checkGitSource("https://git.corp.example/x.git", allow(["10.0.0.0/8"]), r)).addresses).toEqual(["10.0.0.5"]);
    expect((await checkGitSource("https://git.corp.example/x.git", allow(["git.corp.example"]), r)).addresses).toEqual([]); // git resolves a trusted name itself
    expect((await checkGitSource("git@gitea.lab.example:a/b.git", allow(["*.lab.example"]), r)).remote.transport).toBe("ssh");
    expect(await refusal("https://git.corp.example/x.git", allow(["192.168.0.0/16", "other.example"]), r)).toContain("10.0.0.5 (private)");
  });
});

describe("clonePlan: what git is run with", () => {
  test("https: only this transport, no redirects, curl pinned to the checked addresses", () => {
    const plan = clonePlan({ remote: parseGitRemote("https://token@github.com/acme/app.git"), addresses: ["140.82.121.3", "2606:50c0::1"] });
    expect(plan.url).toBe("https://token@github.com/acme/app.git");
    expect(plan.config).toEqual([
      "-c", "protocol.allow=never",
      "-c", "protocol.https.allow=always",
      "-c", "http.followRedirects=false",
      "-c", "http.curloptResolve=github.com:443:140.82.121.3,[2606:50c0::1]",
    ]);
  });

  test("ssh and git:// are given the checked address instead of the name", () => {
    expect(clonePlan({ remote: parseGitRemote("git@github.com:acme/app.git"), addresses: ["140.82.121.3"] }).url).toBe("git@140.82.121.3:acme/app.git");
    expect(clonePlan({ remote: parseGitRemote("ssh://git@example.com:2222/acme/app.git"), addresses: ["2001:4860::8888"] }).url).toBe("ssh://git@[2001:4860::8888]:2222/acme/app.git");
    const git = clonePlan({ remote: parseGitRemote("git://example.com/app.git"), addresses: ["93.184.216.34"] });
    expect(git.url).toBe("git://93.184.216.34/app.git");
    expect(git.config).toEqual(["-c", "protocol.allow=never", "-c", "protocol.git.allow=always"]);
  });

  test("file:// (administrators) allows exactly the file transport", () => {
    expect(clonePlan({ remote: parseGitRemote("file:///srv/repo"), addresses: [] })).toEqual({ url: "file:///srv/repo", config: ["-c", "protocol.allow=never", "-c", "protocol.file.allow=always"] });
  });

  test("the options reach every network step of the clone commands", () => {
    const cfg = ["-c", "protocol.allow=never"];
    expect(gitCloneCommands("https://h/r", "main", "/d", cfg)).toEqual([["git", "-c", "protocol.allow=never", "clone", "-q", "--depth", "1", "--branch", "main", "--", "https://h/r", "/d"]]);
    const sha = "a".repeat(40);
    expect(gitCloneCommands("https://h/r", sha, "/d", cfg)[1]).toEqual(["git", "-c", "protocol.allow=never", "-C", "/d", "fetch", "-q", "--depth", "1", "--", "https://h/r", sha]);
  });
});

describe("the serve settings", () => {
  test("--git-allow-hosts takes comma separated CIDRs, addresses and names (flag or ANCLA_GIT_ALLOW_HOSTS); --max-context-entries defaults to 100,000", () => {
    expect(loadServeConfig({ "git-allow-hosts": "10.0.0.0/8, git.internal,*.corp.example,::1" }, {}).gitAllowHosts).toEqual(["10.0.0.0/8", "git.internal", "*.corp.example", "::1"]);
    expect(loadServeConfig({}, { ANCLA_GIT_ALLOW_HOSTS: "192.168.0.0/16" }).gitAllowHosts).toEqual(["192.168.0.0/16"]);
    expect(loadServeConfig({}, {})).toMatchObject({ gitAllowHosts: [], maxContextEntries: 100_000 });
    expect(loadServeConfig({ "max-context-entries": "5000" }, {}).maxContextEntries).toBe(5000);
    for (const bad of ["10.0.0.0/33", "http://x", "a b", "-evil"]) expect(() => loadServeConfig({ "git-allow-hosts": bad }, {})).toThrow(ZodError);
  });
});
