// WebSockets across a real redeploy: a tiny Bun WebSocket app (an image FROM the busybox base
// with the host's `bun` binary and the C libraries it needs copied in, built locally — no
// registry) deployed with two web replicas; 50 sockets open through the router are closed with
// 1001 once the drain time after the switch is over (none left hanging), while clients that
// connect during the redeploys never fail and reach the new release afterwards.
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import * as tar from "tar-stream";
import { deployHarness, type DeployHarness } from "../fixtures/webapp/support";
import { ensureBaseImage, RUN_ID, TEST_RUN_LABEL, testDocker } from "../support/docker";
import { waitForJob } from "../../src/jobs/queue";
import { routeTableOf } from "../../src/router/table";

setDefaultTimeout(300_000);

const IMAGE = `ancla-test/bun-ws-${RUN_ID}:1`;
const APP = `
const greeting = process.env.GREETING ?? "";
Bun.serve({
  hostname: "0.0.0.0",
  port: Number(process.env.PORT ?? 8000),
  fetch(req, server) {
    if (new URL(req.url).pathname === "/_health/") return new Response("ok");
    return server.upgrade(req) ? undefined : new Response(greeting);
  },
  websocket: { message(ws, m) { ws.send(m === "who" ? greeting : m); } },
});
`;
// the dynamic loader and libraries `bun` links against (ldd on Debian bookworm, amd64)
const LIBS = ["/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libpthread.so.0", "/lib/x86_64-linux-gnu/libdl.so.2", "/lib/x86_64-linux-gnu/libm.so.6", "/lib64/ld-linux-x86-64.so.2"];

async function buildBunImage(): Promise<void> {
  const base = await ensureBaseImage();
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on("data", (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise<void>((r) => pack.on("end", () => r()));
  const copies = LIBS.map((l, i) => `COPY lib${i} ${l}`).join("\n");
  pack.entry({ name: "Dockerfile" }, `FROM ${base}\nCOPY bun /bin/bun\n${copies}\nCOPY app.js /app/app.js\nCMD ["/bin/bun", "/app/app.js"]\n`);
  pack.entry({ name: "bun", mode: 0o755 }, readFileSync(process.execPath));
  LIBS.forEach((l, i) => pack.entry({ name: `lib${i}`, mode: 0o755 }, readFileSync(l)));
  pack.entry({ name: "app.js" }, APP);
  pack.finalize();
  await ended;
  const docker = testDocker();
  const stream = await docker.buildImage(Buffer.concat(chunks) as never, { t: IMAGE, labels: { [TEST_RUN_LABEL]: RUN_ID } });
  await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null, out: { error?: string }[]) => (err ? reject(err) : out.find((o) => o.error) ? reject(new Error(out.find((o) => o.error)!.error)) : resolve())));
}

let h: DeployHarness;
let appId: string;

async function deployWith(greeting: string) {
  await h.setVar("ws", "GREETING", greeting);
  const d = await h.deploy((await h.release(appId)).release_id);
  expect(d.status).toBe("complete");
}

/** One socket through the router: resolves when open; `ask` sends and waits for one answer. */
async function open() {
  const ws = new WebSocket(`ws://127.0.0.1:${h.router.port}/`, { headers: { host: h.host("ws") } } as never);
  const replies: string[] = [];
  let waiting: ((s: string) => void) | undefined;
  ws.onmessage = (e) => (waiting ? (waiting(String(e.data)), (waiting = undefined)) : replies.push(String(e.data)));
  const closed = new Promise<number>((r) => (ws.onclose = (e) => r(e.code)));
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("websocket did not open"));
    setTimeout(() => reject(new Error("websocket open timed out")), 10_000);
  });
  const ask = (m: string) =>
    new Promise<string>((resolve, reject) => {
      waiting = resolve;
      ws.send(m);
      setTimeout(() => reject(new Error("no answer within 10 s")), 10_000);
    });
  return { ws, closed, ask };
}

beforeAll(async () => {
  await buildBunImage();
  h = await deployHarness("wsr");
  appId = await h.service("ws", { image: IMAGE, process_counts: { web: 2 } });
  const r = await h.t.req("POST", `${h.base()}/ws/images/build`, undefined, { key: h.key });
  expect(r.status).toBe(201);
  expect((await waitForJob(h.t.deps, r.body.job_id, 120_000)).status).toBe("complete");
  await deployWith("v-1");
  routeTableOf(h.t.deps).wsDrainMs = 2000;
});

afterAll(async () => {
  await h?.close();
  await testDocker().getImage(IMAGE).remove({ force: true }).catch(() => {});
});

test("a redeploy with 50 sockets open closes them with 1001 after the drain; sockets opened meanwhile never fail", async () => {
  const sockets = await Promise.all(Array.from({ length: 50 }, () => open()));
  expect(new Set(await Promise.all(sockets.map((s) => s.ask("who"))))).toEqual(new Set(["v-1"]));

  let stop = false;
  const failures: string[] = [];
  const seen = new Set<string>();
  const churn = async () => {
    // bounded by `stop` (set after the last deploy), with a pause so two clients do not flood a busy host
    for (let i = 0; i < 20_000 && !stop; i++) {
      try {
        const s = await open();
        seen.add(await s.ask("who"));
        s.ws.close(1000);
        await s.closed;
      } catch (e) {
        failures.push((e as Error).message);
      }
      await Bun.sleep(10);
    }
  };
  const clients = [churn(), churn()];
  const started = Date.now();
  await deployWith("v-2");
  // the deploy waits for the drain, so by now every old socket has been told to go away
  const codes = await Promise.race([Promise.all(sockets.map((s) => s.closed)), Bun.sleep(10_000).then(() => null)]);
  expect(codes).not.toBeNull();
  expect(new Set(codes)).toEqual(new Set([1001]));
  expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
  await deployWith("v-3");
  await Bun.sleep(300);
  stop = true;
  await Promise.all(clients);
  expect(failures).toEqual([]);
  expect(seen.has("v-1") || seen.has("v-2")).toBe(true);
  expect(seen.has("v-3")).toBe(true);
  const fresh = await open();
  expect(await fresh.ask("who")).toBe("v-3");
  fresh.ws.close();
});
