// A one-off (the release phase, a run) as a batch/v1 Job and a service's volumes as
// PersistentVolumeClaims mounted into every process, as data — each object validated against the
// official Kubernetes schemas (kubernetes-models, @kubernetes-models/validate).
import { setDefaultTimeout } from "bun:test";
setDefaultTimeout(240_000);
import { describe, expect, test } from "bun:test";
import { Job } from "kubernetes-models/batch/v1/Job";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { claimManifest, claimName, jobManifest, jobName, releaseManifests, wantedCounts, type KubeObject, type KubeOneOff, type KubeRelease, type KubeSite } from "../../src/targets/kubernetes/manifests";

const release: KubeRelease = {
  org: "acme",
  project: "shop",
  env: "production",
  service: "api",
  serviceId: "0190a8f2-0000-7000-8000-000000000001",
  releaseId: "0190a8f2-0000-7000-8000-0000000000aa",
  releaseVersion: 7,
  deploymentId: "0190a8f2-0000-7000-8000-0000000000dd",
  processes: { web: null, worker: "bin/worker", release: "./manage.py migrate" },
  vars: { DATABASE_URL: "postgres://u:p@db/x" },
  port: 8000,
  privileged: false,
  healthCheckPath: "/_health/",
  healthCheckHost: null,
  timeoutMs: 180_000,
  counts: { web: 2, worker: 1, release: 1 },
  podClasses: { release: "large" },
  volumes: [
    { name: "data", mountPath: "/data", sizeHint: "10Gi" },
    { name: "cache", mountPath: "/var/cache/app" },
  ],
};
const site: KubeSite = {
  namespace: "ancla-acme-shop-production",
  ingressClass: null,
  tlsSecretName: null,
  image: "127.0.0.1:5000/ancla/acme-shop-production-api@sha256:" + "b".repeat(64),
  hostnames: ["api.example.com"],
  pullSecret: true,
  labels: { "dev.ancla.test-run": "r1" },
};
const oneOff: KubeOneOff = { ...release, kind: "release", runId: "0190a8f2-0000-7000-8000-00000000abcd", command: "./manage.py migrate --noinput", podClass: "large", timeoutMs: 90_500 };

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
function validate(o: KubeObject, Model: new (o: never) => { validate: () => void }) {
  new Model(structuredClone(o) as never).validate();
  expect(o.metadata.name).toMatch(DNS_LABEL);
  for (const v of Object.values(o.metadata.labels ?? {})) expect(v).toMatch(LABEL_VALUE);
}
const spec = (o: KubeObject) => o.spec as any;

describe("the release process is never a Deployment", () => {
  test("wantedCounts and releaseManifests leave `release` out, whatever its count", () => {
    expect(wantedCounts(release.processes, release.counts)).toEqual({ web: 2, worker: 1 });
    expect(wantedCounts({ release: "x", web: null }, {})).toEqual({ web: 1 });
    const names = releaseManifests(release, site).filter((o) => o.kind === "Deployment").map((o) => o.metadata.name);
    expect(names).toEqual(["api-web", "api-worker"]);
  });
});

describe("volumes as PersistentVolumeClaims", () => {
  test("one claim per volume, <service>-<name>, ReadWriteOnce, the size hint or 1Gi, labelled with the service", () => {
    const data = claimManifest(release, site, release.volumes![0]!);
    const cache = claimManifest(release, site, release.volumes![1]!);
    for (const c of [data, cache]) validate(c, PersistentVolumeClaim);
    expect(data.metadata).toMatchObject({ name: "api-data", namespace: site.namespace, labels: { "dev.ancla.service-id": release.serviceId, "dev.ancla.role": "volume", "dev.ancla.volume": "data", "dev.ancla.test-run": "r1" } });
    expect(spec(data)).toEqual({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } } });
    expect(spec(cache).resources.requests.storage).toBe("1Gi");
    expect(claimName("api", "data")).toBe("api-data");
  });

  test("every process's pod template mounts every claim at its path", () => {
    for (const d of releaseManifests(release, site).filter((o) => o.kind === "Deployment")) {
      validate(d, Deployment);
      const pod = spec(d).template.spec;
      expect(pod.volumes).toEqual([
        { name: "vol-data", persistentVolumeClaim: { claimName: "api-data" } },
        { name: "vol-cache", persistentVolumeClaim: { claimName: "api-cache" } },
      ]);
      expect(pod.containers[0].volumeMounts).toEqual([
        { name: "vol-data", mountPath: "/data" },
        { name: "vol-cache", mountPath: "/var/cache/app" },
      ]);
    }
    const none = releaseManifests({ ...release, volumes: [] }, site).find((o) => o.kind === "Deployment")!;
    expect(spec(none).template.spec.volumes).toBeUndefined();
    expect(spec(none).template.spec.containers[0].volumeMounts).toBeUndefined();
  });
});

