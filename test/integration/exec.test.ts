// Exec into a running replica on the real Docker engine: POST …/exec hands out a single-use token,
// Debian's OpenSSH client runs commands with it through the built-in SSH server (pipes, exit
// status, stdin EOF, a PTY driven by expect), the WebSocket route does the same for our CLI;
// reused, expired and foreign tokens are refused, 409 when nothing runs, every exec is audited.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deployHarness, type DeployHarness } from "../fixtures/webapp/support";
import { createApp } from "../../src/app";
import { startSshServer, type RunningSshServer, HOST_KEY_FILE, MAX_SOCKETS_PER_ADDRESS } from "../../src/modules/exec/ssh-server";
import { setExecEndpoint } from "../../src/modules/exec/sessions";
import { testDocker } from "../support/docker";

setDefaultTimeout(300_000);

let h: DeployHarness;
let ssh: RunningSshServer;
let api: { url: string; stop: () => void };
let serviceId = "";
const tmp = mkdtempSync(join(tmpdir(), "ancla-exec-"));
/** The SSH server's authentication timeout here (AUTH_TIMEOUT_MS, 15 s, in the server): long enough for a loaded machine's ssh handshake. */
const AUTH_WAIT_MS = 8_000;
const INDEX = readFileSync(join(import.meta.dir, "../fixtures/webapp/www/index.html"), "utf8");

const execPath = () => `${h.base()}/app/exec`;
async function token(body: Record<string, unknown> = { process: "web", command: "/bin/sh" }, key = h.key) {
  const r = await h.t.req("POST", execPath(), body, { key });
  expect(r.status).toBe(201);
  return r.body as { host: string; port: number; token: string; websocket_url: string };
}

