// `rmc data-stats`: what is in Criteo-style data, without a model. Streams
// the sources once (sources.ts: files, globs, stdin, gzip, Parquet) with flat memory: CTR per label column; missing rate
// and range per dense column; empty rate, ids per bag, distinct ids
// (HyperLogLog) and the most frequent ids (Space-Saving) per sparse column.

import { RmcError, error } from "../diagnostics/index.js";
import { dataChunks, readError, type ColumnMap } from "./sources.js";
import { where as located, type LineLocation } from "./tsv.js";
import { denseColumnName, sparseColumnName } from "./schema.js";
import { HyperLogLog, SpaceSaving, type HeavyHitter } from "./sketch.js";

/** Column roles (default Criteo's: 1 label, 13 dense, 26 sparse) and report size. */
export interface DataStatsOptions {
  labels?: number;
  dense?: number;
  sparse?: number;
  /** Most frequent ids to report per sparse column (default 5). */
  top?: number;
  /** Called now and then with the number of lines read so far. */
  onProgress?: (lines: number) => void;
  /** Parquet sources: rmc column name → the file's column name. */
  columns?: ColumnMap;
}

/** One label column: positives and their share. */
export interface LabelStats {
  column: string;
  positives: number;
  ctr: number;
}

/** One dense column. Missing is a rate; mean/min/max are over present values (NaN when always missing). */
export interface DenseStats {
  column: string;
  missing: number;
  mean: number;
  min: number;
  max: number;
}

/** One sparse column. */
export interface SparseStats {
  column: string;
  /** Fraction of rows with an empty bag. */
  empty: number;
  /** Mean ids per non-empty bag. */
  meanIds: number;
  /** Approximate distinct ids (HyperLogLog, ~1% error). */
  distinct: number;
  /** Most frequent ids (lowercase hex as written), with Space-Saving error bounds. */
  top: HeavyHitter[];
}

/** The summary of a data file, as `formatDataStats` prints it. */
export interface DataStats {
  /** The sources as given, joined by spaces. */
  path: string;
  rows: number;
  columns: { labels: number; dense: number; sparse: number };
  labels: LabelStats[];
  dense: DenseStats[];
  sparse: SparseStats[];
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Whether s is a plain unsigned decimal integer: the common case, checked without a regex. */
function isDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return s.length > 0;
}

/** -1: not a hex id; 0: lowercase hex; 1: hex with uppercase digits. */
function hexCase(s: string): number {
  if (s.length === 0) return -1;
  let upper = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 48 && c <= 57) || (c >= 97 && c <= 102)) continue;
    if (c >= 65 && c <= 70) upper = 1;
    else return -1;
  }
  return upper;
}

/** Running totals for every column. */
class Accumulator {
  rows = 0;
  readonly positives: number[];
  readonly dense: { present: number; sum: number; min: number; max: number }[];
  readonly sparse: { empty: number; ids: number; hll: HyperLogLog; top: SpaceSaving }[];

  constructor(
    readonly cols: { labels: number; dense: number; sparse: number },
    top: number,
  ) {
    this.positives = new Array<number>(cols.labels).fill(0);
    this.dense = Array.from({ length: cols.dense }, () => ({ present: 0, sum: 0, min: Infinity, max: -Infinity }));
    this.sparse = Array.from({ length: cols.sparse }, () => ({
      empty: 0,
      ids: 0,
      hll: new HyperLogLog(14),
      top: new SpaceSaving(Math.max(1, 20 * top)),
    }));
  }

