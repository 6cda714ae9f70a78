// Polling for a condition in integration tests: a test waits for what it needs, never a fixed time.

export type Until = <T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms?: number) => Promise<T>;

/**
 * An `until(what, fn, ms?)` that calls `fn` every `everyMs` until it returns something other than
 * undefined/false, and fails naming `what` after `ms` (the file's `defaultMs` unless given). An
 * exception from `fn` fails at once.
 */
export function poller(defaultMs: number, everyMs = 200): Until {
  return async <T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = defaultMs): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await Bun.sleep(everyMs);
    }
  };
}
