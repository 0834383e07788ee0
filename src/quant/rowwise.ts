// Row-wise table quantization in FBGEMM's fused layouts, byte for byte: 8-bit
// rows (uint8 values, then f32 scale and bias) and 4/2-bit rows (packed low
// bits first, then fp16 scale and bias), plus fp16 rows. The interpreter,
// the Wasm backend and the PyTorch importer all go through these functions;
// docs/numerics.md is the specification they implement.

import { f16ToF32, f32ToF16 } from "../weights/dtypes.js";

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

/** Round half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const F32_EPS_1E8 = f32(1e-8);

/** Quantizes one row into `out` (rowBytes(format, row.length) bytes at `offset`). */
export function quantizeRow(format: RowFormat, row: ArrayLike<number>, out: Uint8Array, offset = 0): void {
  const dim = row.length;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  if (format === "fp16") {
    for (let i = 0; i < dim; i++) view.setUint16(offset + 2 * i, f32ToF16(row[i]!), true);
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
    view.setFloat32(offset + dim, scale, true);
    view.setFloat32(offset + dim + 4, mn, true);
    return;
  }
  const bits = bitsOf(format);
  const per = 8 / bits;
  const top = (1 << bits) - 1;
  const lo = f16ToF32(f32ToF16(mn));
  const range = f32(mx - lo);
  let scale = f16ToF32(f32ToF16(range === 0 ? 1 : f32(range / top)));
  if (scale === 0 || !Number.isFinite(f32(1 / scale))) scale = 1;
  const inv = f32(1 / scale);
  const packed = Math.ceil(dim / per);
  out.fill(0, offset, offset + packed);
  for (let i = 0; i < dim; i++) {
    const q = clamp(roundHalfEven(f32(f32(f32(row[i]!) - lo) * inv)), 0, top);
    out[offset + Math.floor(i / per)]! |= q << ((i % per) * bits);
  }
  view.setUint16(offset + packed, f32ToF16(scale), true);
  view.setUint16(offset + packed + 2, f32ToF16(lo), true);
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
export function roundTripRow(format: RowFormat, row: Float32Array, scratch = new Uint8Array(rowBytes(format, row.length))): void {
  quantizeRow(format, row, scratch, 0);
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
