// The HTTP side of the test Kubernetes API server: discovery documents, the REST paths of
// core/v1, apps/v1, networking.k8s.io/v1, authorization.k8s.io/v1 (and metrics.k8s.io/v1beta1 when
// enabled), verbs from method + path (get, list, watch, create, update, patch, delete,
// deletecollection), the four PATCH content types, the status/scale/log subresources, Status
// bodies for every failure, bearer-token authentication and a deny list for authorization.
import YAML from "yaml";
import { ApiError, clone, jsonPatch, mergePatch, selectorString, strategicMerge, type Obj } from "./objects";
import { apiVersionOf, METRICS_RESOURCES, qualified, RESOURCES, type ResourceDef } from "./resources";
import type { Store } from "./store";

export type DenyRule = { verb: string; resource: string; namespace?: string };
export type RecordedRequest = { method: string; path: string; query: string; contentType: string | null };
export type Hooks = {
  podLog: (ns: string, name: string, q: URLSearchParams, signal: AbortSignal) => Promise<Response>;
  metrics?: (def: ResourceDef, ns: string | undefined, name: string | undefined) => Promise<Obj>;
};
export type HandlerState = { store: Store; token?: string; user: string; deny: DenyRule[]; requests: RecordedRequest[]; metrics: boolean; hooks: Hooks };

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const notFoundPath = () => new ApiError(404, "NotFound", "the server could not find the requested resource", {});

function defsOf(state: HandlerState): ResourceDef[] {
  return state.metrics ? [...RESOURCES, ...METRICS_RESOURCES] : RESOURCES;
}

function groupVersions(state: HandlerState): Map<string, ResourceDef[]> {
  const m = new Map<string, ResourceDef[]>();
  for (const d of defsOf(state)) m.set(apiVersionOf(d), [...(m.get(apiVersionOf(d)) ?? []), d]);
  return m;
}

function resourceList(gv: string, defs: ResourceDef[]): Obj {
  const resources: Obj[] = [];
  for (const d of defs) {
    resources.push({ name: d.plural, singularName: d.singular, namespaced: d.namespaced, kind: d.kind, verbs: d.verbs, ...(d.shortNames ? { shortNames: d.shortNames } : {}) });
    for (const s of d.subresources ?? []) {
      const kind = s === "scale" ? "Scale" : s === "log" ? "Pod" : d.kind;
      const verbs = s === "log" ? ["get"] : ["get", "patch", "update"];
      resources.push({ name: `${d.plural}/${s}`, singularName: "", namespaced: d.namespaced, kind, verbs, ...(s === "scale" ? { group: "autoscaling", version: "v1" } : {}) });
    }
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: gv, resources };
}

function discovery(state: HandlerState, path: string, host: string): Obj | undefined {
  const gvs = groupVersions(state);
  if (path === "/api") return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: host }] };
  if (path === "/api/v1") return resourceList("v1", gvs.get("v1")!);
  const groups = [...gvs.keys()].filter((gv) => gv.includes("/")).map((gv) => {
    const [name, version] = gv.split("/") as [string, string];
    const v = { groupVersion: gv, version };
    return { name, versions: [v], preferredVersion: v };
  });
  if (path === "/apis") return { kind: "APIGroupList", apiVersion: "v1", groups };
  const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(path);
  if (!m) return undefined;
  const group = groups.find((g) => g.name === m[1]);
  if (!group) return undefined;
  if (!m[2]) return { kind: "APIGroup", apiVersion: "v1", ...group };
  const defs = gvs.get(`${m[1]}/${m[2]}`);
  return defs ? resourceList(`${m[1]}/${m[2]}`, defs) : undefined;
}

type Target = { def: ResourceDef; ns?: string; name?: string; sub?: string };

