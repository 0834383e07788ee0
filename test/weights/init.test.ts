// Synthetic weights: determinism, lazy rows, and the statistics each recipe
// promises (distributions.ts), measured on moderately sized samples.

import { describe, expect, it } from "vitest";
import type { Graph } from "../../src/ir/types.js";
import { Rng } from "../../src/util/rng.js";
import { studentT4 } from "../../src/weights/distributions.js";
import { IdPermutation } from "../../src/util/zipf.js";
import { checkInitOptions, initMetadata, initOptionsFromMetadata, initWeights, type InitOptions } from "../../src/weights/init.js";
import { LazyTensor } from "../../src/weights/lazy.js";
import { decl, expectRmcError, tinyDlrm } from "./helpers.js";

const graphOf = (...weights: ReturnType<typeof decl>[]): Graph => ({ name: "g", inputs: [], weights, nodes: [], outputs: [] });

const mean = (xs: ArrayLike<number>): number => Array.from(xs).reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: ArrayLike<number>): number => {
  const m = mean(xs);
  return Math.sqrt(Array.from(xs).reduce((a, x) => a + (x - m) ** 2, 0) / xs.length);
};
const excessKurtosis = (xs: ArrayLike<number>): number => {
  const m = mean(xs);
  const v = std(xs) ** 2;
  return Array.from(xs).reduce((a, x) => a + (x - m) ** 4, 0) / xs.length / (v * v) - 3;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const norm = (xs: ArrayLike<number>): number => Math.sqrt(Array.from(xs).reduce((a, x) => a + x * x, 0));

/** Row `r` of a tensor read through readRow. */
const row = (t: { readRow(i: number, out: Float32Array): void; shape: readonly number[] }, r: number): number[] => {
  const out = new Float32Array(t.shape[1]!);
  t.readRow(r, out);
  return [...out];
};

describe("determinism", () => {
  const g = tinyDlrm();
  const values = (opts: InitOptions) => {
    const store = initWeights(g, opts);
    return g.weights.map((w) => [...store.get(w.name)!.toFloat32()]);
  };

  it("gives the same values for the same seed and different ones for another seed or recipe", () => {
    for (const dist of ["gaussian", "trained"] as const) {
      const a = values({ seed: 1, dist });
      expect(values({ seed: 1, dist })).toEqual(a);
      const b = values({ seed: 2, dist });
      a.forEach((vs, i) => expect(b[i], g.weights[i]!.name).not.toEqual(vs));
    }
    expect(values({ seed: 1, dist: "trained" })[0]).not.toEqual(values({ seed: 1, dist: "gaussian" })[0]);
  });

  it("generates table rows alone, in any order, equal to the materialised table", () => {
    for (const dist of ["gaussian", "trained"] as const) {
      const table = initWeights(g, { seed: 5, dist }).get("emb.0.weight")!;
      expect(table).toBeInstanceOf(LazyTensor);
      const late = [9, 3, 0].map((r) => row(table, r));
      const fresh = initWeights(g, { seed: 5, dist }).get("emb.0.weight")!;
      const early = [0, 3, 9].map((r) => row(fresh, r));
      expect(late).toEqual([early[2], early[1], early[0]]);
      const all = table.toFloat32();
      for (const r of [0, 3, 9]) expect([...all.subarray(r * 4, r * 4 + 4)]).toEqual(row(table, r));
    }
  });

  it("reads a row deep in a 10M-row table without materialising it", () => {
    const store = initWeights(graphOf(decl("huge", "table", [10_000_000, 16])), { seed: 1, dist: "trained" });
    const t = store.get("huge")!;
    const r = row(t, 9_000_000);
    expect(r.every(Number.isFinite)).toBe(true);
    expect(norm(r)).toBeGreaterThan(0);
    expectRmcError(() => t.readRow(10_000_000, new Float32Array(16)), "row 10000000 is out of range", "`huge`");
    const tooBig = initWeights(graphOf(decl("big", "table", [1 << 22, 128])), { seed: 1, dist: "gaussian" }).get("big")!;
    expectRmcError(() => tooBig.toFloat32(), "`big`", "too many to materialise");
  });
});

describe("gaussian", () => {
  const g = graphOf(decl("w", "weight", [256, 128]), decl("b", "bias", [20_000]), decl("t", "table", [2000, 16]));
  const store = initWeights(g, { seed: 11, dist: "gaussian" });

  it("draws Xavier-normal weights, N(0, sqrt(1/out)) biases and N(0, 1/sqrt(dim)) tables", () => {
    const w = store.get("w")!.toFloat32();
    expect(std(w) / Math.sqrt(2 / (256 + 128))).toBeCloseTo(1, 1);
    expect(Math.abs(std(w) / Math.sqrt(2 / 384) - 1)).toBeLessThan(0.03);
    expect(Math.abs(mean(w))).toBeLessThan(0.01 * Math.sqrt(2 / 384) * 3);
    expect(Math.abs(std(store.get("b")!.toFloat32()) / Math.sqrt(1 / 20_000) - 1)).toBeLessThan(0.03);
    const t = store.get("t")!.toFloat32();
    expect(Math.abs(std(t) / 0.25 - 1)).toBeLessThan(0.03);
    expect(Math.abs(excessKurtosis(w))).toBeLessThan(0.2);
  });

  it("treats DCN low-rank factors as linear layers by their shapes", () => {
    const up = initWeights(graphOf(decl("up", "weight", [512, 64])), { seed: 3, dist: "gaussian" })
      .get("up")!
      .toFloat32();
    expect(Math.abs(std(up) / Math.sqrt(2 / (512 + 64)) - 1)).toBeLessThan(0.03);
  });
});

describe("trained", () => {
  it("samples Student's t with 4 degrees of freedom at unit variance", () => {
    // t4's upper quartile is 0.7406971 (from its closed-form CDF); unit variance divides by sqrt(2).
    const rng = new Rng(123);
    const abs = Array.from({ length: 100_000 }, () => Math.abs(studentT4(rng)));
    expect(Math.abs(median(abs) / (0.7406971 / Math.SQRT2) - 1)).toBeLessThan(0.02);
    // P(|t4| > 4.604) = 1% (t4's 0.995 quantile), i.e. |x| > 3.2555 after scaling; a normal gives 0.1%.
    const tail = abs.filter((x) => x > 4.604 / Math.SQRT2).length / abs.length;
    expect(tail).toBeGreaterThan(0.008);
    expect(tail).toBeLessThan(0.012);
  });

  const g = graphOf(decl("w", "weight", [256, 128]), decl("b", "bias", [20_000]), decl("t", "table", [10_000, 16]), decl("t8", "table", [500, 8]));
  const store = initWeights(g, { seed: 7, dist: "trained" });

  it("is heavy-tailed", () => {
    expect(excessKurtosis(store.get("b")!.toFloat32())).toBeGreaterThan(1);
    expect(excessKurtosis(store.get("w")!.toFloat32())).toBeGreaterThan(1);
    // Biases are small: a tenth of the gaussian recipe's std.
    expect(std(store.get("b")!.toFloat32())).toBeLessThan(0.2 * Math.sqrt(1 / 20_000));
  });

  it("has round(2%) of input columns as outliers, several times the median column norm", () => {
    const w = store.get("w")!.toFloat32();
    const colNorms = Array.from({ length: 128 }, (_, c) => norm(Array.from({ length: 256 }, (_, r) => w[r * 128 + c]!)));
    const med = median(colNorms);
    const outliers = colNorms.filter((n) => n > 3 * med);
    expect(outliers.length).toBe(Math.round(0.02 * 128)); // 3
    expect(Math.min(...outliers)).toBeGreaterThan(4 * med);
  });

  it("gives hot ids (low frequency rank) larger rows than cold ids", () => {
    const t = store.get("t")!;
    const perm = new IdPermutation("t", 10_000);
    const meanNorm = (ranks: number[]) => mean(ranks.map((k) => norm(row(t, perm.rankToId(k)))));
    const hot = meanNorm(Array.from({ length: 100 }, (_, k) => k));
    const cold = meanNorm(Array.from({ length: 100 }, (_, k) => 9_900 + k));
    expect(hot).toBeGreaterThan(2 * cold);
  });

  it("has one or two outlier dimensions per table", () => {
    const dimRms = (name: string, rows: number, dim: number) => {
      const all = store.get(name)!.toFloat32();
      return Array.from({ length: dim }, (_, d) => norm(Array.from({ length: rows }, (_, r) => all[r * dim + d]!)));
    };
    const wide = dimRms("t", 10_000, 16);
    expect(wide.filter((n) => n > 3 * median(wide)).length).toBe(2);
    const narrow = dimRms("t8", 500, 8);
    expect(narrow.filter((n) => n > 3 * median(narrow)).length).toBe(1);
  });
});

describe("options and metadata", () => {
  it("round-trips the options through file metadata", () => {
    const md = initMetadata({ seed: 42, dist: "trained" });
    expect(md).toEqual({ "rmc.init": "trained", "rmc.seed": "42", "rmc.init.recipe": "1" });
    expect(initOptionsFromMetadata(md)).toEqual({ seed: 42, dist: "trained" });
    expect(initOptionsFromMetadata({ ...md, "rmc.init.recipe": "0" })).toBeUndefined();
    expect(initOptionsFromMetadata({ ...md, "rmc.seed": "" })).toBeUndefined();
    expect(initOptionsFromMetadata({ format: "pt" })).toBeUndefined();
  });

  it("rejects unknown recipes and non-integer seeds", () => {
    const err = expectRmcError(() => checkInitOptions({ seed: 1, dist: "trainde" }), 'unknown weight initialisation "trainde"', "gaussian, trained");
    expect(err.diagnostics[0]!.hint).toBe("did you mean `trained`?");
    expectRmcError(() => initWeights(tinyDlrm(), { seed: 1.5, dist: "gaussian" }), "seed must be an integer");
  });
});
