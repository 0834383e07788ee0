// The ONNX subgraph of each IR op: what export.ts writes and what import.ts
// looks for (it rebuilds these with placeholder operands and matches them, see
// match.ts). One function per op; the conventions are documented in
// docs/onnx.md. Bags arrive as `NAME_ids` int64 [N], `NAME_offsets` int64
// [count*B+1] (KJT key-major prefix sums) and, when weighted, `NAME_weights`
// float [N]; `decodeBags` turns them into padded [count, B, L] matrices once
// per input, and `lowerPooling` pools one table from them.

import type { OnnxBuilder } from "./builder.js";
import { DT } from "./proto.js";

/** Largest int64, the "to the end" bound of Slice. */
const INT64_MAX = Number.MAX_SAFE_INTEGER;

/** The ONNX op of each IR activation. */
export const ACTIVATION_OPS = { relu: "Relu", sigmoid: "Sigmoid", tanh: "Tanh" } as const;

/** The graph-input names of a bags input. */
export const bagsInputNames = (name: string) => ({ ids: `${name}_ids`, offsets: `${name}_offsets`, weights: `${name}_weights` });

/**
 * The padded view of one bags input, made on first use: `mask` bool
 * [count,B,L] (true where a bag has an id), `ids` int64 [count,B,L] (0 where
 * masked), `weights` float [count,B,L] (0 where masked), `lengths` int64
 * [count,B] and `lengthsF` float [count,B]. L = max(1, longest bag).
 */
export interface BagsDecode {
  mask(): string;
  ids(): string;
  weights(): string;
  lengths(): string;
  lengthsF(): string;
}

/** Builds the decode nodes of bags input `name` lazily, under the builder scope `name`. */
export function decodeBags(b: OnnxBuilder, name: string, count: number): BagsDecode {
  const io = bagsInputNames(name);
  const memo = new Map<string, string>();
  const once = (key: string, make: () => string) => (): string => {
    let v = memo.get(key);
    if (v === undefined) {
      const saved = b.scope;
      b.scope = name;
      v = make();
      b.scope = saved;
      memo.set(key, v);
    }
    return v;
  };
  const starts = once("starts", () => b.node("Slice", [io.offsets, b.int64([0]), b.int64([-1]), b.int64([0])]));
  const flatLengths = once("flatLengths", () =>
    b.node("Sub", [b.node("Slice", [io.offsets, b.int64([1]), b.int64([INT64_MAX]), b.int64([0])]), starts()]),
  );
  const lengths = once("lengths", () => b.node("Reshape", [flatLengths(), b.int64([count, -1])]));
  const range = once("range", () => {
    const longest = b.node("ReduceMax", [flatLengths()], { attrs: { keepdims: 0 } });
    return b.node("Range", [b.int64([0], []), b.node("Max", [longest, b.int64([1], [])]), b.int64([1], [])]);
  });
  const mask = once("mask", () => b.node("Less", [range(), b.node("Unsqueeze", [lengths(), b.int64([2])])]));
  // Masked positions read slot 0 of the id list padded with one 0, so every index is valid even for empty batches.
  const safePositions = once("positions", () => {
    const pos = b.node("Add", [b.node("Unsqueeze", [b.node("Reshape", [starts(), b.int64([count, -1])]), b.int64([2])]), range()]);
    return b.node("Where", [mask(), pos, b.int64([0], [])]);
  });
  const padded = (list: string, zero: string): string =>
    b.node("Gather", [b.node("Concat", [list, zero], { attrs: { axis: 0 } }), safePositions()], { attrs: { axis: 0 } });
  return {
    mask,
    lengths,
    ids: once("ids", () => b.node("Where", [mask(), padded(io.ids, b.int64([0])), b.int64([0], [])])),
    weights: once("weights", () => b.node("Where", [mask(), padded(io.weights, b.float([0])), b.float([0], [])])),
    lengthsF: once("lengthsF", () => b.node("Cast", [lengths()], { attrs: { to: DT.FLOAT } })),
  };
}

/** One table's lookup: which table, which bag feature, and how it pools. */
export interface PoolingSpec {
  /** The table initializer, [rows, dim]. */
  table: string;
  rows: number;
  /** The feature index as an int64 scalar tensor. */
  feature: string;
  pool: "sum" | "mean" | "max";
  weighted: boolean;
  /** The table's id policy (src/ir/ops.ts ID_POLICIES). */
  ids: "error" | "clamp" | "modulo";
}

/**
 * Pools one table over every sample: [B, dim]. Rows are gathered into
 * [B, L, dim], weighted, masked (0 for sum and mean, -inf for max) and
 * reduced over L; mean divides by max(length, 1), max gives 0 for an empty bag.
 */
