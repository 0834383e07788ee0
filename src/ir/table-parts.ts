// Table parts: the IR surgery shared by the split-tables pass and the precision
// search (which writes the hot/cold splits it chose). A table becomes parts —
// row ranges, column ranges, or a hot part and cold parts — in its declaration
// and in every embedding_bag that reads it. Graph in, graph out; no pass state.

import { produce } from "immer";
import { RmcError, didYouMean, type Code } from "../diagnostics/index.js";
import type { Graph, Node, WeightDecl } from "./types.js";
import { refName, weightInputs, weightRef } from "./types.js";
import { precisionOf } from "./attrs.js";
import { rowBytes, type RowFormat, type RowRange } from "../quant/rowwise.js";

/** Error codes of this pass. */
export const SPLIT_CODES = {
  option: "E1930",
  noData: "E1931",
  tooBig: "E1932",
  name: "E1933",
  note: "N1930",
} as const satisfies Record<string, Code>;

/** Bytes of one stored row at a table precision: f32 or FBGEMM's row formats (src/quant/rowwise.ts). */
export const storedRowBytes = (precision: string, dim: number): number => (precision === "fp32" ? dim * 4 : rowBytes(precision as RowFormat, dim));

export const mib = (b: number): string => (b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${b} bytes`);

export function fail(message: string, code: Code = SPLIT_CODES.option, hint?: string): never {
  throw new RmcError({ code, severity: "error", message: `split-tables: ${message}`, ...(hint ? { hint } : {}) });
}

/** A table the pass may split: its declaration, the precision it is stored at, and the (input, feature) pairs that read it. */
export interface Candidate {
  decl: WeightDecl;
  precision: string;
  readers: { input: string; feature: number }[];
}

/** The graph with each planned table replaced by its parts, in its declaration and in every embedding_bag that reads it. */
export function withParts(graph: Graph, plans: Map<string, WeightDecl[]>): Graph {
  if (plans.size === 0) return graph;
  const taken = new Set(graph.weights.map((w) => w.name));
  for (const part of [...plans.values()].flat())
    if (taken.has(part.name)) fail(`cannot name a part @${part.name}: a weight of that name exists`, SPLIT_CODES.name);
  return produce(graph, (g) => {
    g.weights = g.weights.flatMap((w) => plans.get(w.name) ?? [w]) as typeof g.weights;
    for (const n of g.nodes) if (n.op === "embedding_bag" && weightInputs(n as Node).some((w) => plans.has(w))) rewriteNode(n as Node, plans);
  });
}

/** A hot/cold split the precision search chose for a table: these hot ids at one precision, the rest at another (both pins). */
export interface HotColdSplit {
  hot: readonly number[];
  hotPrecision: string;
  coldPrecision: string;
  /** n-bit parts' row ranges (`row_range`), as the search measured them. */
  rowRange: RowRange;
}

/**
 * Splits each named whole table into a hot part holding `hot` and cold parts
 * (by rows, each within `limit` bytes), as `split-tables{hot=...}` would with
 * those hot ids: how `assign-precision{mode=auto}` and a plan file write the
 * splits the search chose.
 */
export function applyHotColdSplits(graph: Graph, splits: ReadonlyMap<string, HotColdSplit>, limit = 2 ** 40): Graph {
  const plans = new Map<string, WeightDecl[]>();
  for (const c of selectTables(graph, "")) {
    const s = splits.get(c.decl.name);
    if (!s) continue;
    const [rows, dim] = c.decl.shape as [number, number];
    const range = (d: WeightDecl): WeightDecl =>
      s.rowRange === "l2" && (d.attrs.precision === "int4" || d.attrs.precision === "int2") ? { ...d, attrs: { ...d.attrs, row_range: "l2" } } : d;
    const hot = [...s.hot].sort((a, b) => a - b);
    const parts = [range(partDecl(c.decl, `${c.decl.name}.hot`, [hot.length, dim], { hot }, s.hotPrecision))];
    const ranges = rowRanges(rows - hot.length, storedRowBytes(s.coldPrecision, dim), limit, `table ${c.decl.name}`);
    ranges.forEach(([a, e], i) =>
      parts.push(
        range(
          partDecl(c.decl, ranges.length > 1 ? `${c.decl.name}.cold.p${i}` : `${c.decl.name}.cold`, [e - a, dim], { cold: [a, e] }, s.coldPrecision),
        ),
      ),
    );
    plans.set(c.decl.name, parts);
  }
  return withParts(graph, plans);
}

/** Every whole table an embedding_bag reads (optionally only those named), with its precision and readers. */
export function selectTables(graph: Graph, only: string): Candidate[] {
  const decls = new Map(graph.weights.map((w) => [w.name, w]));
  const found = new Map<string, Candidate>();
  for (const n of graph.nodes) {
    if (n.op !== "embedding_bag") continue;
    const source = refName(n.inputs[0]!);
    const feats = n.attrs.bags as number[];
    const counts = Array.isArray(n.attrs.parts) ? (n.attrs.parts as number[]) : feats.map(() => 1);
    let at = 0;
    const weights = weightInputs(n);
    counts.forEach((count, t) => {
      const decl = decls.get(weights[at]!)!;
      at += count;
      if (count !== 1 || decl.attrs.part_of !== undefined) return; // already split
      if (decl.attrs.placement !== undefined) return; // its rows live in a store: no buffer holds them whole
      const c = found.get(decl.name) ?? { decl, precision: precisionOf(decl, n), readers: [] };
      c.readers.push({ input: source, feature: feats[t]! });
      found.set(decl.name, c);
    });
  }
  if (!only) return [...found.values()];
  return only
    .split(";")
    .filter(Boolean)
    .map((name) => {
      const c = found.get(name);
      if (!c)
        fail(`\`${name}\` is not a whole table of ${graph.name}${didYouMean(name, found.keys()) ? ` (${didYouMean(name, found.keys())})` : ""}`);
      return c;
    });
}

