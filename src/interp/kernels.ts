// The reference interpreter's kernel table: one kernel per op of the op table
// (src/ir/ops.ts). The interpreter has already checked every operand's shape
// against the op's type rule before a kernel runs, so kernels only compute.
// The table's type makes a new op without a kernel a compile error. The
// arithmetic (rounding and accumulation order) is in math.ts; dense layers'
// precisions (fp16/bf16/int8) are applied here through precision.ts.

import { type OpName, dotInteractionWidth } from "../ir/ops.js";
import type { Node, Type } from "../ir/types.js";
import { type A7Zero, int8Linear, int8a7Linear, quantizeActivations, smoothMultipliers } from "../quant/dense.js";
import { int8Weights, roundedWeights, runnableLayerPrecision } from "./precision.js";
import { a7ZeroOf, actOf, smoothOf, staticActScale } from "../ir/attrs.js";
import {
  type Activation,
  type CrossWeights,
  activateInPlace,
  crossLayerBatch,
  dotF32,
  dotF32Fused,
  linearBatch,
  linearBatchFused,
  relu,
  sigmoid,
  tanh,
} from "./math.js";
import { embeddingBagKernel } from "./embedding.js";
import { type BoundWeight, type Kernel, type KernelArgs, sampleWidth, tensorOperand } from "./operands.js";

const elementwise =
  (fn: (x: number) => number): Kernel =>
  (a) => {
    const x = tensorOperand(a, 0);
    for (let i = 0; i < x.length; i++) a.out[i] = fn(x[i]!);
  };

/**
 * One dense layer at its precision: fp32 as `linearBatch`; fp16/bf16 the same
 * on weights and bias rounded once; int8 per docs/numerics.md (`int8Linear`,
 * static activation scale `actScale` or dynamic per row); int8a7 with zero
 * point `zero` (`int8a7Linear`).
 */
function denseLayer(
  node: Node,
  x: Float32Array,
  batch: number,
  inF: number,
  w: BoundWeight,
  b: BoundWeight | undefined,
  outF: number,
  actScale: number | undefined,
  y: Float32Array,
  zero: A7Zero,
  fma: boolean,
): void {
  const p = runnableLayerPrecision(node, w.decl);
  if (p === "int8a7") return int8a7Linear(x, batch, inF, int8Weights(w.tensor), outF, b?.dense(), zero, y);
  const linear = fma ? linearBatchFused : linearBatch;
  if (p === "int8") {
    const smooth = smoothOf(node);
    return int8Linear(x, batch, inF, int8Weights(w.tensor, smooth), outF, b?.dense(), actScale, y, smooth ? smoothMultipliers(smooth) : undefined);
  }
  if (p === "fp32") return linear(x, batch, inF, w.dense(), b?.dense(), outF, y);
  const r = p as "fp16" | "bf16";
  linear(x, batch, inF, roundedWeights(w.tensor, r), b ? roundedWeights(b.tensor, r) : undefined, outF, y);
}

/**
 * linear: the dense layer at its precision, then `act`. An i8 input holds
 * int8 codes a previous layer made for this one (fold-quant): they are its
 * quantized activations, used as they are. With `out_scale` the output is the
 * codes the next int8 layer would make of y (docs/numerics.md), held as
 * integral f32 values.
 */
function linearKernel(a: KernelArgs): void {
  const [w, b] = a.weights;
  const [out, inF] = w!.tensor.shape as [number, number];
  const outScale = typeof a.attrs.out_scale === "number" ? Math.fround(a.attrs.out_scale) : undefined;
  const y = outScale === undefined ? a.out : new Float32Array(a.batch * out);
  const x = tensorOperand(a, 0);
  if (isCodes(a.types[0]!)) int8FromCodes(a.node, x, a.batch, inF, w!, b, out, y);
  else denseLayer(a.node, x, a.batch, inF, w!, b, out, staticActScale(a.node), y, a7ZeroOf(a.node, a.nonNegative), a.fma);
  activateInPlace(actOf(a.node), y);
  if (outScale !== undefined) quantizeRows(y, a.batch, out, outScale, a.attrs.out_smooth as number[] | undefined, a.out);
}

const isCodes = (t: Type): boolean => t.kind === "tensor" && t.dtype === "i8";

