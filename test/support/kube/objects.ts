// Pure object helpers of the test Kubernetes API server: label and field selectors, the three
// patch kinds (JSON patch RFC 6902, JSON merge patch RFC 7386, strategic merge with the merge keys
// of the lists Ancla sends), server-side apply's "remove what this manager applied before and no
// longer applies", Status bodies and validation of names.
export type Obj = Record<string, any>;

export const clone = <T>(v: T): T => (v === undefined ? v : structuredClone(v));
const isMap = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

export function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isMap(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}
export const stableJson = (v: unknown) => JSON.stringify(sortKeys(v));

// ---------- selectors ----------
type Requirement = { key: string; op: "=" | "!=" | "in" | "notin" | "exists" | "!exists"; values: string[] };

function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) (out.push(cur), (cur = ""));
    else cur += ch;
  }
  if (cur.trim()) out.push(cur);
  return out.map((x) => x.trim()).filter(Boolean);
}

export function parseLabelSelector(s: string | null): Requirement[] {
  if (!s) return [];
  return splitTop(s).map((part) => {
    let m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (m) return { key: m[1]!, op: m[2] as "in", values: m[3]!.split(",").map((x) => x.trim()).filter(Boolean) };
    m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part);
    if (m) return { key: m[1]!, op: m[2] === "!=" ? "!=" : "=", values: [m[3]!] };
    if (part.startsWith("!")) return { key: part.slice(1).trim(), op: "!exists", values: [] };
    if (/^[^\s=!(),]+$/.test(part)) return { key: part, op: "exists", values: [] };
    throw new Error(`unable to parse requirement: ${part}`);
  });
}

export function matchesLabels(labels: Record<string, string> | undefined, reqs: Requirement[]): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.hasOwn(l, r.key);
    switch (r.op) {
      case "=": return has && l[r.key] === r.values[0];
      case "!=": return !has || l[r.key] !== r.values[0];
      case "in": return has && r.values.includes(l[r.key]!);
      case "notin": return !has || !r.values.includes(l[r.key]!);
      case "exists": return has;
      case "!exists": return !has;
    }
  });
}

/** A Deployment-style selector ({matchLabels, matchExpressions}) as requirements. */
export function selectorRequirements(sel: Obj | undefined): Requirement[] {
  const reqs: Requirement[] = Object.entries(sel?.matchLabels ?? {}).map(([key, v]) => ({ key, op: "=", values: [String(v)] }));
  for (const e of sel?.matchExpressions ?? []) {
    const op = ({ In: "in", NotIn: "notin", Exists: "exists", DoesNotExist: "!exists" } as const)[e.operator as "In"];
    reqs.push({ key: e.key, op, values: e.values ?? [] });
  }
  return reqs;
}

export function selectorString(sel: Obj | undefined): string {
  return Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(",");
}

/** fieldSelector: comma-separated `path=value`, `path==value`, `path!=value` on dotted paths. */
export function matchesFields(obj: Obj, s: string | null): boolean {
  if (!s) return true;
  return splitTop(s).every((part) => {
    const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(part);
    if (!m) throw new Error(`invalid field selector: ${part}`);
    const actual = m[1]!.split(".").reduce<any>((o, k) => (o == null ? undefined : o[k]), obj);
    const eq = String(actual ?? "") === m[3];
    return m[2] === "!=" ? !eq : eq;
  });
}

// ---------- patches ----------
/** Lists merged by key (strategic merge patch and server-side apply), by field name. */
const MERGE_KEYS: Record<string, string> = {
  containers: "name", initContainers: "name", env: "name", volumes: "name", volumeMounts: "mountPath",
  imagePullSecrets: "name", ports: "containerPort", conditions: "type", ownerReferences: "uid", tolerations: "key",
};
const SERVICE_PORT_KEY = "port";