function resolve(state: HandlerState, path: string): Target | undefined {
  let m = /^\/api\/v1\/(.*)$/.exec(path);
  let gv = "v1";
  let rest: string;
  if (m) rest = m[1]!;
  else {
    m = /^\/apis\/([^/]+)\/([^/]+)\/(.*)$/.exec(path);
    if (!m) return undefined;
    gv = `${m[1]}/${m[2]}`;
    rest = m[3]!;
  }
  const defs = groupVersions(state).get(gv);
  if (!defs) return undefined;
  const seg = rest.split("/").filter(Boolean).map(decodeURIComponent);
  const byPlural = (p: string | undefined) => defs.find((d) => d.plural === p);
  if (seg[0] === "namespaces" && seg.length >= 3 && byPlural(seg[2])?.namespaced) {
    const def = byPlural(seg[2])!;
    if (seg.length > 5) return undefined;
    return { def, ns: seg[1], name: seg[3], sub: seg[4] };
  }
  const def = byPlural(seg[0]);
  if (!def || seg.length > 3) return undefined;
  return { def, name: seg[1], sub: seg[2] };
}

function verbOf(method: string, t: Target, q: URLSearchParams): string {
  const watch = q.get("watch") === "true" || q.get("watch") === "1";
  if (method === "GET") return t.name ? "get" : watch ? "watch" : "list";
  if (method === "POST") return "create";
  if (method === "PUT") return "update";
  if (method === "PATCH") return "patch";
  if (method === "DELETE") return t.name ? "delete" : "deletecollection";
  throw new ApiError(405, "MethodNotAllowed", `the server does not allow this method on the requested resource`);
}

export function denied(state: HandlerState, verb: string, resource: string, ns: string | undefined): boolean {
  return state.deny.some((r) => (r.verb === "*" || r.verb === verb) && (r.resource === "*" || r.resource === resource) && (!r.namespace || r.namespace === ns));
}

function forbidden(state: HandlerState, verb: string, t: Target): ApiError {
  const res = t.sub ? `${t.def.plural}/${t.sub}` : t.def.plural;
  const where = t.ns ? ` in the namespace "${t.ns}"` : " at the cluster scope";
  return new ApiError(403, "Forbidden", `${qualified(t.def)}${t.name ? ` "${t.name}"` : ""} is forbidden: User "${state.user}" cannot ${verb} resource "${res}" in API group "${t.def.group}"${where}`, { name: t.name, group: t.def.group || undefined, kind: t.def.plural });
}

const stripList = (o: Obj) => {
  const { kind, apiVersion, ...rest } = o;
  return rest;
};

function listBody(state: HandlerState, t: Target, q: URLSearchParams): Obj {
  let items = state.store.list(t.def, { ns: t.ns, labelSelector: q.get("labelSelector"), fieldSelector: q.get("fieldSelector") });
  const offset = Number(q.get("continue") ? Buffer.from(q.get("continue")!, "base64").toString() : 0);
  const limit = Number(q.get("limit") ?? 0);
  let cont: string | undefined;
  items = items.slice(offset);
  if (limit > 0 && items.length > limit) {
    items = items.slice(0, limit);
    cont = Buffer.from(String(offset + limit)).toString("base64");
  }
  return { kind: `${t.def.kind}List`, apiVersion: apiVersionOf(t.def), metadata: { resourceVersion: state.store.resourceVersion, ...(cont ? { continue: cont } : {}) }, items: items.map(stripList) };
}

