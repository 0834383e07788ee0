// Backends, before scheduling (both targets): tables whose rows live in a
// store (place-tables' `placement=file|redis`) are read by the kernels
// through a staging table — `stagingRows` rows at the table's precision,
// which the runtime fills before each call with the rows that call's ids
// name, remapping the ids to them (src/runtime/staging.ts). So the backends
// compile the graph with each staged logical table replaced by one whole
// table `<name>.staging`, and no kernel needs new gather code; the artifact
// keeps every part's rows in the store format instead (backends/store.ts).

import { RmcError, error } from "../src/diagnostics/index.js";
import { precisionOf } from "../src/ir/attrs.js";
import { nodeTables, type LogicalTable } from "../src/ir/tables.js";
import type { Graph, Node, WeightDecl } from "../src/ir/types.js";
import { isWeightRef, refName, weightRef } from "../src/ir/types.js";

/** Rows each staged table holds per call, unless the compile asks for another number. */
export const DEFAULT_STAGING_ROWS = 16384;

/** A table the kernels read through a staging area, and where its rows really are. */
export interface StagedTable {
  /** The logical table's name (its parts' `part_of`, or its weight's name). */
  table: string;
  /** The staging table's weight name in the staged graph. */
  staging: string;
  rows: number;
  dim: number;
  precision: string;
  /** Rows of the staging area: the staging capacity, or the table's rows when it has fewer. */
  stagingRows: number;
  /** Its parts, in the table's order, with their placement (`memory` for a hot part that stays in memory). */
  parts: { decl: WeightDecl; placement: "memory" | "file" | "redis" }[];
}

const placementOf = (d: WeightDecl): "memory" | "file" | "redis" =>
  d.attrs.placement === "file" || d.attrs.placement === "redis" ? d.attrs.placement : "memory";

/** The graph the kernels are compiled from, and the staged tables; the same graph when nothing is placed outside memory. */
export function stageGraph(graph: Graph, stagingRows: number = DEFAULT_STAGING_ROWS): { graph: Graph; staged: StagedTable[] } {
  const decls = new Map(graph.weights.map((w) => [w.name, w]));
  const staged = new Map<string, StagedTable>();
  const nodes: Node[] = graph.nodes.map((n) => {
    if (n.op !== "embedding_bag") return n;
    const tables = nodeTables(n, decls);
    if (!tables.some((t) => t.parts.some((p) => placementOf(p.decl) !== "memory"))) return n;
    const operands: string[] = [];
    const counts: number[] = [];
    for (const t of tables) {
      if (!t.parts.some((p) => placementOf(p.decl) !== "memory")) {
        operands.push(...t.parts.map((p) => weightRef(p.decl.name)));
        counts.push(t.parts.length);
        continue;
      }
      const s = staged.get(t.name) ?? stagedTable(t, n, stagingRows);
      staged.set(t.name, s);
      operands.push(weightRef(s.staging));
      counts.push(1);
    }
    const values = n.inputs.filter((r) => !isWeightRef(r));
    const attrs = { ...n.attrs };
    if (counts.every((c) => c === 1)) delete attrs.parts;
    else attrs.parts = counts;
    return { ...n, inputs: [...values, ...operands], attrs };
  });
  if (staged.size === 0) return { graph, staged: [] };
  const gone = new Set([...staged.values()].flatMap((s) => s.parts.map((p) => p.decl.name)));
  const stagingDecls: WeightDecl[] = [...staged.values()].map((s) => {
    const head = s.parts[0]!.decl;
    return {
      name: s.staging,
      role: "table",
      dtype: head.dtype,
      shape: [s.stagingRows, s.dim],
      attrs: {
        ...(s.precision !== "fp32" ? { precision: s.precision } : {}),
        ...(head.attrs.row_range ? { row_range: head.attrs.row_range } : {}),
        staging: s.table,
      },
      span: head.span,
    };
  });
  const weights = [...graph.weights.filter((w) => !gone.has(w.name)), ...stagingDecls];
  // A part read by a node that is not staged (none today) would lose its declaration: refuse rather than miscompile.
  for (const n of nodes)
    for (const r of n.inputs) if (isWeightRef(r) && gone.has(refName(r))) throw internal(`@${refName(r)} is staged but still read by %${n.id}`);
  return { graph: { ...graph, nodes, weights }, staged: [...staged.values()] };
}

function stagedTable(t: LogicalTable, reader: Node, stagingRows: number): StagedTable {
  const precisions = new Set(t.parts.map((p) => precisionOf(p.decl, reader)));
  if (precisions.size > 1 || t.layout === "cols")
    throw new RmcError(
      error(
        "E1816",
        `table ${t.name} is placed outside memory but its parts are ${t.layout === "cols" ? "column ranges" : `stored at ${[...precisions].join(" and ")}`}: a staged table holds rows of one format`,
        t.parts[0]!.decl.span,
        "give its parts one precision, or keep it in memory",
      ),
    );
  return {
    table: t.name,
    staging: `${t.name}.staging`,
    rows: t.rows,
    dim: t.dim,
    precision: [...precisions][0]!,
    stagingRows: Math.min(stagingRows, t.rows),
    parts: t.parts.map((p) => ({ decl: p.decl, placement: placementOf(p.decl) })),
  };
}

const internal = (message: string): RmcError => new RmcError(error("E1816", `internal: ${message}`));
