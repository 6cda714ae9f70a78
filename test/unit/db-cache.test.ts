// cachedUntilWrite keeps only entries of the current database state, within its bounds; readTx
// groups reads in one transaction and leaves none open, whatever fn does.
import { expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { cachedUntilWrite, readTx } from "../../src/db/client";

setDefaultTimeout(120_000);

function db() {
  const d = new Database(":memory:");
  d.exec("create table t (v text)");
  return d;
}

test("an entry is computed once per database state, and any write ends every entry", () => {
  const d = db();
  let calls = 0;
  const get = cachedUntilWrite((k) => `${k}:${++calls}`);
  expect(get(d, "a")).toBe("a:1");
  expect(get(d, "a")).toBe("a:1");
  expect(get(d, "b")).toBe("b:2");
  d.query("insert into t values ('x')").run();
  expect(get(d, "a")).toBe("a:3");
  expect(get(d, "b")).toBe("b:4");
});

test("bounded by entries and by weight: past either, it starts over instead of growing", () => {
  const d = db();
  let calls = 0;
  const byCount = cachedUntilWrite((k) => `${k}:${++calls}`, { maxEntries: 2 });
  byCount(d, "a");
  byCount(d, "b");
  byCount(d, "c"); // clears a and b
  expect(byCount(d, "c")).toBe("c:3");
  expect(byCount(d, "a")).toBe("a:4");
  const byWeight = cachedUntilWrite((k) => k.repeat(10), { maxWeight: 25, weigh: (v) => v.length });
  let computed = 0;
  const counted = cachedUntilWrite((k) => (computed++, k.repeat(10)), { maxWeight: 25, weigh: (v) => v.length });
  counted(d, "a");
  counted(d, "b"); // 20 of 25
  counted(d, "c"); // would be 30: starts over with c alone
  counted(d, "c");
  counted(d, "a");
  expect(computed).toBe(4);
  expect(byWeight(d, "z")).toBe("z".repeat(10));
});

test("readTx: one transaction around the reads, none left open after a return or a throw, inline when nested", () => {
  const d = db();
  expect(readTx(d, () => (d.inTransaction ? "in" : "out"))).toBe("in");
  expect(d.inTransaction).toBe(false);
  expect(() =>
    readTx(d, () => {
      throw new Error("boom");
    }),
  ).toThrow("boom");
  expect(d.inTransaction).toBe(false);
  d.transaction(() => {
    expect(readTx(d, () => d.inTransaction)).toBe(true);
    expect(d.inTransaction).toBe(true); // the outer transaction is not ended by the inner call
  })();
  expect(d.inTransaction).toBe(false);
});
