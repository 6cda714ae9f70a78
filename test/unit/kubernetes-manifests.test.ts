// The objects a release becomes on a cluster, as data: names, labels, the rollout strategy, the
// probe, resources, config, Service and Ingress — and every object validated against the official
// Kubernetes schemas (kubernetes-models).
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import {
  configSecret,
  defaultNamespace,
  deploymentManifest,
  dnsLabel,
  pullSecret,
  releaseManifests,
  type KubeObject,
  type KubeRelease,
  type KubeSite,
} from "../../src/targets/kubernetes/manifests";

setDefaultTimeout(120_000);

const release: KubeRelease = {
  org: "acme",
  project: "shop",
  env: "production",
  service: "api",
  serviceId: "0190a8f2-0000-7000-8000-000000000001",
  releaseId: "0190a8f2-0000-7000-8000-0000000000aa",
  releaseVersion: 7,
  deploymentId: "0190a8f2-0000-7000-8000-0000000000dd",
  processes: { web: null, worker: "bin/worker --queue default" },
  vars: { DATABASE_URL: "postgres://u:p@db/x", GREETING: "héllo\nworld" },
  port: 8000,
  privileged: false,
  healthCheckPath: "/_health/",
  healthCheckHost: null,
  timeoutMs: 180_000,
  counts: { web: 2, worker: 1 },
  podClasses: { web: "medium" },
};
const site: KubeSite = {
  namespace: "ancla-acme-shop-production",
  ingressClass: "nginx",
  tlsSecretName: null,
  image: "127.0.0.1:5000/ancla/acme-shop-production-api@sha256:" + "a".repeat(64),
  hostnames: ["api.production.shop.acme.example.com", "api.shop.acme.example.com", "shop.example.org"],
  pullSecret: true,
  labels: { "dev.ancla.test-run": "r1" },
};

const MODELS: Record<string, new (o: never) => { validate: () => void }> = { Namespace, Secret, Service, Deployment, Ingress };
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function validate(o: KubeObject) {
  const Model = MODELS[o.kind];
  expect(Model).toBeDefined();
  new Model!(structuredClone(o) as never).validate(); // throws with the schema path on any violation
  expect(o.metadata.name).toMatch(DNS_LABEL);
  for (const [k, v] of Object.entries(o.metadata.labels ?? {})) {
    expect(k).toMatch(LABEL_KEY);
    expect(v.length).toBeLessThanOrEqual(63);
    expect(v).toMatch(LABEL_VALUE);
  }
}
const byKind = (objs: KubeObject[], kind: string) => objs.filter((o) => o.kind === kind);
const spec = (o: KubeObject) => o.spec as any;

