// The reference interpreter's driver: batch and weight-store checks (each an
// RmcError naming the culprit), graph checks, keep: "all", value liveness,
// weight materialisation, and the kernel table's coverage of the op table.
// Error substrings are looked for in the message and the hints.

import { describe, expect, it } from "vitest";
import { interpret } from "../../src/interp/interpreter.js";
import { KERNELS } from "../../src/interp/kernels.js";
import { OP_NAMES } from "../../src/ir/ops.js";
import { RmcError } from "../../src/diagnostics/index.js";
import type { Bags, Batch } from "../../src/data/batch.js";
import { DenseTensor, type Tensor } from "../../src/weights/store.js";
import { bags, bagsType, dense, graph, node, store } from "./build.js";

// y = relu(linear(dense)) ; e = embedding_bag(sparse) — one dense and one bags input.
const G = graph({
  inputs: [
    ["dense", dense(3)],
    ["sparse", bagsType(2)],
  ],
  weights: [
    ["w", [2, 3]],
    ["emb", [5, 2]],
  ],
  nodes: [node("h", "linear", ["%dense", "@w"]), node("y", "relu", ["%h"]), node("e", "embedding_bag", ["%sparse", "@emb"], { bags: [1] })],
  outputs: [
    ["y", "y"],
    ["e", "e"],
  ],
});
const WS = store({
  w: [
    [2, 3],
    [1, 0, 0, 0, 1, -1],
  ],
  emb: [
    [5, 2],
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  ],
});
const goodBags = (): Bags =>
  bags([
    [[0], [1, 2]],
    [[3], []],
  ]);
const goodBatch = (): Batch => ({ size: 2, inputs: { dense: Float32Array.from([1, 2, 3, 4, 5, 6]), sparse: goodBags() } });

