// /api/docs: a self-contained API reference page rendered from /api/v1/openapi.json (no CDN).
import { Elysia } from "elysia";
import page from "./page.html" with { type: "text" };

export const docsRoutes = () =>
  new Elysia().get("/api/docs", () => new Response(page as unknown as string, { headers: { "content-type": "text/html; charset=utf-8" } }), {
    detail: { hide: true },
  });
