// Safetensors writing: `rmc init-weights` and the weight-splitting tools end
// here. Tensors are produced chunk by chunk through a sink, so a 640 MB table
// never needs a 640 MB buffer; the file is written to a temp name beside the
// target and renamed at the end, so a failed run leaves nothing half-written.
// Output is deterministic: entries and header keys in the order given.

import * as fs from "node:fs";
import { dirname } from "node:path";
import { RmcError, error, type Code } from "../diagnostics/index.js";
import type { Graph } from "../ir/types.js";
import { SAFETENSORS_DTYPES, SAFETENSORS_DTYPE_NAMES, encodeFromF32, isSafetensorsDType, type SafetensorsDType } from "./dtypes.js";
import { numElements, rowLength, type Tensor, type WeightStore } from "./store.js";

/** The code of every error raised while writing weights. */
export const E_WRITE = "E1302" satisfies Code;

/** One tensor to write: its header entry, and a producer that emits exactly its bytes, in order. */
export interface TensorWriter {
  name: string;
  dtype: SafetensorsDType;
  shape: readonly number[];
  /** Emits the little-endian bytes; `sink` consumes each chunk before returning, so the producer may reuse its buffer. */
  write(sink: (bytes: Uint8Array) => void): void;
}

/** Bytes handed to fs.writeSync at once; small chunks (one row each) are gathered up to this. */
const WRITE_BUFFER_BYTES = 4 << 20;
/** Elements per chunk when streaming a tensor row by row. */
const STREAM_CHUNK_ELEMENTS = 1 << 20;

const fail = (message: string): RmcError => new RmcError(error(E_WRITE, message));

/**
 * Writes a safetensors file (creating parent folders), streaming each entry's bytes through `write`.
 * Throws an RmcError naming the tensor if a producer emits more or fewer
 * bytes than its dtype and shape declare.
 */
export function writeSafetensors(path: string, entries: readonly TensorWriter[], metadata?: Record<string, string>): void {
  const temp = `${path}.tmp-${process.pid}`;
  let fd: number | undefined;
  try {
    fs.mkdirSync(dirname(path), { recursive: true });
    fd = fs.openSync(temp, "w");
    const out = bufferedWriter(fd);
    emitSafetensors(entries, metadata, out.write);
    out.flush();
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(temp, path);
  } catch (e) {
    removeTemp(fd, temp);
    // File-system failures (no space, no permission) are the user's to fix; anything else is a bug and keeps its stack.
    const code = (e as NodeJS.ErrnoException).code;
    if (e instanceof RmcError || typeof code !== "string") throw e;
    throw fail(`${path}: cannot write weights file (${code}: ${(e as Error).message})`);
  }
}

/** Best-effort cleanup after a failed write: the original error is the one worth reporting. */
function removeTemp(fd: number | undefined, temp: string): void {
  try {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
  } catch {
    // The temp file may never have been created (e.g. its folder could not be).
  }
}

/** The same bytes `writeSafetensors` would write, in memory (tests, small files, browsers). */
export function serializeSafetensors(entries: readonly TensorWriter[], metadata?: Record<string, string>): Uint8Array {
  const chunks: Uint8Array[] = [];
  emitSafetensors(entries, metadata, (bytes) => chunks.push(bytes.slice()));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Validates the entries, then emits the length prefix, the padded header and every tensor's bytes. */
function emitSafetensors(entries: readonly TensorWriter[], metadata: Record<string, string> | undefined, out: (bytes: Uint8Array) => void): void {
  const header = encodeHeader(entries, metadata);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(header.length), true);
  out(prefix);
  out(header);
  for (const e of entries) {
    const want = byteSize(e);
    let got = 0;
    e.write((bytes) => {
      got += bytes.length;
      if (got > want)
        throw fail(`tensor \`${e.name}\`: the producer emitted more than the ${want} bytes that ${e.dtype} [${e.shape.join(", ")}] needs`);
      out(bytes);
    });
    if (got !== want) throw fail(`tensor \`${e.name}\`: the producer emitted ${got} bytes, ${e.dtype} [${e.shape.join(", ")}] needs ${want}`);
  }
}

const byteSize = (e: TensorWriter): number => numElements(e.shape) * SAFETENSORS_DTYPES[e.dtype].bytes;

