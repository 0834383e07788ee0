// Element types of stored tensors and their conversions to and from f32.
// The safetensors reader decodes file bytes through here; the writer and the
// tests encode through here. f16 and bf16 widen to f32 exactly; narrowing
// rounds half to even, as hardware and PyTorch do.

import type { DType } from "../ir/types.js";

/** The safetensors dtypes rmc reads: bytes per element and the IR dtype they map to. */
export const SAFETENSORS_DTYPES = {
  F32: { bytes: 4, dtype: "f32" },
  F16: { bytes: 2, dtype: "f16" },
  BF16: { bytes: 2, dtype: "bf16" },
  F64: { bytes: 8, dtype: "f64" },
  I8: { bytes: 1, dtype: "i8" },
  U8: { bytes: 1, dtype: "u8" },
  I32: { bytes: 4, dtype: "i32" },
  I64: { bytes: 8, dtype: "i64" },
} as const satisfies Record<string, { bytes: number; dtype: DType }>;

/** A safetensors dtype name (`F32`, `BF16`, ...). */
export type SafetensorsDType = keyof typeof SAFETENSORS_DTYPES;

/** The safetensors dtype names rmc knows, in table order (for error messages). */
export const SAFETENSORS_DTYPE_NAMES = Object.keys(SAFETENSORS_DTYPES) as SafetensorsDType[];

/** Whether a header value names a dtype rmc reads. */
export const isSafetensorsDType = (s: unknown): s is SafetensorsDType =>
  typeof s === "string" && Object.prototype.hasOwnProperty.call(SAFETENSORS_DTYPES, s);

/** True where typed arrays are little-endian, so f32 bytes can be copied rather than decoded. */
export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let f16Table: Float32Array | undefined;

/** Exact f32 value of an IEEE binary16 bit pattern. */
export function f16ToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Exact f32 value of a bfloat16 bit pattern (the top half of an f32). */
export function bf16ToF32(bits: number): number {
  scratchU32[0] = (bits & 0xffff) << 16;
  return scratchF32[0]!;
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** f32 bit pattern of a number (after rounding it to f32). */
export function f32Bits(x: number): number {
  scratchF32[0] = x;
  return scratchU32[0]!;
}

/** Nearest binary16 bit pattern to `x` (round half to even; overflow gives infinity; NaN stays NaN). */
export function f32ToF16(x: number): number {
  const bits = f32Bits(x);
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal in f16 (or zero): shift the full significand down and round.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    return sign | roundShift(m, shift);
  }
  // A carry out of the mantissa bumps the exponent, and from 30 to 31 gives infinity: both right.
  return sign | (((e << 10) | (mant >>> 13)) + roundUp(mant & 0x1fff, 0x1000, mant >>> 13));
}

/** Nearest bfloat16 bit pattern to `x` (round half to even; NaN stays a quiet NaN). */
export function f32ToBf16(x: number): number {
  const bits = f32Bits(x);
  if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) return ((bits >>> 16) | 0x40) & 0xffff;
  const upper = bits >>> 16;
  return (upper + roundUp(bits & 0xffff, 0x8000, upper)) & 0xffff;
}

/** 1 when a remainder rounds the kept part up under round-half-to-even. */
const roundUp = (rem: number, half: number, kept: number): number => (rem > half || (rem === half && kept & 1) ? 1 : 0);

function roundShift(m: number, shift: number): number {
  const kept = m >>> shift;
  return kept + roundUp(m & ((1 << shift) - 1), 1 << (shift - 1), kept);
}

/** f16 decoding goes through a 64 K-entry table: tables of f16 rows are decoded row by row on hot paths. */
function halfTable(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) f16Table[i] = f16ToF32(i);
  }
  return f16Table;
}

/**
 * Decodes `bytes` (little-endian elements of `dtype`) into `out` at `offset`,
 * converting to f32. Integer and f64 values round to the nearest f32.
 */
export function decodeToF32(dtype: SafetensorsDType, bytes: Uint8Array, out: Float32Array, offset = 0): void {
  const n = bytes.length / SAFETENSORS_DTYPES[dtype].bytes;
  if (dtype === "F32" && LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer, out.byteOffset + offset * 4, bytes.length).set(bytes);
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case "F32":
      for (let i = 0; i < n; i++) out[offset + i] = view.getFloat32(i * 4, true);
      return;
    case "F16": {
      const table = halfTable();
      for (let i = 0; i < n; i++) out[offset + i] = table[view.getUint16(i * 2, true)]!;
      return;
    }
    case "BF16":
      for (let i = 0; i < n; i++) out[offset + i] = bf16ToF32(view.getUint16(i * 2, true));
      return;
    case "F64":
      for (let i = 0; i < n; i++) out[offset + i] = view.getFloat64(i * 8, true);
      return;
    case "I8":
      for (let i = 0; i < n; i++) out[offset + i] = view.getInt8(i);
      return;
    case "U8":
      for (let i = 0; i < n; i++) out[offset + i] = bytes[i]!;
      return;
    case "I32":
      for (let i = 0; i < n; i++) out[offset + i] = view.getInt32(i * 4, true);
      return;
    case "I64":
      for (let i = 0; i < n; i++) out[offset + i] = Number(view.getBigInt64(i * 8, true));
      return;
  }
}

/** Encodes f32 values as little-endian F32, F16 or BF16 bytes (narrowing rounds half to even). */
export function encodeFromF32(dtype: "F32" | "F16" | "BF16", values: Float32Array): Uint8Array {
  if (dtype === "F32") {
    if (LITTLE_ENDIAN_HOST) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    const out = new Uint8Array(values.length * 4);
    const view = new DataView(out.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
    return out;
  }
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  const narrow = dtype === "F16" ? f32ToF16 : f32ToBf16;
  for (let i = 0; i < values.length; i++) view.setUint16(i * 2, narrow(values[i]!), true);
  return out;
}
