import { describe, expect, it } from "vitest";
import { Rng } from "../../src/util/rng.js";
import { IdPermutation, ZipfSampler } from "../../src/util/zipf.js";

describe("ZipfSampler", () => {
  it.each([
    [50, 1.05],
    [20, 0.6],
    [1000, 1.3],
  ])("matches (k+1)^-s / H on n=%i, s=%f", (n, s) => {
    const z = new ZipfSampler(n, s);
    const rng = new Rng(1234);
    const draws = 200_000;
    const counts = new Float64Array(n);
    for (let i = 0; i < draws; i++) counts[z.sample(() => rng.next())]!++;
    let h = 0;
    for (let k = 0; k < n; k++) h += (k + 1) ** -s;
    const expected = Array.from({ length: n }, (_, k) => (draws * (k + 1) ** -s) / h);
    // The top ranks, each with thousands of hits, within 4% of the law.
    for (let k = 0; k < 10; k++) expect(Math.abs(counts[k]! / expected[k]! - 1)).toBeLessThan(0.04);
    // Pearson chi-square over bins with enough mass; df ~ bins, so 2x bins is far in the tail.
    let chi2 = 0;
    let bins = 0;
    for (let k = 0; k < n; k++) {
      if (expected[k]! < 20) continue;
      chi2 += (counts[k]! - expected[k]!) ** 2 / expected[k]!;
      bins++;
    }
    expect(chi2).toBeLessThan(2 * bins + 20);
  });
});

describe("IdPermutation", () => {
  it.each([1, 2, 7, 100, 1024, 997])("is a bijection on %i rows and idToRank inverts rankToId", (rows) => {
    const p = new IdPermutation("emb.3", rows);
    const seen = new Uint8Array(rows);
    for (let r = 0; r < rows; r++) {
      const id = p.rankToId(r);
      expect(id).toBeGreaterThanOrEqual(0);
      expect(id).toBeLessThan(rows);
      seen[id]!++;
      expect(p.idToRank(id)).toBe(r);
    }
    expect(seen.every((c) => c === 1)).toBe(true);
  });

  it("inverts on a huge table", () => {
    const rows = 2 ** 31 - 1;
    const p = new IdPermutation("big", rows);
    for (const r of [0, 1, 2, 12345, rows - 1]) expect(p.idToRank(p.rankToId(r))).toBe(r);
  });

  it("scatters hot ranks over the table", () => {
    const p = new IdPermutation("emb.0", 100_000);
    const ids = Array.from({ length: 10 }, (_, r) => p.rankToId(r));
    expect(new Set(ids).size).toBe(10);
    expect(ids.filter((id) => id < 10).length).toBeLessThan(10);
  });
});
