// The data schema: how a model's graph maps onto the columns of a Criteo-style
// TSV file (labels, then dense features, then sparse features). The reader,
// the synthetic generator and the CLI's help/error texts all read it, so the
// column layout is decided in exactly one place.

import { RmcError } from "../diagnostics/index.js";
import { type Graph, type WeightDecl, refName, isValueRef, isWeightRef } from "../ir/types.js";
import { logicalTables } from "../ir/tables.js";

/** A dense graph input and where its columns sit among the dense columns. */
export interface DenseField {
  input: string;
  width: number;
  /** Index of its first column among the dense columns (0-based). */
  column: number;
}

/** One bag feature of a bags input: one TSV column. */
export interface SparseField {
  input: string;
  /** Feature index within its input. */
  feature: number;
  weighted: boolean;
  /** Rows of the table that reads this feature. */
  rows: number;
  /**
   * The table's declared `ids:` policy, if it declares one. Data files hash
   * ids into rows (the `modulo` policy, as Criteo's raw ids need) unless the
   * table asks for `clamp` or `error`: then the reader keeps the raw id for
   * that policy to judge.
   */
  ids?: "error" | "clamp" | "modulo";
  /** Name of that table (the weight), or `input:feature` when no table reads it. */
  table: string;
  /** Index among the sparse columns (0-based). */
  column: number;
}

/** A bags input and the range of sparse columns it owns. */
export interface BagsInputField {
  name: string;
  count: number;
  weighted: boolean;
  /** Index of its first feature among the sparse columns. */
  column: number;
}

/** The column layout of a data file for one model. */
export interface DataSchema {
  /** Output names, one label column each, in order. */
  labels: string[];
  dense: DenseField[];
  sparse: SparseField[];
  bags: BagsInputField[];
  denseColumns: number;
  sparseColumns: number;
  /** Columns of a labeled line (labels + dense + sparse). */
  labeledColumns: number;
  /** Columns of an unlabeled line (dense + sparse). */
  unlabeledColumns: number;
}

/** Rows assumed for a feature that no table reads: ids are kept as they are, up to int32. */
export const UNBOUNDED_ROWS = 2 ** 31 - 1;

/** Derives the TSV column layout from a model graph. */
export function dataSchema(graph: Graph): DataSchema {
  const tables = tablesByFeature(graph);
  const dense: DenseField[] = [];
  const sparse: SparseField[] = [];
  const bags: BagsInputField[] = [];
  let denseColumns = 0;
  for (const input of graph.inputs) {
    const t = input.type;
    if (t.kind === "bags") {
      bags.push({ name: input.name, count: t.count, weighted: t.weighted, column: sparse.length });
      for (let f = 0; f < t.count; f++) {
        const table = tables.get(`${input.name}\u0000${f}`);
        sparse.push({
          input: input.name,
          feature: f,
          weighted: t.weighted,
          rows: table ? table.rows : UNBOUNDED_ROWS,
          ...(table?.ids ? { ids: table.ids } : {}),
          table: table ? table.name : `${input.name}:${f}`,
          column: sparse.length,
        });
      }
      continue;
    }
    const dims = t.shape.slice(1);
    if (dims.some((d) => typeof d !== "number"))
      throw new RmcError(
        `input ${input.name}: only the first dimension may be the batch size to read it from a data file, got ${t.dtype}[${t.shape.join(",")}]`,
        "E0700",
      );
    const width = (dims as number[]).reduce((a, b) => a * b, 1);
    dense.push({ input: input.name, width, column: denseColumns });
    denseColumns += width;
  }
  const labels = graph.outputs.map((o) => o.name);
  return {
    labels,
    dense,
    sparse,
    bags,
    denseColumns,
    sparseColumns: sparse.length,
    labeledColumns: labels.length + denseColumns + sparse.length,
    unlabeledColumns: denseColumns + sparse.length,
  };
}

/** For each `input\0feature`, the smallest table reading it (several tables may share a feature); split tables count whole. */
function tablesByFeature(graph: Graph): Map<string, { name: string; rows: number; ids?: SparseField["ids"] }> {
  const weights = new Map(graph.weights.map((w) => [w.name, w]));
  const out = new Map<string, { name: string; rows: number; ids?: SparseField["ids"] }>();
  for (const node of graph.nodes) {
    if (node.op !== "embedding_bag") continue;
    const source = node.inputs.find(isValueRef);
    const features = node.attrs.bags;
    if (source === undefined || !Array.isArray(features)) continue;
    const decls = node.inputs.filter(isWeightRef).map((r) => weights.get(refName(r)));
    if (decls.some((d) => d === undefined)) continue;
    const tables = logicalTables(
      features as number[],
      Array.isArray(node.attrs.parts) ? (node.attrs.parts as number[]) : undefined,
      decls as WeightDecl[],
    );
    if (typeof tables === "string") continue;
    for (const table of tables) {
      const key = `${refName(source)}\u0000${table.feature}`;
      const seen = out.get(key);
      const ids = table.ids === "error" || table.ids === "clamp" || table.ids === "modulo" ? table.ids : undefined;
      if (!seen || table.rows < seen.rows) out.set(key, { name: table.name, rows: table.rows, ...(ids ? { ids } : {}) });
    }
  }
  return out;
}

/** The TSV name of a dense column (`I1`, `I2`, ... as in Criteo's documentation). */
export const denseColumnName = (column: number): string => `I${column + 1}`;
/** The TSV name of a sparse column (`C1`, `C2`, ...). */
export const sparseColumnName = (column: number): string => `C${column + 1}`;

/** `C3 (sparse feature 2)`: the column and the model input behind it, for error messages. */
export function describeSparseField(f: SparseField): string {
  return `${sparseColumnName(f.column)} (${f.input} feature ${f.feature})`;
}

/** `I5 (dense[4])`: the column and the model input element behind it. */
export function describeDenseColumn(schema: DataSchema, column: number): string {
  const field = schema.dense.find((d) => column >= d.column && column < d.column + d.width);
  const inner = field ? (field.width === 1 ? field.input : `${field.input}[${column - field.column}]`) : "?";
  return `${denseColumnName(column)} (${inner})`;
}

/** "40 columns: label ctr, 13 dense (dense), 26 sparse (sparse)". */
export function describeSchema(schema: DataSchema): string {
  const parts: string[] = [];
  if (schema.labels.length) parts.push(`${schema.labels.length === 1 ? "label" : "labels"} ${schema.labels.join(", ")}`);
  if (schema.denseColumns) parts.push(`${schema.denseColumns} dense (${schema.dense.map((d) => d.input).join(", ")})`);
  const plain = schema.bags.filter((b) => !b.weighted);
  const weighted = schema.bags.filter((b) => b.weighted);
  const count = (bs: BagsInputField[]): number => bs.reduce((a, b) => a + b.count, 0);
  if (plain.length) parts.push(`${count(plain)} sparse (${plain.map((b) => b.name).join(", ")})`);
  if (weighted.length) parts.push(`${count(weighted)} weighted sparse (${weighted.map((b) => b.name).join(", ")})`);
  return `${schema.labeledColumns} columns: ${parts.join(", ")}`;
}

/** "label + 13 dense + 26 sparse": the short form used in field-count errors. */
export function describeColumnCounts(schema: DataSchema, labeled: boolean): string {
  const parts: string[] = [];
  if (labeled && schema.labels.length) parts.push(schema.labels.length === 1 ? "label" : `${schema.labels.length} labels`);
  parts.push(`${schema.denseColumns} dense`, `${schema.sparseColumns} sparse`);
  return parts.join(" + ");
}
