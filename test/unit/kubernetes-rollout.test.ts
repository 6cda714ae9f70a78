// The rollout's verdicts as data: when a Deployment counts as rolled out, which pod states fail a
// deploy early and with what reason, a pod as a replica, metrics quantities, and where an image is
// pushed in the environment's registry.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { imageName, pendingReason, progressDeadlineExceeded } from "../../src/targets/kubernetes/apply";
import { podProblem, replicaState, type Pod } from "../../src/targets/kubernetes/pods";
import { parseQuantity } from "../../src/targets/kubernetes/metrics";
import { remoteRef } from "../../src/targets/docker/push";

setDefaultTimeout(120_000);

const dep = (status: Record<string, unknown>, generation = 3) => ({ metadata: { generation }, status: { observedGeneration: 3, ...status } });

describe("a Deployment's rollout", () => {
  test("complete only when observed, and updated = available = total = wanted", () => {
    expect(pendingReason(dep({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 }), 2)).toBeNull();
    expect(pendingReason(dep({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 }, 4), 2)).toBe("not yet observed by the controller");
    expect(pendingReason(dep({ replicas: 3, updatedReplicas: 2, availableReplicas: 2 }), 2)).toBe("2/2 updated, 2/2 available, 1 old replica(s) still running");
    expect(pendingReason(dep({ replicas: 2, updatedReplicas: 1, availableReplicas: 2 }), 2)).toBe("1/2 updated, 2/2 available");
    expect(pendingReason(dep({ replicas: 2, updatedReplicas: 2, availableReplicas: 1 }), 2)).toBe("2/2 updated, 1/2 available");
    expect(pendingReason(dep({}), 0)).toBeNull(); // scaled to zero
  });

  test("ProgressDeadlineExceeded is a failure with the controller's message", () => {
    const stuck = dep({ conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded", message: 'ReplicaSet "api-web-5d" has timed out progressing.' }] });
    expect(progressDeadlineExceeded(stuck)).toBe('ProgressDeadlineExceeded: ReplicaSet "api-web-5d" has timed out progressing.');
    expect(progressDeadlineExceeded(dep({ conditions: [{ type: "Progressing", status: "True", reason: "NewReplicaSetAvailable" }] }))).toBeNull();
  });
});

const pod = (status: Pod["status"], labels: Record<string, string> = { "dev.ancla.process": "web" }): Pod => ({ metadata: { name: "api-web-abc", labels }, status });

describe("pods that will not become ready", () => {
  test.each([
    ["CrashLoopBackOff", { waiting: { reason: "CrashLoopBackOff", message: "back-off 10s restarting failed container" } }, { terminated: { exitCode: 3 } }, "CrashLoopBackOff (exit code 3): back-off 10s restarting failed container"],
    ["ImagePullBackOff", { waiting: { reason: "ImagePullBackOff", message: 'Back-off pulling image "r/x"' } }, undefined, 'ImagePullBackOff: Back-off pulling image "r/x"'],
    ["ErrImagePull", { waiting: { reason: "ErrImagePull" } }, undefined, "ErrImagePull"],
    ["CreateContainerConfigError", { waiting: { reason: "CreateContainerConfigError", message: 'secret "api-config-v2" not found' } }, undefined, 'CreateContainerConfigError: secret "api-config-v2" not found'],
  ])("%s fails at once", (_name, state, lastState, reason) => {
    expect(podProblem(pod({ phase: "Pending", containerStatuses: [{ name: "web", state: state as never, lastState: lastState as never, restartCount: 2 }] }))).toBe(reason);
  });

  test("unschedulable fails with the scheduler's message; starting and running pods do not fail", () => {
    expect(podProblem(pod({ phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/3 nodes are available: 3 Insufficient memory." }] }))).toBe(
      "Unschedulable: 0/3 nodes are available: 3 Insufficient memory.",
    );
    expect(podProblem(pod({ phase: "Pending", containerStatuses: [{ name: "web", state: { waiting: { reason: "ContainerCreating" } } }] }))).toBeNull();
    expect(podProblem(pod({ phase: "Running", containerStatuses: [{ name: "web", ready: false, state: { running: { startedAt: "2026-12-01T10:00:00Z" } } }] }))).toBeNull();
  });

  test("a pod as a replica: running, restarts, last exit, OOM", () => {
    const s = replicaState(pod({ phase: "Running", containerStatuses: [{ name: "web", ready: true, restartCount: 4, state: { running: { startedAt: "2026-12-01T10:00:00Z" } }, lastState: { terminated: { exitCode: 137, reason: "OOMKilled", finishedAt: "2026-12-01T09:59:58Z" } } }] }));
    expect(s).toMatchObject({ running: true, restarting: false, health: "healthy", restartCount: 4, exitCode: 137, oomKilled: true, startedAt: "2026-12-01T10:00:00Z", finishedAt: "2026-12-01T09:59:58Z", hostPort: null });
    expect(replicaState(pod({ phase: "Running", containerStatuses: [{ name: "web", state: { waiting: { reason: "CrashLoopBackOff" } } }] }))).toMatchObject({ running: false, restarting: true, status: "CrashLoopBackOff" });
  });
});

describe("quantities and image references", () => {
  test("metrics quantities", () => {
    expect(parseQuantity("250m")).toBeCloseTo(0.25);
    expect(parseQuantity("123456789n")).toBeCloseTo(0.123456789);
    expect(parseQuantity("64Mi")).toBe(64 * 1024 * 1024);
    expect(parseQuantity("2")).toBe(2);
    expect(parseQuantity("junk")).toBe(0);
  });

  test("an image goes to the registry as one repository per service and one tag per release", () => {
    const name = imageName({ org: "acme", project: "shop", env: "production", service: "api", releaseVersion: 4 });
    expect(name).toEqual({ path: "ancla/acme/shop/production/api", tag: "r4" });
    expect(remoteRef("127.0.0.1:5000", name.path, name.tag)).toEqual({ repo: "127.0.0.1:5000/ancla/acme/shop/production/api", tag: "r4" });
    expect(remoteRef("ghcr.io/acme/", name.path, name.tag)).toEqual({ repo: "ghcr.io/acme/ancla/acme/shop/production/api", tag: "r4" });
  });
});