/** An int8 layer on codes `q` ([batch, inF], integral values): int32 dots with the weights, then the spec's f32 steps with the static scale. */
function int8FromCodes(
  node: Node,
  q: Float32Array,
  batch: number,
  inF: number,
  w: BoundWeight,
  b: BoundWeight | undefined,
  outF: number,
  y: Float32Array,
): void {
  const wq = int8Weights(w.tensor, smoothOf(node));
  const s = staticActScale(node)!;
  const bias = b?.dense();
  for (let r = 0; r < batch; r++)
    for (let o = 0; o < outF; o++) {
      let acc = 0;
      for (let k = 0; k < inF; k++) acc += q[r * inF + k]! * wq.q[o * inF + k]!;
      let v = f32(f32(acc) * f32(s * wq.scales[o]!));
      if (bias) v = f32(v + bias[o]!);
      y[r * outF + o] = v;
    }
}

/** Quantizes each row of `y` as an int8 layer with static scale `s` (and smoothing factors) quantizes its input; the codes go to `codes`. */
function quantizeRows(y: Float32Array, batch: number, n: number, s: number, smooth: readonly number[] | undefined, codes: Float32Array): void {
  const mul = smooth ? smoothMultipliers(smooth) : undefined;
  const row = new Float32Array(n);
  const q = new Int32Array(n);
  for (let r = 0; r < batch; r++) {
    for (let k = 0; k < n; k++) row[k] = mul ? f32(y[r * n + k]! * mul[k]!) : y[r * n + k]!;
    quantizeActivations(row, 0, n, s, q);
    for (let k = 0; k < n; k++) codes[r * n + k] = q[k]!;
  }
}

const f32 = Math.fround;

/** mlp: layer i is linear(W_i, b_i) then `act`, the last layer `final` instead (int8 layers quantize activations dynamically). */
function mlpKernel(a: KernelArgs): void {
  const sizes = a.attrs.sizes as number[];
  const per = a.attrs.bias === false ? 1 : 2;
  let x = tensorOperand(a, 0);
  let inF = sampleWidth(a.types[0]!);
  for (let l = 0; l < sizes.length; l++) {
    const last = l === sizes.length - 1;
    const outF = sizes[l]!;
    const y = last ? a.out : new Float32Array(a.batch * outF);
    // int8a7: layer 0's input is the mlp's; later layers read act(...) (non-negative for relu and sigmoid, as nonNegativeValues says).
    const zero: A7Zero = l === 0 ? a7ZeroOf(a.node, a.nonNegative) : a.attrs.act === "relu" || a.attrs.act === "sigmoid" ? 0 : 64;
    denseLayer(a.node, x, a.batch, inF, a.weights[l * per]!, per === 2 ? a.weights[l * per + 1] : undefined, outF, undefined, y, zero, a.fma);
    activateInPlace((last ? a.attrs.final : a.attrs.act) as Activation, y);
    x = y;
    inF = outF;
  }
}

/** Copies `width` elements per sample of each operand, in operand order, into each output row from column `col`. */
function concatRows(a: KernelArgs, operands: number[], col = 0): void {
  const outW = sampleWidth(a.outType);
  for (const i of operands) {
    const x = tensorOperand(a, i);
    const w = sampleWidth(a.types[i]!);
    for (let b = 0; b < a.batch; b++) {
      const src = b * w;
      const dst = b * outW + col;
      for (let k = 0; k < w; k++) a.out[dst + k] = x[src + k]!;
    }
    col += w;
  }
}

/**
 * interact. cat: x ++ flatten(each further operand). dot: the operands are cut
 * into F vectors of dim d (x is one; a [B,d] operand is one; [B,n,d] is n, in
 * order); the output is x followed by dot(T_i, T_j) for i = 1..F-1, j = 0..i-1
 * (with self: i = 0..F-1, j = 0..i), row-major over the lower triangle —
 * facebookresearch/dlrm's `interact_features` order (tril_indices offset -1 / 0).
 * The last `tail` operands are not features: they follow, flattened, as a
 * concat after the interaction would place them.
 */
export function interactKernel(a: KernelArgs, changed?: ReadonlySet<number>): void {
  const tail = typeof a.attrs.tail === "number" ? a.attrs.tail : 0;
  if (a.attrs.op === "cat")
    return concatRows(
      a,
      a.values.map((_, i) => i),
    );
  const operands = a.values.map((_, i) => i).slice(0, a.values.length - tail);
  const d = sampleWidth(a.types[0]!);
  const width = interactDot(a, operands, d, changed);
  concatRows(a, a.values.map((_, i) => i).slice(a.values.length - tail), width);
}

