// The precision search's int8 dense layer (src/precision/incremental.ts), as
// int8Linear (or int8a7Linear, src/quant/dense.ts) computes it, keeping per calibration batch
// each row's codes and int32 sums. A later evaluation updates the sums by the
// codes that changed: integer sums are exact in any order, so adding
// (new code - old code) · weight gives the very sums a full evaluation does.
// A row's codes can only change in the input columns that changed, unless
// its dynamic scale moved, and then only where the rounding went another way
// (a scale that moved a little leaves most codes as they were).

import { roundHalfEven } from "../quant/rowwise.js";
import type { SimdSums } from "./simd-kernels.js";

/** An int8 layer's state on one batch: each row's largest |input| (and a column holding it), its scale, codes and sums. */
export interface Int8State {
  m: Float64Array;
  arg: Int32Array;
  s: Float64Array;
  q: Int8Array;
  acc: Int32Array;
}

/** Inputs a layer may have for its int32 sums to stay exact in int32 arithmetic (127 · 127 per product). */
export const MAX_INT8_INPUTS = Math.floor(0x7fffffff / (127 * 127));

/** The layer: int8 weights transposed to `[in, out]` (a column's weights contiguous), per-output scales, bias, smoothing multipliers. */
export interface Int8Layer {
  inF: number;
  out: number;
  wT: Int8Array;
  scales: Float32Array;
  bias: Float32Array | undefined;
  /** SmoothQuant: the input is multiplied by these per column before it is quantized. */
  mul: Float32Array | undefined;
  /** A static activation scale (else dynamic per row: the row's largest |input| over `div`). */
  fixed: number | undefined;
  div: number;
  /** The codes' range (int8: ±127; int8a7: 0..127 on a non-negative input, else ±63, its zero point taken off). */
  lo: number;
  hi: number;
  /** The sums in WebAssembly SIMD (where the host has it). */
  sums?: SimdSums | undefined;
}

/** A code: clamp(rne(v), lo, hi), NaN → 0 (activationCode's and a7Codes' rule, less the zero point). */
function code(v: number, lo: number, hi: number): number {
  if (v !== v) return 0;
  const r = roundHalfEven(v);
  // | 0: an integer in ±127 as it is, and -0 (Math.round's for -1/2 < v < 0) as the same 0 code, so the JIT keeps int32 arithmetic.
  return (r < lo ? lo : r > hi ? hi : r) | 0;
}

/**
 * y = the layer on `x` (`[batch, inF]`, before its activation). `st` holds the state of the previous
 * evaluation on this batch (`fresh`: none, it is zeroed); `cols` are the input columns that changed
 * since it, ascending, or "all". `st` is updated to this evaluation's.
 */
export function int8LayerUpdate(
  L: Int8Layer,
  x: Float32Array,
  batch: number,
  st: Int8State,
  fresh: boolean,
  cols: Int32Array | "all",
  y: Float32Array,
): void {
  const { inF, out, mul, fixed, div, lo, hi, sums } = L;
  // The sums (`width` per row), and the columns whose code changed in a row and by how much: in the SIMD module's memory, or here.
  const view = sums?.views(batch);
  const width = sums ? sums.width : out;
  const acc = view ? view.acc : st.acc;
  const deltaCols = view ? view.cols : new Int32Array(inF);
  const deltaBy = view ? view.ds : new Int32Array(inF);
  if (view && width === out) acc.set(st.acc.subarray(0, batch * out));
  else if (view) for (let b = 0; b < batch; b++) acc.set(st.acc.subarray(b * out, (b + 1) * out), b * width);
  const changed = new Uint8Array(inF);
  const all = fresh || cols === "all";
  const list = all ? EVERY : cols;
  for (let c = 0; c < list.length; c++) changed[list[c]!] = 1;
  const q = st.q;
  for (let b = 0; b < batch; b++) {
    const qb = b * inF;
    let m = st.m[b]!;
    let arg = st.arg[b]!;
    if (!all) {
      for (let c = 0; c < list.length; c++) {
        const k = list[c]!;
        const v = mul ? Math.fround(x[qb + k]! * mul[k]!) : x[qb + k]!;
        const av = Math.abs(v);
        if (av > m) {
          m = av;
          arg = k;
        } else if (av !== av) m = NaN;
      }
    }
    // The largest |input| was in a changed column and may have shrunk, or something is NaN: look again.
    if (all || changed[arg] === 1 || m !== m) {
      m = 0;
      arg = 0;
      for (let k = 0; k < inF; k++) {
        const av = Math.abs(mul ? Math.fround(x[qb + k]! * mul[k]!) : x[qb + k]!);
        if (av > m) {
          m = av;
          arg = k;
        } else if (av !== av) {
          m = NaN;
          break;
        }
      }
    }
    st.m[b] = m;
    st.arg[b] = arg;
    // dynamicScale's rule, from the row's largest |input| (NaN never equals the old scale: every code is redone).
    const s = fixed ?? (m !== m ? NaN : m > 0 ? Math.fround(m / div) : 1);
    const every = all || s !== st.s[b];
    st.s[b] = s;
    const inv = Math.fround(1 / s);
    const n = every
      ? allDeltas(x, qb, inF, mul, inv, lo, hi, q, deltaCols, deltaBy)
      : listDeltas(x, qb, list, mul, inv, lo, hi, q, deltaCols, deltaBy);
    if (sums) sums.add(b, n);
    else addColumns(acc, b * out, out, L.wT, deltaCols, deltaBy, n);
    outputRow(acc, b * width, out, s, L.scales, L.bias, y, b * out);
  }
  if (view && width === out) st.acc.set(acc.subarray(0, batch * out));
  else if (view) for (let b = 0; b < batch; b++) st.acc.set(acc.subarray(b * width, b * width + out), b * out);
}

