// The Docker Engine API client. dockerode (and its ssh2/gRPC parts) is loaded on first use so
// `ancla --help` and `ancla serve` start without paying for it.
import type Docker from "dockerode";

export type DockerClient = Docker;

/** The HTTP status of an engine error (dockerode's statusCode: 404 gone, 409 conflict/in progress …). */
export const statusOf = (e: unknown): number | undefined => (e as { statusCode?: number })?.statusCode;

/** Socket /var/run/docker.sock, or DOCKER_HOST when set (dockerode reads it). */
export function createDockerClient(): DockerClient {
  // require, not a static import: keeps dockerode out of the start-up path (still bundled by bun build)
  const Ctor = require("dockerode") as typeof Docker;
  return new Ctor();
}

/** A clear message when the engine cannot be reached (tests and the build log show it). */
export async function assertDockerReachable(docker: DockerClient): Promise<void> {
  try {
    await docker.ping();
  } catch (e) {
    throw new Error(`Docker engine not reachable (${process.env.DOCKER_HOST ?? "/var/run/docker.sock"}): ${(e as Error).message}`);
  }
}
