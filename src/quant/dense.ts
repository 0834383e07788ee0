// Dense-layer quantization: fp16/bf16 weight rounding, int8 per-output-channel
// symmetric weights (with the clip threshold chosen per row to minimise
// error, which tames outlier channels), and int8 activation quantization,
// static or dynamic per row. The interpreter's int8 linear and the Wasm int8
// GEMM both follow `int8Linear` below; docs/numerics.md specifies it. int8a7
// (int8 weights, 7-bit activation codes for relaxed SIMD) is `int8a7Linear`.

import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "./half.js";
import { roundHalfEven } from "./rowwise.js";

const f32 = Math.fround;

/** f32 → nearest fp16 → f32. */
export const toF16 = (x: number): number => f16ToF32(f32ToF16(x));
/** f32 → nearest bf16 → f32. */
export const toBf16 = (x: number): number => bf16ToF32(f32ToBf16(x));

/** int8 weights of a `[out, in]` matrix: values in [-127, 127] and one scale per output. */
export interface Int8Weights {
  q: Int8Array;
  scales: Float32Array;
}

const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);

/** Quantizes row `w` with threshold `t`; returns the scale (q written into `q` at `at`). */
function quantizeWith(w: Float32Array, from: number, n: number, t: number, q: Int8Array, at: number): number {
  const scale = t > 0 ? f32(t / 127) : 1;
  const inv = f32(1 / scale);
  for (let k = 0; k < n; k++) q[at + k] = clamp(roundHalfEven(f32(w[from + k]! * inv)), -127, 127);
  return scale;
}

/**
 * Per-output-channel symmetric int8: for each row, the clip threshold
 * t = max|w|·c (c = 1.00, 0.99, ..., 0.50) with the least squared error wins
 * (ties: the larger t), so a row with one outlier keeps resolution for the rest.
 */
export function quantizeInt8Weights(w: Float32Array, out: number, inF: number): Int8Weights {
  const q = new Int8Array(out * inF);
  const scales = new Float32Array(out);
  const trial = new Int8Array(inF);
  for (let o = 0; o < out; o++) {
    const base = o * inF;
    let a = 0;
    for (let k = 0; k < inF; k++) a = Math.max(a, Math.abs(w[base + k]!));
    let best = Infinity;
    let bestScale = 1;
    for (let j = 0; j <= 50; j++) {
      const t = f32(a * f32((100 - j) / 100));
      const scale = quantizeWith(w, base, inF, t, trial, 0);
      let err = 0;
      for (let k = 0; k < inF; k++) err += (w[base + k]! - trial[k]! * scale) ** 2;
      if (err < best) {
        best = err;
        bestScale = scale;
        q.set(trial, base);
      }
    }
    scales[o] = bestScale;
  }
  return { q, scales };
}

/** Bounds of a smoothing factor: keeps both the scaled weights and the scaled activations well inside f32 and int8 reach. */
export const SMOOTH_MIN = 2 ** -10;
export const SMOOTH_MAX = 2 ** 10;

/**
 * SmoothQuant-style per-input-channel factors s_k for an int8 layer: an
 * activation channel with large values gets s_k > 1 and gives that range to
 * the weights (x / s, W · s compute the same product), balancing the
 * quantization error between the two. s_k = max|x_k|^α / max_o|W[o,k]|^(1-α),
 * clamped to [2^-10, 2^10], 1 where either maximum is 0, rounded to f32.
 */
export function smoothingFactors(xMax: ArrayLike<number>, w: Float32Array, out: number, inF: number, alpha: number): Float32Array {
  const s = new Float32Array(inF);
  for (let k = 0; k < inF; k++) {
    let wm = 0;
    for (let o = 0; o < out; o++) wm = Math.max(wm, Math.abs(w[o * inF + k]!));
    const xm = xMax[k]!;
    s[k] = xm > 0 && wm > 0 && Number.isFinite(xm) ? clamp(Math.pow(xm, alpha) / Math.pow(wm, 1 - alpha), SMOOTH_MIN, SMOOTH_MAX) : 1;
  }
  return s;
}

/** The activation multipliers of a smoothed layer: r_k = f32(1 / s_k). */
export const smoothMultipliers = (smooth: ArrayLike<number>): Float32Array => Float32Array.from(smooth, (v) => f32(1 / v));

/** The weights of a smoothed layer: W[o,k] · s_k, rounded to f32 (then quantized as usual). */
export function smoothWeights(w: Float32Array, out: number, inF: number, smooth: ArrayLike<number>): Float32Array {
  const r = new Float32Array(w.length);
  for (let o = 0; o < out; o++) for (let k = 0; k < inF; k++) r[o * inF + k] = f32(w[o * inF + k]! * smooth[k]!);
  return r;
}

/** The scale of one activation row under dynamic quantization: max|x| / 127 (1 for an all-zero row). */
export function dynamicScale(x: Float32Array, from: number, n: number): number {
  let m = 0;
  for (let k = 0; k < n; k++) m = Math.max(m, Math.abs(x[from + k]!)); // Math.max propagates NaN
  return Number.isNaN(m) ? NaN : m > 0 ? f32(m / 127) : 1;
}

