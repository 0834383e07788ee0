// WGSL backend: the weights buffers and how they are packed. Every buffer is
// read by the shaders as array<u32>: a dense layer's buffer holds its weights
// k-major (f32, or fp16/bf16 two to a word; int8 codes four to a word along k)
// followed by its f32 scales, bias and smoothing multipliers; a tables buffer
// holds whole tables back to back in their row formats (f32, fp16, or
// FBGEMM's int8/int4/int2 rows byte for byte). Buffers are streamed into
// weights.bin at 256-byte offsets; none may pass WebGPU's binding limit.

import { closeSync, openSync, writeSync } from "node:fs";
import { RmcError, error, type Code } from "../../src/diagnostics/index.js";
import type { WeightDecl } from "../../src/ir/types.js";
import type { Tensor, WeightStore } from "../../src/weights/store.js";
import { f32ToBf16, f32ToF16 } from "../../src/quant/half.js";
import { type RowFormat, type RowRange, quantizeRow, rowBytes } from "../../src/quant/rowwise.js";
import { quantizeInt8Weights, smoothMultipliers, smoothWeights, toBf16, toF16 } from "../../src/quant/dense.js";
import { prequantizedIn } from "../../src/weights/prequantized.js";
import type { WeightElement } from "./kernels/gemm.js";
import type { TableFormat } from "./kernels/embedding.js";

/** Error codes of the WGSL backend (E181x). */
export const WGSL_CODES = {
  unsupportedOp: "E1810",
  precision: "E1811",
  bindingLimit: "E1812",
  missingWeight: "E1813",
} as const satisfies Record<string, Code>;

/** Offsets of weights buffers in weights.bin (WebGPU's minStorageBufferOffsetAlignment). */
const BUFFER_ALIGN = 256;

/** One weights buffer: its bytes (a multiple of 4) and how to produce them, in order. */
export interface WeightsBuffer {
  name: string;
  /** A file of its own (a split table's part: a shard), else weights.bin. */
  file?: string;
  /** A staging table (backends/staging.ts): no file fills it; the runtime writes a call's rows into it. */
  staging?: { table: string; rows: number; rowBytes: number };
  bytes: number;
  chunks: () => Generator<Uint8Array>;
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 2 : 0)} MiB`;

/** A weight's values as f32, or a clear error if the store lacks it. */
export function denseValues(store: WeightStore, name: string): Float32Array {
  const t = store.get(name);
  if (!t) throw new RmcError(`weight \`${name}\` is missing from the weight store`, WGSL_CODES.missingWeight);
  return t.toFloat32();
}

/** Builds one dense layer's buffer word by word; each append returns its word offset. */
export class WordPacker {
  private readonly parts: Uint32Array[] = [];
  private words = 0;

  private push(part: Uint32Array): number {
    const at = this.words;
    this.parts.push(part);
    this.words += part.length;
    return at;
  }

  /** W [out, in] (PyTorch layout) stored k-major, [in][out], as f32 or as fp16/bf16 bit patterns two to a word. */
  matrix(w: Float32Array, out: number, inF: number, element: WeightElement): number {
    if (element === "f32") {
      const t = new Float32Array(out * inF);
      for (let o = 0; o < out; o++) for (let k = 0; k < inF; k++) t[k * out + o] = w[o * inF + k]!;
      return this.push(new Uint32Array(t.buffer));
    }
    const narrow = element === "f16" ? f32ToF16 : f32ToBf16;
    const t = new Uint16Array(align(out * inF, 2));
    for (let o = 0; o < out; o++) for (let k = 0; k < inF; k++) t[k * out + o] = narrow(w[o * inF + k]!);
    return this.push(new Uint32Array(t.buffer));
  }

  /** f32 values, rounded to fp16 or bf16 first when asked (the bias of a 16-bit layer). */
  vector(values: ArrayLike<number>, round: "fp32" | "fp16" | "bf16" = "fp32"): number {
    const r = round === "fp16" ? toF16 : round === "bf16" ? toBf16 : (x: number) => x;
    return this.push(new Uint32Array(Float32Array.from(values, r).buffer));
  }

  /** int8 codes of W [out, in] as words [ceil(in/4)][out], four codes along k per word, the first in the low byte. */
  codes(q: Int8Array, out: number, inF: number): number {
    const kw = Math.ceil(inF / 4);
    const bytes = new Int8Array(kw * out * 4);
    for (let o = 0; o < out; o++) for (let k = 0; k < inF; k++) bytes[((k >> 2) * out + o) * 4 + (k & 3)] = q[o * inF + k]!;
    return this.push(new Uint32Array(bytes.buffer));
  }

