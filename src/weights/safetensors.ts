// Safetensors reading: the weights a user hands to `rmc compile` arrive here.
// Only the header is read up front; tensor data is read lazily with positional
// reads, a row or a chunk at a time, so a multi-gigabyte file is never loaded
// whole and one row of a huge table costs one small read. The writer is in
// write.ts (re-exported here); header validation in safetensors-header.ts.

import * as fs from "node:fs";
import { RmcError, didYouMean, error } from "../diagnostics/index.js";
import type { DType } from "../ir/types.js";
import { SAFETENSORS_DTYPES, decodeToF32, type SafetensorsDType } from "./dtypes.js";
import { E_SAFETENSORS, headerLength, parseHeader, type SafetensorsEntry } from "./safetensors-header.js";
import { numElements, rowLength, type Tensor } from "./store.js";

/** One import for safetensors users: the entry and dtype types, and the writer. */
export type { SafetensorsEntry } from "./safetensors-header.js";
export type { SafetensorsDType } from "./dtypes.js";
export { writeSafetensors, serializeSafetensors, type TensorWriter } from "./write.js";

/** An opened safetensors file (or buffer): its header, and tensors that read their data on demand. */
export interface SafetensorsFile {
  readonly path: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly tensors: ReadonlyMap<string, SafetensorsEntry>;
  /** The tensor called `name` (one object per name, reused); an RmcError if there is none. */
  tensor(name: string): SafetensorsTensor;
  /** Releases the file descriptor; tensors read afterwards throw. Idempotent. */
  close(): void;
}

/** Random access to the bytes behind a file or buffer. */
interface ByteSource {
  /** Fills `out` with the bytes at `pos`..`pos + out.length`. */
  read(pos: number, out: Uint8Array): void;
  close(): void;
}

/** Whole tensors up to this many elements are kept after the first `toFloat32` (weights and biases, small tables). */
const CACHE_ELEMENTS = 4 << 20;
/** Large reads are split into chunks of this many bytes, so no second full-size buffer is needed. */
const READ_CHUNK_BYTES = 16 << 20;
/** A row-sized scratch buffer is kept between reads; a whole-tensor one is not. */
const SCRATCH_KEEP_BYTES = 1 << 20;