  addLine(fields: string[], where: string): void {
    const { labels, dense } = this.cols;
    for (let i = 0; i < labels; i++) {
      const f = fields[i]!;
      if (f !== "0" && f !== "1") throw new RmcError(`${where}: label column ${i + 1}: \`${f}\` is not 0 or 1`, "E0703");
      if (f === "1") this.positives[i]!++;
    }
    for (let i = 0; i < dense; i++) {
      const f = fields[labels + i]!;
      if (f === "") continue;
      const v = Number(f);
      if (!(isDigits(f) || NUMBER.test(f)) || !Number.isFinite(v))
        throw new RmcError(`${where}: field ${denseColumnName(i)}: \`${f}\` is not a number`, "E0702");
      const d = this.dense[i]!;
      d.present++;
      d.sum += v;
      if (v < d.min) d.min = v;
      if (v > d.max) d.max = v;
    }
    for (let i = 0; i < this.sparse.length; i++) {
      const f = fields[labels + dense + i]!;
      const s = this.sparse[i]!;
      if (f === "") {
        s.empty++;
        continue;
      }
      if (f.indexOf(",") < 0) this.addId(s, f, i, where);
      else for (const item of f.split(",")) this.addId(s, item, i, where);
    }
    this.rows++;
  }

  private addId(s: Accumulator["sparse"][number], item: string, column: number, where: string): void {
    const colon = item.indexOf(":");
    const raw = colon < 0 ? item : item.slice(0, colon);
    const kind = hexCase(raw);
    if (kind < 0) throw new RmcError(`${where}: field ${sparseColumnName(column)}: \`${item}\` is not a hex id`, "E0704");
    const id = kind === 0 ? raw : raw.toLowerCase();
    s.ids++;
    s.hll.add(id);
    s.top.add(id);
  }

  result(path: string, top: number): DataStats {
    const n = this.rows;
    const { labels } = this.cols;
    return {
      path,
      rows: n,
      columns: this.cols,
      labels: this.positives.map((p, i) => ({ column: labels === 1 ? "label" : `label${i + 1}`, positives: p, ctr: n ? p / n : NaN })),
      dense: this.dense.map((d, i) => ({
        column: denseColumnName(i),
        missing: n ? 1 - d.present / n : NaN,
        mean: d.present ? d.sum / d.present : NaN,
        min: d.present ? d.min : NaN,
        max: d.present ? d.max : NaN,
      })),
      sparse: this.sparse.map((s, i) => ({
        column: sparseColumnName(i),
        empty: n ? s.empty / n : NaN,
        meanIds: n > s.empty ? s.ids / (n - s.empty) : 0,
        distinct: s.ids ? Math.round(s.hll.estimate()) : 0,
        top: s.top.top(top),
      })),
    };
  }
}

/** Settles the column roles from the first line's field count. */
function columnRoles(opts: DataStatsOptions, fields: number, where: string): { labels: number; dense: number; sparse: number } {
  const dense = opts.dense ?? 13;
  const sparse = opts.sparse ?? 26;
  const labels = opts.labels ?? 1;
  if (fields === labels + dense + sparse) return { labels, dense, sparse };
  if (opts.labels === undefined && fields === dense + sparse) return { labels: 0, dense, sparse };
  const expected = `${labels + dense + sparse} (${labels} label${labels === 1 ? "" : "s"} + ${dense} dense + ${sparse} sparse${opts.labels === undefined && opts.dense === undefined && opts.sparse === undefined ? ", Criteo's layout" : ""})`;
  throw new RmcError(
    error(
      "E0711",
      `${where}: found ${fields} fields, expected ${expected}`,
      undefined,
      "give the column counts that match the file: labels, dense and sparse (e.g. --labels 1 --dense 13 --sparse 26)",
    ),
  );
}