/** The JSON header, keys in the given order, padded with spaces to a multiple of 8 bytes. */
function encodeHeader(entries: readonly TensorWriter[], metadata: Record<string, string> | undefined): Uint8Array {
  const parts: string[] = [];
  if (metadata !== undefined) {
    const fields = Object.entries(metadata).map(([k, v]) => {
      if (typeof v !== "string") throw fail(`metadata \`${k}\` must be a string, got ${JSON.stringify(v)}`);
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"__metadata__":{${fields.join(",")}}`);
  }
  const seen = new Set<string>();
  let offset = 0;
  for (const e of entries) {
    if (e.name === "__metadata__") throw fail("a tensor cannot be called `__metadata__`: the name is reserved for file metadata");
    if (seen.has(e.name)) throw fail(`tensor \`${e.name}\` is listed twice`);
    seen.add(e.name);
    if (!isSafetensorsDType(e.dtype))
      throw fail(`tensor \`${e.name}\`: unknown dtype ${JSON.stringify(e.dtype)}; rmc writes ${SAFETENSORS_DTYPE_NAMES.join(", ")}`);
    if (!e.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw fail(`tensor \`${e.name}\`: shape must be non-negative integers, got [${e.shape.join(", ")}]`);
    const end = offset + byteSize(e);
    parts.push(`${JSON.stringify(e.name)}:{"dtype":"${e.dtype}","shape":[${e.shape.join(",")}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const padded = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
  padded.set(json);
  return padded;
}

/** Gathers small chunks into large fs.writeSync calls. */
function bufferedWriter(fd: number): { write: (bytes: Uint8Array) => void; flush: () => void } {
  const buf = new Uint8Array(WRITE_BUFFER_BYTES);
  let used = 0;
  const writeAll = (bytes: Uint8Array): void => {
    for (let done = 0; done < bytes.length;) done += fs.writeSync(fd, bytes, done, bytes.length - done);
  };
  const flush = (): void => {
    writeAll(buf.subarray(0, used));
    used = 0;
  };
  const write = (bytes: Uint8Array): void => {
    if (used + bytes.length > buf.length) flush();
    if (bytes.length >= buf.length) writeAll(bytes);
    else {
      buf.set(bytes, used);
      used += bytes.length;
    }
  };
  return { write, flush };
}

/**
 * Writes every weight the graph declares, in `graph.weights` order, as F32.
 * Large tensors stream row by row (lazy tables are generated as they are
 * written); a weight missing from the store or of the wrong shape is an error.
 */
export function writeWeights(path: string, graph: Graph, store: WeightStore, metadata?: Record<string, string>): void {
  const missing = graph.weights.filter((w) => !store.has(w.name)).map((w) => `\`${w.name}\``);
  if (missing.length > 0) throw fail(`${path}: no data for ${missing.length} declared weight${missing.length > 1 ? "s" : ""}: ${missing.join(", ")}`);
  const entries = graph.weights.map((w): TensorWriter => {
    const t = store.get(w.name)!;
    if (t.shape.length !== w.shape.length || t.shape.some((d, i) => d !== w.shape[i]))
      throw fail(`${path}: weight \`${w.name}\` holds [${t.shape.join(", ")}], the model declares [${w.shape.join(", ")}]`);
    return { name: w.name, dtype: "F32", shape: w.shape, write: (sink) => streamF32(t, sink) };
  });
  writeSafetensors(path, entries, metadata);
}

/** Emits a tensor's values as F32 bytes: whole if small, else a chunk of rows at a time through one reused buffer. */
function streamF32(t: Tensor, sink: (bytes: Uint8Array) => void): void {
  const n = numElements(t.shape);
  if (t.shape.length < 2 || n <= STREAM_CHUNK_ELEMENTS) {
    sink(encodeFromF32("F32", t.toFloat32()));
    return;
  }
  const rows = t.shape[0]!;
  const perRow = rowLength(t.shape);
  const rowsPerChunk = Math.max(1, Math.floor(STREAM_CHUNK_ELEMENTS / perRow));
  const buf = new Float32Array(rowsPerChunk * perRow);
  for (let r0 = 0; r0 < rows; r0 += rowsPerChunk) {
    const k = Math.min(rowsPerChunk, rows - r0);
    for (let j = 0; j < k; j++) t.readRow(r0 + j, buf, j * perRow);
    sink(encodeFromF32("F32", buf.subarray(0, k * perRow)));
  }
}
