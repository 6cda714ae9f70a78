// At most config.buildConcurrency builds at once per server (per Deps), FIFO.
import type { Deps } from "../deps";

type Slots = { free: number; waiting: (() => void)[] };
const slots = new WeakMap<object, Slots>();

export async function withBuildSlot<T>(deps: Deps, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  let s = slots.get(deps.db);
  if (!s) slots.set(deps.db, (s = { free: deps.config.buildConcurrency, waiting: [] }));
  const state = s;
  if (state.free > 0) state.free--;
  else
    await new Promise<void>((resolve, reject) => {
      const go = () => resolve();
      state.waiting.push(go);
      signal?.addEventListener("abort", () => {
        state.waiting = state.waiting.filter((w) => w !== go);
        reject(signal.reason);
      });
    });
  try {
    return await fn();
  } finally {
    const next = state.waiting.shift();
    if (next) next();
    else state.free++;
  }
}
