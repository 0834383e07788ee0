// Row-wise table quantization in FBGEMM's fused layouts, byte for byte: 8-bit
// rows (uint8 values, then f32 scale and bias) and 4/2-bit rows (packed low
// bits first, then fp16 scale and bias), plus fp16 rows. The interpreter,
// the Wasm backend and the PyTorch importer all go through these functions;
// docs/numerics.md is the specification they implement.

import { f16ToF32, f32ToF16 } from "./half.js";

const f32 = Math.fround;

/** Table storage formats, by precision name. */
export type RowFormat = "fp16" | "int8" | "int4" | "int2";
export const ROW_FORMATS: readonly RowFormat[] = ["fp16", "int8", "int4", "int2"];

/** Bits per value of an n-bit format. */
const bitsOf = (f: "int4" | "int2"): number => (f === "int4" ? 4 : 2);

/** Bytes of one quantized row of `dim` values. */
export function rowBytes(format: RowFormat, dim: number): number {
  if (format === "fp16") return dim * 2;
  if (format === "int8") return dim + 8;
  return Math.ceil(dim / (8 / bitsOf(format))) + 4;
}

/**
 * Round half to even. Math.round takes halves up, and r - x is exact (r is within 1/2 of x), so it is
 * 1/2 exactly at a tie: no `x % 1`, which is a slow fmod (this runs for every code of every int8 row).
 */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const F32_EPS_1E8 = f32(1e-8);

/**
 * How an n-bit row's range is chosen: `minmax`, FBGEMM's rule (the row's
 * minimum and maximum; what PyTorch's prepack writes), or `l2`, which then
 * refits scale and bias by least squares to the codes while that lowers the
 * row's squared error (docs/numerics.md). Both give FBGEMM's layout; 8-bit rows
 * always use minmax.
 */
export type RowRange = "minmax" | "l2";
export const ROW_RANGES: readonly RowRange[] = ["minmax", "l2"];

/** Least-squares refits an `l2` range tries at most. */
const L2_REFITS = 4;

/** Quantizes one row into `out` (rowBytes(format, row.length) bytes at `offset`); `range` chooses an n-bit row's scale and bias. */
export function quantizeRow(format: RowFormat, row: ArrayLike<number>, out: Uint8Array, offset = 0, range: RowRange = "minmax"): void {
  const dim = row.length;
  if (format === "fp16") {
    for (let i = 0; i < dim; i++) setU16(out, offset + 2 * i, f32ToF16(row[i]!));
    return;
  }
  // Values are f32 (rounded here, so number[] rows quantize as their Float32Array would).
  let mn = Infinity;
  let mx = -Infinity;
  for (let i = 0; i < dim; i++) {
    mn = Math.min(mn, f32(row[i]!));
    mx = Math.max(mx, f32(row[i]!));
  }
  if (dim === 0) mn = mx = 0;
  if (format === "int8") {
    const range = f32(mx - mn);
    const scale = f32(range / 255);
    const inv = f32(255 / f32(range + F32_EPS_1E8));
    for (let i = 0; i < dim; i++) out[offset + i] = clamp(roundHalfEven(f32(f32(f32(row[i]!) - mn) * inv)), 0, 255);
    setF32(out, offset + dim, scale);
    setF32(out, offset + dim + 4, mn);
    return;
  }
  const bits = bitsOf(format);
  const per = 8 / bits;
  const top = (1 << bits) - 1;
  let lo = f16ToF32(f32ToF16(mn));
  let scale = validScale(f16ToF32(f32ToF16(f32(mx - lo) === 0 ? 1 : f32(f32(mx - lo) / top))));
  if (range === "l2" && Number.isFinite(mn) && Number.isFinite(mx)) [lo, scale] = refit(row, lo, scale, top);
  const inv = f32(1 / scale);
  const packed = Math.ceil(dim / per);
  out.fill(0, offset, offset + packed);
  for (let i = 0; i < dim; i++) out[offset + Math.floor(i / per)]! |= code(row[i]!, lo, inv, top) << ((i % per) * bits);
  setU16(out, offset + packed, f32ToF16(scale));
  setU16(out, offset + packed + 2, f32ToF16(lo));
}

// Little-endian stores without a DataView per row (quantizeRow runs once per table row).
const setU16 = (out: Uint8Array, at: number, v: number): void => {
  out[at] = v & 0xff;
  out[at + 1] = v >>> 8;
};
const f32Scratch = new DataView(new ArrayBuffer(4));
const setF32 = (out: Uint8Array, at: number, v: number): void => {
  f32Scratch.setFloat32(0, v, true);
  for (let k = 0; k < 4; k++) out[at + k] = f32Scratch.getUint8(k);
};

/** An fp16 scale the quantizer can divide by: 1 in place of 0 or of one whose reciprocal overflows. */
const validScale = (scale: number): number => (scale === 0 || !Number.isFinite(f32(1 / scale)) ? 1 : scale);

