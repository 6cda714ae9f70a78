// Config tests' world: org acme (team core), project web (team core, envs production + staging),
// project solo (no team), a service in each env, and a second org for outsiders. Rows below the
// organization are inserted through drizzle so the config tests do not depend on other modules.
import { expect } from "bun:test";
import type { TestApp } from "../support/app";
import { environments, projects, services, teams } from "../../src/db/schema";
import { newId } from "../../src/lib/ids";

export type User = { id: string; key: string; username: string };
export type ConfigWorld = {
  owner: User;
  member: User;
  outsider: User;
  ids: { org: string; team: string; web: string; solo: string; prod: string; staging: string; soloProd: string; api: string; apiStaging: string; worker: string };
};

export async function configWorld(t: TestApp): Promise<ConfigWorld> {
  const owner = await t.user("owner");
  const member = await t.user("member");
  const outsider = await t.user("outsider");
  const org = await t.req("POST", "/api/v1/organizations", { name: "Acme", slug: "acme" }, { key: owner.key });
  expect(org.status).toBe(201);
  expect((await t.req("POST", "/api/v1/organizations/acme/members", { username: "member" }, { key: owner.key })).status).toBe(201);
  expect((await t.req("POST", "/api/v1/organizations", { name: "Other", slug: "other" }, { key: outsider.key })).status).toBe(201);
  const db = t.deps.db;
  const now = new Date().toISOString();
  const stamp = { createdAt: now, updatedAt: now };
  const team = newId();
  db.insert(teams).values({ id: team, orgId: org.body.id, name: "Core", slug: "core", ...stamp }).run();
  const project = (slug: string, teamId: string | null) => {
    const id = newId();
    db.insert(projects).values({ id, orgId: org.body.id, teamId, name: slug, slug, ...stamp }).run();
    return id;
  };
  const env = (projectId: string, slug: string, isDefault: boolean) => {
    const id = newId();
    db.insert(environments).values({ id, projectId, name: slug, slug, envType: isDefault ? "production" : "staging", isDefault, ...stamp }).run();
    return id;
  };
  const service = (projectId: string, envId: string, slug: string) => {
    const id = newId();
    db.insert(services).values({ id, envId, projectId, name: slug, slug, processCounts: { web: 1 }, processPodClasses: {}, domains: [], ...stamp }).run();
    return id;
  };
  const web = project("web", team);
  const solo = project("solo", null);
  const prod = env(web, "production", true);
  const staging = env(web, "staging", false);
  const soloProd = env(solo, "production", true);
  return {
    owner,
    member,
    outsider,
    ids: {
      org: org.body.id,
      team,
      web,
      solo,
      prod,
      staging,
      soloProd,
      api: service(web, prod, "api"),
      apiStaging: service(web, staging, "api"),
      worker: service(solo, soloProd, "worker"),
    },
  };
}

export const PATHS = {
  org: "/api/v1/orgs/acme/config",
  team: "/api/v1/orgs/acme/teams/core/config",
  project: "/api/v1/orgs/acme/projects/web/config",
  env: "/api/v1/orgs/acme/projects/web/envs/production/config",
  service: "/api/v1/orgs/acme/projects/web/envs/production/services/api/config",
  staging: "/api/v1/orgs/acme/projects/web/envs/staging/config",
  stagingService: "/api/v1/orgs/acme/projects/web/envs/staging/services/api/config",
  soloProject: "/api/v1/orgs/acme/projects/solo/config",
  soloService: "/api/v1/orgs/acme/projects/solo/envs/production/services/worker/config",
};