/**
 * The dot interaction of `operands` into the first columns of each output row; returns how many columns it wrote.
 * With `changed` (vector indices), only the entries that read a changed vector are written: the rest keep what
 * `a.out` holds (the incremental evaluation of the precision search).
 */
function interactDot(a: KernelArgs, operands: number[], d: number, changed?: ReadonlySet<number>): number {
  const src: Float32Array[] = [];
  const stride: number[] = [];
  const within: number[] = [];
  for (const i of operands) {
    const n = sampleWidth(a.types[i]!) / d;
    for (let k = 0; k < n; k++) {
      src.push(tensorOperand(a, i));
      stride.push(n * d);
      within.push(k * d);
    }
  }
  const vectors = src.length;
  const offset = new Int32Array(vectors);
  const self = a.attrs.self === true;
  const outW = sampleWidth(a.outType);
  const x = src[0]!;
  const dot = a.fma ? dotF32Fused : dotF32;
  // The (i, j) pairs to compute, in output order, and where each goes.
  const pi: number[] = [];
  const pj: number[] = [];
  const pp: number[] = [];
  let pos = d;
  for (let i = self ? 0 : 1; i < vectors; i++)
    for (let j = 0; j <= (self ? i : i - 1); j++, pos++)
      if (!changed || changed.has(i) || changed.has(j)) {
        pi.push(i);
        pj.push(j);
        pp.push(pos);
      }
  const copyX = !changed || changed.has(0);
  for (let b = 0; b < a.batch; b++) {
    for (let v = 0; v < vectors; v++) offset[v] = b * stride[v]! + within[v]!;
    const row = b * outW;
    if (copyX) for (let k = 0; k < d; k++) a.out[row + k] = x[b * d + k]!;
    for (let p = 0; p < pi.length; p++) a.out[row + pp[p]!] = dot(src[pi[p]!]!, offset[pi[p]!]!, src[pj[p]!]!, offset[pj[p]!]!, d);
  }
  return dotInteractionWidth(d, vectors, self);
}

/** The weights of one cross layer, from `[W, b]` (rank 0) or `[down, up, b]`, at the layer's precision (fp32, fp16 or bf16). */
function crossWeights(node: Node, ws: readonly BoundWeight[], rank: number): CrossWeights {
  const p = runnableLayerPrecision(node, ws[0]!.decl) as "fp32" | "fp16" | "bf16";
  const at = (i: number) => (p === "fp32" ? ws[i]!.dense() : roundedWeights(ws[i]!.tensor, p));
  if (rank > 0) return { rank, down: at(0), up: at(1), bias: at(2) };
  return { rank: 0, w: at(0), bias: at(1) };
}

/** cross: x_{l+1} = cross_layer(x0, x_l, weights of layer l), x_0 = the input, for l = 0..layers-1. */
function crossKernel(a: KernelArgs): void {
  const layers = a.attrs.layers as number;
  const rank = a.attrs.rank as number;
  const per = rank > 0 ? 3 : 2;
  const x0 = tensorOperand(a, 0);
  const d = sampleWidth(a.types[0]!);
  let xl = x0;
  for (let l = 0; l < layers; l++) {
    const y = l === layers - 1 ? a.out : new Float32Array(a.batch * d);
    crossLayerBatch(x0, xl, a.batch, d, crossWeights(a.node, a.weights.slice(l * per, (l + 1) * per), rank), y, a.fma);
    xl = y;
  }
}

function crossLayerKernel(a: KernelArgs): void {
  const d = sampleWidth(a.types[0]!);
  crossLayerBatch(tensorOperand(a, 0), tensorOperand(a, 1), a.batch, d, crossWeights(a.node, a.weights, a.attrs.rank as number), a.out, a.fma);
  activateInPlace(actOf(a.node), a.out);
}

/** One kernel per op; the mapped type makes an op without a kernel a compile error. */
export const KERNELS: { readonly [K in OpName]: Kernel } = {
  linear: linearKernel,
  mlp: mlpKernel,
  relu: elementwise(relu),
  sigmoid: elementwise(sigmoid),
  tanh: elementwise(tanh),
  embedding_bag: embeddingBagKernel,
  interact: interactKernel,
  concat: (a) =>
    concatRows(
      a,
      a.values.map((_, i) => i),
    ),
  // Row-major data is already flat; copy so no two values share storage.
  flatten: (a) => a.out.set(tensorOperand(a, 0)),
  cross: crossKernel,
  cross_layer: crossLayerKernel,
};