/** Debian's OpenSSH client, as the published CLI runs it (argument array, no shell). */
async function runSsh(tok: string, command: string[] = [], stdin?: string) {
  const proc = Bun.spawn(
    ["ssh", "-p", String(ssh.port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", `token:${tok}@127.0.0.1`, ...command],
    { stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe" },
  );
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

beforeAll(async () => {
  h = await deployHarness("exe");
  serviceId = await h.service("app", { deployment_timeout: 60 });
  await h.build("app");
  const rel = await h.release(serviceId);
  expect((await h.deploy(rel.release_id)).status).toBe("complete");
  await h.service("idle");
  // the server's 15 s authentication timeout (AUTH_TIMEOUT_MS) shortened: one test waits it out
  ssh = await startSshServer(h.t.deps, "127.0.0.1", 0, { authTimeoutMs: AUTH_WAIT_MS });
  setExecEndpoint(h.t.deps, { sshHost: "127.0.0.1", sshPort: ssh.port });
  const app = createApp(h.t.deps).listen({ hostname: "127.0.0.1", port: 0 });
  api = { url: `http://127.0.0.1:${app.server!.port}`, stop: () => void app.stop(true) };
});
afterAll(async () => {
  api?.stop();
  await ssh?.close();
  await h?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe("exec over SSH (the published CLI's flow)", () => {
  test("the host key is made on first start in the data dir, readable by the owner only", () => {
    expect(statSync(join(h.t.deps.config.dataDir, HOST_KEY_FILE)).mode & 0o777).toBe(0o600);
  });

  test("POST …/exec answers host, port, token and websocket_url; ssh runs the command and returns its output and status", async () => {
    const t = await token();
    expect(t.host).toBe("127.0.0.1");
    expect(t.port).toBe(ssh.port);
    expect(t.websocket_url).toMatch(/^ws:\/\/.+\/api\/v1\/exec\/ws$/);
    const r = await runSsh(t.token, ["cat /www/index.html"]);
    expect(r.stdout).toBe(INDEX);
    expect(r.code).toBe(0);
    const failing = await runSsh((await token()).token, ["echo to-err >&2; exit 5"]);
    expect(failing.code).toBe(5);
    expect(failing.stderr).toContain("to-err");
  });

  test("stdin reaches the command and its end (EOF) ends it", async () => {
    const r = await runSsh((await token()).token, ["cat; echo done"], "line one\nline two\n");
    expect(r.stdout).toBe("line one\nline two\ndone\n");
    expect(r.code).toBe(0);
  });

  test("the id and org/project/app forms work too", async () => {
    const byId = await h.t.req("POST", `/api/v1/applications/${serviceId}/exec`, { process: "web", command: "/bin/sh" }, { key: h.key });
    expect(byId.status).toBe(201);
    const r = await runSsh(byId.body.token, ["echo by-id"]);
    expect(r.stdout).toBe("by-id\n");
    const byPath = await h.t.req("POST", `/api/v1/applications/${h.org}/web/app/exec`, { process: "web" }, { key: h.key });
    expect(byPath.status).toBe(201);
  });

  test("a used token is refused", async () => {
    const t = await token();
    expect((await runSsh(t.token, ["true"])).code).toBe(0);
    const again = await runSsh(t.token, ["cat /www/index.html"]);
    expect(again.code).toBe(255);
    expect(again.stdout).toBe("");
    expect(again.stderr).toContain("Permission denied");
  });

  test("an expired token is refused (60 s)", async () => {
    const t = await token();
    const real = h.t.deps.clock;
    (h.t.deps as { clock: typeof real }).clock = { now: () => new Date(real.now().getTime() + 61_000) };
    try {
      const r = await runSsh(t.token, ["cat /www/index.html"]);
      expect(r.code).toBe(255);
      expect(r.stdout).toBe("");
    } finally {
      (h.t.deps as { clock: typeof real }).clock = real;
    }
  });

  test("a token of a user deactivated after asking for it is refused", async () => {
    const member = await h.t.user("exedeact");
    expect((await h.t.req("POST", `/api/v1/organizations/${h.org}/members`, { username: "exedeact" }, { key: h.key })).status).toBe(201);
    const t = await token({ process: "web" }, member.key);
    h.t.deps.sqlite.run("update users set active = 0 where username = 'exedeact'");
    const r = await runSsh(t.token, ["cat /www/index.html"]);
    expect(r.code).toBe(255);
    expect(r.stdout).toBe("");
  });

  test("connections that never identify themselves are bounded per address and closed after the authentication timeout", async () => {
    const { connect } = await import("node:net");
    const open = (n: number) =>
      Array.from({ length: n }, () => {
        const s = connect(ssh.port, "127.0.0.1");
        const closed = new Promise<number>((resolve) => s.on("close", () => resolve(Date.now())));
        s.on("error", () => {});
        s.resume(); // read the server's identification line, never answer it
        return { s, closed };
      });
    const started = Date.now();
    const silent = open(MAX_SOCKETS_PER_ADDRESS + 1);
    // one over the per-address bound goes at once; the others when they stay silent too long
    const first = await Promise.race(silent.map((c) => c.closed));
    expect(first - started).toBeLessThan(AUTH_WAIT_MS / 2);
    const all = await Promise.all(silent.map((c) => c.closed));
    // closed by the timeout, not before it
    expect(Math.max(...all) - started).toBeGreaterThanOrEqual(AUTH_WAIT_MS - 50);
    expect(Math.max(...all) - started).toBeLessThan(AUTH_WAIT_MS + 5_000);
    // and the server still serves a real client afterwards
    expect((await runSsh((await token()).token, ["true"])).code).toBe(0);
  }, 180_000);

  test("made-up tokens and other user names are refused", async () => {
    expect((await runSsh("ancla_exec_" + "x".repeat(40), ["true"])).code).toBe(255);
    const other = Bun.spawn(["ssh", "-p", String(ssh.port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "root@127.0.0.1", "true"], { stdout: "pipe", stderr: "pipe" });
    expect(await other.exited).toBe(255);
  });

  test("another organization's user cannot get a token (404); no token without a running replica (409)", async () => {
    const stranger = await h.t.user("exestranger");
    const r = await h.t.req("POST", execPath(), { process: "web" }, { key: stranger.key });
    expect(r.status).toBe(404);
    const idle = await h.t.req("POST", `${h.base()}/idle/exec`, { process: "web" }, { key: h.key });
    expect(idle.status).toBe(409);
    expect(idle.body.message).toContain("No web replica of idle is running");
    const worker = await h.t.req("POST", execPath(), { process: "worker" }, { key: h.key });
    expect(worker.status).toBe(409);
    const bad = await h.t.req("POST", execPath(), { process: "../web", command: "x" }, { key: h.key });
    expect(bad.status).toBe(422);
    const extra = await h.t.req("POST", execPath(), { process: "web", user: "root" }, { key: h.key });
    expect(extra.status).toBe(422);
  });

  test("an interactive PTY: the prompt appears, the window size is passed, `exit 3` returns 3", async () => {
    const t = await token();
    const script = join(tmp, "pty.exp");
    writeFileSync(
      script,
      [
        "set timeout 60",
        `spawn ssh -tt -p ${ssh.port} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR token:${t.token}@127.0.0.1`,
        "stty rows 33 columns 101 < $spawn_out(slave,name)",
        'expect "# "',
        'send "stty size; tty\\r"',
        'expect -re "33 101"',
        'expect "/dev/pts/"',
        'send "exit 3\\r"',
        "expect eof",
        "lassign [wait] pid spawnid os_error value",
        "exit $value",
      ].join("\n"),
    );
    const proc = Bun.spawn(["expect", script], { stdout: "pipe", stderr: "pipe" });
    const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    expect(out).toContain("33 101");
    expect(code).toBe(3);
  });
});

describe("exec over the WebSocket URL (our CLI)", () => {
  async function wsSession(first: Record<string, unknown>, input?: string) {
    const ws = new WebSocket(`${api.url.replace(/^http/, "ws")}/api/v1/exec/ws`);
    ws.binaryType = "arraybuffer";
    let out = "";
    let err = "";
    let exit: number | null | undefined;
    let error = "";
    const closed = new Promise<void>((resolve) => ws.addEventListener("close", () => resolve()));
    ws.addEventListener("message", (e) => {
      if (typeof e.data === "string") {
        const m = JSON.parse(e.data);
        if (m.type === "exit") exit = m.code;
        if (m.type === "error") error = m.message;
        return;
      }
      const bytes = new Uint8Array(e.data as ArrayBuffer);
      const text = new TextDecoder().decode(bytes.subarray(1));
      if (bytes[0] === 2) err += text;
      else out += text;
    });
    await new Promise((r) => ws.addEventListener("open", r));
    ws.send(JSON.stringify(first));
    if (input !== undefined) {
      // sent at once: input that comes while the command starts waits for it
      ws.send(new TextEncoder().encode(input));
      ws.send(JSON.stringify({ type: "eof" }));
    }
    await closed;
    return { out, err, exit, error };
  }

  test("runs the command with stdin, separates stderr and reports the exit status", async () => {
    const t = await token();
    const r = await wsSession({ token: t.token, tty: false, command: "cat; echo oops >&2; exit 4" }, "via websocket\n");
    expect(r.out).toBe("via websocket\n");
    expect(r.err).toBe("oops\n");
    expect(r.exit).toBe(4);
  });

  test("a command that prints megabytes the moment it starts delivers every byte, in order", async () => {
    // output before the session's first listener is kept (up to 1 MiB, then the stream waits): none of it is lost
    const t = await token({ process: "web", command: "/bin/sh" });
    const r = await wsSession({ token: t.token, tty: false, command: "head -c 3145728 /dev/zero | tr '\\0' x; echo; echo done" });
    expect(r.out.length).toBe(3145728 + "\ndone\n".length);
    expect(/^x+\ndone\n$/.test(r.out)).toBe(true);
    expect(r.exit).toBe(0);
  });

  test("a client that leaves right after sending its token leaves no command running in the replica", async () => {
    const r = await h.t.req("POST", execPath(), { process: "web", command: "cat" }, { key: h.key });
    expect(r.status).toBe(201);
    const ws = new WebSocket(`${api.url.replace(/^http/, "ws")}/api/v1/exec/ws`);
    await new Promise((ok) => ws.addEventListener("open", ok));
    ws.send(JSON.stringify({ token: r.body.token, tty: false }));
    ws.close();
    // `cat` only ends when its stdin does: the session finishes once nobody is attached any more
    const finished = () => (h.t.deps.sqlite.query("select finished_at from exec_sessions where id = ?").get(r.body.session_id) as { finished_at: string | null }).finished_at;
    const deadline = Date.now() + 60_000;
    while (!finished() && Date.now() < deadline) await Bun.sleep(200);
    expect(finished()).not.toBeNull();
  });

  test("a used token is refused there too", async () => {
    const t = await token();
    await wsSession({ token: t.token, command: "true" });
    const again = await wsSession({ token: t.token, command: "cat /www/index.html" });
    expect(again.out).toBe("");
    expect(again.error).toContain("not valid");
  });
});

describe("a client that disconnects ends what it started", () => {
  /** The command lines of the web replica's processes (busybox ps, through the engine, not through Ancla). */
  async function processes(): Promise<string> {
    const [c] = await testDocker().listContainers({ filters: { label: [`dev.ancla.service-id=${serviceId}`, "dev.ancla.process=web"] } });
    const ex = await testDocker().getContainer(c!.Id).exec({ Cmd: ["ps", "-o", "pid,args"], AttachStdout: true, AttachStderr: true });
    const stream = (await ex.start({ hijack: true, stdin: false } as never)) as unknown as NodeJS.ReadableStream;
    const chunks: Buffer[] = [];
    stream.on("data", (b: Buffer) => void chunks.push(b));
    await new Promise((r) => stream.on("end", r));
    return Buffer.concat(chunks).toString("latin1");
  }
  async function until(what: () => Promise<boolean>, ms = 30_000) {
    for (const deadline = Date.now() + ms; Date.now() < deadline; await Bun.sleep(250)) if (await what()) return true;
    return false;
  }

  test("an ssh client killed mid-command: the command is gone from the replica", async () => {
    const t = await token();
    const proc = Bun.spawn(["ssh", "-p", String(ssh.port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", `token:${t.token}@127.0.0.1`, "sleep 4321; echo never"], { stdout: "ignore", stderr: "ignore" });
    expect(await until(async () => (await processes()).includes("sleep 4321"))).toBe(true);
    proc.kill("SIGKILL");
    expect(await until(async () => !(await processes()).includes("sleep 4321"))).toBe(true);
  });

  test("a WebSocket client with a TTY shell leaves: the shell and the job it runs are gone", async () => {
    const t = await token();
    const ws = new WebSocket(`${api.url.replace(/^http/, "ws")}/api/v1/exec/ws`);
    ws.binaryType = "arraybuffer";
    await new Promise((ok) => ws.addEventListener("open", ok));
    ws.send(JSON.stringify({ token: t.token, tty: true, cols: 80, rows: 24 }));
    // a background job (its own process group under a job-control shell) and one in the foreground
    ws.send(new TextEncoder().encode("sleep 4322 &\rsleep 4323\r"));
    expect(await until(async () => /sleep 4322[\s\S]*sleep 4323|sleep 4323[\s\S]*sleep 4322/.test(await processes()))).toBe(true);
    ws.close();
    expect(await until(async () => !/sleep 432[23]/.test(await processes()))).toBe(true);
  });
});

describe("the exec audit", () => {
  test("org admins see every exec (who, service, command, exit status); others may not", async () => {
    const r = await h.t.req("GET", `/api/v1/orgs/${h.org}/exec-sessions?per_page=100`, undefined, { key: h.key });
    expect(r.status).toBe(200);
    const items = r.body.items as { command: string; exit_code: number | null; transport: string | null; username: string; service: string }[];
    const cat = items.find((i) => i.command === "cat /www/index.html" && i.exit_code === 0);
    expect(cat).toBeDefined();
    expect(cat!.transport).toBe("ssh");
    expect(cat!.service).toBe(`${h.org}/web/production/app`);
    expect(items.some((i) => i.transport === "websocket" && i.exit_code === 4)).toBe(true);
    expect(JSON.stringify(r.body)).not.toContain("ancla_exec_");
    const stranger = await h.t.user("exeauditor");
    expect((await h.t.req("GET", `/api/v1/orgs/${h.org}/exec-sessions`, undefined, { key: stranger.key })).status).toBe(404);
  });
});
