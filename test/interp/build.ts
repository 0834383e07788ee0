// Test helpers for the interpreter tests: tiny graph builders, weight stores
// and random data. The reference computations live in reference.ts (plain
// double-precision loops), never in the code under test.

import { expect } from "vitest";
import type { Attrs, Graph, Node, Type, WeightDecl } from "../../src/ir/types.js";
import { syntheticSpan, tensor } from "../../src/ir/types.js";
import { DenseTensor, type Tensor, type WeightStore } from "../../src/weights/store.js";
import type { Bags } from "../../src/data/batch.js";
import { Rng } from "../../src/util/rng.js";

export const span = syntheticSpan("test.rmdl");
export const dense = (n: number): Type => tensor(["B", n]);
export const dense3 = (n: number, d: number): Type => tensor(["B", n, d]);
export const bagsType = (count: number, weighted = false): Type => ({ kind: "bags", count, weighted });

/** A node; `inputs` are full refs (`%x`, `@w`). */
export const node = (id: string, op: string, inputs: string[], attrs: Attrs = {}, type: Type | null = null): Node => ({
  id,
  op,
  inputs,
  attrs,
  type,
  span,
});

export interface GraphSpec {
  inputs: [string, Type][];
  weights?: [string, number[]][];
  nodes: Node[];
  outputs: [string, string][];
}

/** A graph from a compact spec; weights are declared f32 with role guessed from the shape. */
export function graph(spec: GraphSpec): Graph {
  const weights: WeightDecl[] = (spec.weights ?? []).map(([name, shape]) => ({
    name,
    role: shape.length === 1 ? "bias" : "weight",
    dtype: "f32",
    shape,
    attrs: {},
    span,
  }));
  return {
    name: "test",
    inputs: spec.inputs.map(([name, type]) => ({ name, type, span })),
    weights,
    nodes: spec.nodes,
    outputs: spec.outputs.map(([name, value]) => ({ name, value, span })),
  };
}

/** A store of DenseTensors from nested number arrays (flattened row-major) and shapes. */
export function store(entries: Record<string, [number[], number[]]>): Map<string, Tensor> {
  return new Map(Object.entries(entries).map(([name, [shape, data]]) => [name, new DenseTensor(shape, Float32Array.from(data))]));
}

/** A tensor that refuses to be materialised: proves a kernel reads it only row by row. */
export class RowOnlyTensor implements Tensor {
  readonly dtype = "f32" as const;
  constructor(
    readonly shape: readonly number[],
    private readonly data: Float32Array,
  ) {}
  toFloat32(): Float32Array {
    throw new Error("toFloat32 called on a row-only tensor");
  }
  readRow(i: number, out: Float32Array, offset = 0): void {
    const n = this.shape[1]!;
    for (let k = 0; k < n; k++) out[offset + k] = this.data[i * n + k]!;
  }
}

/** Bags from per-feature, per-sample id lists: `ids[f][b]` (and optional weights in the same shape). */
export function bags(ids: number[][][], weights?: number[][][]): Bags {
  const count = ids.length;
  const batch = ids[0]?.length ?? 0;
  const lengths = new Int32Array(count * batch);
  const values: number[] = [];
  const ws: number[] = [];
  ids.forEach((perSample, f) =>
    perSample.forEach((bag, b) => {
      lengths[f * batch + b] = bag.length;
      values.push(...bag);
      if (weights) ws.push(...weights[f]![b]!);
    }),
  );
  const out: Bags = { count, batch, lengths, values: Int32Array.from(values) };
  if (weights) out.weights = Float32Array.from(ws);
  return out;
}

/** Normal random numbers, rounded to f32 so the reference sees exactly what the interpreter sees. */
export function randoms(rng: Rng, n: number, scale = 1): number[] {
  return Array.from({ length: n }, () => Math.fround(rng.normal() * scale));
}

export const rng = (seed: number): Rng => new Rng(seed);

/** Element-wise |actual - expected| <= tol * max(1, |expected|). */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)))) expect.fail(`element ${i}: got ${a}, expected ${e} (tol ${tol})`);
  }
}

export type { WeightStore };
