// The login rate limiter stays bounded without letting a username spray reset anyone's counter.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { LoginLimiter } from "../../src/modules/auth/limiter";

setDefaultTimeout(120_000);

const WINDOW = 15 * 60 * 1000;
const blocked = (l: LoginLimiter, key: string, now: number) => {
  try {
    l.check(key, now);
    return false;
  } catch (e) {
    expect((e as { status?: number }).status).toBe(429);
    return true;
  }
};
const spray = (l: LoginLimiter, n: number, now: number) => {
  for (let i = 0; i < n; i++) l.fail(`10.0.0.66|user-${i}`, now);
};

describe("login limiter", () => {
  test("a locked-out target stays locked after an attacker sprays 10,001+ other usernames", () => {
    const l = new LoginLimiter();
    const target = "10.0.0.66|admin";
    for (let i = 0; i < 5; i++) l.fail(target, 0);
    expect(blocked(l, target, 1)).toBe(true);
    spray(l, 25_000, 2);
    expect(blocked(l, target, 3)).toBe(true);
    expect(l.tracked).toBeLessThanOrEqual(10_000);
  });

  test("a partly counted target keeps its count through a spray: 4 failures + spray + 1 more = locked", () => {
    const l = new LoginLimiter();
    const target = "10.0.0.66|admin";
    for (let i = 0; i < 4; i++) l.fail(target, 0);
    spray(l, 10_001, 1);
    expect(blocked(l, target, 2)).toBe(false);
    l.fail(target, 3);
    expect(blocked(l, target, 4)).toBe(true);
  });

  test("names sprayed with 2 failures each cannot push out a target that has 3", () => {
    const l = new LoginLimiter(5, WINDOW, 100);
    const target = "ip|target";
    for (let i = 0; i < 3; i++) l.fail(target, 0);
    // 200 names with 2 failures each: more than the capacity, but all below the target's count
    for (let i = 0; i < 200; i++) for (let j = 0; j < 2; j++) l.fail(`ip|n${i}`, 1);
    expect(l.tracked).toBe(100);
    l.fail(target, 2);
    l.fail(target, 2);
    expect(blocked(l, target, 3)).toBe(true);
  });

  test("a table full of lock-outs still counts a newcomer to its own lock-out", () => {
    const l = new LoginLimiter(5, WINDOW, 10);
    for (let i = 0; i < 10; i++) for (let j = 0; j < 5; j++) l.fail(`ip|locked-${i}`, 0);
    for (let j = 0; j < 5; j++) l.fail("ip|newcomer", 1);
    expect(blocked(l, "ip|newcomer", 2)).toBe(true);
    expect(l.tracked).toBe(10);
  });

  test("memory stays bounded; the window still ends a lock-out; success resets", () => {
    const l = new LoginLimiter(5, WINDOW, 1000);
    const target = "ip|bob";
    for (let i = 0; i < 5; i++) l.fail(target, 0);
    spray(l, 5000, 1);
    expect(l.tracked).toBeLessThanOrEqual(1000);
    expect(blocked(l, target, WINDOW - 1)).toBe(true);
    expect(blocked(l, target, WINDOW)).toBe(false);
    for (let i = 0; i < 4; i++) l.fail(target, WINDOW + 1);
    l.reset(target);
    l.fail(target, WINDOW + 2);
    expect(blocked(l, target, WINDOW + 3)).toBe(false);
  });

  test("expired entries are evicted before live ones", () => {
    const l = new LoginLimiter(5, WINDOW, 3);
    l.fail("old", 0);
    l.fail("live-a", WINDOW - 10);
    for (let i = 0; i < 4; i++) l.fail("live-b", WINDOW - 10);
    l.fail("new", WINDOW + 5); // "old" expired: it goes, the others stay
    l.fail("live-b", WINDOW + 6);
    expect(blocked(l, "live-b", WINDOW + 7)).toBe(true);
    expect(l.tracked).toBe(3);
  });
});
