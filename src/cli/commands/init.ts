// `ancla init <org>/<project>[/<env>[/<service>]]`: the quick start's first four steps in one —
// the organization, project, environment and service are made where missing (existing ones are
// used as they are), and this directory is linked to the service, so `ancla deploy` is next.
// The service defaults to this directory's name, the environment to the project's `production`.
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { AppError } from "../../errors";
import { intFlag, noExtraArgs, requireArg, usage } from "../args";
import { clientFor, seg, type ApiClient } from "../client";
import { command, type CommandTable } from "../context";
import { writeCliFile } from "../settings";
import type { ServiceDetail } from "../../modules/services/model";

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** A slug from a directory name ("My App_2" → "my-app-2"); null when nothing usable is left. */
export function slugFromName(name: string): string | null {
  const s = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63).replace(/-+$/, "");
  return SLUG.test(s) ? s : null;
}

type Step = { what: string; path: string; created: boolean };

/** GET the resource; on 404 create it with `create()`. Other errors (403, 409 …) stop init. */
async function ensure(client: ApiClient, what: string, get: string, create: () => Promise<unknown>): Promise<Step> {
  try {
    await client.get(get);
    return { what, path: get, created: false };
  } catch (e) {
    if (!(e instanceof AppError) || e.status !== 404) throw e;
  }
  await create();
  return { what, path: get, created: true };
}

export const initCommands: CommandTable = {
  init: command({
    summary: "Create what is missing of org/project/env/service and link this directory to the service (then: ancla deploy)",
    usage: "init <org>/<project>[/<env>[/<service>]]",
    options: {
      port: { type: "string", value: "N", description: "container port of a new service, passed as PORT (default 8000)" },
      "health-check-path": { type: "string", value: "PATH", description: "path a new service's web replicas answer 2xx/3xx on (default /_health/)" },
    },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const arg = requireArg(ctx.args, 0, "<org>/<project>[/<env>[/<service>]]");
      const given = arg.split("/");
      if (given.length < 2 || given.length > 4 || given.some((p) => !SLUG.test(p))) {
        throw usage(`"${arg}" is not a valid target; expected <org>/<project>[/<env>[/<service>]] with slugs (lowercase letters, digits, dashes)`);
      }
      const fromDir = slugFromName(basename(ctx.cwd));
      const [org, project, env = "production", service = fromDir] = given as [string, string, string?, string?];
      if (!service) throw usage(`this directory's name gives no service slug; name the service: ancla init ${org}/${project}/${env}/<service>`);
      const port = intFlag(ctx.flags.port, "port", 1, 65535);
      const healthPath = ctx.flags["health-check-path"];
      if (healthPath !== undefined && !healthPath.startsWith("/")) throw usage("--health-check-path must start with /");

      const client = clientFor(ctx);
      const o = `/api/v1/orgs/${seg(org)}`;
      const p = `${o}/projects/${seg(project)}`;
      const e = `${p}/envs/${seg(env)}`;
      const steps: Step[] = [];
      steps.push(await ensure(client, `organization ${org}`, o, () => client.post("/api/v1/organizations", { name: org, slug: org })));
      steps.push(await ensure(client, `project ${org}/${project}`, p, () => client.post(`${o}/projects`, { name: project, slug: project })));
      steps.push(await ensure(client, `environment ${org}/${project}/${env}`, e, () => client.post(`${p}/envs`, { name: env, slug: env })));
      steps.push(
        await ensure(client, `service ${org}/${project}/${env}/${service}`, `${e}/services/${seg(service)}`, () =>
          client.post(`${e}/services`, { name: service, slug: service, ...(port !== undefined ? { port } : {}), ...(healthPath !== undefined ? { health_check_path: healthPath } : {}) }),
        ),
      );
      const svc = await client.get<ServiceDetail>(`${e}/services/${seg(service)}`);
      if (!steps.at(-1)!.created && (port !== undefined || healthPath !== undefined)) {
        ctx.io.err(`note: ${org}/${project}/${env}/${service} already existed; --port/--health-check-path apply to new services (use ancla services update)`);
      }

      const file = join(ctx.cwd, ".ancla", "config.yaml");
      writeCliFile(file, { org, project, env, service });
      const target = `${org}/${project}/${env}/${service}`;
      const dockerfile = existsSync(join(ctx.cwd, "Dockerfile"));
      const lines = [
        ...steps.map((s) => `${s.what}: ${s.created ? "created" : "exists"}`),
        `linked ${ctx.cwd} to ${target} (${file})`,
        `the app listens on $PORT (${svc.port}) and answers GET ${svc.health_check_path} with 2xx/3xx`,
        dockerfile ? "next: ancla deploy --follow" : `next: add a Dockerfile to ${ctx.cwd}, then ancla deploy --follow`,
      ];
      const data = { target, file, created: steps.filter((s) => s.created).map((s) => s.what), port: svc.port, health_check_path: svc.health_check_path, dockerfile };
      return { kind: "text", text: lines.join("\n"), data };
    },
  }),
};
