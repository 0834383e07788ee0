// The Criteo TSV reader: streams data sources (sources.ts: files, globs,
// standard input, gzip, Parquet) in chunks and turns them into Batches for
// the interpreter, calibration and evaluation. Lines are split and fields
// parsed straight from the bytes (no per-line strings), and every problem is
// an RmcError naming the file, the line (a Parquet file's row) and the column.

import { RmcError, type Code } from "../diagnostics/index.js";
import type { Batch } from "./batch.js";
import { BatchBuilder, type DenseMode } from "./builder.js";
import { type DataSchema, type SparseField, describeColumnCounts, describeDenseColumn, describeSparseField } from "./schema.js";
import { dataChunks, readError, type ColumnMap } from "./sources.js";

/** Options of `readBatches`. */
export interface ReadOptions {
  /** Samples per batch (default 4096). */
  batchSize?: number;
  /** Dense preprocessing (default `log1p`). */
  dense?: DenseMode;
  /** Read at most this many samples. */
  limit?: number;
  /** Parquet sources: rmc column name → the file's column name (parquet.ts). */
  columns?: ColumnMap;
}

const TAB = 9;
const LF = 10;
const CR = 13;
const COMMA = 44;
const COLON = 58;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
/** Past this, fold the id modulo the table's rows before taking in another digit, to stay exact. */
const EXACT_LIMIT = 2 ** 48;
/**
 * Raw ids kept for a `clamp` or `error` table saturate here (the largest
 * int32, which batches hold): every table has fewer rows, so a saturated id
 * is out of range exactly when the real one is, and clamps to the same row.
 */
const RAW_ID_LIMIT = 2 ** 31 - 1;

/** Value of a hex digit byte, or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

const text = (buf: Uint8Array, start: number, end: number): string => Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString("utf8");

/**
 * A number field: NaN when empty (missing), undefined when not a number. Plain
 * integers take a fast path; anything else goes through a strict check.
 */
