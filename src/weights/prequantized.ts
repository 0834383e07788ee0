// Embedding tables quantized by PyTorch before they reach rmc: the U8 tensors
// of `torch.ops.quantized.embedding_bag_byte_prepack` (8-bit) and
// `embedding_bag_4bit_prepack` (4-bit, and its 2-bit sibling), one FBGEMM
// fused row per table row (docs/numerics.md). bind.ts recognises them; a
// PrequantizedTable reads rows dequantized for the interpreter, and hands
// backends the row bytes unchanged, since quantizing again would lose accuracy.

import { RmcError, error, type Code } from "../diagnostics/index.js";
import type { DType } from "../ir/types.js";
import { type RowFormat, dequantizeRow, rowBytes } from "../quant/rowwise.js";
import { MAX_MATERIALISE_ELEMENTS } from "./lazy.js";
import type { Tensor } from "./store.js";

/**
 * A table whose rows are already stored in a row format (imported from
 * PyTorch's prepacked tables): its bytes are used as they are, never
 * re-quantized. Recognised by shape, so the importer's class needs no import here.
 */
export interface PrequantizedRows {
  readonly format: RowFormat;
  /** Copies row `i`'s `rowBytes(format, dim)` bytes into `out` at `offset`. */
  readRowBytes(i: number, out: Uint8Array, offset: number): void;
}

/** The tensor's stored rows if it is prequantized in `format`, else undefined. */
export function prequantizedIn(t: Tensor, format: string): PrequantizedRows | undefined {
  const p = t as Partial<PrequantizedRows>;
  return p.format === format && typeof p.readRowBytes === "function" ? (p as PrequantizedRows) : undefined;
}

/** The row formats PyTorch's prepack ops produce. */
export type PrequantizedFormat = "int8" | "int4" | "int2";
/**
 * In the order a width is matched. The 4-bit and 2-bit widths coincide for
 * dims 1 and 2; 4-bit wins, which is right for PyTorch files: its n-bit
 * prepack only accepts dims that are a multiple of 8/bits, so a dim-2 table
 * can be 4-bit but never 2-bit.
 */
export const PREQUANTIZED_FORMATS: readonly PrequantizedFormat[] = ["int8", "int4", "int2"];

/** Positional access to a table's bytes (a safetensors tensor, or memory). */
export interface ByteReader {
  readonly byteLength: number;
  /** Fills `out` with the bytes at `offset`..`offset + out.length`. */
  read(offset: number, out: Uint8Array): void;
}

/** A row width, what it means, and the PyTorch op that writes it: for error messages and docs. */
export function describeWidth(format: PrequantizedFormat, dim: number): string {
  const width = rowBytes(format, dim);
  if (format === "int8") return `${width} bytes (8-bit: ${dim} uint8 values, f32 scale, f32 bias; embedding_bag_byte_prepack)`;
  const bits = format === "int4" ? 4 : 2;
  const packed = width - 4;
  const op = format === "int4" ? "embedding_bag_4bit_prepack" : "embedding_bag_2bit_prepack";
  return `${width} bytes (${bits}-bit: ${packed} byte${packed > 1 ? "s" : ""} of packed values, fp16 scale, fp16 bias; ${op})`;
}

/** Every accepted row width of a dim, described, as one phrase ("a, b or c"). */
export function describeWidths(dim: number): string {
  const all = PREQUANTIZED_FORMATS.map((f) => describeWidth(f, dim));
  return `${all.slice(0, -1).join(", ")} or ${all[all.length - 1]}`;
}

/** Whole tables up to this many bytes are read once and kept: a positional read per looked-up row would cost a system call each. */
const CACHE_BYTES = 16 << 20;
/** Dequantized copies from `toFloat32` are kept up to this many elements (as the safetensors reader does). */
const CACHE_ELEMENTS = 4 << 20;
/** The error codes of bad row reads and oversized materialisation (as for other lazily read tensors). */
const E_ROW_RANGE = "E1303" satisfies Code;
const E_TOO_LARGE = "E1304" satisfies Code;