export function lowerPooling(b: OnnxBuilder, bags: BagsDecode, s: PoolingSpec, name?: string): string {
  const pick = (t: string): string => b.node("Gather", [t, s.feature], { attrs: { axis: 0 } });
  const axis = (k: number): string => b.int64([k]);
  let ids = pick(bags.ids());
  if (s.ids === "clamp") ids = b.node("Clip", [ids, b.int64([0], []), b.int64([s.rows - 1], [])]);
  if (s.ids === "modulo") ids = b.node("Mod", [ids, b.int64([s.rows], [])]);
  let rows = b.node("Gather", [s.table, ids], { attrs: { axis: 0 } });
  if (s.weighted) rows = b.node("Mul", [rows, b.node("Unsqueeze", [pick(bags.weights()), axis(2)])]);
  const mask = b.node("Unsqueeze", [pick(bags.mask()), axis(2)]);
  const named = name === undefined ? {} : { name };
  if (s.pool === "max") {
    const masked = b.node("Where", [mask, rows, b.float([-Infinity], [])]);
    const largest = b.node("ReduceMax", [masked], { attrs: { axes: [1], keepdims: 0 } });
    const nonEmpty = b.node("Unsqueeze", [b.node("Greater", [pick(bags.lengths()), b.int64([0], [])]), axis(1)]);
    return b.node("Where", [nonEmpty, largest, b.float([0], [])], named);
  }
  const masked = b.node("Where", [mask, rows, b.float([0], [])]);
  if (s.pool === "sum") return b.node("ReduceSum", [masked, axis(1)], { ...named, attrs: { keepdims: 0 } });
  const sum = b.node("ReduceSum", [masked, axis(1)], { attrs: { keepdims: 0 } });
  const count = b.node("Max", [b.node("Unsqueeze", [pick(bags.lengthsF()), axis(1)]), b.float([1], [])]);
  return b.node("Div", [sum, count], named);
}

/** Stacks pooled [B, dim] tables into [B, T, dim]. */
export function lowerStack(b: OnnxBuilder, pooled: readonly string[], name: string, doc?: string): string {
  const parts = pooled.map((p) => b.node("Unsqueeze", [p, b.int64([1])]));
  return b.node("Concat", parts, { name, attrs: { axis: 1 }, ...(doc ? { doc } : {}) });
}

/** A value operand: its ONNX tensor and its per-sample shape ([n] or [n, d]). */
export interface Operand {
  name: string;
  shape: readonly number[];
}

/**
 * The DLRM dot interaction: stack the F vectors to T [B,F,d], Z = T·Tᵀ,
 * flatten, gather the lower triangle in the interpreter's order (i = 1..F-1,
 * j < i; with self, j <= i), and put x in front.
 */
export function lowerInteractDot(b: OnnxBuilder, operands: readonly Operand[], self: boolean, name: string, doc?: string): string {
  const parts = operands.map((o) => (o.shape.length === 1 ? b.node("Unsqueeze", [o.name, b.int64([1])]) : o.name));
  const stacked = b.node("Concat", parts, { attrs: { axis: 1 } });
  const gram = b.node("MatMul", [stacked, b.node("Transpose", [stacked], { attrs: { perm: [0, 2, 1] } })]);
  const f = operands.reduce((n, o) => n + (o.shape.length === 1 ? 1 : o.shape[0]!), 0);
  const pairs: number[] = [];
  for (let i = self ? 0 : 1; i < f; i++) for (let j = 0; j <= (self ? i : i - 1); j++) pairs.push(i * f + j);
  const flat = b.node("Reshape", [gram, b.int64([0, -1])]);
  const tri = b.node("Gather", [flat, b.int64(pairs)], { attrs: { axis: 1 } });
  return b.node("Concat", [operands[0]!.name, tri], { name, attrs: { axis: 1 }, ...(doc ? { doc } : {}) });
}

/** The cat interaction and plain concat: every operand flattened to [B, n], joined along the features. */
export function lowerConcat(b: OnnxBuilder, operands: readonly Operand[], name: string, doc?: string): string {
  const flat = operands.map((o) => (o.shape.length === 1 ? o.name : b.node("Flatten", [o.name], { attrs: { axis: 1 } })));
  return b.node("Concat", flat, { name, attrs: { axis: 1 }, ...(doc ? { doc } : {}) });
}

/** A dense layer y = x Wᵀ + b as one Gemm (W stays [out, in], transB=1). */
export function lowerLinear(b: OnnxBuilder, x: string, weight: string, bias: string | undefined, name?: string, doc?: string): string {
  const named = name === undefined ? {} : { name };
  return b.node("Gemm", bias === undefined ? [x, weight] : [x, weight, bias], { ...named, attrs: { transB: 1 }, ...(doc ? { doc } : {}) });
}