function keyOf(field: string, parentIsServiceSpec: boolean): string | undefined {
  if (field === "ports" && parentIsServiceSpec) return SERVICE_PORT_KEY;
  return MERGE_KEYS[field];
}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isMap(patch)) return clone(patch);
  const out: Obj = isMap(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Strategic merge: maps recurse, null deletes, keyed lists merge item by item, other lists replace. */
export function strategicMerge(target: unknown, patch: unknown, field = "", serviceSpec = false): unknown {
  if (Array.isArray(patch)) {
    const key = keyOf(field, serviceSpec);
    if (!key || !Array.isArray(target)) return clone(patch.filter((x) => !(isMap(x) && x.$patch === "delete")));
    const out: unknown[] = clone(target);
    for (const item of patch) {
      if (!isMap(item)) continue;
      const i = out.findIndex((t) => isMap(t) && t[key] === item[key]);
      if (item.$patch === "delete") {
        if (i >= 0) out.splice(i, 1);
      } else if (i >= 0) out[i] = strategicMerge(out[i], item);
      else out.push(clone(item));
    }
    return out;
  }
  if (!isMap(patch)) return clone(patch);
  const out: Obj = isMap(target) ? clone(target) : {};
  const isServiceSpec = field === "spec" && serviceSpec;
  for (const [k, v] of Object.entries(patch)) {
    if (k === "$patch" || k.startsWith("$setElementOrder")) continue;
    if (v === null) delete out[k];
    else out[k] = strategicMerge(out[k], v, k, isServiceSpec);
  }
  return out;
}

/** JSON patch (RFC 6902): add, remove, replace, test. */
export function jsonPatch(doc: Obj, ops: Obj[]): Obj {
  const out = clone(doc);
  for (const op of ops) {
    const parts = String(op.path).split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    const last = parts.pop()!;
    const parent = parts.reduce<any>((o, k) => (o == null ? undefined : o[k]), out);
    if (parent == null) throw new Error(`path ${op.path} not found`);
    const idx = Array.isArray(parent) ? (last === "-" ? parent.length : Number(last)) : last;
    if (op.op === "test") {
      if (!deepEqual(parent[idx], op.value)) throw new Error(`test failed at ${op.path}`);
    } else if (op.op === "remove") {
      if (Array.isArray(parent)) parent.splice(idx as number, 1);
      else delete parent[idx];
    } else if (op.op === "add" && Array.isArray(parent)) parent.splice(idx as number, 0, clone(op.value));
    else if (op.op === "add" || op.op === "replace") parent[idx] = clone(op.value);
    else throw new Error(`unsupported op ${op.op}`);
  }
  return out;
}

/**
 * Server-side apply for one manager with force: fields the manager applied last time and leaves
 * out now are removed; then the applied configuration is merged over the live object (maps and
 * keyed lists merge, other lists are owned whole by the applier).
 */
export function applyConfig(live: Obj | undefined, previous: Obj | undefined, applied: Obj): Obj {
  const base = previous && live ? removeDropped(clone(live), previous, applied) : clone(live ?? {});
  return strategicMerge(base, applied, "", applied.kind === "Service") as Obj;
}

function removeDropped(live: any, prev: any, next: any, field = ""): any {
  if (Array.isArray(prev) && Array.isArray(live)) {
    const key = MERGE_KEYS[field];
    if (!key) return live;
    return live
      .filter((item: any) => !(isMap(item) && prev.some((p: any) => p?.[key] === item[key]) && !(next ?? []).some((n: any) => n?.[key] === item[key])))
      .map((item: any) => {
        const p = prev.find((x: any) => x?.[key] === item?.[key]);
        const n = (next ?? []).find((x: any) => x?.[key] === item?.[key]);
        return p && n ? removeDropped(item, p, n, "") : item;
      });
  }
  if (!isMap(prev) || !isMap(live)) return live;
  for (const k of Object.keys(prev)) {
    if (!isMap(next) || !(k in next)) delete live[k];
    else live[k] = removeDropped(live[k], prev[k], next[k], k);
  }
  return live;
}

// ---------- Status bodies and validation ----------
export type StatusReason = "NotFound" | "AlreadyExists" | "Conflict" | "Invalid" | "BadRequest" | "Forbidden" | "Unauthorized" | "MethodNotAllowed" | "UnsupportedMediaType" | "Expired" | "NotAcceptable" | "InternalError";

export class ApiError extends Error {
  constructor(readonly code: number, readonly reason: StatusReason, message: string, readonly details?: Obj) {
    super(message);
  }
  body(): Obj {
    return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: this.message, reason: this.reason, ...(this.details ? { details: this.details } : {}), code: this.code };
  }
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function nameProblem(name: unknown, label: boolean): string | undefined {
  if (typeof name !== "string" || !name) return "Required value: name or generateName is required";
  if (label && (name.length > 63 || !DNS1123_LABEL.test(name))) return `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`;
  if (!label && (name.length > 253 || !DNS1123_SUBDOMAIN.test(name))) return `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`;
  return undefined;
}