function watchResponse(state: HandlerState, t: Target, q: URLSearchParams, signal: AbortSignal): Response {
  const enc = new TextEncoder();
  let stop = () => {};
  let timer: Timer | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const close = () => {
        stop();
        clearTimeout(timer);
        try {
          controller.close();
        } catch {}
      };
      stop = state.store.watch(t.def, { ns: t.ns, labelSelector: q.get("labelSelector"), fieldSelector: q.get("fieldSelector"), resourceVersion: q.get("resourceVersion") }, (e) => {
        try {
          controller.enqueue(enc.encode(`${JSON.stringify(e)}\n`));
        } catch {
          stop();
        }
      });
      // Bun sends the response head with the first body bytes: a newline (JSON whitespace, which
      // client-go's and client-node's framers skip) puts the head on the wire before any event
      controller.enqueue(enc.encode("\n"));
      const secs = Number(q.get("timeoutSeconds") ?? 0);
      if (secs > 0) timer = setTimeout(close, secs * 1000);
      signal.addEventListener("abort", close);
    },
    cancel() {
      stop();
      clearTimeout(timer);
    },
  });
  return new Response(stream, { headers: { "content-type": "application/json", "transfer-encoding": "chunked" } });
}

async function readBody(req: Request): Promise<Obj> {
  const text = await req.text();
  const type = (req.headers.get("content-type") ?? "").split(";")[0]!.trim();
  try {
    return type === "application/apply-patch+yaml" ? YAML.parse(text) : JSON.parse(text);
  } catch (e) {
    throw new ApiError(400, "BadRequest", `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (${(e as Error).message})`);
  }
}

function scaleOf(o: Obj): Obj {
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: { name: o.metadata.name, namespace: o.metadata.namespace, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, creationTimestamp: o.metadata.creationTimestamp },
    spec: { replicas: o.spec.replicas },
    status: { replicas: o.status?.replicas ?? 0, selector: selectorString(o.spec.selector) },
  };
}

async function patchTarget(state: HandlerState, t: Target, req: Request, q: URLSearchParams, dryRun: boolean): Promise<Response> {
  const type = (req.headers.get("content-type") ?? "").split(";")[0]!.trim();
  const body = await readBody(req);
  const manager = q.get("fieldManager") ?? undefined;
  const sub = t.sub === "status" ? ("status" as const) : undefined;
  if (type === "application/apply-patch+yaml") {
    if (!manager) throw new ApiError(422, "Invalid", `PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch`);
    if (t.sub === "scale") throw new ApiError(415, "UnsupportedMediaType", "apply patches are not supported on the scale subresource here");
    const { obj, created } = state.store.apply(t.def, t.ns, t.name!, body, manager, { dryRun, subresource: sub });
    return json(obj, created ? 201 : 200);
  }
  const cur = state.store.get(t.def, t.ns, t.name!);
  const start = t.sub === "scale" ? scaleOf(cur) : cur;
  let next: Obj;
  try {
    if (type === "application/merge-patch+json") next = mergePatch(start, body) as Obj;
    else if (type === "application/strategic-merge-patch+json") next = strategicMerge(start, body, "", start.kind === "Service") as Obj;
    else if (type === "application/json-patch+json") next = jsonPatch(start, body as unknown as Obj[]);
    else throw new ApiError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError(422, "Invalid", (e as Error).message);
  }
  if (t.sub === "scale") return json(scaleOf(state.store.replace(t.def, cur, { ...cur, spec: { ...cur.spec, replicas: next.spec?.replicas } }, { dryRun, manager })));
  return json(state.store.replace(t.def, cur, next, { dryRun, manager, subresource: sub }));
}

