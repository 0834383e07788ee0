// f32 arithmetic primitives of the reference interpreter. Every kernel in
// kernels.ts / embedding.ts is built from these, so the rounding rules that
// define "what an op means" live in one place: every product and every sum is
// rounded to f32 (`Math.fround`) as it is formed, in the order written here.
// Backends match these numbers (fp32 to a tight tolerance, integer paths exactly).

import type { Act } from "../ir/attrs.js";

/** Activations an `mlp` (and the elementwise ops) apply; `none` is the identity. */
export type Activation = Act;

const f32 = Math.fround;

/**
 * relu: max(x, 0), NaN propagating (as in PyTorch) and -0 giving +0. Written
 * as (x + |x|) / 2, which is exact (2x or +0) and branch-free: on random-sign
 * activations a data-dependent branch mispredicts half the time and runs ~5x
 * slower. Only -Infinity needs the (predictable) special case.
 */
export const relu = (x: number): number => (x === -Infinity ? 0 : (x + Math.abs(x)) * 0.5);
/** sigmoid: 1 / (1 + exp(-x)) evaluated in double, then rounded once to f32. */
export const sigmoid = (x: number): number => f32(1 / (1 + Math.exp(-x)));
/** tanh: Math.tanh in double, rounded once to f32. */
export const tanh = (x: number): number => f32(Math.tanh(x));

/** Applies an activation to every element of `data`, in place. */
export function activateInPlace(act: Activation, data: Float32Array): void {
  switch (act) {
    case "none":
      return;
    case "relu":
      for (let i = 0; i < data.length; i++) data[i] = relu(data[i]!);
      return;
    case "sigmoid":
      for (let i = 0; i < data.length; i++) data[i] = sigmoid(data[i]!);
      return;
    case "tanh":
      for (let i = 0; i < data.length; i++) data[i] = tanh(data[i]!);
      return;
  }
}

/**
 * Dot product of `n` elements: acc starts at 0 and adds `fround(a[i] * b[i])`
 * for i = 0..n-1 in order, rounding after every add.
 */
export function dotF32(a: Float32Array, aOff: number, b: Float32Array, bOff: number, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) acc = f32(acc + f32(a[aOff + i]! * b[bOff + i]!));
  return acc;
}

/**
 * A dense layer over a batch: `y[b, o] = (sum_i x[b, i] * W[o, i]) + bias[o]`
 * with W `[out, in]` (PyTorch's layout). Each sum is exactly `dotF32` (k =
 * 0..in-1 in order, from 0); the bias is added last, with one more rounding.
 * Without a bias nothing is added (not even 0, which would turn -0 into +0).
 */
export function linearBatch(
  x: Float32Array,
  batch: number,
  inFeatures: number,
  w: Float32Array,
  bias: Float32Array | undefined,
  outFeatures: number,
  y: Float32Array,
): void {
  for (let b = 0; b < batch; b++) {
    const xBase = b * inFeatures;
    const yBase = b * outFeatures;
    let o = 0;
    // Four outputs at a time: four independent rounding chains keep the CPU
    // busy (one chain is latency-bound); each output's own order is unchanged.
    for (; o + 4 <= outFeatures; o += 4) {
      const w0 = o * inFeatures;
      const w1 = w0 + inFeatures;
      const w2 = w1 + inFeatures;
      const w3 = w2 + inFeatures;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let i = 0; i < inFeatures; i++) {
        const xi = x[xBase + i]!;
        a0 = f32(a0 + f32(xi * w[w0 + i]!));
        a1 = f32(a1 + f32(xi * w[w1 + i]!));
        a2 = f32(a2 + f32(xi * w[w2 + i]!));
        a3 = f32(a3 + f32(xi * w[w3 + i]!));
      }
      y[yBase + o] = bias ? f32(a0 + bias[o]!) : a0;
      y[yBase + o + 1] = bias ? f32(a1 + bias[o + 1]!) : a1;
      y[yBase + o + 2] = bias ? f32(a2 + bias[o + 2]!) : a2;
      y[yBase + o + 3] = bias ? f32(a3 + bias[o + 3]!) : a3;
    }
    for (; o < outFeatures; o++) {
      const acc = dotF32(x, xBase, w, o * inFeatures, inFeatures);
      y[yBase + o] = bias ? f32(acc + bias[o]!) : acc;
    }
  }
}

/**
 * a·b + c rounded once to f32 (fused multiply-add): the product of two f32 is
 * exact in double and the sum is rounded to double, then to f32 — a second
 * rounding that differs from a true f32 fma only when the double sum lies
 * exactly halfway between two f32, which the relaxed variant's tolerance
 * (docs/numerics.md) covers.
 */
export const fmaF32 = (a: number, b: number, c: number): number => f32(a * b + c);

/** `dotF32` with every multiply-add fused: acc = fma(a[i], b[i], acc), from 0, in order. */
export function dotF32Fused(a: Float32Array, aOff: number, b: Float32Array, bOff: number, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) acc = f32(a[aOff + i]! * b[bOff + i]! + acc);
  return acc;
}

/** `linearBatch` with fused multiply-adds (FMA mode): each sum is `dotF32Fused`, the bias added last with one rounding. */
export function linearBatchFused(
  x: Float32Array,
  batch: number,
  inFeatures: number,
  w: Float32Array,
  bias: Float32Array | undefined,
  outFeatures: number,
  y: Float32Array,
): void {
  for (let b = 0; b < batch; b++)
    for (let o = 0; o < outFeatures; o++) {
      const acc = dotF32Fused(x, b * inFeatures, w, o * inFeatures, inFeatures);
      y[b * outFeatures + o] = bias ? f32(acc + bias[o]!) : acc;
    }
}

/** Weights of one DCNv2 cross layer: full `W [d,d]`, or low-rank `down [r,d]` and `up [d,r]`; `bias [d]`. */
export type CrossWeights =
  { rank: 0; w: Float32Array; bias: Float32Array } | { rank: number; down: Float32Array; up: Float32Array; bias: Float32Array };

/**
 * One DCNv2 cross layer over a batch: `y = x0 ⊙ (W xl + b) + xl`, with
 * `W xl + b` computed exactly as `linearBatch` (low-rank: `h = down xl` with no
 * bias, then `up h + b`), then per element `fround(fround(x0 * t) + xl)`.
 * `fused`: the matrix products' multiply-adds are fused (FMA mode); the
 * elementwise step is not (the Wasm kernel keeps it unfused in both variants).
 */
export function crossLayerBatch(
  x0: Float32Array,
  xl: Float32Array,
  batch: number,
  d: number,
  cw: CrossWeights,
  y: Float32Array,
  fused = false,
): void {
  const dot = fused ? dotF32Fused : dotF32;
  const t = new Float32Array(d);
  const h = "down" in cw ? new Float32Array(cw.rank) : undefined;
  for (let b = 0; b < batch; b++) {
    const base = b * d;
    if ("down" in cw) {
      for (let r = 0; r < cw.rank; r++) h![r] = dot(xl, base, cw.down, r * d, d);
      for (let o = 0; o < d; o++) t[o] = f32(dot(h!, 0, cw.up, o * cw.rank, cw.rank) + cw.bias[o]!);
    } else {
      for (let o = 0; o < d; o++) t[o] = f32(dot(xl, base, cw.w, o * d, d) + cw.bias[o]!);
    }
    for (let i = 0; i < d; i++) y[base + i] = f32(f32(x0[base + i]! * t[i]!) + xl[base + i]!);
  }
}
