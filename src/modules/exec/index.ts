// Routes of exec, runs and volumes:
//   POST /api/v1/applications/{application_id}/exec (id and org/project/app forms), POST …/services/{svc}/exec
//     (also below /api/v1/workspaces/…, the published CLI's path) → {host, port, token, websocket_url}
//   GET /api/v1/orgs/{org}/exec-sessions (org admins: every exec, who, when, what)
//   WS /api/v1/exec/ws (the same session for our CLI; see ws.ts)
//   POST|GET …/services/{svc}/runs, GET …/runs/{id}
//   GET|POST …/services/{svc}/volumes, DELETE …/volumes/{name}, GET …/volumes/{name}/backup, POST …/volumes/{name}/restore
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { isUuid } from "../../lib/ids";
import { offsetOf, pageOf, pageQuery } from "../../lib/pagination";
import { withActor } from "../auth/context";
import { requireUser, type Actor } from "../auth/service";
import { orgAdminAccess } from "../orgs/access";
import { serviceAccess, type ServiceAccess } from "../services/access";
import { volumeInput, volumeView } from "../services/volumes";
import { serviceDetail } from "../services/model";
import { applicationAccess, applicationRef } from "../applications/access";
import { createInProjectRequest } from "../applications/model";
import * as apps from "../applications/service";
import { appParams, execInput, execResponse, execSessionList, idParams, orgParams, runInput, runList, runParams, runView, serviceParams, volumeParams } from "./model";
import * as repo from "./repo";
import { getRun, listRunPage, startRun } from "./runs";
import { createExecSession, toExecSessionView } from "./sessions";
import { keepStream } from "../../lib/body-limit";
import { addVolume, backupVolume, listVolumeViews, removeVolume, restoreVolume } from "./volumes";
import { execSocket } from "./ws";

// backup/restore right after a scale to 0: wait for the replicas still stopping (and insist on none)
const waitIdleQuery = z.object({ wait_idle: z.enum(["true", "false"]).optional() });
const EXEC_SUMMARY = "A single-use, 60-second token to run a command in a running replica: over SSH (ssh -p PORT token:TOKEN@HOST [command]) or the WebSocket URL";

const execRoute = (deps: Deps, access: (actor: Actor | null, p: Record<string, string>) => ServiceAccess) => ({
  handler: async ({ actor, params, body, set }: { actor: Actor | null; params: Record<string, string>; body: unknown; set: { status?: number | string } }) => {
    const input = apps.parseBody(execInput, body);
    const out = await createExecSession(deps, access(actor, params), input);
    set.status = 201;
    return out;
  },
});

const applicationExecRoutes = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/applications", detail: { tags: ["exec"] } })
    .use(withActor(deps))
    .post(
      "/:org/exec",
      async ({ actor, params, body, set }) => {
        requireUser(actor);
        // `/applications/{org}/{project}` with project "exec" creates an app there (see applications/access.ts)
        if (!isUuid(params.org)) {
          set.status = 201;
          return await apps.createInProject(deps, actor, params.org, "exec", apps.parseBody(createInProjectRequest, body));
        }
        return execRoute(deps, (a, p) => applicationAccess(deps, a, p.org!)).handler({ actor, params, body, set });
      },
      { params: idParams, response: { 201: z.union([execResponse, serviceDetail]) }, detail: { summary: EXEC_SUMMARY } },
    )
    .post("/:org/:project/:app/exec", (ctx) => execRoute(deps, (a, p) => applicationAccess(deps, a, applicationRef(p as never))).handler(ctx), {
      params: appParams,
      response: { 201: execResponse },
      detail: { summary: EXEC_SUMMARY },
    });

const serviceExecRoutes = (deps: Deps, prefix: string, hide: boolean) =>
  new Elysia({ prefix, detail: { tags: ["exec"], hide } })
    .use(withActor(deps))
    .post("/exec", (ctx) => execRoute(deps, (a, p) => serviceAccess(deps, a, p.org!, p.project!, p.env!, p.svc!)).handler(ctx), {
      params: serviceParams,
      response: { 201: execResponse },
      detail: { summary: EXEC_SUMMARY },
    });

const SVC = "/api/v1/orgs/:org/projects/:project/envs/:env/services/:svc";

