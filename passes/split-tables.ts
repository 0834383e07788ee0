// Pass `split-tables`: splits embedding tables that are too big for one
// buffer of the target (WebGPU's 128 MiB storage binding, wasm32's memory) or
// for a user's limit, and splits hot rows from cold ones. A table's
// declaration is replaced by part declarations that say what they hold
// (src/ir/tables.ts: rows=[s,e], cols=[s,e], hot=[ids], cold=[s,e]) and every
// embedding_bag that reads it takes the parts as consecutive operands, counted
// by its `parts` attribute. Parts are views of the table's data
// (src/weights/parts.ts), become separate weight shards in the artifact, and
// are separate units for the precision search. Lookups give exactly the
// unsplit table's results (rows are still pooled in bag order).
// The IR surgery itself is src/ir/table-parts.ts, shared with the precision
// search, which writes the hot/cold splits it chooses.

import { didYouMean, type Diagnostic } from "../src/diagnostics/index.js";
import type { Graph, WeightDecl } from "../src/ir/types.js";
import { ROW_FORMATS } from "../src/quant/rowwise.js";
import { SPLIT_CODES, fail, mib, partDecl, rowRanges, selectTables, storedRowBytes, withParts, type Candidate } from "../src/ir/table-parts.js";

export { SPLIT_CODES, applyHotColdSplits, storedRowBytes, type HotColdSplit } from "../src/ir/table-parts.js";
import type { Pass, PassContext } from "../src/pipeline/pass.js";
import type { Batch } from "../src/data/batch.js";
import { isBags, bagOffsets } from "../src/data/batch.js";
import { BUILTIN_TARGETS, E_UNKNOWN_TARGET, targetNamed } from "../src/target/index.js";

type Options = {
  maxBytes: number;
  target: string;
  mode: string;
  hot: number;
  hotBytes: number;
  hotPrecision: string;
  coldPrecision: string;
  tables: string;
};

const TABLE_PRECISIONS = ["fp32", ...ROW_FORMATS];
const MODES = ["rows", "cols"];

export const splitTables: Pass<Options> = {
  name: "split-tables",
  summary: "Split embedding tables over a size limit by rows or columns, and hot rows from cold ones (by id frequency in the calibration data)",
  provides: ["split"],
  options: {
    maxBytes: { type: "bytes", default: 0, doc: "largest part, at its precision (0: the target's largest buffer)" },
    target: { type: "string", default: "wasm", doc: "whose buffer limit applies when max-bytes is 0: wasm (4 GiB) or wgsl (128 MiB)" },
    mode: { type: "enum", values: MODES, default: "rows", doc: "how tables over the limit split: rows (id ranges) or cols (dimension ranges)" },
    hot: { type: "number", default: 0, doc: "move the K most frequent rows of each table into a hot part (needs calibration data)" },
    hotBytes: { type: "bytes", default: 0, doc: "as hot, with K the rows that fit this many bytes (4 per id plus the row)" },
    hotPrecision: { type: "string", default: "", doc: "precision of hot parts (default: the table's)" },
    coldPrecision: { type: "string", default: "", doc: "precision of cold parts (default: the table's)" },
    tables: { type: "string", default: "", doc: "only these tables, `;`-separated (default: every table)" },
  },
  run(graph: Graph, ctx: PassContext<Options>): Graph {
    const o = ctx.options;
    const limit = checkOptions(o, ctx);
    const candidates = selectTables(graph, o.tables);
    const wantHot = o.hot > 0 || o.hotBytes > 0;
    const counts = wantHot ? countIds(graph, candidates, ctx.calibration) : undefined;
    const plans = new Map<string, WeightDecl[]>();
    for (const c of candidates) {
      if (wantHot && c.decl.shape[0]! <= hotRowsWanted(c, o)) {
        // Every row fits the hot part: splitting would only add a hot-list lookup to each id.
        ctx.diagnostics.push({
          code: SPLIT_CODES.note,
          severity: "note",
          message: `split-tables: ${c.decl.name} (${c.decl.shape[0]} rows) is left whole: every row fits a hot part of ${hotRowsWanted(c, o)}`,
          span: c.decl.span,
        });
        continue;
      }
      const parts = wantHot ? hotColdParts(c, o, limit, counts!.get(c.decl.name)!) : sizeParts(c, o.mode, limit);
      if (!parts) continue;
      plans.set(c.decl.name, parts);
      ctx.diagnostics.push(describe(c, parts));
    }
    return withParts(graph, plans);
  },
};

