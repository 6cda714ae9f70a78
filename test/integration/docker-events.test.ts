// The Docker event watcher against the real engine, reached through a unix-socket relay that the
// test can cut and bring back — what an engine restart looks like to Ancla (restarting the shared
// engine itself would take every other suite down with it): the stream is reported lost, comes
// back with backoff, reports the reconnect (the self-healing loop resyncs on it) and events flow again.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import Docker from "dockerode";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket, TCPSocketListener, UnixSocketListener } from "bun";
import { watchContainerEvents, type ContainerEvent } from "../../src/targets/docker/events";
import { ensureBaseImage, removeLabelled, RUN_ID, TEST_RUN_LABEL, testDocker } from "../support/docker";

setDefaultTimeout(300_000);

const ENGINE = (process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock").replace(/^unix:\/\//, "");
const dir = mkdtempSync(join(tmpdir(), "ancla-events-"));
const relayPath = join(dir, "docker.sock");

type Pair = { client: Socket<Pair>; engine?: Socket<Pair>; pending: Uint8Array[] };

/** Byte relay: every connection to relayPath is piped to the engine's socket. */
function startRelay(): { stop: () => void } {
  const open = new Set<Pair>();
  const listener: UnixSocketListener<Pair> | TCPSocketListener<Pair> = Bun.listen<Pair>({
    unix: relayPath,
    socket: {
      open(client) {
        const pair: Pair = { client, pending: [] };
        client.data = pair;
        open.add(pair);
        void Bun.connect<Pair>({
          unix: ENGINE,
          socket: {
            open(engine) {
              engine.data = pair;
              pair.engine = engine;
              for (const chunk of pair.pending) engine.write(chunk);
              pair.pending = [];
            },
            data: (_s, chunk) => void pair.client.write(chunk),
            close: () => void pair.client.end(),
            error: () => void pair.client.end(),
          },
        }).catch(() => client.end());
      },
      data(client, chunk) {
        const pair = client.data;
        if (pair.engine) pair.engine.write(chunk);
        else pair.pending.push(new Uint8Array(chunk));
      },
      close(client) {
        client.data.engine?.end();
        open.delete(client.data);
      },
    },
  });
  return {
    stop() {
      listener.stop(true);
      for (const p of open) {
        p.engine?.terminate();
        p.client.terminate();
      }
      rmSync(relayPath, { force: true });
    },
  };
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

beforeAll(async () => {
  await ensureBaseImage();
});

afterAll(async () => {
  await removeLabelled(`${TEST_RUN_LABEL}=${RUN_ID}`);
  rmSync(dir, { recursive: true, force: true });
});

/** A managed-looking container (no service id: no Ancla server acts on it) that starts and exits. */
async function blip(name: string): Promise<string> {
  const c = await testDocker().createContainer({
    name: `ancla-events-${RUN_ID}-${name}`,
    Image: "ancla-test/busybox",
    Cmd: ["true"],
    Labels: { "dev.ancla.managed": "true", [TEST_RUN_LABEL]: RUN_ID },
  });
  await c.start();
  return c.id;
}

test("the event stream survives the engine going away: lost → retried with backoff → reconnected (resync) → events again", async () => {
  let relay = startRelay();
  const events: ContainerEvent[] = [];
  const lost: { error: string; retryInMs: number }[] = [];
  let connects = 0;
  const watcher = watchContainerEvents(new Docker({ socketPath: relayPath }), {
    onEvent: (e) => events.push(e),
    onConnect: () => connects++,
    onDisconnect: (error, retryInMs) => lost.push({ error, retryInMs }),
  });
  try {
    await until("the first connect", () => connects === 1);
    const first = await blip("one");
    await until("its start and die events", () => events.some((e) => e.id === first && e.action === "die"));
    expect(events.find((e) => e.id === first && e.action === "die")?.attributes.exitCode).toBe("0");

    relay.stop(); // the engine is gone: the stream ends, reconnects fail until it is back
    await until("two failed reconnects", () => lost.length >= 3);
    expect(lost[1]!.retryInMs).toBeGreaterThan(lost[0]!.retryInMs); // backoff grows
    expect(watcher.connected()).toBe(false);

    relay = startRelay();
    await until("the reconnect", () => connects === 2, 40_000);
    const second = await blip("two");
    await until("events after the reconnect", () => events.some((e) => e.id === second && e.action === "start"));
  } finally {
    watcher.stop();
    relay.stop();
  }
});
