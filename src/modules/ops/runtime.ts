// What only the running server knows (its router, when it started, a reload in progress), kept per
// Deps so /api/v1/status can report it; in-process test apps have none of it and report null.
export type RouterRuntime = { url: string; httpsPort?: number };
export type Runtime = { startedAt: Date; router: RouterRuntime | null; reloading: boolean };

const runtimes = new WeakMap<object, Runtime>();

export function setRuntime(deps: { db: object }, patch: Partial<Runtime>): void {
  runtimes.set(deps.db, { ...(runtimes.get(deps.db) ?? { startedAt: new Date(), router: null, reloading: false }), ...patch });
}

export const runtimeOf = (deps: { db: object }): Runtime | undefined => runtimes.get(deps.db);
