// Writing an imported model's tables as DSL `table` statements (for dsl.ts):
// tables read together by one stacked lookup become an array, as do tables
// named `P.0.weight` ... `P.{K-1}.weight` that share dim, pool and pins; any
// other table is a single `table P`. Returns the statements, how each table is
// referenced, and its DSL weight name.

import { RmcError, error } from "../diagnostics/index.js";
import type { Graph, Node, WeightDecl } from "../ir/types.js";
import { weightInputs } from "../ir/types.js";
import { ONNX_CODES } from "./proto.js";

/** How an expression names a table: an array (whole, or one element) or a single table. */
export interface TableRef {
  name: string;
  index?: number;
}

/** The table statements of a model, and per table weight its reference and its DSL weight name. */
export interface TablePlan {
  lines: string[];
  refs: Map<string, TableRef>;
  rename: Map<string, string>;
  /** Table weights in declaration order (DSL names). */
  order: string[];
}

interface TableInfo {
  decl: WeightDecl;
  pool: string;
}

/** Groups the graph's tables into statements; `claim` turns a wanted name into a free DSL name. */
export function planTables(g: Graph, claim: (wanted: string) => string): TablePlan {
  const tables = g.weights.filter((w) => w.role === "table");
  const info = new Map<string, TableInfo>(tables.map((decl) => [decl.name, { decl, pool: poolOf(g, decl.name) }]));
  const groups: string[][] = [];
  const grouped = new Set<string>();
  for (const n of g.nodes.filter((x) => x.op === "embedding_bag" && x.attrs.stacked !== false)) {
    const ts = weightInputs(n);
    if (ts.some((t) => grouped.has(t))) throw inexpressible(n, "its tables are also read by another stacked lookup");
    if (!alike(ts.map((t) => info.get(t)!))) throw inexpressible(n, "its tables differ in dimension, pool, id policy or precision pin");
    groups.push(ts);
    ts.forEach((t) => grouped.add(t));
  }
  for (const group of arraysByName(
    tables.filter((t) => !grouped.has(t.name)),
    info,
  )) {
    groups.push(group);
    group.forEach((t) => grouped.add(t));
  }
  for (const t of tables) if (!grouped.has(t.name)) groups.push([t.name]);
  groups.sort((a, b) => tables.findIndex((t) => t.name === a[0]) - tables.findIndex((t) => t.name === b[0]));
  const plan: TablePlan = { lines: [], refs: new Map(), rename: new Map(), order: [] };
  for (const group of groups) addStatement(plan, group, info, g, claim);
  return plan;
}

/** One `table` statement for a group (an array when it came from a stacked lookup or an array-shaped name). */
function addStatement(plan: TablePlan, group: string[], info: Map<string, TableInfo>, g: Graph, claim: (wanted: string) => string): void {
  const first = info.get(group[0]!)!;
  const stacked = g.nodes.some((n) => n.op === "embedding_bag" && n.attrs.stacked !== false && weightInputs(n)[0] === group[0]);
  const isArray = stacked || group.length > 1;
  const name = claim(isArray ? (arrayPrefix(group) ?? "emb") : singlePrefix(group[0]!));
  const rows = group.map((t) => info.get(t)!.decl.shape[0]!);
  const args = [
    `dim: ${first.decl.shape[1]}`,
    `pool: ${first.pool}`,
    `rows: ${isArray && new Set(rows).size > 1 ? `[${rows.join(", ")}]` : rows[0]}`,
  ];
  const ids = first.decl.attrs.ids;
  if (typeof ids === "string" && ids !== "error") args.push(`ids: ${ids}`);
  const pin = first.decl.attrs.precision;
  if (typeof pin === "string") plan.lines.push(`@precision(${pin})`);
  plan.lines.push(`table ${name}${isArray ? `[${group.length}]` : ""}: embedding(${args.join(", ")})`);
  group.forEach((t, i) => {
    plan.refs.set(t, isArray ? { name, index: i } : { name });
    const dslName = isArray ? `${name}.${i}.weight` : `${name}.weight`;
    plan.rename.set(t, dslName);
    plan.order.push(dslName);
  });
}

/** The pool of the lookups reading a table (sum when none does); two different pools cannot be written. */
function poolOf(g: Graph, table: string): string {
  const pools = new Set(g.nodes.filter((n) => n.op === "embedding_bag" && weightInputs(n).includes(table)).map((n) => String(n.attrs.pool)));
  if (pools.size > 1)
    throw new RmcError(
      error(ONNX_CODES.unsupported, `table \`${table}\` is pooled both as ${[...pools].join(" and ")}; rmc's language gives each table one pool`),
    );
  return [...pools][0] ?? "sum";
}

const alike = (ts: TableInfo[]): boolean =>
  ts.every(
    (t) =>
      t.decl.shape[1] === ts[0]!.decl.shape[1] &&
      t.pool === ts[0]!.pool &&
      t.decl.attrs.ids === ts[0]!.decl.attrs.ids &&
      t.decl.attrs.precision === ts[0]!.decl.attrs.precision,
  );

/** Runs of tables named `P.0.weight` ... `P.{K-1}.weight`, in order and alike. */
function arraysByName(tables: WeightDecl[], info: Map<string, TableInfo>): string[][] {
  const byPrefix = new Map<string, string[]>();
  for (const t of tables) {
    const m = /^(.+)\.(\d+)\.weight$/.exec(t.name);
    if (m) byPrefix.set(m[1]!, [...(byPrefix.get(m[1]!) ?? []), t.name]);
  }
  return [...byPrefix]
    .filter(([p, names]) => names.length > 1 && names.every((n, i) => n === `${p}.${i}.weight`) && alike(names.map((n) => info.get(n)!)))
    .map(([, names]) => names);
}

/** `P` when the group is exactly `P.0.weight` ... `P.{K-1}.weight`. */
function arrayPrefix(group: string[]): string | undefined {
  const m = /^(.+)\.0\.weight$/.exec(group[0]!);
  return m && group.every((n, i) => n === `${m[1]}.${i}.weight`) ? m[1] : undefined;
}

/** `t` for `t.weight`, else the whole name (claim sanitises it). */
const singlePrefix = (name: string): string => /^(.+)\.weight$/.exec(name)?.[1] ?? name;

function inexpressible(n: Node, why: string): RmcError {
  return new RmcError(error(ONNX_CODES.unsupported, `the stacked lookup \`${n.id}\` cannot be written in rmc's language: ${why}`));
}

/** The DSL reference of a table in an embedding_bag call. */
export const tableExpr = (r: TableRef, whole: boolean): string => (r.index === undefined || whole ? r.name : `${r.name}[${r.index}]`);
