// Bringing one replica back outside a rollout: start its stopped container again, or create a
// replacement from the same spec, and wait until it is ready (web: answers its health path on its
// new 127.0.0.1 port; other processes: still running after a short while). A replacement that
// does not become ready is removed again, so a failed attempt leaves nothing behind.
import type { DockerClient } from "./client";
import { probe } from "./deploy";
import * as engine from "./engine";
import type { ContainerSpec } from "./specs";
import type { ReadyCheck } from "../target";

export type { ReadyCheck };

export class NotReady extends Error {}

const POLL_MS = 200;
const STABLE_MS = 2000;

/** Resolves with the replica's host port (null for non-web) once ready; throws NotReady otherwise. */
export async function waitReady(docker: DockerClient, id: string, check: ReadyCheck, restartsBefore: number | null = null): Promise<number | null> {
  const deadline = Date.now() + check.timeoutMs;
  const since = Date.now();
  let last = "not ready";
  let restarts: number | null = null;
  for (;;) {
    if (check.signal?.aborted) throw new NotReady("stopped");
    const state = await engine.inspectReplica(docker, id, check.port);
    if (!state) throw new NotReady("the container disappeared");
    restarts ??= restartsBefore ?? state.restartCount; // a container just created has none: any is a crash
    if (!state.running || state.restarting) {
      const tail = await engine.containerTail(docker, id, 10);
      throw new NotReady(`exited with code ${state.exitCode ?? "?"}${state.oomKilled ? " (out of memory)" : ""}${tail ? `; last output: ${tail}` : ""}`);
    }
    // Docker's restart policy brought it back between two looks (the engine answers no inspect while
    // it starts a container, so on a busy host the short restarting spell can fall between them all)
    if (state.restartCount > restarts) {
      const tail = await engine.containerTail(docker, id, 10);
      throw new NotReady(`exited and was restarted by Docker ${state.restartCount - restarts} time(s) while starting${tail ? `; last output: ${tail}` : ""}`);
    }
    if (!check.web) {
      if (Date.now() - since >= STABLE_MS) return null;
    } else if (state.hostPort) {
      const problem = await probe(state.hostPort, check.healthCheckPath, check.healthCheckHost);
      if (!problem) return state.hostPort;
      last = problem;
    } else last = "no published port yet";
    if (Date.now() > deadline) throw new NotReady(`not ready after ${Math.round(check.timeoutMs / 1000)} s (${last})`);
    await Bun.sleep(POLL_MS);
  }
}

/** Create and start a new container from `spec`; removed again unless it becomes ready. */
export async function replaceReplica(docker: DockerClient, spec: ContainerSpec, check: ReadyCheck): Promise<{ id: string; hostPort: number | null }> {
  const id = await engine.startContainer(docker, spec);
  try {
    return { id, hostPort: await waitReady(docker, id, check, 0) };
  } catch (e) {
    await engine.removeContainer(docker, id, 1).catch(() => {});
    throw e;
  }
}
