// Table precisions in the interpreter: a row stored at fp16/int8/int4/int2
// reads as the row quantized and dequantized (the spec's check vectors and
// hand-made rows, then random rows against quant-reference.ts); prequantized
// tables are read from their own bytes; tables are quantized once per tensor;
// unsupported precisions are errors naming the weight or node.

import { describe, expect, it } from "vitest";
import { interpret } from "../../src/interp/interpreter.js";
import { DenseTensor, type Tensor } from "../../src/weights/store.js";
import type { Graph } from "../../src/ir/types.js";
import { tensor, syntheticSpan } from "../../src/ir/types.js";
import { bags } from "./build.js";
import { halfValue, roundTrip } from "./quant-reference.js";
import { Rng } from "../../src/util/rng.js";
import { PrequantizedTable } from "../../src/weights/prequantized.js";

const span = syntheticSpan("t.rmdl");
const f32 = Math.fround;
// 0.1 is 0x2E66 in fp16 = 1638/16384 = 0.0999755859375; 1/3 is 0x3555 = 0.333251953125.
const HALF_OF_0_1 = 0.0999755859375;
const HALF_OF_THIRD = 0.333251953125;
/** The spec's check row. */
const SPEC_ROW = [-1, 0, 0.5, 1, 0.25, -0.75, 0.1, 0.9];

/** One table `[rows, dim]` read by an unstacked bag over feature 0, and a 1x1 linear layer. */
function graph(dim: number, rows: number, tablePin: string | undefined, layerPin: string | undefined, bagPin?: string): Graph {
  return {
    name: "p",
    inputs: [
      { name: "x", type: tensor(["B", 1]), span },
      { name: "s", type: { kind: "bags", count: 1, weighted: false }, span },
    ],
    weights: [
      { name: "t.weight", role: "table", dtype: "f32", shape: [rows, dim], attrs: tablePin ? { precision: tablePin } : {}, span },
      { name: "l.weight", role: "weight", dtype: "f32", shape: [1, 1], attrs: {}, span },
    ],
    nodes: [
      {
        id: "e",
        op: "embedding_bag",
        inputs: ["%s", "@t.weight"],
        attrs: { pool: "sum", bags: [0], stacked: false, ...(bagPin ? { precision: bagPin } : {}) },
        type: tensor(["B", dim]),
        span,
      },
      { id: "l", op: "linear", inputs: ["%x", "@l.weight"], attrs: layerPin ? { precision: layerPin } : {}, type: tensor(["B", 1]), span },
    ],
    outputs: [
      { name: "e", value: "e", span },
      { name: "l", value: "l", span },
    ],
  };
}

/** Reads row `id` of `table` through the graph (a bag with that one id). */
function readRow(table: Tensor, pin: string | undefined, id = 0, bagPin?: string): number[] {
  const [rows, dim] = table.shape as [number, number];
  const weights = new Map<string, Tensor>([
    ["t.weight", table],
    ["l.weight", new DenseTensor([1, 1], Float32Array.from([1 / 3]))],
  ]);
  const batch = { size: 1, inputs: { x: Float32Array.from([1]), s: bags([[[id]]]) } };
  return Array.from(interpret(graph(dim, rows, pin, undefined, bagPin), weights, batch).outputs.e!);
}

const dense = (rows: number, dim: number, data: number[]): DenseTensor => new DenseTensor([rows, dim], Float32Array.from(data));

/** A prequantized table whose float reads fail: proves its stored bytes are what gets used. */
class BytesOnly extends PrequantizedTable {
  override readRow(): void {
    throw new Error("must not be re-quantized");
  }
  override toFloat32(): Float32Array {
    throw new Error("must not be materialised as floats");
  }
}

