// The logical embedding tables of an embedding_bag node. After split-tables
// (passes/split-tables.ts) one table may be several weight operands: the
// node's `parts` attribute says how many consecutive operands form each
// table, and each part's declaration says what it holds — `rows=[s,e]`
// (table rows s..e-1), `cols=[s,e]` (dimensions s..e-1), `hot=[ids]` (those
// rows, ids ascending) or `cold=[s,e]` (rows s..e-1 of the table without its
// hot rows, in order) — with `part_of` naming the table. The type rule, the
// interpreter, both backends and the data schema read tables through here.

import type { Node, WeightDecl } from "./types.js";

/** What one operand of a logical table holds. */
export type PartKind = "whole" | "rows" | "cols" | "hot" | "cold";

/** One weight operand of a logical table. */
export interface TablePart {
  decl: WeightDecl;
  kind: PartKind;
  /** rows / cold: row range (cold: in the numbering of the table's rows without its hot ones); cols: column range; whole / hot: [0, rows). */
  start: number;
  end: number;
  /** hot: the table rows it holds, ascending. */
  hot?: readonly number[];
}

/** How a logical table is stored: whole, split by row ranges, by column ranges, or into a hot part and cold row ranges. */
export type TableLayout = "whole" | "rows" | "cols" | "hot";

/** One table an embedding_bag reads, whatever its parts. */
export interface LogicalTable {
  /** The table's name as declared before splitting (its parts' `part_of`), or its weight's name. */
  name: string;
  /** The bag feature it reads. */
  feature: number;
  rows: number;
  dim: number;
  layout: TableLayout;
  parts: TablePart[];
  /** Index among the node's weight operands of its first part. */
  first: number;
  /** Its policy for ids outside its rows (the `ids` attribute its parts carry). */
  ids: string | undefined;
}

/** Attributes a part declaration carries (besides precision and ids). */
export const PART_ATTRS = ["part_of", "rows", "cols", "hot", "cold"] as const;

const isRange = (v: unknown): v is [number, number] =>
  Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x) && (x as number) >= 0) && (v[0] as number) < (v[1] as number);

/** What a declaration holds as a part, or a message saying what is wrong with its part attributes. */
export function partOf(decl: WeightDecl): TablePart | string {
  const a = decl.attrs;
  const kinds = (["rows", "cols", "hot", "cold"] as const).filter((k) => a[k] !== undefined);
  const rows = decl.shape[0] ?? 0;
  if (kinds.length === 0)
    return a.part_of === undefined ? { decl, kind: "whole", start: 0, end: rows } : `@${decl.name} has part_of but none of rows, cols, hot, cold`;
  if (kinds.length > 1) return `@${decl.name} holds both ${kinds.join(" and ")}; a part holds one`;
  if (typeof a.part_of !== "string") return `@${decl.name} holds ${kinds[0]} but has no part_of naming its table`;
  const kind = kinds[0]!;
  if (kind === "hot") {
    const ids = a.hot;
    if (!Array.isArray(ids) || !ids.every((x, i) => Number.isInteger(x) && (x as number) >= 0 && (i === 0 || (x as number) > (ids[i - 1] as number))))
      return `@${decl.name}: hot must list row ids in ascending order`;
    if (ids.length !== rows) return `@${decl.name}: hot lists ${ids.length} rows but the part has ${rows}`;
    return { decl, kind, start: 0, end: rows, hot: ids as number[] };
  }
  const range = a[kind];
  if (!isRange(range)) return `@${decl.name}: ${kind} must be a range [start, end) with start < end, got ${JSON.stringify(range)}`;
  const [start, end] = range;
  const size = kind === "cols" ? decl.shape[1] : rows;
  if (size !== end - start)
    return `@${decl.name}: ${kind}=[${start},${end}] holds ${end - start} ${kind === "cols" ? "columns" : "rows"} but the part has ${size}`;
  return { decl, kind, start, end };
}

/** The node's `parts` attribute, or one operand per table. */
export function partCounts(node: Pick<Node, "attrs">, tables: number): number[] {
  const p = node.attrs.parts;
  return Array.isArray(p) ? (p as number[]) : Array.from({ length: tables }, () => 1);
}

/** Groups an embedding_bag's weight operands into logical tables; a message when they do not form valid tables. */
export function logicalTables(
  feats: readonly number[],
  parts: readonly number[] | undefined,
  weights: readonly WeightDecl[],
): LogicalTable[] | string {
  const counts = parts ?? feats.map(() => 1);
  if (counts.length !== feats.length) return `parts has ${counts.length} entries for ${feats.length} tables (bags)`;
  if (counts.some((c) => !Number.isInteger(c) || c < 1)) return `parts must count at least one weight per table, got [${counts.join(",")}]`;
  const total = counts.reduce((a, b) => a + b, 0);
  if (total !== weights.length) return `parts adds up to ${total} weights but the node has ${weights.length}`;
  const out: LogicalTable[] = [];
  let first = 0;
  for (let t = 0; t < counts.length; t++) {
    const group = weights.slice(first, first + counts[t]!);
    const table = groupTable(group, feats[t]!, first);
    if (typeof table === "string") return table;
    out.push(table);
    first += counts[t]!;
  }
  return out;
}