/** Quantizes `n` activations with scale `s` into `q` (NaN → 0). */
export function quantizeActivations(x: Float32Array, from: number, n: number, s: number, q: Int32Array): void {
  const inv = f32(1 / s);
  for (let k = 0; k < n; k++) q[k] = activationCode(x[from + k]!, inv);
}

/** One activation's int8 code at scale 1/`inv` (`inv` = f32(1/s)): clamp(rne(x·inv), ±127), NaN → 0. */
export function activationCode(x: number, inv: number): number {
  const v = f32(x * inv);
  return Number.isNaN(v) ? 0 : clamp(roundHalfEven(v), -127, 127);
}

/**
 * y = x·Wᵀ (+ b) in int8: per sample, activations quantized with the static
 * scale `actScale` or dynamically per row, int32 dot products, then
 * y = f32(acc) · f32(s · sw[o]) (+ b). `y` is `[batch, out]`.
 */
export function int8Linear(
  x: Float32Array,
  batch: number,
  inF: number,
  w: Int8Weights,
  out: number,
  bias: Float32Array | undefined,
  actScale: number | undefined,
  y: Float32Array,
  actMul?: Float32Array,
): void {
  const qx = new Int32Array(inF);
  const row = actMul ? new Float32Array(inF) : undefined;
  for (let b = 0; b < batch; b++) {
    let src = x;
    let from = b * inF;
    if (row && actMul) {
      // Smoothed layer: the row is scaled per input channel before it is quantized.
      for (let k = 0; k < inF; k++) row[k] = f32(x[b * inF + k]! * actMul[k]!);
      [src, from] = [row, 0];
    }
    const s = actScale ?? dynamicScale(src, from, inF);
    quantizeActivations(src, from, inF, s, qx);
    for (let o = 0; o < out; o++) {
      let acc = 0;
      const row = o * inF;
      for (let k = 0; k < inF; k++) acc += qx[k]! * w.q[row + k]!;
      let v = f32(f32(acc) * f32(s * w.scales[o]!));
      if (bias) v = f32(v + bias[o]!);
      y[b * out + o] = v;
    }
  }
}

/**
 * int8a7's zero point: 0 for an input known non-negative (codes 0..127), 64
 * otherwise (codes 1..127 around 64). Either way every code fits 7 bits, the
 * operand range on which `i32x4.relaxed_dot_i8x16_i7x16_add_s` is exact.
 */
export type A7Zero = 0 | 64;

/** The int8a7 scale of one row: max|x| / 127 at zero point 0, max|x| / 63 at 64 (1 for an all-zero row; NaN propagates). */
export function a7Scale(x: Float32Array, from: number, n: number, zero: A7Zero): number {
  if (zero === 0) return dynamicScale(x, from, n);
  let m = 0;
  for (let k = 0; k < n; k++) m = Math.max(m, Math.abs(x[from + k]!));
  return Number.isNaN(m) ? NaN : m > 0 ? f32(m / 63) : 1;
}

/** int8a7 codes of `n` activations with scale `s`: clamp(rne(x·f32(1/s)), 0, 127) at zero 0, clamp(…, ±63) + 64 at 64; NaN → the zero point. */
export function a7Codes(x: Float32Array, from: number, n: number, s: number, zero: A7Zero, q: Int32Array): void {
  const inv = f32(1 / s);
  const [lo, hi] = zero === 0 ? [0, 127] : [-63, 63];
  for (let k = 0; k < n; k++) {
    const v = f32(x[from + k]! * inv);
    q[k] = Number.isNaN(v) ? zero : clamp(roundHalfEven(v), lo, hi) + zero;
  }
}

/**
 * y = x·Wᵀ (+ b) at int8a7: per row, codes as a7Codes says with a7Scale's
 * dynamic scale, acc = Σ_k (q[k] − zero)·w[o,k] (exact in int32), then the
 * int8 epilogue: y = f32(acc) · f32(s · sw[o]) (+ b).
 */
export function int8a7Linear(
  x: Float32Array,
  batch: number,
  inF: number,
  w: Int8Weights,
  out: number,
  bias: Float32Array | undefined,
  zero: A7Zero,
  y: Float32Array,
): void {
  const q = new Int32Array(inF);
  for (let b = 0; b < batch; b++) {
    const s = a7Scale(x, b * inF, inF, zero);
    a7Codes(x, b * inF, inF, s, zero, q);
    for (let o = 0; o < out; o++) {
      let acc = 0;
      for (let k = 0; k < inF; k++) acc += (q[k]! - zero) * w.q[o * inF + k]!;
      let v = f32(f32(acc) * f32(s * w.scales[o]!));
      if (bias) v = f32(v + bias[o]!);
      y[b * out + o] = v;
    }
  }
}
