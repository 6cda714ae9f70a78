// The listener helpers a reload relies on, against real sockets: the no-reuse probe refuses a
// port a reuse listener holds, reuseport steering sends every new connection to the chosen group
// member, and the accept queue of a listener is visible before the process takes it.
import { expect, setDefaultTimeout, test } from "bun:test";
import { ownAcceptQueue, ownListenerFds, probeFreePort, steerPort, steerPorts } from "../../src/lib/listeners";

setDefaultTimeout(120_000);

const serve = (port: number, name: string) => Bun.serve({ hostname: "127.0.0.1", port, reusePort: true, fetch: () => new Response(name) });
const ask = async (port: number) => (await fetch(`http://127.0.0.1:${port}/`, { keepalive: false, headers: { connection: "close" } })).text();

test("probe: a port held with SO_REUSEPORT is still busy for a probe; a free one is returned", () => {
  const port = probeFreePort("127.0.0.1", 0);
  expect(port).toBeGreaterThan(0);
  const a = serve(port, "a");
  try {
    expect(() => probeFreePort("127.0.0.1", port)).toThrow();
  } finally {
    a.stop(true);
  }
});

test("probe: a port another process holds with SO_REUSEPORT is busy; once it lets go the probe binds it", async () => {
  const port = probeFreePort("127.0.0.1", 0);
  const other = Bun.spawn(["bun", "-e", `Bun.serve({ hostname: "127.0.0.1", port: ${port}, reusePort: true, fetch: () => new Response("other") }); console.log("up"); setInterval(() => {}, 1000)`], { stdout: "pipe" });
  try {
    await other.stdout.getReader().read(); // "up": it listens
    expect(() => probeFreePort("127.0.0.1", port)).toThrow(expect.objectContaining({ code: "EADDRINUSE" }));
  } finally {
    other.kill();
    await other.exited;
  }
  expect(probeFreePort("127.0.0.1", port)).toBe(port);
});

test("steering several ports at once: every port's new connections go to the chosen member", async () => {
  const [p1, p2] = [probeFreePort("127.0.0.1", 0), probeFreePort("127.0.0.1", 0)];
  const firsts = [serve(p1, "first"), serve(p2, "first")];
  expect(steerPorts([p1, p2], 0)).toBe(true);
  const seconds = [serve(p1, "second"), serve(p2, "second")];
  try {
    const askAll = () => Promise.all([p1, p2].flatMap((p) => Array.from({ length: 10 }, () => ask(p))));
    expect(new Set(await askAll())).toEqual(new Set(["first"]));
    expect(steerPorts([p1, p2], 1)).toBe(true);
    expect(new Set(await askAll())).toEqual(new Set(["second"]));
    expect(steerPorts([p1, probeFreePort("127.0.0.1", 0)], 0)).toBe(false); // a port we do not listen on
  } finally {
    [...firsts, ...seconds].forEach((s) => s.stop(true));
  }
});

test("steering: 0 keeps every new connection on the first listener, 1 sends them all to the second", async () => {
  const port = probeFreePort("127.0.0.1", 0);
  const first = serve(port, "first");
  expect(ownListenerFds(port)).toHaveLength(1);
  expect(steerPort(port, 0)).toBe(true);
  const second = serve(port, "second"); // what a reload's successor does
  try {
    const before = await Promise.all(Array.from({ length: 20 }, () => ask(port)));
    expect(new Set(before)).toEqual(new Set(["first"]));
    expect(steerPort(port, 1)).toBe(true);
    const after = await Promise.all(Array.from({ length: 20 }, () => ask(port)));
    expect(new Set(after)).toEqual(new Set(["second"]));
  } finally {
    first.stop(true);
    second.stop(true);
  }
});

test("accept queue: connections the kernel holds for us are counted until the event loop takes them", async () => {
  const port = probeFreePort("127.0.0.1", 0);
  const s = serve(port, "q");
  try {
    // another process connects while this one's event loop is blocked (python3 took over 10 s to
    // start and connect at load average 33, so the wait is a minute and it holds them until killed)
    const client = Bun.spawn(["python3", "-c", `import socket,time\ntime.sleep(0.5)\nss=[socket.create_connection(("127.0.0.1",${port})) for _ in range(3)]\ntime.sleep(90)`], { stdout: "ignore" });
    let queued = 0;
    const until = Date.now() + 60_000;
    while (queued < 3 && Date.now() < until) {
      Bun.sleepSync(100); // never yields: nothing is accepted meanwhile
      queued = ownAcceptQueue([port]);
    }
    expect(queued).toBe(3);
    await Bun.sleep(200); // the event loop runs: Bun accepts them
    expect(ownAcceptQueue([port])).toBe(0);
    client.kill();
  } finally {
    s.stop(true);
  }
});
