// Pure container specs: release replica → Docker create options, networks, replica plans.
import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { desiredReplicas, legacyNetworkName, networkSpec, podClassOf, processSlug, replicaSpec, type ReplicaSpecInput } from "../../src/targets/docker/specs";
import { configurationChanges, imageChanges } from "../../src/modules/releases/service";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
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
  replica: 2,
  image: "sha256:abc",
  command: null,
  vars: { GREETING: "hi", TOKEN: "s3cret" },
  port: 8000,
  podClass: "medium",
  privileged: false,
  network: "ancla-acme-shop",
};

describe("replicaSpec", () => {
  test("web replica: env + PORT, every label, pod-class limits, restart policy, an init as PID 1, loopback-only publish, network alias", () => {
    expect(replicaSpec(base)).toEqual({
      name: "ancla-acme-shop-production-api-web-2-34567890ab",
      Image: "sha256:abc",
      Env: ["GREETING=hi", "TOKEN=s3cret", "PORT=8000"],
      Labels: {
        "dev.ancla.managed": "true",
        "dev.ancla.org": "acme",
        "dev.ancla.project": "shop",
        "dev.ancla.env": "production",
        "dev.ancla.service": "api",
        "dev.ancla.service-id": "svc-1",
        "dev.ancla.release": "rel-1",
        "dev.ancla.version": "4",
        "dev.ancla.process": "web",
        "dev.ancla.replica": "2",
        "dev.ancla.deployment": "0195f0c2-7a4e-7cde-8f00-1234567890ab",
        "dev.ancla.pod-class": "medium",
      },
      ExposedPorts: { "8000/tcp": {} },
      HostConfig: {
        NanoCpus: 1e9,
        Memory: 1024 * 1024 * 1024,
        RestartPolicy: { Name: "unless-stopped" },
        NetworkMode: "ancla-acme-shop",
        Privileged: false,
        Init: true,
        PortBindings: { "8000/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] },
        LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } },
      },
      NetworkingConfig: { EndpointsConfig: { "ancla-acme-shop": { Aliases: ["api.production"] } } },
    });
  });

  test("worker replica: Procfile command through sh -c inside the container, nothing published, PORT still set", () => {
    const spec = replicaSpec({ ...base, process: "worker", replica: 1, command: "bin/worker --queue default", podClass: "nano", labels: { "dev.ancla.test-run": "t1" } });
    expect(spec.Cmd).toEqual(["/bin/sh", "-c", "bin/worker --queue default"]);
    expect(spec.ExposedPorts).toBeUndefined();
    expect(spec.HostConfig.PortBindings).toBeUndefined();
    expect(spec.HostConfig.NanoCpus).toBe(0.25e9);
    expect(spec.HostConfig.Memory).toBe(256 * 1024 * 1024);
    expect(spec.Env).toContain("PORT=8000");
    expect(spec.Labels["dev.ancla.test-run"]).toBe("t1");
    expect(spec.Labels["dev.ancla.process"]).toBe("worker");
  });

  test("extra labels never override the dev.ancla identity labels; unknown pod class → small", () => {
    const spec = replicaSpec({ ...base, podClass: "huge", labels: { "dev.ancla.service-id": "other", "dev.ancla.managed": "false" } });
    expect(spec.Labels["dev.ancla.service-id"]).toBe("svc-1");
    expect(spec.Labels["dev.ancla.managed"]).toBe("true");
    expect(spec.HostConfig.NanoCpus).toBe(0.5e9);
    expect(podClassOf(undefined)).toBe("small");
    expect(podClassOf("large")).toBe("large");
  });

  test("privileged passes through; odd process names become safe container names", () => {
    expect(replicaSpec({ ...base, privileged: true }).HostConfig.Privileged).toBe(true);
    expect(processSlug("Clock_Tick!")).toBe("clock-tick");
    expect(replicaSpec({ ...base, process: "Clock_Tick!" }).name).toBe("ancla-acme-shop-production-api-clock-tick-2-34567890ab");
  });
});

