// The router's bound on idle keep-alive connections: past its open-file threshold the idle ones
// are closed (clients reconnect), below it they stay; the router keeps answering either way.
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { startRouter, type RunningRouter } from "../../src/router/proxy";
import { RouteTable } from "../../src/router/table";
import { openFileLimit, openFiles } from "../../src/router/fd-pressure";

setDefaultTimeout(120_000);

let router: RunningRouter | undefined;
let sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets = [];
  await router?.stop();
  router = undefined;
});

/** `n` keep-alive connections that each made one request (404: unknown host) and then sit idle. */
async function idleConnections(port: number, n: number): Promise<{ closed: () => number }> {
  let closed = 0;
  await Promise.all(
    Array.from({ length: n }, () => new Promise<void>((resolve) => {
      const s = connect(port, "127.0.0.1");
      sockets.push(s);
      s.on("error", () => {});
      s.on("close", () => closed++);
      s.once("data", () => resolve());
      s.on("connect", () => s.write("GET / HTTP/1.1\r\nHost: nobody.localhost\r\n\r\n"));
    })),
  );
  return { closed: () => closed };
}

describe("idle keep-alive connections under descriptor pressure", () => {
  test("the process's descriptors and their limit are readable here (Linux /proc)", () => {
    expect(openFiles()).toBeGreaterThan(0);
    expect(openFileLimit()).toBeGreaterThan(openFiles()!);
  });

  test("past the threshold every idle one is closed, and the router still answers", async () => {
    const warnings: Record<string, unknown>[] = [];
    router = startRouter({ hostname: "127.0.0.1", port: 0, table: new RouteTable(), maxOpenFiles: openFiles()! + 20, onError: (_m, f) => warnings.push(f ?? {}) });
    const conns = await idleConnections(router.port, 40); // 80 descriptors: both ends live here
    for (let i = 0; i < 100 && conns.closed() < 40; i++) await Bun.sleep(100);
    expect(conns.closed()).toBe(40);
    expect(warnings[0]).toMatchObject({ closed: 40 });
    expect((await fetch(router.url, { headers: { host: "nobody.localhost" } })).status).toBe(404);
  });

  test("below it they stay open (keep-alive as usual)", async () => {
    router = startRouter({ hostname: "127.0.0.1", port: 0, table: new RouteTable(), maxOpenFiles: openFiles()! + 1000 });
    const conns = await idleConnections(router.port, 40);
    await Bun.sleep(2500);
    expect(conns.closed()).toBe(0);
  });
});