function parseNumber(buf: Uint8Array, start: number, end: number): number | undefined {
  if (start === end) return NaN;
  let i = start;
  const negative = buf[i] === 45;
  if (negative || buf[i] === 43) i++;
  let v = 0;
  if (end - i > 0 && end - i < 16) {
    for (; i < end; i++) {
      const d = buf[i]! - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    if (i === end) return negative ? -v : v;
  }
  const s = text(buf, start, end);
  return NUMBER.test(s) ? Number(s) : undefined;
}

/** Where a line is, for messages: `d.tsv:1234`, or `d.parquet: row 1234`. */
export interface LineLocation {
  file: string;
  line: number;
  /** Parquet sources count rows. */
  unit?: "line" | "row";
}

/** A location as messages print it. */
export const where = (at: LineLocation): string => (at.unit === "row" ? `${at.file}: row ${at.line}` : `${at.file}:${at.line}`);

const fail = (at: LineLocation, message: string, code: Code, hint?: string): never => {
  throw new RmcError({ code, severity: "error", message: `${where(at)}: ${message}`, ...(hint ? { hint } : {}) });
};

/** Whether a line with `fields` fields carries labels; an RmcError if it fits neither layout. */
export function detectLabeled(schema: DataSchema, fields: number, at: LineLocation): boolean {
  if (fields === schema.labeledColumns) return true;
  if (fields === schema.unlabeledColumns) return false;
  const unlabeled = schema.labels.length ? ` or ${schema.unlabeledColumns} without labels` : "";
  return fail(at, `expected ${schema.labeledColumns} fields (${describeColumnCounts(schema, true)})${unlabeled}, found ${fields}`, "E0701");
}

/** Number of tab-separated fields in bytes [start, end). */
export function countFields(buf: Uint8Array, start: number, end: number): number {
  let n = 1;
  for (let i = start; i < end; i++) if (buf[i] === TAB) n++;
  return n;
}

/** Parses lines of one layout (labeled or not) into a BatchBuilder. */
export class LineParser {
  private readonly expected: number;
  private readonly starts: Int32Array;

  constructor(
    readonly schema: DataSchema,
    readonly labeled: boolean,
  ) {
    this.expected = labeled ? schema.labeledColumns : schema.unlabeledColumns;
    this.starts = new Int32Array(this.expected + 1);
  }

  /** Parses the line in bytes [start, end) (no line terminator) as the builder's next sample. */
  parse(buf: Uint8Array, start: number, end: number, into: BatchBuilder, at: LineLocation): void {
    const starts = this.starts;
    const expected = this.expected;
    let fields = 1;
    starts[0] = start;
    for (let i = start; i < end; i++) {
      if (buf[i] !== TAB) continue;
      if (fields < expected) starts[fields] = i + 1;
      fields++;
    }
    if (fields !== expected) fail(at, `expected ${expected} fields (${describeColumnCounts(this.schema, this.labeled)}), found ${fields}`, "E0701");
    starts[expected] = end + 1;
    const schema = this.schema;
    let k = 0;
    if (this.labeled) {
      for (let o = 0; o < schema.labels.length; o++, k++) {
        const s = starts[k]!;
        const e = starts[k + 1]! - 1;
        const c = buf[s];
        if (e - s !== 1 || (c !== 48 && c !== 49)) fail(at, `label ${schema.labels[o]}: \`${text(buf, s, e)}\` is not 0 or 1`, "E0703");
        into.setLabel(o, c! - 48);
      }
    }
    for (let d = 0; d < schema.denseColumns; d++, k++) {
      const s = starts[k]!;
      const e = starts[k + 1]! - 1;
      const v = parseNumber(buf, s, e);
      if (v === undefined || !(Number.isNaN(v) || Number.isFinite(v)))
        fail(at, `field ${describeDenseColumn(schema, d)}: \`${text(buf, s, e)}\` is not a number`, "E0702");
      into.setDense(d, v!);
    }
    for (let c = 0; c < schema.sparseColumns; c++, k++) this.parseBag(buf, starts[k]!, starts[k + 1]! - 1, schema.sparse[c]!, into, at);
    into.endSample();
  }

  /** A comma-separated list of hex ids, each optionally `id:weight`; empty = empty bag. */
  private parseBag(buf: Uint8Array, start: number, end: number, field: SparseField, into: BatchBuilder, at: LineLocation): void {
    const rows = field.rows;
    // Hashing is the modulo policy, the default for data files; clamp and error tables judge the raw id.
    const hash = field.ids === undefined || field.ids === "modulo";
    let i = start;
    while (i < end) {
      const idStart = i;
      let h = 0;
      for (; i < end; i++) {
        const c = buf[i]!;
        if (c === COMMA || c === COLON) break;
        const d = hexDigit(c);
        if (d < 0) {
          while (i < end && buf[i] !== COMMA) i++;
          fail(at, `field ${describeSparseField(field)}: \`${text(buf, idStart, i)}\` is not a hex id`, "E0704");
        }
        if (hash) h = h < EXACT_LIMIT ? h * 16 + d : (h % rows) * 16 + d;
        else h = Math.min(h * 16 + d, RAW_ID_LIMIT);
      }
      if (i === idStart) fail(at, `field ${describeSparseField(field)}: empty id in \`${text(buf, start, end)}\``, "E0704");
      const idEnd = i;
      let weight = 1;
      if (i < end && buf[i] === COLON) {
        const wStart = ++i;
        while (i < end && buf[i] !== COMMA) i++;
        if (!field.weighted)
          fail(
            at,
            `field ${describeSparseField(field)}: \`${text(buf, idStart, i)}\` has a weight but ${field.input} is not a weighted_bags input`,
            "E0713",
          );
        const w = parseNumber(buf, wStart, i);
        if (w === undefined || !Number.isFinite(w))
          fail(at, `field ${describeSparseField(field)}: bad weight in \`${text(buf, idStart, i)}\``, "E0705");
        weight = w!;
      }
      if (field.ids === "error" && h >= rows)
        fail(
          at,
          `field ${describeSparseField(field)}: id \`${text(buf, idStart, idEnd)}\` (${h >= RAW_ID_LIMIT ? `at least ${RAW_ID_LIMIT}` : h}) is outside the ${rows} rows of table ${field.table}, whose ids policy is error`,
          "E0714",
          "declare `ids: modulo` (hash ids into rows, the default for data files) or `ids: clamp` on the table, or map the ids first",
        );
      into.addRow(field.column, hash ? h % rows : h, weight);
      if (i < end) {
        i++; // past the comma
        if (i === end) fail(at, `field ${describeSparseField(field)}: empty id in \`${text(buf, start, end)}\``, "E0704");
      }
    }
  }
}

/** Bytes [start, end) with a trailing CR removed: the end of the line's content. */
const contentEnd = (buf: Uint8Array, start: number, end: number): number => (end > start && buf[end - 1] === CR ? end - 1 : end);

/**
 * Parses one line of text into a one-sample Batch. Whether it carries labels
 * is taken from `labeled`, or from its field count when not given.
 */
export function parseLine(
  line: string,
  schema: DataSchema,
  opts: { dense?: DenseMode; labeled?: boolean; file?: string; line?: number } = {},
): Batch {
  const buf = Buffer.from(line, "utf8");
  const end = contentEnd(buf, 0, buf.length);
  const at = { file: opts.file ?? "<line>", line: opts.line ?? 1 };
  const labeled = opts.labeled ?? detectLabeled(schema, countFields(buf, 0, end), at);
  const builder = new BatchBuilder(schema, 1, labeled, opts.dense ?? "log1p");
  new LineParser(schema, labeled).parse(buf, 0, end, builder, at);
  return builder.build();
}

/**
 * Streams data sources (a path, `-`, a glob, or several) as Batches of
 * `batchSize` samples (the last one may be smaller; batches run on across
 * files). Memory stays flat whatever the size; blank lines are skipped.
 */
export async function* readBatches(sources: string | readonly string[], schema: DataSchema, opts: ReadOptions = {}): AsyncGenerator<Batch> {
  const batchSize = opts.batchSize ?? 4096;
  const limit = opts.limit ?? Infinity;
  if (!(batchSize >= 1)) throw new RangeError(`batchSize must be >= 1, got ${batchSize}`);
  const layout = { labels: schema.labels.length, dense: schema.denseColumns, sparse: schema.sparseColumns };
  let builder: BatchBuilder | undefined;
  let parser: LineParser | undefined;
  let samples = 0;
  let at: LineLocation = { file: "", line: 0 };
  const take = (buf: Uint8Array, start: number, end: number): void => {
    at.line++;
    const e = contentEnd(buf, start, end);
    if (e === start) return;
    if (!parser) {
      const labeled = detectLabeled(schema, countFields(buf, start, e), at);
      parser = new LineParser(schema, labeled);
      builder = new BatchBuilder(schema, Math.min(batchSize, limit), labeled, opts.dense ?? "log1p");
    }
    parser.parse(buf, start, e, builder!, at);
    samples++;
  };
  try {
    for await (const chunk of dataChunks(sources, { layout, ...(opts.columns ? { columns: opts.columns } : {}) })) {
      if (chunk.first) at = { file: chunk.file, line: 0, unit: chunk.unit };
      const buf = chunk.bytes;
      let start = 0;
      for (let nl = buf.indexOf(LF, start); nl >= 0 && samples < limit; nl = buf.indexOf(LF, start)) {
        take(buf, start, nl);
        start = nl + 1;
        if (builder?.full) yield builder.build();
      }
      if (samples >= limit) break;
      // Only a file's last chunk has bytes after its last line break: its last line, unterminated.
      if (start < buf.length) take(buf, start, buf.length);
      if (builder?.full) yield builder.build();
    }
    if (builder && builder.size > 0) yield builder.build();
  } catch (e) {
    if (e instanceof RmcError) throw e;
    if ((e as NodeJS.ErrnoException).code) throw readError(at.file, e);
    throw e;
  }
}