test("networkSpec: one labelled bridge network per project, named by the project's id", () => {
  const ref = { org: "acme", project: "shop", projectId: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b" };
  expect(networkSpec(ref, { "dev.ancla.test-run": "t1" })).toEqual({
    Name: "ancla-net-0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
    Driver: "bridge",
    CheckDuplicate: true,
    Labels: { "dev.ancla.managed": "true", "dev.ancla.org": "acme", "dev.ancla.project": "shop", "dev.ancla.project-id": ref.projectId, "dev.ancla.test-run": "t1" },
  });
  // slugs that run together (org a-b project c, org a project b-c) no longer meet
  expect(networkSpec({ org: "a-b", project: "c", projectId: "p1" }).Name).not.toBe(networkSpec({ org: "a", project: "b-c", projectId: "p2" }).Name);
  expect(legacyNetworkName("a-b", "c")).toBe(legacyNetworkName("a", "b-c"));
});

describe("desiredReplicas", () => {
  const procs = { web: null, worker: "run-worker", clock: "run-clock" };
  test("counts per process type; processes the counts do not name get none", () => {
    expect(desiredReplicas(procs, { web: 2, worker: 1 })).toEqual([
      { process: "web", replica: 1 },
      { process: "web", replica: 2 },
      { process: "worker", replica: 1 },
    ]);
  });
  test("an empty map runs one web replica; zero stops a process type; counts for unknown processes are ignored", () => {
    expect(desiredReplicas(procs, {})).toEqual([{ process: "web", replica: 1 }]);
    expect(desiredReplicas(procs, { web: 0, worker: 1 })).toEqual([{ process: "worker", replica: 1 }]);
    expect(desiredReplicas({ web: null }, { ghost: 3 })).toEqual([]);
    expect(desiredReplicas({ worker: "w" }, {})).toEqual([]);
  });
});

describe("release change sets", () => {
  const open = (s: string) => s.replace(/^sealed:/, "");
  test("names added/removed/changed; values only for non-secrets; a re-sealed equal secret is unchanged", () => {
    const prev = [
      { name: "A", value: "1", secret: false, scope: "service" },
      { name: "GONE", value: "x", secret: false, scope: "project" },
      { name: "TOKEN", value: "sealed:abc", secret: true, scope: "service" },
      { name: "KEY", value: "sealed:k1", secret: true, scope: "service" },
    ];
    const next = [
      { name: "A", value: "2", secret: false, scope: "service" },
      { name: "NEW", value: "n", secret: false, scope: "service" },
      { name: "NEWSECRET", value: "sealed:zzz", secret: true, scope: "service" },
      { name: "TOKEN", value: "sealed:abc", secret: true, scope: "service" },
      { name: "KEY", value: "sealed:k2", secret: true, scope: "service" },
    ];
    const changes = configurationChanges(prev, next, open);
    expect(changes).toEqual({
      added: ["NEW", "NEWSECRET"],
      removed: ["GONE"],
      changed: ["A", "KEY"],
      values: { A: { from: "1", to: "2" }, NEW: { to: "n" }, GONE: { from: "x" } },
    });
    expect(JSON.stringify(changes)).not.toContain("zzz");
    expect(JSON.stringify(changes)).not.toContain("k2");
  });

  test("image changes: first release, same image, new image with process changes", () => {
    const img = { imageId: "i2", imageVersion: 2, imageRef: "sha256:b", repositoryName: "r", tag: "v2", processes: { web: null, worker: "w" }, commitSha: null, dockerfile: null };
    expect(imageChanges(null, img)).toEqual({ changed: true, from: null, to: { version: 2, ref: "sha256:b" } });
    const prev = { imageVersion: 1, imageRef: "sha256:a", processes: { web: null, clock: "c" } } as never;
    expect(imageChanges(prev, img)).toEqual({
      changed: true,
      from: { version: 1, ref: "sha256:a" },
      to: { version: 2, ref: "sha256:b" },
      processes_added: ["worker"],
      processes_removed: ["clock"],
    });
  });
});
