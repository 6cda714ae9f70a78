// A small history router: patterns like /orgs/:org, link interception, and a render hook.
import type { Child } from "./dom";

export type RouteContext = { params: Record<string, string>; query: URLSearchParams; path: string };
export type View = (ctx: RouteContext) => Child | Promise<Child>;
type Route = { parts: string[]; title: (p: Record<string, string>) => string; view: View; public: boolean };

const routes: Route[] = [];
let render: (route: { view: View; title: string; public: boolean } | null, ctx: RouteContext) => void = () => {};

export function route(pattern: string, title: string | ((p: Record<string, string>) => string), view: View, opts: { public?: boolean } = {}): void {
  routes.push({ parts: pattern.split("/").filter(Boolean), title: typeof title === "string" ? () => title : title, view, public: opts.public ?? false });
}

function match(path: string): { route: Route; params: Record<string, string> } | null {
  const segs = path.split("/").filter(Boolean);
  for (const r of routes) {
    if (r.parts.length !== segs.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < segs.length; i++) {
      const part = r.parts[i]!;
      let seg: string;
      try {
        seg = decodeURIComponent(segs[i]!);
      } catch {
        ok = false;
        break;
      }
      if (part.startsWith(":")) params[part.slice(1)] = seg;
      else if (part !== seg) ok = false;
      if (!ok) break;
    }
    if (ok) return { route: r, params };
  }
  return null;
}

export function refresh(): void {
  const path = location.pathname;
  const found = match(path);
  const ctx: RouteContext = { params: found?.params ?? {}, query: new URLSearchParams(location.search), path };
  render(found ? { view: found.route.view, title: found.route.title(found.params), public: found.route.public } : null, ctx);
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  refresh();
}

export function startRouter(onRender: typeof render): void {
  render = onRender;
  window.addEventListener("popstate", refresh);
  document.addEventListener("click", (ev) => {
    const a = (ev.target as Element | null)?.closest?.("a");
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const href = a.getAttribute("href");
    if (!href || !href.startsWith("/") || href.startsWith("//") || href.startsWith("/api/") || a.target || a.hasAttribute("download")) return;
    ev.preventDefault();
    navigate(href);
  });
  refresh();
}

const enc = encodeURIComponent;
export const links = {
  org: (o: string) => `/orgs/${enc(o)}`,
  project: (o: string, p: string) => `/orgs/${enc(o)}/projects/${enc(p)}`,
  env: (o: string, p: string, e: string) => `/orgs/${enc(o)}/projects/${enc(p)}/envs/${enc(e)}`,
  service: (o: string, p: string, e: string, s: string) => `/orgs/${enc(o)}/projects/${enc(p)}/envs/${enc(e)}/services/${enc(s)}`,
};
