// embedding_bag in the reference interpreter: sum / mean / max pooling by hand,
// weighted bags, empty bags, the table-to-feature mapping, lazy tables, random
// cases against a double-precision reference, and out-of-range ids.

import { describe, expect, it } from "vitest";
import { interpret } from "../../src/interp/interpreter.js";
import { RmcError } from "../../src/diagnostics/index.js";
import type { Bags } from "../../src/data/batch.js";
import type { Tensor } from "../../src/weights/store.js";
import { RowOnlyTensor, bags, bagsType, expectClose, graph, node, randoms, rng, store } from "./build.js";

const EMB0 = [1, 2, 3, 4, -5, 6, 0.5, -1];
const EMB1 = [10, 20, 30, 40, 50, 60, 70, 80];
// feature 0: [0,1], [], [2,2,3]; feature 1: [3], [1,2], []
const SPARSE = bags([
  [[0, 1], [], [2, 2, 3]],
  [[3], [1, 2], []],
]);

function twoTables(pool: string) {
  const g = graph({
    inputs: [["sparse", bagsType(2)]],
    weights: [
      ["emb0", [4, 2]],
      ["emb1", [4, 2]],
    ],
    // table 0 reads feature 1, table 1 reads feature 0
    nodes: [node("e", "embedding_bag", ["%sparse", "@emb0", "@emb1"], { pool, bags: [1, 0] })],
    outputs: [["e", "e"]],
  });
  return interpret(g, store({ emb0: [[4, 2], EMB0], emb1: [[4, 2], EMB1] }), { size: 3, inputs: { sparse: SPARSE } }).outputs.e!;
}

describe("embedding_bag pooling by hand", () => {
  it("sum: [B, tables, dim], each table reading its own feature, empty bags are zeros", () => {
    expect(Array.from(twoTables("sum"))).toEqual([0.5, -1, 40, 60, -2, 10, 0, 0, 0, 0, 170, 200]);
  });

  it("mean divides by the number of ids", () => {
    const f = Math.fround;
    expect(Array.from(twoTables("mean"))).toEqual([0.5, -1, 20, 30, -1, 5, 0, 0, 0, 0, f(170 / 3), f(200 / 3)]);
  });

  it("max starts from the first row (negative maxima survive), empty bags are zeros", () => {
    expect(Array.from(twoTables("max"))).toEqual([0.5, -1, 30, 40, 3, 6, 0, 0, 0, 0, 70, 80]);
  });

  it("defaults to sum", () => {
    const g = graph({
      inputs: [["s", bagsType(1)]],
      weights: [["emb0", [4, 2]]],
      nodes: [node("e", "embedding_bag", ["%s", "@emb0"], { bags: [0] })],
      outputs: [["e", "e"]],
    });
    const { outputs } = interpret(g, store({ emb0: [[4, 2], EMB0] }), { size: 1, inputs: { s: bags([[[0, 1]]]) } });
    expect(Array.from(outputs.e!)).toEqual([4, 6]);
  });
});

describe("weighted bags", () => {
  // sample 0: ids [0, 2] with weights [2, 0.5]; sample 1: empty
  const run = (pool: string) => {
    const g = graph({
      inputs: [["s", bagsType(1, true)]],
      weights: [["emb0", [4, 2]]],
      nodes: [node("e", "embedding_bag", ["%s", "@emb0"], { pool, bags: [0], stacked: false })],
      outputs: [["e", "e"]],
    });
    const input = bags([[[0, 2], []]], [[[2, 0.5], []]]);
    return Array.from(interpret(g, store({ emb0: [[4, 2], EMB0] }), { size: 2, inputs: { s: input } }).outputs.e!);
  };
  it("sum is Σ w·row", () => expect(run("sum")).toEqual([-0.5, 7, 0, 0]));
  it("mean is Σ w·row / number of ids", () => expect(run("mean")).toEqual([-0.25, 3.5, 0, 0]));
  it("max is max over w·row", () => expect(run("max")).toEqual([2, 4, 0, 0]));
});