const EVERY = new Int32Array(0);

/** The new codes of a row's listed columns (x from `qb`): each that differs from `q` goes into `q` and onto the change lists; returns how many. */
function listDeltas(
  x: Float32Array,
  qb: number,
  list: Int32Array,
  mul: Float32Array | undefined,
  inv: number,
  lo: number,
  hi: number,
  q: Int8Array,
  deltaCols: Int32Array,
  deltaBy: Int32Array,
): number {
  let n = 0;
  for (let c = 0; c < list.length; c++) {
    const k = list[c]!;
    const now = code(Math.fround((mul ? Math.fround(x[qb + k]! * mul[k]!) : x[qb + k]!) * inv), lo, hi);
    const d = now - q[qb + k]!;
    if (d === 0) continue;
    q[qb + k] = now;
    deltaCols[n] = k;
    deltaBy[n++] = d;
  }
  return n;
}

/** The same for every column of the row. */
function allDeltas(
  x: Float32Array,
  qb: number,
  inF: number,
  mul: Float32Array | undefined,
  inv: number,
  lo: number,
  hi: number,
  q: Int8Array,
  deltaCols: Int32Array,
  deltaBy: Int32Array,
): number {
  let n = 0;
  for (let k = 0; k < inF; k++) {
    const now = code(Math.fround((mul ? Math.fround(x[qb + k]! * mul[k]!) : x[qb + k]!) * inv), lo, hi);
    const d = now - q[qb + k]!;
    if (d === 0) continue;
    q[qb + k] = now;
    deltaCols[n] = k;
    deltaBy[n++] = d;
  }
  return n;
}

/** One row's outputs from its sums: y = f32(acc) · f32(s · sw[o]) (+ b), int8Linear's epilogue. */
function outputRow(
  acc: Int32Array,
  at: number,
  out: number,
  s: number,
  scales: Float32Array,
  bias: Float32Array | undefined,
  y: Float32Array,
  yAt: number,
): void {
  if (bias) for (let o = 0; o < out; o++) y[yAt + o] = Math.fround(Math.fround(Math.fround(acc[at + o]!) * Math.fround(s * scales[o]!)) + bias[o]!);
  else for (let o = 0; o < out; o++) y[yAt + o] = Math.fround(Math.fround(acc[at + o]!) * Math.fround(s * scales[o]!));
}

/**
 * acc[at + o] += Σ deltaBy[i] · wT[deltaCols[i], o] over the first `n` listed columns, four columns at a time, in int32
 * arithmetic: every sum of the layer fits it (MAX_INT8_INPUTS), so wrapping adds give the exact integers, in any order.
 */
function addColumns(acc: Int32Array, at: number, out: number, wT: Int8Array, deltaCols: Int32Array, deltaBy: Int32Array, n: number): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const w0 = deltaCols[i]! * out;
    const w1 = deltaCols[i + 1]! * out;
    const w2 = deltaCols[i + 2]! * out;
    const w3 = deltaCols[i + 3]! * out;
    const d0 = deltaBy[i]!;
    const d1 = deltaBy[i + 1]!;
    const d2 = deltaBy[i + 2]!;
    const d3 = deltaBy[i + 3]!;
    for (let o = 0; o < out; o++)
      acc[at + o] =
        (acc[at + o]! + Math.imul(d0, wT[w0 + o]!) + Math.imul(d1, wT[w1 + o]!) + Math.imul(d2, wT[w2 + o]!) + Math.imul(d3, wT[w3 + o]!)) | 0;
  }
  for (; i < n; i++) {
    const w0 = deltaCols[i]! * out;
    const d0 = deltaBy[i]!;
    for (let o = 0; o < out; o++) acc[at + o] = (acc[at + o]! + Math.imul(d0, wT[w0 + o]!)) | 0;
  }
}

/** Weights `[out, in]` as `[in, out]`, so a changed input column's weights are contiguous (cached per array). */
const transposedCache = new WeakMap<Int8Array, Int8Array>();
export function transposed(q: Int8Array, out: number, inF: number): Int8Array {
  let t = transposedCache.get(q);
  if (!t) {
    t = new Int8Array(q.length);
    for (let o = 0; o < out; o++) for (let k = 0; k < inF; k++) t[k * out + o] = q[o * inF + k]!;
    transposedCache.set(q, t);
  }
  return t;
}