/** Opens a safetensors file: reads and validates the header; data is read later, on demand. */
export function openSafetensors(path: string): SafetensorsFile {
  let fd: number;
  try {
    fd = fs.openSync(path, "r");
  } catch (e) {
    throw new RmcError(error(E_SAFETENSORS, `${path}: cannot open weights file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`));
  }
  try {
    const size = fs.fstatSync(fd).size;
    const source = fileSource(path, fd);
    const prefix = new Uint8Array(Math.min(8, size));
    source.read(0, prefix);
    const n = headerLength(path, prefix, size);
    const headerBytes = new Uint8Array(n);
    source.read(8, headerBytes);
    return new OpenedFile(path, parseHeader(path, headerBytes, size), source);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

/** Reads safetensors from memory (tests, and environments without a file system). */
export function readSafetensorsBytes(bytes: Uint8Array, name = "<memory>"): SafetensorsFile {
  const n = headerLength(name, bytes, bytes.length);
  const header = parseHeader(name, bytes.subarray(8, 8 + n), bytes.length);
  return new OpenedFile(name, header, { read: (pos, out) => out.set(bytes.subarray(pos, pos + out.length)), close: () => {} });
}

function fileSource(path: string, fd: number): ByteSource {
  return {
    read(pos, out) {
      let done = 0;
      while (done < out.length) {
        const got = fs.readSync(fd, out, done, out.length - done, pos + done);
        if (got === 0)
          throw new RmcError(
            error(E_SAFETENSORS, `${path}: file ended early while reading bytes ${pos}..${pos + out.length} (was it truncated after opening?)`),
          );
        done += got;
      }
    },
    close: () => fs.closeSync(fd),
  };
}

class OpenedFile implements SafetensorsFile {
  readonly metadata: Readonly<Record<string, string>>;
  readonly tensors: ReadonlyMap<string, SafetensorsEntry>;
  private readonly dataStart: number;
  private readonly opened = new Map<string, SafetensorsTensor>();
  private closed = false;

  constructor(
    readonly path: string,
    header: { metadata: Record<string, string>; tensors: Map<string, SafetensorsEntry>; dataStart: number },
    private readonly source: ByteSource,
  ) {
    this.metadata = header.metadata;
    this.tensors = header.tensors;
    this.dataStart = header.dataStart;
  }

  tensor(name: string): SafetensorsTensor {
    const existing = this.opened.get(name);
    if (existing) return existing;
    const entry = this.tensors.get(name);
    if (!entry) {
      const hint = didYouMean(name, this.tensors.keys());
      throw new RmcError(error("E1305", `${this.path}: no tensor \`${name}\` in the file${hint ? `; ${hint}` : ""}`));
    }
    const t = new SafetensorsTensor(this.path, name, entry, (pos, out) => {
      if (this.closed) throw new RmcError(error("E1306", `${this.path}: tensor \`${name}\` read after the file was closed`));
      this.source.read(this.dataStart + pos, out);
    });
    this.opened.set(name, t);
    return t;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.source.close();
  }
}

/** A tensor backed by a safetensors file; reads decode to f32 (f16/bf16 exactly). */
export class SafetensorsTensor implements Tensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  private readonly elementBytes: number;
  private cached: Float32Array | undefined;
  private scratch = new Uint8Array(0);

  constructor(
    readonly file: string,
    readonly name: string,
    private readonly entry: SafetensorsEntry,
    private readonly readAt: (pos: number, out: Uint8Array) => void,
  ) {
    this.dtype = SAFETENSORS_DTYPES[entry.dtype].dtype;
    this.shape = entry.shape;
    this.elementBytes = SAFETENSORS_DTYPES[entry.dtype].bytes;
  }

  /** The dtype as written in the file (`F16`, `BF16`, ...). */
  get storedDType(): SafetensorsDType {
    return this.entry.dtype;
  }

  toFloat32(): Float32Array {
    if (this.cached) return this.cached;
    const n = numElements(this.shape);
    const out = new Float32Array(n);
    this.readElements(0, n, out, 0);
    if (n <= CACHE_ELEMENTS) this.cached = out;
    if (this.scratch.length > SCRATCH_KEEP_BYTES) this.scratch = new Uint8Array(0);
    return out;
  }

  readRow(i: number, out: Float32Array, offset = 0): void {
    const rows = this.shape.length === 0 ? 1 : this.shape[0]!;
    if (!Number.isInteger(i) || i < 0 || i >= rows)
      throw new RmcError(error("E1303", `${this.file}: row ${i} is out of range for tensor \`${this.name}\` [${this.shape.join(", ")}]`));
    const n = rowLength(this.shape);
    // Small tensors are decoded whole once: a positional read per row would cost a system call per lookup.
    if (!this.cached && numElements(this.shape) <= CACHE_ELEMENTS) this.toFloat32();
    if (this.cached) out.set(this.cached.subarray(i * n, (i + 1) * n), offset);
    else this.readElements(i * n, n, out, offset);
  }

  /** The tensor's bytes exactly as stored (little-endian), e.g. for integer tensors. */
  rawBytes(): Uint8Array {
    const out = new Uint8Array(this.entry.end - this.entry.begin);
    this.readAt(this.entry.begin, out);
    return out;
  }

  /** Copies `out.length` bytes of the tensor's data, from byte `offset` of it, unchanged: one positional read (a row of a prequantized table). */
  readBytes(offset: number, out: Uint8Array): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + out.length > this.entry.end - this.entry.begin)
      throw new RangeError(
        `bytes ${offset}..${offset + out.length} are outside tensor \`${this.name}\` (${this.entry.end - this.entry.begin} bytes)`,
      );
    this.readAt(this.entry.begin + offset, out);
  }

  /** Decodes `count` elements starting at element `first` into `out` at `offset`, in bounded chunks. */
  private readElements(first: number, count: number, out: Float32Array, offset: number): void {
    const perChunk = Math.max(1, Math.floor(READ_CHUNK_BYTES / this.elementBytes));
    for (let done = 0; done < count; done += perChunk) {
      const k = Math.min(perChunk, count - done);
      const bytes = k * this.elementBytes;
      if (this.scratch.length < bytes) this.scratch = new Uint8Array(bytes);
      const chunk = this.scratch.subarray(0, bytes);
      this.readAt(this.entry.begin + (first + done) * this.elementBytes, chunk);
      decodeToF32(this.entry.dtype, chunk, out, offset + done);
      this.checkFinite(out, offset + done, k, first + done);
    }
  }

  /**
   * A NaN or infinite weight is refused where it is read, naming the tensor
   * and the element: left in, it surfaces only as NaN predictions (E1601),
   * far from its cause. Integer dtypes decode to finite values.
   */
  private checkFinite(out: Float32Array, at: number, count: number, element: number): void {
    for (let i = 0; i < count; i++) {
      const v = out[at + i]!;
      if (v - v === 0) continue;
      const index = element + i;
      const row = this.shape.length > 1 ? `, row ${Math.floor(index / rowLength(this.shape))}` : "";
      throw new RmcError(
        error(
          "E1319",
          `${this.file}: tensor \`${this.name}\` element ${index}${row} is ${v}; weights must be finite`,
          undefined,
          "retrain or repair the checkpoint; rmc does not guess a value",
        ),
      );
    }
  }
}
