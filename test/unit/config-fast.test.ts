// `ancla serve` reads its settings without zod when it can (src/config.ts FAST): whenever that path
// gives an answer it must be exactly the schema's, and it must give one for ordinary settings.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { ZodError } from "zod";
import { fastServeConfig, isSwitchSetting, loadServeConfig, SERVE_KEYS, serveConfigSchema, settingIssue } from "../../src/config";

setDefaultTimeout(30_000); // the first test loads zod and builds the schema from source

const CANDIDATES: Record<string, string[]> = {
  dataDir: ["/srv/ancla", "", " ", "relative/dir"],
  listen: ["127.0.0.1:8000", "0.0.0.0:0", "[::1]:8000", "[::]:65535", "localhost:99999", "nohost", ":80", "a b:80", "127.0.0.1:123456"],
  router: ["127.0.0.1:8080", "host.example:80", "bad"],
  domain: ["apps.example.com", ""],
  publicUrl: ["https://ancla.example.com", "not a url", ""],
  adminEmail: ["ops@example.com", "nope", "a@b", "a @b"],
  masterKey: ["", "abc", "x".repeat(64)],
  maxContextSize: ["1", "0", "-1", "1.5", "1e3", " 12 ", "", "abc", "9007199254740993", "0x10", "Infinity", "512MiB", "512M", "1.5GiB", "2GB", "2 gib", "0MiB", "1PiB"],
  maxContextEntries: ["100", "0"],
  maxVolumeRestoreSize: ["34359738368", "0", "1.5", "32GiB", "8191TiB", "8192TiB"],
  maxVolumeRestoreEntries: ["1000000", "0"],
  gitAllowHosts: ["10.0.0.0/8", "git.internal, *.corp.example", "", "bad host!"],
  buildConcurrency: ["1", "16", "17", "0", "2.0"],
  sampleInterval: ["1", "0", "60"],
  containerLabels: ["a=1", "dev.ancla.test-run=t123, team=blue", "empty=", "oops", "", ",", "a=1,,b=2", "a=b,c"],
  metricsToken: ["x".repeat(16), "short"],
  https: ["0.0.0.0:443", "bad"],
  acmeEmail: ["a@b.c", "bad"],
  acmeDirectory: ["https://acme-staging-v02.api.letsencrypt.org/directory", "nope"],
  dnsServer: ["1.1.1.1:53", "1.1.1.1"],
  routerMaxBodySize: ["1024", "0", "1G", "10KB"],
  routerMaxPerClient: ["1", "0"],
  wsDrainTimeout: ["0", "3600", "3601", "-0"],
  logFormat: ["text", "json", "JSON", ""],
  logLevel: ["debug", "info", "warn", "error", "trace"],
  healthNotFoundTimeout: ["0", "3600", "-1"],
  reloadTimeout: ["1", "0", "3600"],
  backupEvery: ["24h", "30s", "7d"],
  backupKeep: ["1", "1000", "1001"],
  backupDir: ["/backups", ""],
  backupIncludeKey: ["true", "false", "1", "0", "yes", "no", "TRUE", ""],
  githubWebhookSecret: ["12345678", "short"],
  githubApiUrl: ["https://ghe.example/api/v3", "x"],
  githubToken: ["t", ""],
  ssh: ["off", "127.0.0.1:2222", "OFF", "nope"],
  registryIssuer: ["ancla", "", "x".repeat(256)],
};

/** The schema's answer: its value, or "rejects". */
const bySchema = (raw: Record<string, string>) => {
  const r = serveConfigSchema.safeParse(raw);
  return r.success ? r.data : "rejects";
};

describe("serve settings without zod", () => {
  test("FAST covers every setting of the schema, in its order", () => {
    expect(SERVE_KEYS as string[]).toEqual(Object.keys(serveConfigSchema.shape));
    expect(Object.keys(CANDIDATES).sort()).toEqual([...SERVE_KEYS].sort());
    expect(SERVE_KEYS.filter(isSwitchSetting)).toEqual(["backupIncludeKey"]);
  });

  test("its answer is the schema's whenever it gives one, and it gives one for ordinary values", () => {
    let answered = 0;
    const check = (raw: Record<string, string>) => {
      const fast = fastServeConfig(raw);
      if (fast === null) return;
      answered++;
      expect(fast).toStrictEqual(bySchema(raw) as typeof fast);
    };
    check({});
    for (const [key, values] of Object.entries(CANDIDATES)) for (const v of values) check({ [key]: v });
    // every value of every setting at once, one value per setting per round
    for (let i = 0; i < 12; i++) check(Object.fromEntries(Object.entries(CANDIDATES).map(([k, vs]) => [k, vs[i % vs.length]!])));
    expect(answered).toBeGreaterThan(60);
  });

  test("defaults and the usual flags and variables are read without zod", () => {
    const usual: Record<string, string>[] = [
      {},
      { dataDir: "/var/lib/ancla", listen: "0.0.0.0:8000", router: "0.0.0.0:80", ssh: "off" },
      { domain: "apps.example.com", logFormat: "json", logLevel: "warn", containerLabels: "team=ops", backupKeep: "14", backupIncludeKey: "true", https: "0.0.0.0:443", acmeEmail: "ops@example.com" },
    ];
    for (const raw of usual) expect(fastServeConfig(raw)).toStrictEqual(serveConfigSchema.parse(raw));
  });

  test("a value it is not sure of goes to the schema: the same value, or zod's error", () => {
    expect(fastServeConfig({ publicUrl: "https://ancla.example.com" })).toBeNull();
    expect(loadServeConfig({ "public-url": "https://ancla.example.com", "backup-every": "24h" }, {})).toMatchObject({ publicUrl: "https://ancla.example.com", backupEvery: 86_400_000 });
    let thrown: unknown;
    try {
      loadServeConfig({ listen: "nope" }, {});
    } catch (e) {
      thrown = e;
    }
    expect(settingIssue(thrown)).toBe("--listen (ANCLA_LISTEN): must be host:port");
    // the schema's zod is the one every module imports (not the package's CommonJS copy): the CLI's
    // `instanceof ZodError` checks (ops.ts) see its errors
    expect(thrown).toBeInstanceOf(ZodError);
    expect(settingIssue(new Error("other"))).toBeNull();
  });
});