/** A part declaration: the table's span and attributes, with what the part holds first. */
export function partDecl(table: WeightDecl, name: string, shape: number[], holds: Record<string, number[]>, precision?: string): WeightDecl {
  const attrs: WeightDecl["attrs"] = { part_of: table.name, ...holds, ...table.attrs };
  // An explicit part precision is a pin (fp32 too): the precision pass keeps it.
  if (precision) attrs.precision = precision;
  return { name, role: "table", dtype: table.dtype, shape, attrs, span: table.span };
}

/** Row ranges of `rows` rows, each at most `limit` bytes at `rowBytesEach` (parts rounded to whole 4-byte words). */
export function rowRanges(rows: number, rowBytesEach: number, limit: number, what: string): [number, number][] {
  let per = Math.floor(limit / rowBytesEach);
  while (per > 0 && Math.ceil((per * rowBytesEach) / 4) * 4 > limit) per--;
  if (per < 1)
    fail(
      `one row of ${what} (${rowBytesEach} bytes) is over the ${mib(limit)} limit`,
      SPLIT_CODES.tooBig,
      "split it by columns (mode=cols) or raise max-bytes",
    );
  const out: [number, number][] = [];
  for (let s = 0; s < rows; s += per) out.push([s, Math.min(rows, s + per)]);
  return out;
}

/** Replaces each split table among the node's operands by its parts and records the counts in `parts`. */
export function rewriteNode(n: Node, plans: Map<string, WeightDecl[]>): void {
  const feats = n.attrs.bags as number[];
  const counts = Array.isArray(n.attrs.parts) ? [...(n.attrs.parts as number[])] : feats.map(() => 1);
  const values = n.inputs.filter((r) => r.startsWith("%"));
  const weights = weightInputs(n);
  const inputs: string[] = [...values];
  let at = 0;
  counts.forEach((count, t) => {
    const group = weights.slice(at, at + count);
    at += count;
    const parts = count === 1 ? plans.get(group[0]!) : undefined;
    if (parts) counts[t] = parts.length;
    inputs.push(...(parts ? parts.map((p) => weightRef(p.name)) : group.map(weightRef)));
  });
  n.inputs = inputs;
  n.attrs.parts = counts;
}