function expectRmcError(run: () => unknown, ...substrings: string[]): void {
  let caught: unknown;
  try {
    run();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(RmcError);
  const text = [(caught as RmcError).message, ...(caught as RmcError).diagnostics.map((d) => d.hint ?? "")].join("\n");
  for (const s of substrings) expect(text).toContain(s);
}

describe("a good batch", () => {
  it("runs every node and returns the outputs by name", () => {
    const { outputs, values } = interpret(G, WS, goodBatch());
    expect(Array.from(outputs.y!)).toEqual([1, 0, 4, 0]); // h = [1, -1], [4, -1]
    expect(Array.from(outputs.e!)).toEqual([6, 7, 0, 0]);
    expect(values).toBeUndefined();
  });

  it("keep: all returns dense inputs and every node value by id", () => {
    const { values } = interpret(G, WS, goodBatch(), { keep: "all" });
    expect([...values!.keys()].sort()).toEqual(["dense", "e", "h", "y"]);
    expect(Array.from(values!.get("h")!)).toEqual([1, -1, 4, -1]);
  });

  it("keeps an output that a later node also reads, and accepts %-refs as output values", () => {
    const g = graph({
      inputs: [["x", dense(2)]],
      nodes: [node("a", "tanh", ["%x"]), node("b", "relu", ["%a"])],
      outputs: [
        ["first", "%a"],
        ["second", "b"],
      ],
    });
    const { outputs } = interpret(g, new Map(), { size: 1, inputs: { x: Float32Array.from([0, -1]) } });
    expect(Array.from(outputs.first!)).toEqual([0, Math.fround(Math.tanh(-1))]);
    expect(Array.from(outputs.second!)).toEqual([0, 0]);
  });

  it("handles batch size 0", () => {
    const { outputs } = interpret(G, WS, { size: 0, inputs: { dense: new Float32Array(0), sparse: bags([[], []]) } });
    expect(outputs.y!.length).toBe(0);
    expect(outputs.e!.length).toBe(0);
  });

  it("materialises a dense weight once per call even when several nodes use it", () => {
    let calls = 0;
    const inner = new DenseTensor([2, 2], Float32Array.from([1, 2, 3, 4]));
    const counting: Tensor = {
      dtype: "f32",
      shape: [2, 2],
      toFloat32: () => (calls++, inner.data),
      readRow: (i, out, o) => inner.readRow(i, out, o),
    };
    const g = graph({
      inputs: [["x", dense(2)]],
      weights: [["w", [2, 2]]],
      nodes: [node("a", "linear", ["%x", "@w"]), node("b", "linear", ["%a", "@w"])],
      outputs: [["b", "b"]],
    });
    const { outputs } = interpret(g, new Map([["w", counting]]), { size: 1, inputs: { x: Float32Array.from([1, 1]) } });
    expect(Array.from(outputs.b!)).toEqual([3 + 14, 9 + 28]); // a = [3, 7]
    expect(calls).toBe(1);
  });
});

describe("bad batches", () => {
  it("missing input", () =>
    expectRmcError(
      () => interpret(G, WS, { size: 2, inputs: { dens: new Float32Array(6), sparse: goodBags() } }),
      "missing input `dense`",
      "`dens`",
    ));

  it("dense length != B * width", () =>
    expectRmcError(
      () => interpret(G, WS, { ...goodBatch(), inputs: { dense: new Float32Array(5), sparse: goodBags() } }),
      "input `dense` has 5 values, expected 6",
      "batch size 2",
    ));

  it("bags given for a dense input and dense given for bags", () => {
    expectRmcError(
      () => interpret(G, WS, { size: 2, inputs: { dense: goodBags(), sparse: goodBags() } }),
      "`dense` is declared f32[B,3] but the batch holds bags",
    );
    expectRmcError(
      () => interpret(G, WS, { size: 2, inputs: { dense: new Float32Array(6), sparse: new Float32Array(2) } }),
      "`sparse` is declared bags[2] but the batch holds a dense array",
    );
  });

  const withBags = (edit: (b: Bags) => Bags): Batch => ({ size: 2, inputs: { dense: new Float32Array(6), sparse: edit(goodBags()) } });
  it("bag feature count mismatch", () =>
    expectRmcError(
      () =>
        interpret(
          G,
          WS,
          withBags((b) => ({ ...b, count: 3 })),
        ),
      "`sparse`",
      "holds 3 bag features, the graph declares 2",
    ));
  it("bag batch mismatch", () =>
    expectRmcError(
      () =>
        interpret(
          G,
          WS,
          withBags((b) => ({ ...b, batch: 3 })),
        ),
      "`sparse`",
      "for 3 samples but the batch size is 2",
    ));
  it("lengths of the wrong size", () =>
    expectRmcError(
      () =>
        interpret(
          G,
          WS,
          withBags((b) => ({ ...b, lengths: Int32Array.from([1, 2, 1]) })),
        ),
      "lengths has 3 entries, expected",
    ));
  it("lengths not summing to the number of ids", () =>
    expectRmcError(
      () =>
        interpret(
          G,
          WS,
          withBags((b) => ({ ...b, values: Int32Array.from([0, 1, 2]) })),
        ),
      "lengths sum to 4 but there are 3 ids",
    ));
  it("negative length", () =>
    expectRmcError(
      () =>
        interpret(
          G,
          WS,
          withBags((b) => ({ ...b, lengths: Int32Array.from([1, 3, 1, -1]), values: Int32Array.from([0, 1, 2, 3]) })),
        ),
      "lengths[3] (feature 1, sample 1) is negative",
    ));
  it("weights on unweighted bags", () =>
    expectRmcError(
      () =>
        interpret(
          G,
          WS,
          withBags((b) => ({ ...b, weights: new Float32Array(4) })),
        ),
      "declared unweighted",
    ));

  it("weighted bags without weights, or with the wrong number", () => {
    const g = graph({
      inputs: [["s", bagsType(1, true)]],
      weights: [["emb", [5, 2]]],
      nodes: [node("e", "embedding_bag", ["%s", "@emb"], { bags: [0] })],
      outputs: [["e", "e"]],
    });
    const ws = store({ emb: [[5, 2], new Array(10).fill(1)] });
    expectRmcError(() => interpret(g, ws, { size: 1, inputs: { s: bags([[[1, 2]]]) } }), "`s`", "need a weights array");
    expectRmcError(
      () => interpret(g, ws, { size: 1, inputs: { s: { ...bags([[[1, 2]]]), weights: new Float32Array(1) } } }),
      "weights has 1 entries but there are 2 ids",
    );
  });

  it("non-integer batch size", () =>
    expectRmcError(() => interpret(G, WS, { ...goodBatch(), size: 1.5 }), "batch size must be a non-negative integer"));
});

describe("bad weight stores and graphs", () => {
  it("missing weight tensor, with a suggestion", () => {
    const ws = store({ W: [[2, 3], new Array(6).fill(0)], emb: [[5, 2], new Array(10).fill(0)] });
    expectRmcError(() => interpret(G, ws, goodBatch()), "weight @w (f32[2,3]) is not in the weight store", "`W`");
  });

  it("weight shape different from the declaration", () => {
    const ws = store({ w: [[3, 2], new Array(6).fill(0)], emb: [[5, 2], new Array(10).fill(0)] });
    expectRmcError(() => interpret(G, ws, goodBatch()), "weight @w: the store holds shape [3,2] but the graph declares f32[2,3]");
  });

  it("a node reading an undefined value", () => {
    const g = graph({ inputs: [["x", dense(2)]], nodes: [node("b", "relu", ["%a"]), node("a", "relu", ["%x"])], outputs: [["b", "b"]] });
    expectRmcError(
      () => interpret(g, new Map(), { size: 1, inputs: { x: new Float32Array(2) } }),
      "relu %b reads %a, which no input or earlier node defines",
    );
  });

  it("an unknown op, with a suggestion", () => {
    const g = graph({ inputs: [["x", dense(2)]], nodes: [node("a", "rlu", ["%x"])], outputs: [["a", "a"]] });
    let caught: RmcError | undefined;
    try {
      interpret(g, new Map(), { size: 1, inputs: { x: new Float32Array(2) } });
    } catch (e) {
      caught = e as RmcError;
    }
    expect(caught?.message).toContain("rlu %a has an unknown op");
    expect(caught?.diagnostics[0]?.hint).toContain("`relu`");
  });

  it("an ill-typed node (weight width differs from the input width)", () => {
    const g = graph({ inputs: [["x", dense(2)]], weights: [["w", [2, 3]]], nodes: [node("a", "linear", ["%x", "@w"])], outputs: [["a", "a"]] });
    expectRmcError(
      () => interpret(g, store({ w: [[2, 3], new Array(6).fill(0)] }), { size: 1, inputs: { x: new Float32Array(2) } }),
      "linear %a is ill-typed",
      "in = 3",
    );
  });

  it("a node annotated with a type its operands do not give", () => {
    const g = graph({ inputs: [["x", dense(2)]], nodes: [node("a", "relu", ["%x"], {}, dense(3))], outputs: [["a", "a"]] });
    expectRmcError(
      () => interpret(g, new Map(), { size: 1, inputs: { x: new Float32Array(2) } }),
      "relu %a is annotated f32[B,3] but its operands give f32[B,2]",
    );
  });

  it("a node missing a required attribute", () => {
    const g = graph({
      inputs: [["s", bagsType(1)]],
      weights: [["emb", [5, 2]]],
      nodes: [node("e", "embedding_bag", ["%s", "@emb"])],
      outputs: [["e", "e"]],
    });
    expectRmcError(
      () => interpret(g, store({ emb: [[5, 2], new Array(10).fill(0)] }), { size: 1, inputs: { s: bags([[[1]]]) } }),
      "missing its required attribute `bags`",
    );
  });

  it("an output bound to nothing", () => {
    const g = graph({ inputs: [["x", dense(2)]], nodes: [], outputs: [["y", "nope"]] });
    expectRmcError(() => interpret(g, new Map(), { size: 1, inputs: { x: new Float32Array(2) } }), "output `y` is bound to nope");
  });
});

describe("the kernel table", () => {
  it("has a kernel for every op of the op table", () => {
    for (const op of OP_NAMES) expect(typeof KERNELS[op], op).toBe("function");
  });
});