describe("release manifests", () => {
  const objs = releaseManifests(release, site);

  test("every object passes the official schema and Kubernetes' name and label rules", () => {
    expect(objs.map((o) => o.kind)).toEqual(["Namespace", "Secret", "Deployment", "Deployment", "Service", "Ingress"]);
    for (const o of objs) validate(o);
    validate(pullSecret(site.namespace, "127.0.0.1:5000", "ci", "pw", site.labels));
  });

  test("namespace first, then the config Secret, and every namespaced object lives in the env's namespace", () => {
    expect(objs[0]).toMatchObject({ kind: "Namespace", metadata: { name: "ancla-acme-shop-production", labels: { "dev.ancla.managed": "true" } } });
    for (const o of objs.slice(1)) expect(o.metadata.namespace).toBe(site.namespace);
  });

  test("the config Secret holds the resolved config of this release, base64, named by version", () => {
    const s = configSecret(release, site);
    expect(s.metadata.name).toBe("api-config-v7");
    const data = s.data as Record<string, string>;
    expect(Object.keys(data).sort()).toEqual(["DATABASE_URL", "GREETING"]);
    expect(Buffer.from(data.GREETING!, "base64").toString("utf8")).toBe("héllo\nworld");
    expect(s.metadata.labels).toMatchObject({ "dev.ancla.role": "config", "dev.ancla.release": release.releaseId, "dev.ancla.version": "7" });
  });

  test("one Deployment per process type: replicas, RollingUpdate with maxUnavailable 0, labels, release annotation", () => {
    const [web, worker] = byKind(objs, "Deployment");
    expect(web!.metadata.name).toBe("api-web");
    expect(worker!.metadata.name).toBe("api-worker");
    expect(spec(web!).replicas).toBe(2);
    expect(spec(worker!).replicas).toBe(1);
    expect(spec(web!).strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    expect(spec(web!).progressDeadlineSeconds).toBe(180);
    expect(web!.metadata.annotations).toMatchObject({ "ancla.dev/release-version": "7" });
    // the selector is stable across releases (a rollout replaces the pod template, not the selector)
    expect(spec(web!).selector).toEqual({ matchLabels: { "dev.ancla.service-id": release.serviceId, "dev.ancla.process": "web" } });
    expect(spec(web!).template.metadata.labels).toMatchObject({
      "dev.ancla.managed": "true",
      "dev.ancla.org": "acme",
      "dev.ancla.project": "shop",
      "dev.ancla.env": "production",
      "dev.ancla.service": "api",
      "dev.ancla.process": "web",
      "dev.ancla.release": release.releaseId,
      "dev.ancla.deployment": release.deploymentId,
      "dev.ancla.test-run": "r1",
    });
  });

  test("containers: the pushed image, envFrom the release's Secret, PORT, pod-class resources, Procfile command, pull secret", () => {
    const [web, worker] = byKind(objs, "Deployment").map((d) => spec(d).template.spec);
    const c = web.containers[0];
    expect(c.image).toBe(site.image);
    expect(c.envFrom).toEqual([{ secretRef: { name: "api-config-v7" } }]);
    expect(c.env).toEqual([{ name: "PORT", value: "8000" }]);
    expect(c.resources).toEqual({ requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } });
    expect(c.command).toBeUndefined(); // the image's own CMD
    expect(web.imagePullSecrets).toEqual([{ name: "ancla-registry" }]);
    const w = worker.containers[0];
    expect(w.command).toEqual(["/bin/sh", "-c", "bin/worker --queue default"]);
    expect(w.resources.limits).toEqual({ cpu: "500m", memory: "512Mi" }); // default class: small
    expect(w.readinessProbe).toBeUndefined();
    expect(w.ports).toBeUndefined();
    // the plaintext config is only in the Secret, never in the Deployment
    expect(JSON.stringify(byKind(objs, "Deployment"))).not.toContain("postgres://");
  });

  test("web readiness probe: GET health_check_path on the port, with the Host header when one is set", () => {
    const probe = spec(byKind(objs, "Deployment")[0]!).template.spec.containers[0].readinessProbe;
    expect(probe.httpGet).toEqual({ path: "/_health/", port: 8000, scheme: "HTTP" });
    const withHost = deploymentManifest({ ...release, healthCheckHost: "internal.example", healthCheckPath: "/up" }, site, "web", 1);
    validate(withHost);
    expect(spec(withHost).template.spec.containers[0].readinessProbe.httpGet).toEqual({ path: "/up", port: 8000, scheme: "HTTP", httpHeaders: [{ name: "Host", value: "internal.example" }] });
  });

  test("web gets a Service on port 80 → PORT, and an Ingress for the hostnames with the ingress class", () => {
    const [svc] = byKind(objs, "Service");
    expect(spec(svc!)).toEqual({
      type: "ClusterIP",
      selector: { "dev.ancla.service-id": release.serviceId, "dev.ancla.process": "web" },
      ports: [{ name: "http", port: 80, targetPort: 8000, protocol: "TCP" }],
    });
    const [ing] = byKind(objs, "Ingress");
    expect(spec(ing!).ingressClassName).toBe("nginx");
    expect(spec(ing!).rules.map((r: { host: string }) => r.host)).toEqual(site.hostnames);
    expect(spec(ing!).rules[0].http.paths).toEqual([{ path: "/", pathType: "Prefix", backend: { service: { name: "api", port: { number: 80 } } } }]);
    expect(spec(ing!).tls).toBeUndefined();
  });

  test("TLS section only when a certificate secret is configured", () => {
    const withTls = releaseManifests(release, { ...site, tlsSecretName: "wildcard-tls" });
    const ing = byKind(withTls, "Ingress")[0]!;
    validate(ing);
    expect(spec(ing).tls).toEqual([{ hosts: site.hostnames, secretName: "wildcard-tls" }]);
  });

  test("no web process: no Service or Ingress; a scaled-to-zero process keeps its Deployment at 0; no pull secret when none exists", () => {
    const objs2 = releaseManifests({ ...release, processes: { worker: "run" }, counts: { worker: 0 } }, { ...site, pullSecret: false });
    expect(objs2.map((o) => o.kind)).toEqual(["Namespace", "Secret", "Deployment"]);
    expect(spec(objs2[2]!).replicas).toBe(0);
    expect(spec(objs2[2]!).template.spec.imagePullSecrets).toBeUndefined();
    for (const o of objs2) validate(o);
  });

  test("without counts a web process runs once; privileged sets the security context", () => {
    const d = releaseManifests({ ...release, processes: { web: null }, counts: {}, privileged: true }, site).find((o) => o.kind === "Deployment")!;
    expect(spec(d).replicas).toBe(1);
    expect(spec(d).template.spec.containers[0].securityContext).toEqual({ privileged: true });
  });

  test("long names stay valid DNS labels (prefix + hash), distinct for distinct inputs", () => {
    const long = "s".repeat(60);
    const a = dnsLabel(`${long}-web`);
    const b = dnsLabel(`${long}-worker`);
    expect(a).toMatch(DNS_LABEL);
    expect(a.length).toBeLessThanOrEqual(63);
    expect(a).not.toBe(b);
    expect(defaultNamespace("acme", "shop", "staging")).toBe("ancla-acme-shop-staging");
    for (const o of releaseManifests({ ...release, service: long }, site)) validate(o);
  });

  test("the pull secret is a dockerconfigjson for the registry", () => {
    const s = pullSecret("ns", "registry.example.com", "ci", "s3cret");
    expect(s.type).toBe("kubernetes.io/dockerconfigjson");
    const cfg = JSON.parse(Buffer.from((s.data as Record<string, string>)[".dockerconfigjson"]!, "base64").toString());
    expect(cfg).toEqual({ auths: { "registry.example.com": { username: "ci", password: "s3cret", auth: Buffer.from("ci:s3cret").toString("base64") } } });
  });
});