/** The size limit the options give; every option checked. */
function checkOptions(o: Options, ctx: PassContext<Options>): number {
  for (const [k, v] of [
    ["hot-precision", o.hotPrecision],
    ["cold-precision", o.coldPrecision],
  ] as const)
    if (v !== "" && !TABLE_PRECISIONS.includes(v)) fail(`${k} must be one of ${TABLE_PRECISIONS.join(", ")}, got \`${v}\``);
  if (!Number.isInteger(o.hot) || o.hot < 0) fail(`hot must be a whole number of rows, got ${o.hot}`);
  if (o.maxBytes < 0 || o.hotBytes < 0) fail(`max-bytes and hot-bytes must not be negative`);
  if (o.hot > 0 && o.hotBytes > 0) fail("give hot (rows) or hot-bytes (a size), not both");
  const wantHot = o.hot > 0 || o.hotBytes > 0;
  if (wantHot && o.mode === "cols")
    fail(
      "a hot/cold split keeps whole rows: mode=cols cannot be combined with hot or hot-bytes",
      SPLIT_CODES.option,
      "cold parts over the limit are split by rows",
    );
  if (!wantHot && (o.hotPrecision || o.coldPrecision)) fail("hot-precision and cold-precision need a hot/cold split (hot=K or hot-bytes=SIZE)");
  if (o.maxBytes > 0) return o.maxBytes;
  // A target nothing defines: the one unknown-target error (E0904), saying how to go without one.
  const known = ctx.target?.name === o.target || BUILTIN_TARGETS.has(o.target);
  if (!known) {
    const dym = didYouMean(o.target, BUILTIN_TARGETS.keys());
    fail(`unknown target \`${o.target}\`${dym ? `: ${dym}` : ""} (give max-bytes for other targets)`, E_UNKNOWN_TARGET);
  }
  return targetNamed(o.target, ctx).limits.maxBufferBytes;
}

/** Parts of a table over the limit (rows or columns), or undefined when it fits. */
function sizeParts(c: Candidate, mode: string, limit: number): WeightDecl[] | undefined {
  const [rows, dim] = c.decl.shape as [number, number];
  const bytes = rows * storedRowBytes(c.precision, dim);
  if (Math.ceil(bytes / 4) * 4 <= limit) return undefined;
  const name = c.decl.name;
  if (mode === "rows") {
    const ranges = rowRanges(rows, storedRowBytes(c.precision, dim), limit, `table ${name}`);
    return ranges.map(([s, e], i) => partDecl(c.decl, `${name}.p${i}`, [e - s, dim], { rows: [s, e] }));
  }
  return colRanges(rows, dim, c.precision, limit, name).map(([s, e], i) => partDecl(c.decl, `${name}.c${i}`, [rows, e - s], { cols: [s, e] }));
}

/** Column ranges, as even as possible, each part (with its own row scale and bias when quantized) within the limit. */
function colRanges(rows: number, dim: number, precision: string, limit: number, name: string): [number, number][] {
  for (let n = 2; n <= dim; n++) {
    const width = Math.ceil(dim / n);
    const ranges: [number, number][] = [];
    for (let s = 0; s < dim; s += width) ranges.push([s, Math.min(dim, s + width)]);
    if (ranges.every(([s, e]) => Math.ceil((rows * storedRowBytes(precision, e - s)) / 4) * 4 <= limit)) return ranges;
  }
  return fail(
    `table ${name} does not fit the ${mib(limit)} limit even one column per part (${rows} rows)`,
    SPLIT_CODES.tooBig,
    "split it by rows (mode=rows)",
  );
}