/** A `[rows, dim]` table stored as FBGEMM rows: reads dequantize; raw reads copy the bytes unchanged. */
export class PrequantizedTable implements Tensor {
  readonly dtype: DType = "u8";
  readonly shape: readonly [number, number];
  /** Bytes of one stored row. */
  readonly rowBytes: number;
  private bytes: Uint8Array | undefined;
  private floats: Float32Array | undefined;
  private readonly scratch: Uint8Array;

  constructor(
    readonly name: string,
    readonly format: PrequantizedFormat,
    rows: number,
    readonly dim: number,
    private readonly source: ByteReader,
  ) {
    this.shape = [rows, dim];
    this.rowBytes = rowBytes(format, dim);
    this.scratch = new Uint8Array(this.rowBytes);
    if (source.byteLength !== rows * this.rowBytes)
      throw new RangeError(
        `prequantized table \`${name}\`: ${source.byteLength} bytes, but ${rows} rows of ${this.rowBytes} bytes (${format}, dim ${dim}) need ${rows * this.rowBytes}`,
      );
  }

  /** A table over bytes already in memory (`rows × rowBytes(format, dim)` of them). */
  static fromBytes(name: string, format: PrequantizedFormat, rows: number, dim: number, bytes: Uint8Array): PrequantizedTable {
    return new PrequantizedTable(name, format, rows, dim, {
      byteLength: bytes.length,
      read: (offset, out) => out.set(bytes.subarray(offset, offset + out.length)),
    });
  }

  /** Row `i` dequantized, x' = f32(f32(q·scale) + bias), into `out` at `offset`. */
  readRow(i: number, out: Float32Array, offset = 0): void {
    const [bytes, at] = this.locate(i);
    dequantizeRow(this.format, bytes, at, this.dim, out, offset);
  }

  /** Row `i`'s stored bytes, unchanged, into `out` at `offset` (`rowBytes` of them; the interpreter's and backends' PrequantizedRows). */
  readRowBytes(i: number, out: Uint8Array, offset = 0): void {
    const [bytes, at] = this.locate(i);
    out.set(bytes.subarray(at, at + this.rowBytes), offset);
  }

  /** The whole table's bytes, unchanged (rows × rowBytes). Large tables: prefer readRowBytes. */
  rawBytes(): Uint8Array {
    if (this.bytes) return this.bytes;
    const all = new Uint8Array(this.source.byteLength);
    this.source.read(0, all);
    if (all.length <= CACHE_BYTES) this.bytes = all;
    return all;
  }

  /** Every row dequantized, row-major. */
  toFloat32(): Float32Array {
    if (this.floats) return this.floats;
    const [rows, dim] = this.shape;
    if (rows * dim > MAX_MATERIALISE_ELEMENTS)
      throw new RmcError(
        error(
          E_TOO_LARGE,
          `prequantized table \`${this.name}\` [${rows}, ${dim}] has ${rows * dim} elements, too many to materialise; read it row by row`,
        ),
      );
    const out = new Float32Array(rows * dim);
    for (let i = 0; i < rows; i++) this.readRow(i, out, i * dim);
    if (out.length <= CACHE_ELEMENTS) this.floats = out;
    return out;
  }

  /** The bytes holding row `i` and its offset in them: the cached table, or one positional read into scratch. */
  private locate(i: number): [Uint8Array, number] {
    const rows = this.shape[0];
    if (!Number.isInteger(i) || i < 0 || i >= rows)
      throw new RmcError(error(E_ROW_RANGE, `row ${i} is out of range for prequantized table \`${this.name}\` [${rows}, ${this.dim}]`));
    if (!this.bytes && this.source.byteLength <= CACHE_BYTES) this.rawBytes();
    if (this.bytes) return [this.bytes, i * this.rowBytes];
    this.source.read(i * this.rowBytes, this.scratch);
    return [this.scratch, 0];
  }
}

/** Whether a store's tensor is a prequantized table (so its bytes should be used as they are). */
export const isPrequantized = (t: Tensor): t is PrequantizedTable => t instanceof PrequantizedTable;