describe("embedding_bag against a double reference", () => {
  function randomBags(r: ReturnType<typeof rng>, count: number, batch: number, rowsPerFeature: number, weighted: boolean): Bags {
    const ids = Array.from({ length: count }, () =>
      Array.from({ length: batch }, () => Array.from({ length: r.int(5) }, () => r.int(rowsPerFeature))),
    );
    const ws = weighted ? ids.map((f) => f.map((bag) => bag.map(() => Math.fround(r.next() * 2 - 0.5)))) : undefined;
    return bags(ids, ws);
  }

  /** The pooled vector for one (table, bag), straight from the definition. */
  function poolRef(pool: string, table: number[], dim: number, ids: number[], ws: number[] | undefined): number[] {
    const vecs = ids.map((id, k) => Array.from({ length: dim }, (_, d) => (ws ? ws[k]! : 1) * table[id * dim + d]!));
    if (vecs.length === 0) return new Array(dim).fill(0);
    return Array.from({ length: dim }, (_, d) => {
      const col = vecs.map((v) => v[d]!);
      if (pool === "max") return Math.max(...col);
      const s = col.reduce((a, b) => a + b, 0);
      return pool === "mean" ? s / col.length : s;
    });
  }

  for (const pool of ["sum", "mean", "max"])
    for (const weighted of [false, true])
      it(`${pool}${weighted ? ", weighted" : ""}`, () => {
        const r = rng(pool.length * 10 + (weighted ? 1 : 0));
        const [count, B, T, D, R] = [4, 5, 3, 4, 10];
        const feats = [2, 0, 2];
        const tables = Array.from({ length: T }, () => randoms(r, R * D));
        const input = randomBags(r, count, B, R, weighted);
        const g = graph({
          inputs: [["s", bagsType(count, weighted)]],
          weights: tables.map((_, t) => [`t${t}`, [R, D]] as [string, number[]]),
          nodes: [node("e", "embedding_bag", ["%s", ...tables.map((_, t) => `@t${t}`)], { pool, bags: feats })],
          outputs: [["e", "e"]],
        });
        const ws = store(Object.fromEntries(tables.map((data, t) => [`t${t}`, [[R, D], data]])));
        const got = interpret(g, ws, { size: B, inputs: { s: input } }).outputs.e!;

        const want: number[] = [];
        for (let b = 0; b < B; b++)
          for (let t = 0; t < T; t++) {
            // Find this (feature, sample) bag by walking the key-major lengths.
            const bagIndex = feats[t]! * B + b;
            let start = 0;
            for (let i = 0; i < bagIndex; i++) start += input.lengths[i]!;
            const n = input.lengths[bagIndex]!;
            const ids = Array.from(input.values.subarray(start, start + n));
            const bw = input.weights ? Array.from(input.weights.subarray(start, start + n)) : undefined;
            want.push(...poolRef(pool, tables[t]!, D, ids, bw));
          }
        expectClose(got, want);
      });
});

describe("embedding tables", () => {
  it("are read row by row, never materialised", () => {
    const g = graph({
      inputs: [["sparse", bagsType(2)]],
      weights: [
        ["emb0", [4, 2]],
        ["emb1", [4, 2]],
      ],
      nodes: [node("e", "embedding_bag", ["%sparse", "@emb0", "@emb1"], { pool: "sum", bags: [1, 0] })],
      outputs: [["e", "e"]],
    });
    const ws = new Map<string, Tensor>([
      ["emb0", new RowOnlyTensor([4, 2], Float32Array.from(EMB0))],
      ["emb1", new RowOnlyTensor([4, 2], Float32Array.from(EMB1))],
    ]);
    expect(Array.from(interpret(g, ws, { size: 3, inputs: { sparse: SPARSE } }).outputs.e!)).toEqual([0.5, -1, 40, 60, -2, 10, 0, 0, 0, 0, 170, 200]);
  });

  for (const [badId, desc] of [
    [4, "past the end"],
    [-1, "negative"],
  ] as const)
    it(`reject an id ${desc} with the table, feature, sample, id and rows`, () => {
      const g = graph({
        inputs: [["sparse", bagsType(2)]],
        weights: [["emb0", [4, 2]]],
        nodes: [node("e", "embedding_bag", ["%sparse", "@emb0"], { bags: [1] })],
        outputs: [["e", "e"]],
      });
      const input = bags([
        [[0], [1], [2]],
        [[3], [1, 2], [0, badId]],
      ]);
      const run = () => interpret(g, store({ emb0: [[4, 2], EMB0] }), { size: 3, inputs: { sparse: input } });
      expect(run).toThrow(RmcError);
      expect(run).toThrow(new RegExp(`id ${badId} .*feature 1, sample 2.*@emb0 with 4 rows`));
    });
});
