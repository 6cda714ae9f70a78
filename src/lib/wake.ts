// In-process wake-ups by key: a writer of log lines (a build, a deploy) says "something new for
// this key", and live streams waiting on it read at once instead of at their next poll. Writes
// from another process (a reload's successor) reach followers at the poll that backs this up.
const waiting = new Map<string, Set<() => void>>();

/** Wake everyone waiting on `key`. */
export function wake(key: string): void {
  const set = waiting.get(key);
  if (!set) return;
  waiting.delete(key);
  for (const fn of set) fn();
}

/** Resolves on the next wake(key) or after `ms`, whichever comes first. */
export function waitFor(key: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    let set = waiting.get(key);
    if (!set) waiting.set(key, (set = new Set()));
    const done = () => {
      clearTimeout(timer);
      waiting.get(key)?.delete(done);
      if (waiting.get(key)?.size === 0) waiting.delete(key);
      resolve();
    };
    const timer = setTimeout(done, ms);
    set.add(done);
  });
}