describe("a one-off as a batch/v1 Job", () => {
  const job = jobManifest(oneOff, site);

  test("passes the official schema; named by service, kind and run id; labelled for stopOneOff", () => {
    validate(job, Job);
    expect(job.apiVersion).toBe("batch/v1");
    expect(job.metadata.name).toBe(jobName("api", "release", oneOff.runId));
    expect(job.metadata.name).toMatch(/^api-release-[0-9a-f]{10}$/);
    expect(jobName("api", "run", "0190a8f2-0000-7000-8000-00000000abce")).not.toBe(jobName("api", "run", oneOff.runId));
    expect(job.metadata.labels).toMatchObject({ "dev.ancla.managed": "true", "dev.ancla.service-id": release.serviceId, "dev.ancla.role": "one-off", "dev.ancla.one-off": "release", "dev.ancla.run-id": oneOff.runId, "dev.ancla.release": release.releaseId, "dev.ancla.version": "7" });
    expect(spec(job).template.metadata.labels["dev.ancla.run-id"]).toBe(oneOff.runId);
  });

  test("one attempt, stopped at the timeout by the cluster, removed by the TTL controller as a fallback", () => {
    expect(spec(job).backoffLimit).toBe(0);
    expect(spec(job).activeDeadlineSeconds).toBe(91);
    expect(spec(job).ttlSecondsAfterFinished).toBeGreaterThan(0);
    expect(spec(job).template.spec.restartPolicy).toBe("Never");
  });

  test("the release's image and config Secret, the pod class resources, the command through /bin/sh -c, the volumes, the pull secret", () => {
    const pod = spec(job).template.spec;
    const c = pod.containers[0];
    expect(c.image).toBe(site.image);
    expect(c.command).toEqual(["/bin/sh", "-c", "./manage.py migrate --noinput"]);
    expect(c.envFrom).toEqual([{ secretRef: { name: "api-config-v7" } }]);
    expect(c.env).toEqual([{ name: "PORT", value: "8000" }]);
    expect(c.resources).toEqual({ requests: { cpu: "2", memory: "2Gi" }, limits: { cpu: "2", memory: "2Gi" } });
    expect(pod.volumes.map((v: any) => v.persistentVolumeClaim.claimName)).toEqual(["api-data", "api-cache"]);
    expect(c.volumeMounts.map((m: any) => m.mountPath)).toEqual(["/data", "/var/cache/app"]);
    expect(pod.imagePullSecrets).toEqual([{ name: "ancla-registry" }]);
    expect(JSON.stringify(job)).not.toContain("postgres://"); // config only through the Secret
  });

  test("a run: its own kind label and the small class by default; no volumes, no pull secret when there are none", () => {
    const run = jobManifest({ ...oneOff, kind: "run", podClass: "unknown", volumes: [] }, { ...site, pullSecret: false });
    validate(run, Job);
    expect(run.metadata.name).toMatch(/^api-run-/);
    expect(run.metadata.labels!["dev.ancla.one-off"]).toBe("run");
    const pod = spec(run).template.spec;
    expect(pod.containers[0].resources.limits).toEqual({ cpu: "500m", memory: "512Mi" });
    expect(pod.volumes).toBeUndefined();
    expect(pod.imagePullSecrets).toBeUndefined();
  });
});
