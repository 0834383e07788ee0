// Element types of stored tensors and their conversions to and from f32
// (the half-float bit conversions themselves are src/quant/half.ts).
// The safetensors reader decodes file bytes through here; the writer and the
// tests encode through here. f16 and bf16 widen to f32 exactly; narrowing
// rounds half to even, as hardware and PyTorch do.

import type { DType } from "../ir/types.js";
import { bf16ToF32, f16Table, f32ToBf16, f32ToF16 } from "../quant/half.js";

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
      const table = f16Table();
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
