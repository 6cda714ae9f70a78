// The object store of the test Kubernetes API server: one resourceVersion counter for every
// write (as etcd's revision), uid/creationTimestamp/generation, the status-subresource split,
// optimistic concurrency (409 Conflict on a stale resourceVersion), server-side apply per field
// manager, garbage collection through ownerReferences, namespace termination, and the event
// history that watches replay from a resourceVersion.
import { randomUUID } from "node:crypto";
import { ApiError, applyConfig, clone, deepEqual, matchesFields, matchesLabels, parseLabelSelector, type Obj } from "./objects";
import { apiVersionOf, applyDefaults, qualified, validate, type ResourceDef } from "./resources";

export type WatchEvent = { type: "ADDED" | "MODIFIED" | "DELETED"; object: Obj };
type HistoryEntry = WatchEvent & { rv: number; def: ResourceDef };
type Watcher = { def: ResourceDef; ns?: string; labels: ReturnType<typeof parseLabelSelector>; fields: string | null; send: (e: WatchEvent) => void };
export type ListQuery = { ns?: string; labelSelector?: string | null; fieldSelector?: string | null };
export type WriteOpts = { dryRun?: boolean; manager?: string; operation?: "Apply" | "Update"; force?: boolean; gracePeriodSeconds?: number };

const HISTORY = 20_000;

export class Store {
  private objects = new Map<string, Obj>();
  /** last configuration applied per object key and field manager (server-side apply) */
  private applied = new Map<string, Map<string, Obj>>();
  private history: HistoryEntry[] = [];
  private watchers = new Set<Watcher>();
  private rv = 1;
  /** called after every committed write (the controller reacts to it) */
  onChange: (def: ResourceDef, e: WatchEvent) => void = () => {};
  /** when a kubelet runs, deleting a pod marks it terminating and the kubelet removes it once its container stopped */
  gracefulPods = false;
  /** looks a resource type up by kind (garbage collection of dependents) */
  constructor(private readonly defs: ResourceDef[]) {}

  get resourceVersion(): string {
    return String(this.rv);
  }

  private key(def: ResourceDef, ns: string | undefined, name: string): string {
    return `${qualified(def)}/${def.namespaced ? ns : ""}/${name}`;
  }

  private notFound(def: ResourceDef, name: string): ApiError {
    return new ApiError(404, "NotFound", `${qualified(def)} "${name}" not found`, { name, group: def.group || undefined, kind: def.plural });
  }

  get(def: ResourceDef, ns: string | undefined, name: string): Obj {
    const o = this.objects.get(this.key(def, ns, name));
    if (!o) throw this.notFound(def, name);
    return clone(o);
  }

  find(def: ResourceDef, ns: string | undefined, name: string): Obj | undefined {
    return clone(this.objects.get(this.key(def, ns, name)));
  }

