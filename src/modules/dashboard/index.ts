// The embedded dashboard at `/`: hashed assets with long caching, index.html (no-store) for every
// other non-API GET path so client-side routes survive a reload, and a strict CSP on all of it.
import { Elysia } from "elysia";
import type { Deps } from "../../deps";
import { loadAssets } from "./assets";
import { dashboardRedirect } from "./legacy-paths";
import { isValidCliAuthQuery } from "../cli-auth/model";
import { optionalActor } from "../auth/context";
import { requireUser } from "../auth/service";
import { splitHostPort } from "../../config";
import { z } from "zod";

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  // the CLI login page carries a one-time code; never leak it through Referer
  "referrer-policy": "no-referrer",
};

const NOT_BUILT = `<!doctype html><title>Ancla</title><h1>Dashboard not built</h1>
<p>This server was started from source without the dashboard bundle. Run <code>bun scripts/gen-assets.ts</code> and restart.</p>`;

const json404 = () =>
  new Response(JSON.stringify({ status: 404, message: "Route not found." }), {
    status: 404,
    headers: { "content-type": "application/json" },
  });

// Paths a client means for an API (a wrong base URL, another product's prefix: /api, /v1,
// /admin/api, /apis, /api-docs, /graphql, /metrics, *.json) never get the SPA's index.html with a
// 200: a script would parse HTML as success. Only the second segment under a fixed first one
// counts (/admin/api), never under /orgs/ (an organization may be called "api").
const API_FIRST = /^(api\w*|api-.*|apis|v\d+|graphql|rest|metrics)$/i;
export function isApiLikePath(pathname: string): boolean {
  const [first = "", second = ""] = pathname.split("/").filter(Boolean);
  if (API_FIRST.test(first) || /\.json$/i.test(pathname)) return true;
  return first.toLowerCase() !== "orgs" && API_FIRST.test(second);
}

async function serve(pathname: string, search: URLSearchParams): Promise<Response> {
  // API and metrics paths never fall back to the SPA: an unknown API route stays a JSON 404
  if (isApiLikePath(pathname)) return json404();
  const assets = await loadAssets();
  if (!assets) return new Response(NOT_BUILT, { status: 503, headers: { "content-type": "text/html; charset=utf-8", ...SECURITY_HEADERS } });
  const asset = assets[pathname];
  if (asset && asset.immutable) {
    return new Response(Bun.file(asset.file), {
      headers: { "content-type": asset.type, "cache-control": "public, max-age=31536000, immutable", ...SECURITY_HEADERS },
    });
  }
  if (pathname.startsWith("/assets/")) {
    return new Response("Not found", { status: 404, headers: { "content-type": "text/plain", "cache-control": "no-store", ...SECURITY_HEADERS } });
  }
  const index = assets["/index.html"]!;
  // the CLI login page with a malformed code or port is an error page (422), never a redirect
  const status = pathname === "/cli-auth" && !isValidCliAuthQuery(search) ? 422 : 200;
  return new Response(Bun.file(index.file), {
    status,
    headers: { "content-type": index.type, "cache-control": "no-store", ...SECURITY_HEADERS },
  });
}

const redirectTo = (location: string) => new Response(null, { status: 302, headers: { location, "cache-control": "no-store" } });

/** What the dashboard needs to show an app's URL: the router's port and the base domain. */
const dashboardInfo = z.object({ domain: z.string(), router_port: z.number().int().nullable(), public_url: z.string().nullable() });
export type DashboardInfo = z.infer<typeof dashboardInfo>;

export const dashboardRoutes = (deps: Deps) =>
  new Elysia({ detail: { hide: true } })
    .use(optionalActor(deps))
    .get(
      "/api/v1/dashboard/info",
      ({ actor }) => {
        requireUser(actor);
        const { port } = splitHostPort(deps.config.router);
        // port 0 means "any free port": the bound port is not known here, so say nothing rather than lie
        return { domain: deps.config.domain, router_port: Number.isFinite(port) && port > 0 ? port : null, public_url: deps.config.publicUrl ?? null };
      },
      { response: { 200: dashboardInfo }, detail: { hide: false, tags: ["dashboard"], summary: "Router port and base domain for app URLs" } },
    )
    .get("/", ({ request }) => serve("/", new URL(request.url).searchParams))
    // the published CLI's `ancla open` (the hosted dashboard's paths) → our pages
    .get("/dashboard", ({ actor, request }) => redirectTo(dashboardRedirect(deps, actor, new URL(request.url).pathname)))
    .get("/dashboard/*", ({ actor, request }) => redirectTo(dashboardRedirect(deps, actor, new URL(request.url).pathname)))
    .get("/*", ({ request }) => {
      const url = new URL(request.url);
      return serve(url.pathname, url.searchParams);
    });
