// Store: the row cache against a plain reference LRU (an array in recency
// order, bytes counted the same way), over random gets and puts of rows of
// two sizes in three tables, with budgets that force evictions; every hit
// must return the bytes last put, and the cache must hold exactly the rows
// the reference holds.

import { describe, expect, it } from "vitest";
import { ENTRY_OVERHEAD, RowCache } from "../../src/store/cache.js";
import { Rng } from "../../src/util/rng.js";

const TABLES = [
  { name: "a", rowBytes: 72 },
  { name: "b", rowBytes: 72 },
  { name: "c", rowBytes: 264 },
];

/** The row's bytes at its `version`th put: distinct per table, row and version. */
const rowBytes = (t: number, row: number, version: number): Uint8Array =>
  Uint8Array.from({ length: TABLES[t]!.rowBytes }, (_, i) => (t * 71 + row * 13 + version * 7 + i) & 255);

describe("RowCache", () => {
  for (const budget of [0, 1000, 20_000, 1 << 20])
    it(`keeps exactly the rows a reference LRU keeps (budget ${budget} bytes)`, () => {
      const rng = new Rng(budget + 1);
      const cache = new RowCache(budget);
      const ref: { key: string; t: number; row: number; version: number }[] = []; // most recent last
      let refBytes = 0;
      const versions = new Map<string, number>();
      for (let step = 0; step < 20_000; step++) {
        const t = rng.int(TABLES.length);
        const row = rng.int(400);
        const key = `${t}:${row}`;
        const { name, rowBytes: rb } = TABLES[t]!;
        const out = new Uint8Array(rb + 8);
        const at = ref.findIndex((e) => e.key === key);
        const hit = cache.copyTo(name, row, out, 8);
        expect(hit).toBe(at >= 0);
        if (hit) {
          expect(out.subarray(8)).toEqual(rowBytes(t, row, ref[at]!.version));
          ref.push(...ref.splice(at, 1));
          continue;
        }
        const version = (versions.get(key) ?? 0) + 1;
        versions.set(key, version);
        cache.put(name, row, rowBytes(t, row, version));
        const cost = rb + ENTRY_OVERHEAD;
        if (cost > budget) continue;
        while (refBytes + cost > budget) refBytes -= TABLES[ref.shift()!.t]!.rowBytes + ENTRY_OVERHEAD;
        ref.push({ key, t, row, version });
        refBytes += cost;
        expect(cache.count).toBe(ref.length);
        expect(cache.size).toBe(refBytes);
        expect(cache.size).toBeLessThanOrEqual(budget);
      }
      if (budget >= 20_000) expect(cache.count).toBeGreaterThan(50);
    });

  it("keeps its own copy: changing the caller's buffer later changes nothing", () => {
    const cache = new RowCache(1 << 16);
    const row = rowBytes(0, 5, 1);
    cache.put("a", 5, row);
    row.fill(0);
    const out = new Uint8Array(72);
    expect(cache.copyTo("a", 5, out, 0)).toBe(true);
    expect(out).toEqual(rowBytes(0, 5, 1));
  });
});
