// A replica runs under Docker's init, so the app is not PID 1. The kernel delivers no signal to
// PID 1 that it has no handler for: an app without a SIGTERM handler (a plain `sleep`, most
// scripts) sat out every stop's grace period and died by SIGKILL, and orphaned children of a
// shell or a worker stayed as zombies. Real engine, real replica specs.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { removeContainer, removeNetwork, startContainer } from "../../src/targets/docker/engine";
import { demuxFrames } from "../../src/targets/docker/logs";
import { ensureProjectNetwork } from "../../src/targets/docker/network";
import { replicaSpec, type ReplicaSpecInput } from "../../src/targets/docker/specs";
import { BASE_IMAGE, ensureBaseImage, requireDocker, RUN_ID, RUN_LABELS, testDocker } from "../support/docker";
import { poller } from "../support/poll";

setDefaultTimeout(300_000);
const until = poller(60_000);

const NETWORK_REF = { org: RUN_ID, project: "init", projectId: `init-${RUN_ID}` };
let network = "";

const input = (process: string, command: string): ReplicaSpecInput => ({
  org: RUN_ID,
  project: "init",
  env: "production",
  service: "app",
  serviceId: `svc-${RUN_ID}`,
  releaseId: "rel-1",
  releaseVersion: 1,
  deploymentId: crypto.randomUUID(),
  process,
  replica: 1,
  image: BASE_IMAGE,
  command,
  vars: {},
  port: 8000,
  podClass: "nano",
  privileged: false,
  network,
  labels: RUN_LABELS,
});

const ids: string[] = [];
afterAll(async () => {
  for (const id of ids) await removeContainer(testDocker(), id, 0).catch(() => {});
  if (network) await removeNetwork(testDocker(), network).catch(() => {});
});

beforeAll(async () => {
  network = await ensureProjectNetwork(await requireDocker(), NETWORK_REF, RUN_LABELS);
  await ensureBaseImage();
});

/** A replica of `process` running `command`, started as a deploy starts one, once it runs. */
async function runningReplica(process: string, command: string) {
  const docker = await requireDocker();
  const id = await startContainer(docker, replicaSpec(input(process, command)));
  ids.push(id);
  const c = docker.getContainer(id);
  await until("the replica to run", async () => (await c.inspect()).State.Running);
  return c;
}

test("an app without a SIGTERM handler stops on SIGTERM (exit 143), not by SIGKILL when the grace period ends (137)", async () => {
  const c = await runningReplica("worker", "exec sleep 600");
  // a grace period far longer than any loaded machine needs to deliver a signal: ending by SIGKILL means SIGTERM was ignored
  await c.stop({ t: 120 });
  const { State: state, HostConfig: host } = await c.inspect();
  expect(state.ExitCode).toBe(143);
  expect(state.OOMKilled).toBe(false);
  expect(host.Init).toBe(true);
});

test("orphaned children are reaped: a worker whose shell leaves exited children behind keeps no zombie", async () => {
  // each `sleep 0 &` outlives nothing; its parent shell exits at once, so the sleeps are orphans handed to PID 1
  const c = await runningReplica("reaper", "for i in 1 2 3 4 5; do sh -c 'sleep 0 & sleep 0 &'; done; exec sleep 600");
  const ps = async () => {
    const exec = await c.exec({ Cmd: ["ps", "-o", "pid,stat,comm"], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      stream.on("data", (d: Buffer) => chunks.push(d));
      stream.on("end", resolve);
      stream.on("error", reject);
    });
    return demuxFrames(Buffer.concat(chunks)); // the attached stream is multiplexed as logs are
  };
  const table = await until("the shells to be gone", async () => {
    const t = await ps();
    return /\bsh\b/.test(t.split("\n").filter((l) => !/\bps\b/.test(l)).join("\n")) ? undefined : t;
  });
  const rows = table.trim().split("\n").slice(1);
  expect(rows.some((r) => /\bsleep\b/.test(r))).toBe(true); // the app itself
  expect(rows.filter((r) => /^\s*\d+\s+Z/.test(r))).toEqual([]); // no zombie
});
