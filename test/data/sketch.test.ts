import { describe, expect, it } from "vitest";
import { HyperLogLog, SpaceSaving, hash64 } from "../../src/data/sketch.js";
import { Rng } from "../../src/util/rng.js";
import { ZipfSampler } from "../../src/util/zipf.js";

describe("HyperLogLog", () => {
  it("estimates 100k distinct ids within 3%", () => {
    const hll = new HyperLogLog(14);
    for (let i = 0; i < 100_000; i++) {
      const id = (Math.imul(i, 2654435761) >>> 0).toString(16).padStart(8, "0");
      hll.add(id);
      hll.add(id); // repeats must not count
    }
    expect(Math.abs(hll.estimate() / 100_000 - 1)).toBeLessThan(0.03);
  });

  it.each([1, 10, 1000, 40_000])("is close for cardinality %i, including where classic HLL switches estimators", (n) => {
    const hll = new HyperLogLog(14);
    for (let i = 0; i < n; i++) hll.add(`id${i}`);
    expect(Math.abs(hll.estimate() - n)).toBeLessThanOrEqual(Math.max(1, 0.03 * n));
  });

  it("is empty at zero and hashes differ between close strings", () => {
    expect(new HyperLogLog(10).estimate()).toBe(0);
    const [a1, a2] = hash64("0000000a");
    const [b1, b2] = hash64("0000000b");
    expect(a1).not.toBe(b1);
    expect(a2).not.toBe(b2);
  });
});

describe("SpaceSaving", () => {
  it("finds the true heavy hitters of a Zipf stream, with honest error bounds", () => {
    const rng = new Rng(99);
    const zipf = new ZipfSampler(10_000, 1.1);
    const ss = new SpaceSaving(100);
    const truth = new Map<string, number>();
    for (let i = 0; i < 100_000; i++) {
      const key = `k${zipf.sample(() => rng.next())}`;
      ss.add(key);
      truth.set(key, (truth.get(key) ?? 0) + 1);
    }
    const exact = [...truth.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
    const top = ss.top(5);
    expect(top.map((h) => h.key)).toEqual(exact.map(([k]) => k));
    for (const h of ss.top(100)) {
      const t = truth.get(h.key)!;
      // Space-Saving never under-counts and over-counts by at most `error`.
      expect(h.count).toBeGreaterThanOrEqual(t);
      expect(h.count - h.error).toBeLessThanOrEqual(t);
    }
    expect(ss.total).toBe(100_000);
  });

  it("is exact while it has room", () => {
    const ss = new SpaceSaving(10);
    for (const [k, n] of [
      ["a", 5],
      ["b", 3],
      ["c", 9],
      ["d", 1],
    ] as const)
      for (let i = 0; i < n; i++) ss.add(k);
    expect(ss.top(3)).toEqual([
      { key: "c", count: 9, error: 0 },
      { key: "a", count: 5, error: 0 },
      { key: "b", count: 3, error: 0 },
    ]);
  });

  it("evicts the smallest counter and inherits its count as the error", () => {
    const ss = new SpaceSaving(2);
    ss.add("a");
    ss.add("a");
    ss.add("b");
    ss.add("c"); // replaces b (count 1): c gets count 2, error 1
    expect(ss.top(2)).toEqual([
      { key: "a", count: 2, error: 0 },
      { key: "c", count: 2, error: 1 },
    ]);
  });
});