/** The n-bit code of x for bias lo and inv = f32(1/scale). */
const code = (x: number, lo: number, inv: number, top: number): number => clamp(roundHalfEven(f32(f32(f32(x) - lo) * inv)), 0, top);

/** Sums over a row stored with bias lo and scale (codes q, values x as f32, x' as read back), in f64: [Σ(x'-x)², Σq, Σq², Σq·x]. */
const sums = new Float64Array(4);
function measure(row: ArrayLike<number>, lo: number, scale: number, top: number): Float64Array {
  const inv = f32(1 / scale);
  let e = 0;
  let sq = 0;
  let sqq = 0;
  let sqx = 0;
  for (let i = 0; i < row.length; i++) {
    const x = f32(row[i]!);
    const q = code(x, lo, inv, top);
    const d = f32(f32(q * scale) + lo) - x;
    e += d * d;
    sq += q;
    sqq += q * q;
    sqx += q * x;
  }
  sums[0] = e;
  sums[1] = sq;
  sums[2] = sqq;
  sums[3] = sqx;
  return sums;
}

/**
 * The `l2` range: from the minmax bias and scale, up to L2_REFITS times fit
 * x ≈ s·q + b by least squares over the row's current codes q (sums in f64,
 * in index order), round b and s to fp16, and keep them while the row's
 * squared error strictly drops; stop at the first refit that does not lower
 * it, or whose s is not positive or not a valid scale. (The codes and sums of
 * a kept refit serve the next one: one pass over the row per refit.)
 */
function refit(row: ArrayLike<number>, lo: number, scale: number, top: number): [number, number] {
  const n = row.length;
  let sx = 0;
  for (let i = 0; i < n; i++) sx += f32(row[i]!);
  const first = measure(row, lo, scale, top);
  let [best, sq, sqq, sqx] = [first[0]!, first[1]!, first[2]!, first[3]!];
  for (let t = 0; t < L2_REFITS; t++) {
    const det = n * sqq - sq * sq;
    if (det === 0) break;
    const exact = (n * sqx - sq * sx) / det;
    const s = f16ToF32(f32ToF16(exact));
    const b = f16ToF32(f32ToF16((sx - exact * sq) / n));
    if (!(s > 0) || validScale(s) !== s || !Number.isFinite(b)) break;
    const m = measure(row, b, s, top);
    if (!(m[0]! < best)) break;
    [best, sq, sqq, sqx, lo, scale] = [m[0]!, m[1]!, m[2]!, m[3]!, b, s];
  }
  return [lo, scale];
}

/** Dequantizes one row of `dim` values from `bytes` at `offset` into `out` at `outOffset`. */
export function dequantizeRow(format: RowFormat, bytes: Uint8Array, offset: number, dim: number, out: Float32Array, outOffset = 0): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (format === "fp16") {
    for (let i = 0; i < dim; i++) out[outOffset + i] = f16ToF32(view.getUint16(offset + 2 * i, true));
    return;
  }
  if (format === "int8") {
    const scale = view.getFloat32(offset + dim, true);
    const bias = view.getFloat32(offset + dim + 4, true);
    for (let i = 0; i < dim; i++) out[outOffset + i] = f32(f32(bytes[offset + i]! * scale) + bias);
    return;
  }
  const bits = bitsOf(format);
  const per = 8 / bits;
  const packed = Math.ceil(dim / per);
  const scale = f16ToF32(view.getUint16(offset + packed, true));
  const bias = f16ToF32(view.getUint16(offset + packed + 2, true));
  const mask = (1 << bits) - 1;
  for (let i = 0; i < dim; i++) {
    const q = (bytes[offset + Math.floor(i / per)]! >> ((i % per) * bits)) & mask;
    out[outOffset + i] = f32(f32(q * scale) + bias);
  }
}

/** A row as the table stores it at `format` and reads it back (quantize then dequantize), in place. */
export function roundTripRow(
  format: RowFormat,
  row: Float32Array,
  scratch = new Uint8Array(rowBytes(format, row.length)),
  range: RowRange = "minmax",
): void {
  quantizeRow(format, row, scratch, 0, range);
  dequantizeRow(format, scratch, 0, row.length, row, 0);
}

/**
 * Recognises a PyTorch-prequantized table: a U8 tensor of `[rows, w]` for a
 * table declared `[rows, dim]` is 8-bit when w = dim + 8, 4-bit when
 * w = ceil(dim/2) + 4, 2-bit when w = ceil(dim/4) + 4.
 */
export function prequantizedFormat(dim: number, width: number): "int8" | "int4" | "int2" | undefined {
  if (width === rowBytes("int8", dim)) return "int8";
  if (width === rowBytes("int4", dim)) return "int4";
  if (width === rowBytes("int2", dim)) return "int2";
  return undefined;
}

const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);
