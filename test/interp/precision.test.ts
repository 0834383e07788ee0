// fp16 pins in the interpreter: a weight stored at fp16 reads as its value
// rounded to the nearest half-precision number, for tables and layers alike.

import { describe, expect, it } from "vitest";
import { interpret } from "../../src/interp/interpreter.js";
import { DenseTensor } from "../../src/weights/store.js";
import type { Graph } from "../../src/ir/types.js";
import { tensor, syntheticSpan } from "../../src/ir/types.js";

const span = syntheticSpan("t.rmdl");
// 0.1 is 0x2E66 in fp16 = 1638/16384 = 0.0999755859375; 1/3 is 0x3555 = 0.333251953125.
const HALF_OF_0_1 = 0.0999755859375;
const HALF_OF_THIRD = 0.333251953125;

function graph(tablePin: string | undefined, layerPin: string | undefined): Graph {
  return {
    name: "p",
    inputs: [
      { name: "x", type: tensor(["B", 1]), span },
      { name: "s", type: { kind: "bags", count: 1, weighted: false }, span },
    ],
    weights: [
      { name: "t.weight", role: "table", dtype: "f32", shape: [2, 1], attrs: tablePin ? { precision: tablePin } : {}, span },
      { name: "l.weight", role: "weight", dtype: "f32", shape: [1, 1], attrs: {}, span },
    ],
    nodes: [
      { id: "e", op: "embedding_bag", inputs: ["%s", "@t.weight"], attrs: { pool: "sum", bags: [0], stacked: false }, type: tensor(["B", 1]), span },
      { id: "l", op: "linear", inputs: ["%x", "@l.weight"], attrs: layerPin ? { precision: layerPin } : {}, type: tensor(["B", 1]), span },
    ],
    outputs: [
      { name: "e", value: "e", span },
      { name: "l", value: "l", span },
    ],
  };
}

const weights = new Map([
  ["t.weight", new DenseTensor([2, 1], Float32Array.from([0.1, 5]))],
  ["l.weight", new DenseTensor([1, 1], Float32Array.from([1 / 3]))],
]);
const batch = { size: 1, inputs: { x: Float32Array.from([1]), s: { count: 1, batch: 1, lengths: Int32Array.from([1]), values: Int32Array.from([0]) } } };

describe("fp16 storage semantics", () => {
  it("fp32 reads the stored values", () => {
    const { outputs } = interpret(graph(undefined, undefined), weights, batch);
    expect(outputs.e![0]).toBe(Math.fround(0.1));
    expect(outputs.l![0]).toBe(Math.fround(1 / 3));
  });

  it("an fp16 table and an fp16 layer read rounded values", () => {
    const { outputs } = interpret(graph("fp16", "fp16"), weights, batch);
    expect(outputs.e![0]).toBe(HALF_OF_0_1);
    expect(outputs.l![0]).toBe(HALF_OF_THIRD);
  });

  it("precisions without semantics yet are an error naming the weight", () => {
    expect(() => interpret(graph("int4", undefined), weights, batch)).toThrow(/no int4 semantics yet \(weight @t\.weight\)/);
  });
});