/** One logical table from its consecutive operands. */
function groupTable(group: readonly WeightDecl[], feature: number, first: number): LogicalTable | string {
  const parts: TablePart[] = [];
  for (const d of group) {
    if (d.shape.length !== 2) return `table ${d.name} must be [rows, dim], got ${d.dtype}[${d.shape.join(",")}]`;
    const p = partOf(d);
    if (typeof p === "string") return p;
    parts.push(p);
  }
  const head = parts[0]!;
  const ids = head.decl.attrs.ids as string | undefined;
  if (head.kind === "whole") {
    if (parts.length > 1) return `@${head.decl.name} is a whole table but shares its table with ${parts.length - 1} more weight(s)`;
    return { name: head.decl.name, feature, rows: head.end, dim: head.decl.shape[1]!, layout: "whole", parts, first, ids };
  }
  const name = head.decl.attrs.part_of as string;
  const stranger = parts.find((p) => p.decl.attrs.part_of !== name);
  if (stranger)
    return `@${stranger.decl.name} is part of ${String(stranger.decl.attrs.part_of)}, not of ${name}, yet it is grouped with @${head.decl.name}`;
  const layout = head.kind === "cold" ? "hot" : head.kind;
  const body = layout === "hot" ? parts.slice(1) : parts;
  const bodyKind = layout === "hot" ? "cold" : layout;
  if (layout === "hot" && head.kind !== "hot") return `${name}: a table with cold parts starts with its hot part`;
  if (layout === "hot" && body.length === 0) return `${name}: a hot part needs cold parts after it`;
  const wrong = body.find((p) => p.kind !== bodyKind);
  if (wrong) return `${name}: @${wrong.decl.name} holds ${wrong.kind} among ${bodyKind} parts`;
  let at = 0;
  for (const p of body) {
    if (p.start !== at)
      return `${name}: @${p.decl.name} starts at ${p.start}, but the parts before it end at ${at} (parts must be consecutive, in order)`;
    at = p.end;
  }
  const dims = new Set(parts.map((p) => p.decl.shape[1]));
  if (layout === "cols") {
    const rows = new Set(parts.map((p) => p.decl.shape[0]));
    if (rows.size > 1) return `${name}: column parts must have the same rows, got ${[...rows].join(", ")}`;
    return { name, feature, rows: head.decl.shape[0]!, dim: at, layout, parts, first, ids };
  }
  if (dims.size > 1) return `${name}: row parts must have the same dimension, got ${[...dims].join(", ")}`;
  const rows = at + (layout === "hot" ? head.end : 0);
  if (head.hot && head.hot[head.hot.length - 1]! >= rows) return `${name}: hot row ${head.hot[head.hot.length - 1]} is outside its ${rows} rows`;
  return { name, feature, rows, dim: head.decl.shape[1]!, layout, parts, first, ids };
}

/** The logical tables of an embedding_bag node, given its weight declarations by name; throws on an invalid node (callers run on verified IR). */
export function nodeTables(node: Node, decls: ReadonlyMap<string, WeightDecl>): LogicalTable[] {
  const weights = node.inputs.filter((r) => r.startsWith("@")).map((r) => decls.get(r.slice(1))!);
  const r = logicalTables(node.attrs.bags as number[], Array.isArray(node.attrs.parts) ? (node.attrs.parts as number[]) : undefined, weights);
  if (typeof r === "string") throw new Error(`internal: embedding_bag %${node.id}: ${r}`);
  return r;
}

/**
 * Number of hot ids below `id` in an ascending list (a binary search): the
 * hot row of `id` when `hot[k] === id`, else `id - k` is its cold row.
 */
export function hotRank(hot: ArrayLike<number>, id: number): number {
  let lo = 0;
  let hi = hot.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (hot[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Where a table row lives: the part (index into `parts`) and the row within it; undefined for ids outside the table. */
export function routeRow(table: LogicalTable, id: number): { part: number; row: number } | undefined {
  if (id < 0 || id >= table.rows) return undefined;
  if (table.layout === "whole" || table.layout === "cols") return { part: 0, row: id };
  let row = id;
  let from = 0;
  if (table.layout === "hot") {
    const hot = table.parts[0]!.hot!;
    const k = hotRank(hot, id);
    if (k < hot.length && hot[k] === id) return { part: 0, row: k };
    row = id - k;
    from = 1;
  }
  for (let i = from; i < table.parts.length; i++) {
    const p = table.parts[i]!;
    if (row < p.end) return { part: i, row: row - p.start };
  }
  return undefined;
}
