// `ancla envs create|update|get|check` for a Kubernetes environment against a live server: the
// kubeconfig is read from a file and never printed back (server, context and fingerprint are); the
// registry password comes from a file or stdin; a failing check exits non-zero naming what failed.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ancla, startLiveServer, type CliResult, type LiveServer } from "../support/server";

setDefaultTimeout(300_000);

let s: LiveServer;
let dir: string;
const TOKEN = "cli-kube-token-9f8e7d6c";
const PASSWORD = "cli-registry-pass-1a2b3c";

const cli = (args: string[], stdin?: string): Promise<CliResult> => ancla(args, { home: s.home, cwd: dir, stdin, env: { ANCLA_SERVER: s.url, ANCLA_API_KEY: s.adminKey } });
async function ok(args: string[], stdin?: string): Promise<CliResult> {
  const r = await cli(args, stdin);
  if (r.code !== 0) throw new Error(`ancla ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r;
}

beforeAll(async () => {
  s = await startLiveServer();
  dir = mkdtempSync(join(tmpdir(), "ancla-cli-kube-"));
  // a port nothing listens on: the check must say the API server cannot be reached
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const port = probe.port;
  probe.stop(true);
  writeFileSync(
    join(dir, "kubeconfig.yaml"),
    `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: { server: "https://127.0.0.1:${port}" }
users:
- name: u
  user: { token: "${TOKEN}" }
contexts:
- name: staging-cluster
  context: { cluster: c, user: u }
current-context: staging-cluster
`,
  );
  writeFileSync(join(dir, "registry-password"), PASSWORD + "\n");
  await ok(["orgs", "create", "Acme", "--slug", "acme"]);
  await ok(["projects", "create", "acme/web"]);
});
afterAll(async () => {
  await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("envs for a kubernetes cluster", () => {
  test("create from a kubeconfig file and a registry; get shows the cluster, never the credentials", async () => {
    const created = await ok(["envs", "create", "acme/web/cluster", "--target", "kubernetes", "--kubeconfig", "kubeconfig.yaml", "--registry", "127.0.0.1:5000", "--json"]);
    expect(created.json()).toMatchObject({ target: "kubernetes", kubeconfig_set: true, context: null, namespace: "ancla-acme-web-cluster", registry_url: "127.0.0.1:5000" });
    const shown = await ok(["envs", "get", "acme/web/cluster"]);
    expect(shown.stdout).toMatch(/^cluster:\s+https:\/\/127\.0\.0\.1:\d+$/m);
    expect(shown.stdout).toMatch(/^kubeconfig:\s+sha256:[0-9a-f]{16}$/m);
    expect(shown.stdout).toMatch(/^registry:\s+127\.0\.0\.1:5000$/m);
    expect(shown.stdout + created.stdout).not.toContain(TOKEN);
  });

  test("update sets registry credentials from a file or stdin and the context; bad input exits non-zero", async () => {
    const u = await ok(["envs", "update", "acme/web/cluster", "--registry-username", "ci", "--registry-password-file", "registry-password", "--ingress-class", "nginx", "--json"]);
    expect(u.json()).toMatchObject({ registry_username: "ci", registry_password_set: true, ingress_class: "nginx" });
    expect(u.stdout).not.toContain(PASSWORD);
    const viaStdin = await ok(["envs", "update", "acme/web/cluster", "--registry-password-file", "-", "--context", "staging-cluster", "--json"], PASSWORD + "\n");
    expect(viaStdin.json()).toMatchObject({ context: "staging-cluster", registry_password_set: true });
    const missing = await cli(["envs", "update", "acme/web/cluster", "--kubeconfig", "nope.yaml"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot read the kubeconfig nope.yaml");
    const badContext = await cli(["envs", "update", "acme/web/cluster", "--context", "other"]);
    expect(badContext.code).not.toBe(0);
    expect(badContext.stderr).toContain("no entry named 'other'");
  });

  test("check exits non-zero and names the API server it could not reach", async () => {
    const r = await cli(["envs", "check", "acme/web/cluster"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("api_server: cannot reach the API server");
    expect(r.stderr).not.toContain(TOKEN);
    expect(r.stderr).not.toContain(PASSWORD);
  });
});
