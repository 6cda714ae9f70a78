// Pure data of issue 14: one-off container specs (release phase, runs), volume mounts and names,
// the release process never started as a replica, and the volume settings' rules.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { desiredReplicas, legacyVolumeName, oneOffSpec, replicaSpec, volumeName, volumeSpec, type ReplicaSpecInput } from "../../src/targets/docker/specs";
import { volumeInput } from "../../src/modules/services/volumes";

setDefaultTimeout(120_000);

const base: ReplicaSpecInput = {
  org: "acme",
  project: "shop",
  env: "production",
  service: "api",
  serviceId: "svc-1",
  releaseId: "rel-1",
  releaseVersion: 4,
  deploymentId: "0195f0c2-7a4e-7cde-8f00-1234567890ab",
  process: "web",
  replica: 1,
  image: "sha256:abc",
  command: null,
  vars: { TOKEN: "s3cret" },
  port: 8000,
  podClass: "medium",
  privileged: false,
  network: "ancla-acme-shop",
  volumes: [{ name: "data", mountPath: "/data" }],
};

describe("volumes in specs", () => {
  test("every replica mounts the service's named volumes", () => {
    expect(replicaSpec(base).HostConfig.Mounts).toEqual([{ Type: "volume", Source: "ancla-vol-svc-1-data", Target: "/data" }]);
    expect(replicaSpec({ ...base, volumes: [] }).HostConfig.Mounts).toBeUndefined();
    expect(volumeName(base, "cache")).toBe("ancla-vol-svc-1-cache");
    // a volume the target found under its old name is mounted from there
    expect(replicaSpec({ ...base, volumes: [{ name: "data", mountPath: "/data", source: "ancla-acme-shop-production-api-data" }] }).HostConfig.Mounts).toEqual([
      { Type: "volume", Source: "ancla-acme-shop-production-api-data", Target: "/data" },
    ]);
  });

  test("names are unique across tenants: slugs with dashes no longer run together", () => {
    const a = { org: "a", project: "b-c", env: "production", service: "api", serviceId: "0195f0c2-7a4e-7cde-8f00-00000000000a" };
    const b = { org: "a-b", project: "c", env: "production", service: "api", serviceId: "0195f0c2-7a4e-7cde-8f00-00000000000b" };
    expect(legacyVolumeName(a, "data")).toBe(legacyVolumeName(b, "data")); // the old scheme's collision
    expect(volumeName(a, "data")).not.toBe(volumeName(b, "data"));
    expect(volumeSpec(a, "data").Name).not.toBe(volumeSpec(b, "data").Name);
  });

  test("a volume carries its service's id (never handed to another service) and the server's labels", () => {
    const spec: { Name: string; Labels: Record<string, string> } = volumeSpec(base, "data", { "dev.ancla.test-run": "t1" });
    expect(spec).toEqual({
      Name: "ancla-vol-svc-1-data",
      Labels: { "dev.ancla.test-run": "t1", "dev.ancla.org": "acme", "dev.ancla.project": "shop", "dev.ancla.env": "production", "dev.ancla.service": "api", "dev.ancla.volume": "data", "dev.ancla.service-id": "svc-1" },
    });
  });
});

describe("oneOffSpec", () => {
  const spec = oneOffSpec({ ...base, kind: "release", runId: "0195f0c2-7a4e-7cde-8f00-aaaaaaaaaaaa", command: "./migrate" });

  test("the release's image, config, limits, network and volumes; the command as a shell line; no restarts", () => {
    expect(spec.name).toBe("ancla-acme-shop-production-api-release-aaaaaaaaaa");
    expect(spec.Image).toBe("sha256:abc");
    expect(spec.Cmd).toEqual(["/bin/sh", "-c", "./migrate"]);
    expect(spec.Env).toEqual(["TOKEN=s3cret", "PORT=8000"]);
    expect(spec.HostConfig.RestartPolicy).toEqual({ Name: "no" });
    expect(spec.HostConfig.Init).toBe(true);
    expect(spec.HostConfig.Memory).toBe(1024 * 1024 * 1024);
    expect(spec.HostConfig.NetworkMode).toBe("ancla-acme-shop");
    expect(spec.HostConfig.Mounts).toEqual([{ Type: "volume", Source: "ancla-vol-svc-1-data", Target: "/data" }]);
  });

  test("not a replica: no managed or replica labels (cleanup and self-healing leave it alone), no published port", () => {
    expect(spec.Labels["dev.ancla.managed"]).toBeUndefined();
    expect(spec.Labels["dev.ancla.service-id"]).toBeUndefined();
    expect(spec.Labels["dev.ancla.replica"]).toBeUndefined();
    expect(spec.Labels).toMatchObject({ "dev.ancla.one-off": "release", "dev.ancla.one-off-service-id": "svc-1", "dev.ancla.run-id": "0195f0c2-7a4e-7cde-8f00-aaaaaaaaaaaa" });
    expect(spec.HostConfig.PortBindings).toBeUndefined();
    expect(spec.ExposedPorts).toBeUndefined();
  });
});

describe("the release process", () => {
  test("is never started as a replica, whatever the counts say", () => {
    const processes = { web: "httpd", release: "./migrate", worker: "work" };
    expect(desiredReplicas(processes, {})).toEqual([{ process: "web", replica: 1 }]);
    expect(desiredReplicas(processes, { web: 1, release: 2, worker: 1 })).toEqual([
      { process: "web", replica: 1 },
      { process: "worker", replica: 1 },
    ]);
  });
});

describe("volume settings", () => {
  const ok = (b: unknown) => volumeInput.safeParse(b).success;
  test("names, normalized absolute mount paths outside system directories, size hints", () => {
    expect(ok({ name: "data", mount_path: "/data", size_hint: "10Gi" })).toBe(true);
    expect(ok({ name: "uploads-2", mount_path: "/app/public/uploads" })).toBe(true);
    for (const bad of [
      { name: "Data", mount_path: "/data" },
      { name: "-x", mount_path: "/data" },
      { name: "x".repeat(33), mount_path: "/data" },
      { name: "x", mount_path: "data" },
      { name: "x", mount_path: "/" },
      { name: "x", mount_path: "/a/../b" },
      { name: "x", mount_path: "/a/./b" },
      { name: "x", mount_path: "/a//b" },
      { name: "x", mount_path: "/a/" },
      { name: "x", mount_path: "/etc" },
      { name: "x", mount_path: "/usr/local/data" },
      { name: "x", mount_path: "/proc" },
      { name: "x", mount_path: "/data dir" },
      { name: "x", mount_path: "/data", size_hint: "10GB" },
      { name: "x", mount_path: "/data", owner: "root" },
    ])
      expect({ bad, ok: ok(bad) }).toEqual({ bad, ok: false });
  });
});
