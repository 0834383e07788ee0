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
  /** The layer's sums in WebAssembly SIMD. */
  sums: SimdSums;
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
  const { inF, out, mul, fixed, div, sums } = L;
  // The sums (`width` per row), and the columns whose code changed in a row and by how much, in the SIMD module's memory.
  const view = sums.views(batch);
  const width = sums.width;
  const acc = view.acc;
  if (width === out) acc.set(st.acc.subarray(0, batch * out));
  else for (let b = 0; b < batch; b++) acc.set(st.acc.subarray(b * out, (b + 1) * out), b * width);
  const changed = new Uint8Array(inF);
  const all = fresh || cols === "all";
  const list = all ? EVERY : cols;
  for (let c = 0; c < list.length; c++) changed[list[c]!] = 1;
  const q = st.q;
  for (let b = 0; b < batch; b++) {
    const qb = b * inF;
    // The largest |input| of the row (and a column holding it), updated by the changed columns; looked for again
    // when the old one was in a changed column (it may have shrunk), or something is NaN.
    const was = st.arg[b]!;
    if (!all) largest(x, qb, false, list.length, list, mul, st, b);
    if (all || changed[was] === 1 || st.m[b] !== st.m[b]) {
      st.m[b] = 0;
      st.arg[b] = 0;
      largest(x, qb, true, inF, list, mul, st, b);
    }
    const m = st.m[b]!;
    // dynamicScale's rule, from the row's largest |input| (NaN never equals the old scale: every code is redone).
    const s = fixed ?? (m !== m ? NaN : m > 0 ? Math.fround(m / div) : 1);
    const every = all || s !== st.s[b];
    st.s[b] = s;
    const inv = Math.fround(1 / s);
    const n = deltas(x, qb, every, every ? inF : list.length, list, L, inv, q, view.cols, view.ds);
    sums.add(b, n);
    outputRow(acc, b * width, out, s, L.scales, L.bias, y, b * out);
  }
  if (width === out) st.acc.set(acc.subarray(0, batch * out));
  else for (let b = 0; b < batch; b++) st.acc.set(acc.subarray(b * width, b * width + out), b * out);
}

const EVERY = new Int32Array(0);

/** Folds the row's listed columns (or with `every` all of them) into st.m[b] and st.arg[b], its largest |input| and where; NaN if any is. */
function largest(
  x: Float32Array,
  qb: number,
  every: boolean,
  n: number,
  list: Int32Array,
  mul: Float32Array | undefined,
  st: Int8State,
  b: number,
): void {
  let m = st.m[b]!;
  let arg = st.arg[b]!;
  for (let c = 0; c < n; c++) {
    const k = every ? c : list[c]!;
    const av = Math.abs(mul ? Math.fround(x[qb + k]! * mul[k]!) : x[qb + k]!);
    if (av > m) {
      m = av;
      arg = k;
    } else if (av !== av) {
      m = NaN;
      break;
    }
  }
  st.m[b] = m;
  st.arg[b] = arg;
}

/** The new codes of a row's columns (x from `qb`; `list`, or with `every` all `inF`): each that differs from `q` goes into `q` and onto the change lists; returns how many. */
function deltas(
  x: Float32Array,
  qb: number,
  every: boolean,
  count: number,
  list: Int32Array,
  L: Int8Layer,
  inv: number,
  q: Int8Array,
  cols: Int32Array,
  by: Int32Array,
): number {
  const { mul, lo, hi } = L;
  let n = 0;
  for (let c = 0; c < count; c++) {
    const k = every ? c : list[c]!;
    const now = code(Math.fround((mul ? Math.fround(x[qb + k]! * mul[k]!) : x[qb + k]!) * inv), lo, hi);
    const d = now - q[qb + k]!;
    if (d === 0) continue;
    q[qb + k] = now;
    cols[n] = k;
    by[n++] = d;
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
