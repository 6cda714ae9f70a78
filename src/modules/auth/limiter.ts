// Failed logins per (ip, login): `max` within `windowMs`, then 429 until the window passes.
//
// Memory is bounded (`capacity` keys) without letting an attacker wipe a counter by spraying other
// usernames: keys are kept in one insertion-ordered Map per failure count, and when full the oldest
// key with the FEWEST failures goes first (expired keys before all), never the key just written.
// Spraying adds 1-failure keys, which only push out other 1-failure keys; pushing out a key with
// k failures needs the table full of keys with ≥ k failures (about k × capacity failed logins
// within one window, each paying for an argon2 verify), and a locked-out key goes only after that
// many other lock-outs. A new key is never the one dropped on arrival, so a full table still counts it.
import { TooManyRequests } from "../../errors";

type Entry = { count: number; since: number };

export class LoginLimiter {
  /** levels[k - 1]: keys with k failures in their window, oldest first (Map keeps insertion order). */
  private levels: Map<string, Entry>[];
  private size = 0;

  constructor(
    private max = 5,
    private windowMs = 15 * 60 * 1000,
    private capacity = 10_000,
  ) {
    this.levels = Array.from({ length: max }, () => new Map());
  }

  private find(key: string): Entry | undefined {
    for (const level of this.levels) {
      const e = level.get(key);
      if (e) return e;
    }
    return undefined;
  }

  private remove(key: string): void {
    for (const level of this.levels) if (level.delete(key)) this.size--;
  }

  check(key: string, now: number): void {
    const e = this.find(key);
    if (!e) return;
    if (now - e.since >= this.windowMs) this.remove(key); // window over: forget
    else if (e.count >= this.max) throw new TooManyRequests();
  }

  fail(key: string, now: number): void {
    const old = this.find(key);
    this.remove(key);
    const entry = !old || now - old.since >= this.windowMs ? { count: 1, since: now } : { count: Math.min(old.count + 1, this.max), since: old.since };
    // re-inserted at the end of its level: the newest key of that count
    this.levels[entry.count - 1]!.set(key, entry);
    this.size++;
    while (this.size > this.capacity) this.evictOne(now, key);
  }

  reset(key: string): void {
    this.remove(key);
  }

  /** Tracked keys (for tests and metrics). */
  get tracked(): number {
    return this.size;
  }

  /** Drops one key, never `keep` (the key just written: a newcomer is always counted). */
  private evictOne(now: number, keep: string): void {
    const oldestOther = (level: Map<string, Entry>) => {
      for (const key of level.keys()) if (key !== keep) return key; // at most two steps
      return undefined;
    };
    // an expired key anywhere is the cheapest loss: look at the oldest of each level first
    for (const level of this.levels) {
      const key = oldestOther(level);
      if (key !== undefined && now - level.get(key)!.since >= this.windowMs) return void this.drop(level, key);
    }
    for (const level of this.levels) {
      const key = oldestOther(level);
      if (key !== undefined) return void this.drop(level, key);
    }
  }

  private drop(level: Map<string, Entry>, key: string): void {
    level.delete(key);
    this.size--;
  }
}