  list(def: ResourceDef, q: ListQuery = {}): Obj[] {
    const labels = parseLabelSelector(q.labelSelector ?? null);
    const prefix = `${qualified(def)}/${def.namespaced && q.ns ? q.ns : ""}`;
    const out: Obj[] = [];
    for (const [k, o] of this.objects) {
      if (!k.startsWith(def.namespaced && q.ns ? `${prefix}/` : `${qualified(def)}/`)) continue;
      if (matchesLabels(o.metadata.labels, labels) && matchesFields(o, q.fieldSelector ?? null)) out.push(clone(o));
    }
    return out.sort((a, b) => `${a.metadata.namespace ?? ""}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ""}/${b.metadata.name}`));
  }

  private requireNamespace(def: ResourceDef, ns: string | undefined, creating: boolean): void {
    if (!def.namespaced) return;
    const nsDef = this.defs.find((d) => d.kind === "Namespace")!;
    const n = this.objects.get(this.key(nsDef, undefined, ns ?? ""));
    if (!n) throw new ApiError(404, "NotFound", `namespaces "${ns}" not found`, { name: ns, kind: "namespaces" });
    if (creating && n.metadata.deletionTimestamp) throw new ApiError(403, "Forbidden", `${def.plural} "${""}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`);
  }

  private commit(def: ResourceDef, type: WatchEvent["type"], obj: Obj): Obj {
    const k = this.key(def, obj.metadata.namespace, obj.metadata.name);
    this.rv++;
    obj.metadata.resourceVersion = String(this.rv);
    if (type === "DELETED") this.objects.delete(k), this.applied.delete(k);
    else this.objects.set(k, obj);
    const event: HistoryEntry = { type, object: clone(obj), rv: this.rv, def };
    this.history.push(event);
    if (this.history.length > HISTORY) this.history.splice(0, this.history.length - HISTORY);
    for (const w of this.watchers) if (this.matches(w, def, obj)) w.send({ type, object: clone(obj) });
    this.onChange(def, { type, object: clone(obj) });
    return clone(obj);
  }

  private matches(w: Watcher, def: ResourceDef, obj: Obj): boolean {
    return w.def === def && (!w.ns || obj.metadata.namespace === w.ns) && matchesLabels(obj.metadata.labels, w.labels) && matchesFields(obj, w.fields);
  }

  private normalise(def: ResourceDef, ns: string | undefined, body: Obj): Obj {
    if (!body || typeof body !== "object" || Array.isArray(body)) throw new ApiError(400, "BadRequest", "the request body is not an object");
    if (body.kind && body.kind !== def.kind) throw new ApiError(400, "BadRequest", `the API version in the data (${body.apiVersion}) and kind ${body.kind} do not match the requested ${apiVersionOf(def)}, Kind=${def.kind}`);
    const obj = clone(body);
    obj.metadata ??= {};
    if (def.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== ns) throw new ApiError(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request");
      obj.metadata.namespace = ns;
    } else delete obj.metadata.namespace;
    return obj;
  }

  create(def: ResourceDef, ns: string | undefined, body: Obj, opts: WriteOpts = {}): Obj {
    const obj = this.normalise(def, ns, body);
    if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = `${obj.metadata.generateName}${Math.random().toString(36).slice(2, 7)}`;
    this.requireNamespace(def, ns, true);
    // the uid exists before defaulting (a Job's generated selector is made from it); a client's own is ignored
    obj.metadata.uid = randomUUID();
    applyDefaults(def, obj, undefined);
    validate(def, obj, undefined);
    if (this.objects.has(this.key(def, ns, obj.metadata.name))) {
      throw new ApiError(409, "AlreadyExists", `${qualified(def)} "${obj.metadata.name}" already exists`, { name: obj.metadata.name, group: def.group || undefined, kind: def.plural });
    }
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;
    Object.assign(obj.metadata, { creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z") });
    delete obj.metadata.deletionTimestamp;
    if (def.generation) obj.metadata.generation = 1;
    else delete obj.metadata.generation;
    if (def.statusSubresource && def.kind !== "Namespace") delete obj.status;
    obj.metadata.managedFields = [managed(opts.manager ?? "unknown", opts.operation ?? "Update", def)];
    if (opts.dryRun) return Object.assign(obj, { metadata: { ...obj.metadata, resourceVersion: undefined } });
    return this.commit(def, "ADDED", obj);
  }

  /** PUT: the whole object (status ignored where there is a status subresource); 409 on a stale resourceVersion. */
  update(def: ResourceDef, ns: string | undefined, name: string, body: Obj, opts: WriteOpts & { subresource?: "status" } = {}): Obj {
    const old = this.get(def, ns, name);
    const obj = this.normalise(def, ns, body);
    if (obj.metadata.name !== undefined && obj.metadata.name !== name) throw new ApiError(400, "BadRequest", `the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== old.metadata.resourceVersion) {
      throw new ApiError(409, "Conflict", `Operation cannot be fulfilled on ${qualified(def)} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, group: def.group || undefined, kind: def.plural });
    }
    return this.replace(def, old, obj, opts);
  }

  /** The shared tail of every write to an existing object: subresource split, defaults, validation, generation. */
  replace(def: ResourceDef, old: Obj, next: Obj, opts: WriteOpts & { subresource?: "status" } = {}): Obj {
    const obj = clone(next);
    obj.metadata = { ...obj.metadata, name: old.metadata.name, namespace: old.metadata.namespace, uid: old.metadata.uid, creationTimestamp: old.metadata.creationTimestamp };
    if (old.metadata.deletionTimestamp) obj.metadata.deletionTimestamp = old.metadata.deletionTimestamp;
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;
    if (opts.subresource === "status") {
      const status = obj.status;
      Object.assign(obj, clone(old), { status });
      obj.metadata = clone(old.metadata);
    } else if (def.statusSubresource) {
      if (old.status === undefined) delete obj.status;
      else obj.status = clone(old.status);
    }
    applyDefaults(def, obj, old);
    validate(def, obj, old);
    if (def.generation) obj.metadata.generation = (old.metadata.generation ?? 1) + (deepEqual(specOf(obj), specOf(old)) ? 0 : 1);
    const manager = opts.manager ?? "unknown";
    const fields = (old.metadata.managedFields ?? []).filter((f: Obj) => !(f.manager === manager && f.subresource === opts.subresource));
    obj.metadata.managedFields = [...fields, { ...managed(manager, opts.operation ?? "Update", def), ...(opts.subresource ? { subresource: opts.subresource } : {}) }];
    const unchanged = deepEqual(strip(obj), strip(old));
    if (unchanged) return old;
    if (opts.dryRun) return obj;
    return this.commit(def, "MODIFIED", obj);
  }

  /** Server-side apply by `manager` with force: creates when missing, else merges (see objects.applyConfig). */
  apply(def: ResourceDef, ns: string | undefined, name: string, body: Obj, manager: string, opts: WriteOpts & { subresource?: "status" } = {}): { obj: Obj; created: boolean } {
    const cfg = this.normalise(def, ns, body);
    if (!cfg.apiVersion || !cfg.kind) throw new ApiError(400, "BadRequest", "apiVersion and kind must be set in an apply configuration");
    if (cfg.metadata.managedFields) throw new ApiError(400, "BadRequest", "metadata.managedFields must be nil");
    if (cfg.metadata.name !== undefined && cfg.metadata.name !== name) throw new ApiError(400, "BadRequest", `the name of the object (${cfg.metadata.name}) does not match the name on the URL (${name})`);
    cfg.metadata.name = name;
    const k = this.key(def, ns, name);
    const live = this.find(def, ns, name);
    const prev = this.applied.get(k)?.get(manager);
    let result: Obj;
    let created = false;
    if (!live) {
      result = this.create(def, ns, cfg, { ...opts, manager, operation: "Apply" });
      created = true;
    } else {
      const merged = applyConfig(live, prev, cfg);
      result = this.replace(def, live, merged, { ...opts, manager, operation: "Apply" });
    }
    if (!opts.dryRun) {
      const m = this.applied.get(k) ?? new Map<string, Obj>();
      m.set(manager, clone(cfg));
      this.applied.set(k, m);
    }
    return { obj: result, created };
  }

  delete(def: ResourceDef, ns: string | undefined, name: string, opts: WriteOpts = {}): Obj {
    const old = this.get(def, ns, name);
    if (opts.dryRun) return old;
    if (def.kind === "Namespace") return this.terminateNamespace(def, old);
    if (def.kind === "Pod" && this.gracefulPods && !opts.force && opts.gracePeriodSeconds !== 0) {
      if (old.metadata.deletionTimestamp) return old;
      old.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      old.metadata.deletionGracePeriodSeconds = opts.gracePeriodSeconds ?? old.spec?.terminationGracePeriodSeconds ?? 30;
      return this.commit(def, "MODIFIED", old);
    }
    const gone = this.commit(def, "DELETED", old);
    this.collectDependents(old.metadata.uid);
    return gone;
  }

  private collectDependents(uid: string): void {
    for (const o of [...this.objects.values()]) {
      if (!(o.metadata.ownerReferences ?? []).some((r: Obj) => r.uid === uid)) continue;
      const def = this.defs.find((d) => d.kind === o.kind && apiVersionOf(d) === o.apiVersion);
      if (def && this.objects.has(this.key(def, o.metadata.namespace, o.metadata.name))) this.delete(def, o.metadata.namespace, o.metadata.name);
    }
  }

  /** Namespace deletion as on a cluster: Terminating first, its content goes, then the namespace. */
  private terminateNamespace(def: ResourceDef, ns: Obj): Obj {
    if (ns.metadata.deletionTimestamp) return ns;
    ns.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    ns.status = { phase: "Terminating" };
    const marked = this.commit(def, "MODIFIED", ns);
    // the namespace controller: delete the content, and the namespace once nothing is left
    const sweep = () => {
      let left = 0;
      for (const d of this.defs) {
        if (!d.namespaced) continue;
        for (const o of this.list(d, { ns: ns.metadata.name })) {
          left++;
          if (this.find(d, o.metadata.namespace, o.metadata.name)) this.delete(d, o.metadata.namespace, o.metadata.name);
        }
      }
      const cur = this.find(def, undefined, ns.metadata.name);
      if (!cur) return;
      if (left === 0) this.commit(def, "DELETED", cur);
      else setTimeout(sweep, 200);
    };
    setTimeout(sweep, 100);
    return marked;
  }

  /** Controller writes: status or spec as the cluster's own components would (no validation of the client's rules). */
  writeStatus(def: ResourceDef, ns: string | undefined, name: string, status: Obj, metadata?: Obj): Obj | undefined {
    const cur = this.find(def, ns, name);
    if (!cur) return undefined;
    const next = clone(cur);
    next.status = status;
    if (metadata) next.metadata = { ...next.metadata, ...metadata };
    if (deepEqual(next, cur)) return cur;
    return this.commit(def, "MODIFIED", next);
  }

  /** Watch from `resourceVersion` (replayed from history; 410 Expired when too old) or from now with ADDED for what exists. */
  watch(def: ResourceDef, q: ListQuery & { resourceVersion?: string | null }, send: (e: WatchEvent) => void): () => void {
    const w: Watcher = { def, ns: def.namespaced ? q.ns : undefined, labels: parseLabelSelector(q.labelSelector ?? null), fields: q.fieldSelector ?? null, send };
    const from = q.resourceVersion && q.resourceVersion !== "0" ? Number(q.resourceVersion) : undefined;
    if (from === undefined) {
      for (const o of this.list(def, q)) send({ type: "ADDED", object: o });
    } else {
      const oldest = this.history[0]?.rv ?? this.rv;
      if (from < oldest - 1) throw new ApiError(410, "Expired", `too old resource version: ${from} (${oldest - 1})`);
      for (const e of this.history) if (e.rv > from && this.matches(w, e.def, e.object)) send({ type: e.type, object: clone(e.object) });
    }
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }
}

function specOf(o: Obj): unknown {
  const { metadata, status, apiVersion, kind, ...rest } = o;
  return rest;
}
function strip(o: Obj): unknown {
  const { resourceVersion, managedFields, ...metadata } = o.metadata ?? {};
  return { ...o, metadata };
}
function managed(manager: string, operation: "Apply" | "Update", def: ResourceDef): Obj {
  return { manager, operation, apiVersion: apiVersionOf(def), time: new Date().toISOString().replace(/\.\d+Z$/, "Z"), fieldsType: "FieldsV1", fieldsV1: {} };
}