/** Per candidate table, how often each id occurs in the calibration data. */
function countIds(graph: Graph, candidates: Candidate[], calibration: readonly Batch[] | undefined): Map<string, Map<number, number>> {
  if (!calibration || calibration.length === 0)
    fail("hot/cold splitting needs id frequencies from calibration data", SPLIT_CODES.noData, "rmc compile --calib DATA.tsv (or drop hot/hot-bytes)");
  const out = new Map<string, Map<number, number>>();
  for (const c of candidates) {
    const counts = new Map<number, number>();
    for (const batch of calibration)
      for (const { input, feature } of c.readers) {
        const bags = batch.inputs[input];
        if (!bags || !isBags(bags)) fail(`the calibration data has no bags input \`${input}\` for ${graph.name}`, SPLIT_CODES.noData);
        const offsets = bagOffsets(bags);
        for (let p = offsets[feature * bags.batch]!; p < offsets[(feature + 1) * bags.batch]!; p++)
          counts.set(bags.values[p]!, (counts.get(bags.values[p]!) ?? 0) + 1);
      }
    out.set(c.decl.name, counts);
  }
  return out;
}

/** K: the rows a hot part may hold (`hot`, or the rows that fit `hot-bytes`). */
function hotRowsWanted(c: Candidate, o: Options): number {
  return o.hot > 0 ? o.hot : Math.floor(o.hotBytes / (storedRowBytes(o.hotPrecision || c.precision, c.decl.shape[1]!) + 4));
}

/** A hot part of the most frequent rows and the rest as cold parts (split by rows when over the limit); undefined when no row was seen. */
function hotColdParts(c: Candidate, o: Options, limit: number, counts: Map<number, number>): WeightDecl[] | undefined {
  const [rows, dim] = c.decl.shape as [number, number];
  const hotP = o.hotPrecision || c.precision;
  const coldP = o.coldPrecision || c.precision;
  const wanted = hotRowsWanted(c, o);
  // The most frequent first, smaller ids first among equals; a cold part keeps at least one row.
  const seen = [...counts].filter(([id]) => Number.isInteger(id) && id >= 0 && id < rows).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const hot = seen
    .slice(0, Math.min(wanted, rows - 1))
    .map(([id]) => id)
    .sort((a, b) => a - b);
  if (hot.length === 0) return undefined;
  const name = c.decl.name;
  if (hot.length * (storedRowBytes(hotP, dim) + 4) > limit)
    fail(`the hot part of ${name} (${hot.length} rows) is over the ${mib(limit)} limit`, SPLIT_CODES.tooBig, "ask for fewer hot rows");
  const parts = [partDecl(c.decl, `${name}.hot`, [hot.length, dim], { hot }, o.hotPrecision || undefined)];
  const coldRows = rows - hot.length;
  const ranges =
    Math.ceil((coldRows * storedRowBytes(coldP, dim)) / 4) * 4 <= limit
      ? [[0, coldRows] as [number, number]]
      : rowRanges(coldRows, storedRowBytes(coldP, dim), limit, `table ${name}`);
  ranges.forEach(([s, e], i) =>
    parts.push(
      partDecl(c.decl, ranges.length > 1 ? `${name}.cold.p${i}` : `${name}.cold`, [e - s, dim], { cold: [s, e] }, o.coldPrecision || undefined),
    ),
  );
  return parts;
}

/** A note for the user: which table split how. */
function describe(c: Candidate, parts: WeightDecl[]): Diagnostic {
  const [rows, dim] = c.decl.shape as [number, number];
  const kind =
    parts[0]!.attrs.hot !== undefined
      ? `a hot part of ${parts[0]!.shape[0]} rows and ${parts.length - 1} cold part(s)`
      : `${parts.length} ${parts[0]!.attrs.rows !== undefined ? "row" : "column"} parts`;
  return {
    code: SPLIT_CODES.note,
    severity: "note",
    message: `split-tables: ${c.decl.name} (${rows}×${dim} at ${c.precision}, ${mib(rows * storedRowBytes(c.precision, dim))}) → ${kind}`,
    span: c.decl.span,
  };
}