/** The initializers of an int8 layer: weights as uint8 [in, out] (int8 + 128), and one f32 scale per output. */
export interface Int8LayerTensors {
  weight: string;
  zeroPoint: string;
  scales: string;
  /** Per-input multipliers 1/s of a smoothed layer, or undefined. */
  smooth?: string;
}

/**
 * An int8 layer in ONNX's dynamic scheme: DynamicQuantizeLinear (uint8, one
 * scale and zero point per tensor) → MatMulInteger against uint8 weights with
 * zero point 128 (the int8 weights shifted; ORT's u8·u8 kernels never
 * saturate) → Cast → × (x_scale · w_scale[o]) → + bias.
 */
export function lowerInt8Linear(b: OnnxBuilder, x: string, t: Int8LayerTensors, bias: string | undefined, name: string, doc?: string): string {
  const input = t.smooth ? b.node("Mul", [x, t.smooth]) : x;
  const [q, scale, zero] = b.nodeMulti("DynamicQuantizeLinear", [input], { outputs: 3 }) as [string, string, string];
  const acc = b.node("Cast", [b.node("MatMulInteger", [q, t.weight, zero, t.zeroPoint])], { attrs: { to: DT.FLOAT } });
  const scaled = bias === undefined ? { name } : {};
  const y = b.node("Mul", [acc, b.node("Mul", [scale, t.scales])], { ...scaled, ...(bias === undefined && doc ? { doc } : {}) });
  return bias === undefined ? y : b.node("Add", [y, bias], { name, ...(doc ? { doc } : {}) });
}

/**
 * An int8 layer computed exactly as rmc computes it (docs/numerics.md), from
 * primitive ops: the scale s is the static `actScale`, or per row
 * max|x|/127 (1 for a zero row); q = clip(round_half_even(x · f32(1/s)),
 * ±127), shifted by 128 to uint8 for MatMulInteger against the same weights
 * as lowerInt8Linear; then f32(acc) · f32(s · w_scale[o]) + bias. Every step
 * rounds to f32 as the interpreter does, so ORT's results match rmc's.
 */
export function lowerInt8LinearExact(
  b: OnnxBuilder,
  x: string,
  t: Int8LayerTensors,
  actScale: number | undefined,
  bias: string | undefined,
  name: string,
  doc?: string,
): string {
  const input = t.smooth ? b.node("Mul", [x, t.smooth]) : x;
  let s: string;
  if (actScale === undefined) {
    const m = b.node("ReduceMax", [b.node("Abs", [input])], { attrs: { axes: [1], keepdims: 1 } });
    s = b.node("Where", [b.node("Greater", [m, b.float([0], [])]), b.node("Div", [m, b.float([127], [])]), b.float([1], [])]);
  } else s = b.float([Math.fround(actScale)], [1, 1]);
  const q = b.node("Clip", [b.node("Round", [b.node("Mul", [input, b.node("Reciprocal", [s])])]), b.float([-127], []), b.float([127], [])]);
  const shifted = b.node("Cast", [b.node("Add", [q, b.float([128], [])])], { attrs: { to: DT.UINT8 } });
  const acc = b.node("Cast", [b.node("MatMulInteger", [shifted, t.weight, t.zeroPoint, t.zeroPoint])], { attrs: { to: DT.FLOAT } });
  const scaled = bias === undefined ? { name, ...(doc ? { doc } : {}) } : {};
  // s · w_scale[o] as a MatMul [B,1]×[1,out] (one product per element, rounded once, as a Mul would be).
  // Written as Mul(s, scales), onnxruntime 1.30 gives wrong results with graph optimizations on and
  // right ones with them off: its MatMulInteger → Cast → Mul(a_scale, b_scale) fusion evidently
  // assumes a per-tensor a_scale. The MatMul keeps that pattern from matching.
  const rowScales = b.node("MatMul", [s, b.node("Unsqueeze", [t.scales, b.int64([0])])]);
  const y = b.node("Mul", [acc, rowScales], scaled);
  return bias === undefined ? y : b.node("Add", [y, bias], { name, ...(doc ? { doc } : {}) });
}

/** The weights of one cross layer: full `[W, b]` or low-rank `[down, up, b]`. */
export type CrossTensors = { weight: string; bias: string } | { down: string; up: string; bias: string };

/** One DCNv2 layer: x0 ⊙ (W xl + b) + xl, with W xl as up·(down·xl) when low-rank. */
export function lowerCrossLayer(b: OnnxBuilder, x0: string, xl: string, w: CrossTensors, name: string, doc?: string): string {
  const lin = "weight" in w ? lowerLinear(b, xl, w.weight, w.bias) : lowerLinear(b, lowerLinear(b, xl, w.down, undefined), w.up, w.bias);
  return b.node("Add", [b.node("Mul", [x0, lin]), xl], { name, ...(doc ? { doc } : {}) });
}