const runAndVolumeRoutes = (deps: Deps) =>
  new Elysia({ prefix: SVC, detail: { tags: ["runs"] } })
    .use(withActor(deps))
    .post(
      "/runs",
      ({ actor, params: p, body, set }) => {
        const out = startRun(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc), apps.parseBody(runInput, body));
        set.status = 201;
        return out;
      },
      { params: serviceParams, response: { 201: runView }, detail: { summary: "Start a one-off run of a command in a container from the serving release (its config, limits, network and volumes)" } },
    )
    .get("/runs", ({ actor, params: p, query }) => listRunPage(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc), query), {
      params: serviceParams,
      query: pageQuery,
      response: { 200: runList },
      detail: { summary: "One-off runs of a service, newest first (without output)" },
    })
    .get("/runs/:id", ({ actor, params: p }) => getRun(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc), p.id), {
      params: runParams,
      response: { 200: runView },
      detail: { summary: "A run with its (redacted) output, status and exit code" },
    })
    .get(
      "/runs/:id/log",
      ({ actor, params: p }) => {
        const r = getRun(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc), p.id);
        return { status: r.status, log_text: r.output ?? "", error: r.status === "failed" || r.status === "error", error_detail: r.error_detail, exit_code: r.exit_code };
      },
      {
        params: runParams,
        response: { 200: z.object({ status: z.string(), log_text: z.string(), error: z.boolean(), error_detail: z.string().nullable(), exit_code: z.number().int().nullable() }) },
        detail: { summary: "A run's output as a log ({log_text, status}, like deployment logs)" },
      },
    )
    .get("/volumes", ({ actor, params: p }) => listVolumeViews(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc)), {
      params: serviceParams,
      response: { 200: z.array(volumeView) },
      detail: { tags: ["volumes"], summary: "A service's persistent volumes" },
    })
    .post(
      "/volumes",
      async ({ actor, params: p, body, set }) => {
        const out = await addVolume(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc), apps.parseBody(volumeInput, body));
        set.status = 201;
        return out;
      },
      { params: serviceParams, response: { 201: volumeView }, detail: { tags: ["volumes"], summary: "Add a persistent volume (mounted from the next deploy on)" } },
    )
    .delete("/volumes/:name", ({ actor, params: p }) => removeVolume(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc), p.name), {
      params: volumeParams,
      response: { 200: z.object({ ok: z.boolean() }) },
      detail: { tags: ["volumes"], summary: "Stop mounting a volume from the next deploy on (its data stays until the service is deleted with delete_volumes=true)" },
    })
    .get("/volumes/:name/backup", async ({ actor, params: p, query, request }) => await backupVolume(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc), p.name, query.wait_idle === "true", request.method === "HEAD"), {
      params: volumeParams,
      query: waitIdleQuery,
      detail: { tags: ["volumes"], summary: "The volume's files as a tar.gz stream" },
    })
    .post("/volumes/:name/restore", async ({ actor, params: p, query, request }) => await restoreVolume(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc), p.name, request, query.wait_idle === "true"), {
      params: volumeParams,
      query: waitIdleQuery,
      parse: keepStream,
      response: { 200: z.object({ ok: z.boolean(), bytes: z.number().int() }) },
      detail: { tags: ["volumes"], summary: "Replace the volume's files with a tar or tar.gz body (nothing may run with it mounted)" },
    });

const auditRoutes = (deps: Deps) =>
  new Elysia({ detail: { tags: ["exec"] } }).use(withActor(deps)).get(
    "/api/v1/orgs/:org/exec-sessions",
    ({ actor, params, query }) => {
      const { org } = orgAdminAccess(deps, actor, params.org);
      const rows = repo.listExecSessions(deps.db, org.id, query.per_page, offsetOf(query));
      return pageOf(rows.map(toExecSessionView), repo.countExecSessions(deps.db, org.id), query);
    },
    { params: orgParams, query: pageQuery, response: { 200: execSessionList }, detail: { summary: "Every exec session of the organization (organization admins): who, when, which service and command, exit status" } },
  );

export const execRoutes = (deps: Deps) =>
  new Elysia()
    .use(applicationExecRoutes(deps))
    .use(serviceExecRoutes(deps, SVC, false))
    .use(serviceExecRoutes(deps, "/api/v1/workspaces/:org/projects/:project/envs/:env/services/:svc", true))
    .use(runAndVolumeRoutes(deps))
    .use(auditRoutes(deps))
    .use(execSocket(deps));
