// Data sources: where samples come from before the TSV reader (tsv.ts) or
// data-stats (stats.ts) parse them. A source is a file, `-` (standard input)
// or a glob (`day_*.gz`); each file is plain TSV, gzip-compressed TSV
// (told by its first bytes, inflated by node:zlib as it streams) or Parquet
// (parquet.ts renders its rows as the TSV lines they stand for). Everything
// reading `--data` or `--calib` takes its bytes from here, in chunks that end
// at a line break, so every consumer splits lines the same way, and memory
// stays flat whatever the size: nothing holds more than a chunk (a Parquet
// row group).

import { createReadStream, existsSync, promises as fsp } from "node:fs";
import { Readable, pipeline } from "node:stream";
import { createGunzip } from "node:zlib";
import { RmcError } from "../diagnostics/index.js";
import { expandGlob, isGlob } from "./glob.js";
import { parquetChunks, type ColumnMap, type DataLayout } from "./parquet.js";

export type { ColumnMap, DataLayout } from "./parquet.js";

/** How a Parquet file's columns are found: the layout to fill and the names to read it from. */
export interface SourceOptions {
  layout: DataLayout;
  /** rmc column name (`label`, `I1`, `C1`, …) → the file's column name. */
  columns?: ColumnMap;
}

/** Bytes of whole lines of one file (the last chunk of a file may end without a line break). */
export interface DataChunk {
  file: string;
  /** Parquet sources count rows, text sources lines: the unit error messages locate by. */
  unit: "line" | "row";
  /** The first chunk of its file: line numbers start again. */
  first: boolean;
  bytes: Buffer;
}

const LF = 10;
const CHUNK = 1 << 20;
/** A line longer than this is not a data line: most likely a binary file read as text. */
const MAX_LINE = 64 << 20;

/** The files (or `-`) that `--data` values name, globs expanded in natural order. */
export function expandDataPaths(specs: string | readonly string[]): string[] {
  // A name that exists is itself, even with glob characters in it (`data[1].tsv`).
  const out = (typeof specs === "string" ? [specs] : specs).flatMap((s) => (s !== "-" && isGlob(s) && !existsSync(s) ? expandGlob(s) : [s]));
  if (out.filter((p) => p === "-").length > 1) throw new RmcError("standard input (`-`) can be read only once", "E0771");
  return out;
}

/** Names a file read error the way a user wants to read it. */
export function readError(path: string, e: unknown): RmcError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (e as Error).message;
  return new RmcError(`cannot read ${path}: ${why}`, "E0706");
}

type Format = "text" | "gzip" | "parquet";

/** The format of bytes from their magic number: gzip 1f 8b, Parquet `PAR1`; anything else is text. */
function formatOf(head: Uint8Array): Format {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x41 && head[2] === 0x52 && head[3] === 0x31) return "parquet";
  return "text";
}

async function sniff(path: string): Promise<Format> {
  const handle = await fsp.open(path, "r");
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return formatOf(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/** Standard input with its first chunk looked at: its format, and a stream that still starts with that chunk. */
async function openStdin(): Promise<{ format: Format; stream: Readable }> {
  const it = (process.stdin as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const head = await it.next();
  const first = head.done ? Buffer.alloc(0) : head.value;
  async function* all(): AsyncGenerator<Buffer> {
    if (first.length) yield first;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  return { format: formatOf(first), stream: Readable.from(all(), { objectMode: false }) };
}

/** Counts line breaks, for the location of an error the stream itself raises. */
function countLines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(LF); i >= 0; i = buf.indexOf(LF, i + 1)) n++;
  return n;
}

/** Re-chunks a byte stream at line breaks: each chunk holds whole lines, the last one whatever follows the last break. */
async function* wholeLines(name: string, stream: AsyncIterable<Buffer>, gzip: boolean): AsyncGenerator<Buffer> {
  let rest: Buffer | undefined;
  let lines = 0;
  try {
    for await (const chunk of stream) {
      const buf = rest ? Buffer.concat([rest, chunk]) : chunk;
      const nl = buf.lastIndexOf(LF);
      if (nl < 0) {
        if (buf.length > MAX_LINE)
          throw new RmcError(`${name}:${lines + 1}: a line longer than ${MAX_LINE >> 20} MiB: this is not a TSV data file`, "E0772");
        rest = buf;
        continue;
      }
      const whole = buf.subarray(0, nl + 1);
      if (gzip) lines += countLines(whole);
      yield whole;
      rest = nl + 1 < buf.length ? buf.subarray(nl + 1) : undefined;
    }
  } catch (e) {
    if (e instanceof RmcError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? "";
    if (gzip && code.startsWith("Z_"))
      throw new RmcError(
        `${name}: corrupt gzip data after line ${lines} (${(e as Error).message}${code === "Z_BUF_ERROR" ? ": the file is truncated" : ""})`,
        "E0773",
      );
    throw readError(name, e);
  }
  if (rest) yield rest;
}

/** Inflates a stream of gzip bytes (concatenated members too, as `cat a.gz b.gz` makes). */
function gunzip(raw: Readable): Readable {
  // Smaller output chunks than the file's: an error in the stream is located to within 256 KiB of text.
  return pipeline(raw, createGunzip({ chunkSize: CHUNK >> 2 }), () => {});
}

/**
 * Streams the sources as chunks of whole lines, file after file. Files are
 * opened one at a time, and closed when the consumer stops early.
 */
export async function* dataChunks(specs: string | readonly string[], opts: SourceOptions): AsyncGenerator<DataChunk> {
  for (const path of expandDataPaths(specs)) {
    const name = path === "-" ? "<stdin>" : path;
    let format: Format;
    let stream: Readable | undefined;
    if (path === "-") ({ format, stream } = await openStdin());
    else {
      try {
        if ((await fsp.stat(path)).isDirectory()) throw Object.assign(new Error("directory"), { code: "EISDIR" });
        format = await sniff(path);
      } catch (e) {
        throw readError(path, e);
      }
    }
    if (format === "parquet") {
      if (path === "-")
        throw new RmcError(
          "<stdin>: Parquet cannot be read from standard input (its index is at the end of the file): give the file's path",
          "E0774",
        );
      let first = true;
      for await (const bytes of parquetChunks(path, opts.layout, opts.columns)) {
        yield { file: name, unit: "row", first, bytes };
        first = false;
      }
      continue;
    }
    stream ??= createReadStream(path, { highWaterMark: CHUNK });
    const source = format === "gzip" ? gunzip(stream) : stream;
    let first = true;
    try {
      for await (const bytes of wholeLines(name, source as AsyncIterable<Buffer>, format === "gzip")) {
        yield { file: name, unit: "line", first, bytes };
        first = false;
      }
    } finally {
      source.destroy();
      stream.destroy();
    }
  }
}
