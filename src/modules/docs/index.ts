// /api/docs (self-contained reference page, no CDN) and /api/v1/openapi.json.
// The OpenAPI plugin leaves request bodies empty because our JSON body parser is a function
// hook; the public spec fills each empty requestBody from the route's own zod schema.
import { Elysia } from "elysia";
import { openapi } from "@elysiajs/openapi";
import { z } from "zod";
import page from "./page.html" with { type: "text" };

const RAW_SPEC = "/api/v1/openapi-raw.json";

export const openapiPlugin = () =>
  openapi({
    path: "/api/openapi-ui",
    specPath: RAW_SPEC,
    provider: null,
    exclude: { paths: [RAW_SPEC, "/api/v1/openapi.json", "/api/docs"] },
    documentation: {
      info: { title: "Ancla API", version: "1" },
      components: { securitySchemes: { apiKey: { type: "apiKey", in: "header", name: "X-API-Key" } } },
      security: [{ apiKey: [] }],
    },
  });

type Route = { method: string; path: string; hooks?: { body?: unknown } };
export type SpecSource = { routes: Route[]; handle: (r: Request) => Promise<Response> };
type Spec = { paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>> };

async function buildSpec(app: SpecSource): Promise<Spec> {
  const spec = (await (await app.handle(new Request("http://localhost" + RAW_SPEC))).json()) as Spec;
  for (const route of app.routes) {
    const body = route.hooks?.body;
    if (!body || typeof body !== "object" || !("~standard" in body)) continue;
    const op = spec.paths[route.path.replace(/:(\w+)/g, "{$1}")]?.[route.method.toLowerCase()];
    if (op?.requestBody && Object.keys(op.requestBody.content).length === 0) {
      const schema = z.toJSONSchema(body as z.ZodType, { io: "input", unrepresentable: "any" });
      op.requestBody.content = { "application/json": { schema } };
    }
  }
  return spec;
}

export const docsRoutes = (getApp: () => SpecSource) => {
  let spec: Promise<Spec> | undefined;
  return new Elysia()
    .get("/api/docs", () => new Response(page as unknown as string, { headers: { "content-type": "text/html; charset=utf-8" } }), {
      detail: { hide: true },
    })
    .get("/api/v1/openapi.json", () => (spec ??= buildSpec(getApp())), { detail: { hide: true } });
};
