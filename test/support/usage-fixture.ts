// A service whose serving deployment lists given containers as its replicas (no build or rollout):
// enough for the usage sampler and the observability routes, which read only that list.
import { expect } from "bun:test";
import type { TestApp } from "./app";
import { insertImage } from "../../src/modules/images/repo";
import { insertRelease } from "../../src/modules/releases/repo";
import { insertDeployment } from "../../src/modules/deployments/repo";
import { newId } from "../../src/lib/ids";
import type { ReplicaRecord } from "../../src/db/schema";

export type FixtureReplica = { id: string; process: string; replica: number };

export async function usageFixture(t: TestApp, key: string, replicas: FixtureReplica[], slugs = { org: "acme", project: "web", service: "api" }): Promise<{ serviceId: string }> {
  const ok = async (method: string, path: string, body: unknown) => {
    const r = await t.req(method, path, body, { key });
    expect([path, r.status]).toEqual([path, r.status < 300 ? r.status : 201]);
    return r.body;
  };
  await ok("POST", "/api/v1/organizations", { name: slugs.org, slug: slugs.org });
  await ok("POST", `/api/v1/orgs/${slugs.org}/projects`, { name: slugs.project, slug: slugs.project });
  const svc = await ok("POST", `/api/v1/orgs/${slugs.org}/projects/${slugs.project}/envs/production/services`, { name: slugs.service });
  const now = t.deps.clock.now().toISOString();
  const repositoryName = `ancla/${slugs.org}-${slugs.project}-production-${slugs.service}`;
  const image = insertImage(t.deps.db, {
    id: newId(), serviceId: svc.id, version: 1, status: "complete", source: "image", repositoryName, tag: "v1",
    dockerImageId: "sha256:" + "1".repeat(64), processes: { web: null }, createdAt: now, updatedAt: now,
  });
  const release = insertRelease(t.deps.db, {
    id: newId(), serviceId: svc.id, version: 1, status: "complete", imageId: image.id, imageVersion: 1, imageRef: image.dockerImageId!,
    repositoryName, tag: "v1", processes: { web: null }, config: [], port: 8000, healthCheckPath: "/_health/",
    imageChanges: {}, configurationChanges: {}, createdAt: now, updatedAt: now,
  });
  const deploymentId = newId();
  const records: ReplicaRecord[] = replicas.map((r) => ({ ...r, hostPort: null, deploymentId, podClass: "small", releaseId: release.id }));
  insertDeployment(t.deps.db, { id: deploymentId, serviceId: svc.id, releaseId: release.id, version: 1, status: "complete", metadata: { target: "docker", replicas: records }, createdAt: now, updatedAt: now, finishedAt: now });
  return { serviceId: svc.id };
}