  /** The finished buffer. */
  finish(name: string): WeightsBuffer {
    const parts = this.parts;
    return {
      name,
      bytes: Math.max(4, this.words * 4),
      *chunks() {
        for (const p of parts) yield new Uint8Array(p.buffer, p.byteOffset, p.byteLength);
        if (parts.length === 0) yield new Uint8Array(4);
      },
    };
  }
}

/** int8 weights of a layer, smoothed first when it has factors (docs/numerics.md). */
export function int8Codes(
  w: Float32Array,
  out: number,
  inF: number,
  smooth: readonly number[] | undefined,
): { q: Int8Array; scales: Float32Array; mul?: Float32Array } {
  const { q, scales } = quantizeInt8Weights(smooth ? smoothWeights(w, out, inF, smooth) : w, out, inF);
  return smooth ? { q, scales, mul: smoothMultipliers(smooth) } : { q, scales };
}

/** Bytes of a table in its format, tightly packed rows (padded to a whole word at the end). */
export function tableBytes(format: TableFormat, rows: number, dim: number): number {
  const row = format === "fp32" ? dim * 4 : rowBytes(format, dim);
  return align(rows * row, 4);
}

/** A table's rows in its format, a few MiB at a time (a prequantized tensor's own bytes are copied). */
export function* tableChunks(t: Tensor, format: TableFormat, rows: number, dim: number, range: RowRange = "minmax"): Generator<Uint8Array> {
  const rowLen = format === "fp32" ? dim * 4 : rowBytes(format, dim);
  const perChunk = Math.max(1, Math.floor((4 << 20) / Math.max(rowLen, 1)));
  const stored = format === "fp32" ? undefined : prequantizedIn(t, format);
  const row = new Float32Array(dim);
  for (let r0 = 0; r0 < rows; r0 += perChunk) {
    const n = Math.min(perChunk, rows - r0);
    const out = new Uint8Array(n * rowLen);
    for (let r = 0; r < n; r++) {
      if (stored) {
        stored.readRowBytes(r0 + r, out, r * rowLen);
        continue;
      }
      t.readRow(r0 + r, row, 0);
      if (format === "fp32") out.set(new Uint8Array(row.buffer), r * rowLen);
      else quantizeRow(format as RowFormat, row, out, r * rowLen, range);
    }
    yield out;
  }
  yield new Uint8Array(tableBytes(format, rows, dim) - rows * rowLen);
}

/** The error for weights over the binding limit: one diagnostic per table or weight, naming it, its size and the limit. */
export function overLimit(items: { decl: WeightDecl; bytes: number; table: boolean }[], limit: number): RmcError {
  return new RmcError(
    items.map(({ decl, bytes, table }) =>
      error(
        WGSL_CODES.bindingLimit,
        `${table ? "table" : "weight"} ${decl.name}: ${mib(bytes)}, over WebGPU's ${mib(limit)} storage-binding limit; ${table ? "split it (the split-tables pass) or store it at lower precision" : "store the layer at lower precision"}`,
        decl.span,
        table ? "`@precision(int8)` or `int4` on the table shrinks it 4–7x" : undefined,
      ),
    ),
  );
}

/** Places buffers in weights.bin (256-byte aligned; shards are files of their own, at 0); returns each buffer's offset and weights.bin's size. */
export function placeBuffers(buffers: readonly WeightsBuffer[]): { offsets: Map<string, number>; bytes: number } {
  const offsets = new Map<string, number>();
  let at = 0;
  for (const b of buffers) {
    if (b.file || b.staging) {
      offsets.set(b.name, 0);
      continue;
    }
    offsets.set(b.name, at);
    at = align(at + b.bytes, BUFFER_ALIGN);
  }
  return { offsets, bytes: buffers.some((b) => !b.file && !b.staging) ? at : 0 };
}

/** Streams every buffer to `path` at its offset, checking each produced exactly its declared size. */
export function writeWeightsFile(path: string, buffers: readonly WeightsBuffer[], offsets: Map<string, number>, total: number): void {
  const fd = openSync(path, "w");
  try {
    let pos = 0;
    const zeros = (n: number) => {
      if (n > 0) writeSync(fd, new Uint8Array(n));
      pos += n;
    };
    for (const b of buffers) {
      zeros(offsets.get(b.name)! - pos);
      const start = pos;
      for (const c of b.chunks()) {
        writeSync(fd, c);
        pos += c.byteLength;
      }
      if (pos - start !== b.bytes) throw new Error(`internal: weights buffer ${b.name} produced ${pos - start} bytes, expected ${b.bytes}`);
    }
    zeros(total - pos);
  } finally {
    closeSync(fd);
  }
}