describe("table precisions", () => {
  it("fp32 reads the stored values; fp16 reads them rounded to half precision", () => {
    expect(readRow(dense(1, 2, [0.1, 5]), undefined)).toEqual([f32(0.1), 5]);
    expect(readRow(dense(1, 2, [0.1, 5]), "fp16")).toEqual([HALF_OF_0_1, 5]);
  });

  it("int8: the spec's check row reads back as q·scale + bias with q = 00 80 bf ff 9f 20 8c f2, scale 2/255, bias -1", () => {
    const q = [0x00, 0x80, 0xbf, 0xff, 0x9f, 0x20, 0x8c, 0xf2];
    const scale = f32(2 / 255);
    expect(readRow(dense(1, 8, SPEC_ROW), "int8")).toEqual(q.map((v) => f32(f32(v * scale) - 1)));
  });

  it("int4: the spec's check row reads back from nibbles 80 fb 29 e8, scale 0x3044, bias 0xbc00", () => {
    const bytes = [0x80, 0xfb, 0x29, 0xe8];
    const q = bytes.flatMap((b) => [b & 15, b >> 4]);
    const scale = halfValue(0x3044);
    expect(scale).toBe(0.13330078125);
    expect(readRow(dense(1, 8, SPEC_ROW), "int4")).toEqual(q.map((v) => f32(f32(v * scale) + halfValue(0xbc00))));
  });

  it("int2 by hand: [-0.5, 0.25, 1, 0.7] → scale 0.5, q = [0, 2 (1.5 ties to even), 3, 2]", () => {
    expect(readRow(dense(1, 4, [-0.5, 0.25, 1, 0.7]), "int2")).toEqual([-0.5, 0.5, 1, 0.5]);
  });

  it("a constant row keeps its value at every precision (range 0: int4 scale 1)", () => {
    for (const p of ["fp16", "int8", "int4", "int2"]) expect(readRow(dense(1, 3, [0.5, 0.5, 0.5]), p), p).toEqual([0.5, 0.5, 0.5]);
  });

  it("a pin on the embedding_bag applies to its table; the table's own pin wins", () => {
    const t = dense(1, 8, SPEC_ROW);
    expect(readRow(t, undefined, 0, "int4")).toEqual(roundTrip(4, SPEC_ROW));
    expect(readRow(t, "int8", 0, "int4")).toEqual(roundTrip(8, SPEC_ROW));
  });

  it("random rows of odd widths at int8/int4/int2 match the spec's quantize-dequantize", () => {
    const rng = new Rng(7);
    for (const dim of [1, 3, 5, 16, 20])
      for (const bits of [8, 4, 2] as const) {
        const rows = 4;
        const data = Array.from({ length: rows * dim }, () => f32(rng.normal() * 0.3));
        const t = dense(rows, dim, data);
        for (let r = 0; r < rows; r++)
          expect(readRow(t, `int${bits}`, r), `dim ${dim} int${bits} row ${r}`).toEqual(roundTrip(bits, data.slice(r * dim, (r + 1) * dim)));
      }
  });

  it("a table prequantized in the pinned format is dequantized from its own bytes, never re-quantized", () => {
    // The spec's int4 row, as PyTorch's embedding_bag_4bit_prepack stores it.
    const row = Uint8Array.from([0x80, 0xfb, 0x29, 0xe8, 0x44, 0x30, 0x00, 0xbc]);
    const pre = new BytesOnly("t.weight", "int4", 1, 8, { byteLength: row.length, read: (at, out) => out.set(row.subarray(at, at + out.length)) });
    expect(readRow(pre, "int4")).toEqual(roundTrip(4, SPEC_ROW));
  });

  it("each table is quantized once per tensor, however many times the graph runs", () => {
    let reads = 0;
    const inner = dense(3, 4, [1, 2, 3, 4, 5, 6, 7, 8, -1, -2, -3, -4]);
    const counting: Tensor = {
      dtype: "f32",
      shape: inner.shape,
      toFloat32: () => (reads++, inner.toFloat32()),
      readRow: (i, out, off) => (reads++, inner.readRow(i, out, off)),
    };
    const first = readRow(counting, "int4", 2);
    const after = reads;
    expect(after).toBeGreaterThan(0);
    expect(readRow(counting, "int4", 2)).toEqual(first);
    expect(readRow(counting, "int4", 1)).toEqual(roundTrip(4, [5, 6, 7, 8]));
    expect(reads).toBe(after);
  });
});

describe("unsupported precisions", () => {
  const weights = new Map<string, Tensor>([
    ["t.weight", dense(2, 1, [0.1, 5])],
    ["l.weight", dense(1, 1, [1 / 3])],
  ]);
  const batch = { size: 1, inputs: { x: Float32Array.from([1]), s: bags([[[0]]]) } };

  it("a table at bf16 is an error naming the table", () => {
    expect(() => interpret(graph(1, 2, "bf16", undefined), weights, batch)).toThrow(/table @t\.weight cannot be stored at bf16/);
  });

  it("a linear layer at int4 is an error naming the node", () => {
    expect(() => interpret(graph(1, 2, undefined, "int4"), weights, batch)).toThrow(/linear %l cannot run at int4/);
  });

  it("fp16 layers read rounded weights", () => {
    expect(interpret(graph(1, 2, undefined, "fp16"), weights, batch).outputs.l![0]).toBe(HALF_OF_THIRD);
  });
});