async function handleResource(state: HandlerState, t: Target, req: Request, q: URLSearchParams): Promise<Response> {
  const { store } = state;
  const verb = verbOf(req.method, t, q);
  const resource = t.sub ? `${t.def.plural}/${t.sub}` : t.def.plural;
  if (!t.def.verbs.includes(verb) && !t.sub) throw new ApiError(405, "MethodNotAllowed", `the server does not allow this method on the requested resource`);
  if (denied(state, verb, resource, t.ns)) throw forbidden(state, verb, t);
  const dryRun = q.getAll("dryRun").includes("All");
  const manager = q.get("fieldManager") ?? undefined;
  if (t.def.group === "metrics.k8s.io") return json(await state.hooks.metrics!(t.def, t.ns, t.name));
  if (t.def.kind === "SelfSubjectAccessReview") {
    const body = await readBody(req);
    const a = body.spec?.resourceAttributes ?? {};
    const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    const no = denied(state, a.verb, res, a.namespace);
    return json({ ...body, apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", metadata: { creationTimestamp: null }, status: { allowed: !no, ...(no ? { reason: "denied by the test server's deny list" } : {}) } }, 201);
  }
  if (t.sub === "log") {
    if (t.def.kind !== "Pod" || req.method !== "GET") throw notFoundPath();
    store.get(t.def, t.ns, t.name!);
    return state.hooks.podLog(t.ns!, t.name!, q, req.signal);
  }
  if (t.sub && !(t.def.subresources ?? []).includes(t.sub)) throw notFoundPath();
  switch (verb) {
    case "list":
      return json(listBody(state, t, q));
    case "watch":
      return watchResponse(state, t, q, req.signal);
    case "get": {
      const o = store.get(t.def, t.ns, t.name!);
      return json(t.sub === "scale" ? scaleOf(o) : o);
    }
    case "create":
      if (t.def.namespaced && !t.ns) throw notFoundPath();
      return json(store.create(t.def, t.ns, await readBody(req), { dryRun, manager }), 201);
    case "update": {
      const body = await readBody(req);
      if (t.sub === "scale") {
        const cur = store.get(t.def, t.ns, t.name!);
        return json(scaleOf(store.replace(t.def, cur, { ...cur, spec: { ...cur.spec, replicas: body.spec?.replicas } }, { dryRun, manager })));
      }
      return json(store.update(t.def, t.ns, t.name!, body, { dryRun, manager, subresource: t.sub === "status" ? "status" : undefined }));
    }
    case "patch":
      return patchTarget(state, t, req, q, dryRun);
    case "delete": {
      // DeleteOptions come as query parameters or as a body
      const body = Number(req.headers.get("content-length") ?? 0) > 0 ? await readBody(req).catch(() => ({}) as Obj) : ({} as Obj);
      const grace = q.get("gracePeriodSeconds") ?? body.gracePeriodSeconds;
      return json(store.delete(t.def, t.ns, t.name!, { dryRun, gracePeriodSeconds: grace === undefined || grace === null ? undefined : Number(grace) }));
    }
    case "deletecollection": {
      for (const o of store.list(t.def, { ns: t.ns, labelSelector: q.get("labelSelector"), fieldSelector: q.get("fieldSelector") })) {
        if (store.find(t.def, o.metadata.namespace, o.metadata.name)) store.delete(t.def, o.metadata.namespace, o.metadata.name, { dryRun });
      }
      return json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success" });
    }
  }
  throw notFoundPath();
}

/** One request in, one response out; every failure is a Status body. */
export async function handle(state: HandlerState, req: Request): Promise<Response> {
  const url = new URL(req.url);
  state.requests.push({ method: req.method, path: url.pathname, query: url.search, contentType: req.headers.get("content-type") });
  try {
    if (state.token && req.headers.get("authorization") !== `Bearer ${state.token}`) throw new ApiError(401, "Unauthorized", "Unauthorized");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (["/healthz", "/readyz", "/livez"].includes(path)) return new Response("ok");
    if (path === "/version") return json({ major: "1", minor: "30", gitVersion: "v1.30.0-ancla-test", gitCommit: "0000000", gitTreeState: "clean", buildDate: "2026-01-01T00:00:00Z", goVersion: "go1.22", compiler: "gc", platform: "linux/amd64" });
    if (req.method === "GET") {
      const d = discovery(state, path, url.host);
      if (d) return json(d);
    }
    const t = resolve(state, path);
    if (!t) throw notFoundPath();
    return await handleResource(state, t, req, url.searchParams);
  } catch (e) {
    if (e instanceof ApiError) return json(e.body(), e.code);
    console.error("kube test server:", e);
    return json(new ApiError(500, "InternalError", `internal error: ${(e as Error).message}`).body(), 500);
  }
}