/** Streams the sources once and summarises every column. */
export async function dataStats(sources: string | readonly string[], opts: DataStatsOptions = {}): Promise<DataStats> {
  const top = opts.top ?? 5;
  const layout = { labels: opts.labels ?? 1, dense: opts.dense ?? 13, sparse: opts.sparse ?? 26 };
  let acc: Accumulator | undefined;
  let lines = 0;
  let at: LineLocation = { file: "", line: 0 };
  const take = (text: string): void => {
    at.line++;
    if ((++lines & 8191) === 0) opts.onProgress?.(lines);
    const content = text.endsWith("\r") ? text.slice(0, -1) : text;
    if (content === "") return;
    const fields = content.split("\t");
    const where = located(at);
    acc ??= new Accumulator(columnRoles(opts, fields.length, where), top);
    const want = acc.cols.labels + acc.cols.dense + acc.cols.sparse;
    if (fields.length !== want) throw new RmcError(`${where}: expected ${want} fields, found ${fields.length}`, "E0701");
    acc.addLine(fields, where);
  };
  try {
    for await (const chunk of dataChunks(sources, { layout, ...(opts.columns ? { columns: opts.columns } : {}) })) {
      if (chunk.first) at = { file: chunk.file, line: 0, unit: chunk.unit };
      // Chunks end at line breaks, so decoding one never splits a character.
      const text = chunk.bytes.toString("utf8");
      let start = 0;
      for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
        take(text.slice(start, nl));
        start = nl + 1;
      }
      if (start < text.length) take(text.slice(start));
    }
  } catch (e) {
    if (e instanceof RmcError) throw e;
    if ((e as NodeJS.ErrnoException).code) throw readError(at.file, e);
    throw e;
  }
  acc ??= new Accumulator(layout, top);
  return acc.result(typeof sources === "string" ? sources : sources.join(" "), top);
}

const pct = (x: number): string => (Number.isNaN(x) ? "-" : `${(100 * x).toFixed(1)}%`);
const num = (x: number): string => (Number.isNaN(x) ? "-" : Number.isInteger(x) ? x.toLocaleString("en-US") : x.toPrecision(4));
const count = (x: number): string => x.toLocaleString("en-US");

/** Renders rows as a table: first column left-aligned, the others right-aligned, except a last free-text column. */
function table(header: string[], rows: string[][], freeLast = false): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const render = (r: string[]): string =>
    r
      .map((cell, c) => (c === 0 || (freeLast && c === r.length - 1) ? cell.padEnd(c === r.length - 1 ? 0 : widths[c]!) : cell.padStart(widths[c]!)))
      .join("  ")
      .trimEnd();
  return [render(header), ...rows.map(render)].join("\n");
}

/** A readable report of DataStats: one aligned table per column kind. */
export function formatDataStats(s: DataStats): string {
  const { labels, dense, sparse } = s.columns;
  const out = [
    `${s.path}: ${count(s.rows)} rows, ${labels + dense + sparse} columns (${labels} label${labels === 1 ? "" : "s"}, ${dense} dense, ${sparse} sparse)`,
  ];
  if (s.labels.length)
    out.push(
      "",
      table(
        ["label", "ctr", "positives"],
        s.labels.map((l) => [l.column, Number.isNaN(l.ctr) ? "-" : l.ctr.toFixed(4), count(l.positives)]),
      ),
    );
  if (s.dense.length)
    out.push(
      "",
      table(
        ["dense", "missing", "mean", "min", "max"],
        s.dense.map((d) => [d.column, pct(d.missing), num(d.mean), num(d.min), num(d.max)]),
      ),
    );
  if (s.sparse.length) {
    const approx = s.sparse.some((c) => c.top.some((h) => h.error > 0));
    const rows = s.sparse.map((c) => [
      c.column,
      pct(c.empty),
      c.meanIds.toFixed(2),
      `~${count(c.distinct)}`,
      c.top.map((h) => `${h.key} ${h.error > 0 ? "~" : ""}${count(h.count)}`).join(", "),
    ]);
    out.push("", table(["sparse", "empty", "ids/bag", "distinct", "top ids (count)"], rows, true));
    out.push("", `distinct ids are HyperLogLog estimates (~1% error)${approx ? "; counts marked ~ are Space-Saving estimates (upper bounds)" : ""}.`);
  }
  return out.join("\n");
}
