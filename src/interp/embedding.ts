// The reference embedding_bag kernel: for every table t and sample b, pool the
// rows named by sample b's bag of feature `bags[t]` (KJT layout, see
// src/data/batch.ts). Tables may be huge and lazily held, so rows are read one
// at a time with `Tensor.readRow` (in-memory DenseTensors are indexed in
// place, which reads the same numbers without a copy per row). A table split
// by split-tables is read through its parts (src/ir/tables.ts): each id is
// routed to the part holding its row, or a row is assembled from its column
// parts, and pooling then runs exactly as for the whole table.

import { RmcError, error } from "../diagnostics/index.js";
import { bagOffsets } from "../data/batch.js";
import { DenseTensor, type Tensor } from "../weights/store.js";
import { type LogicalTable, logicalTables, routeRow } from "../ir/tables.js";
import { type BoundWeight, type KernelArgs, bagsOperand, sampleWidth } from "./operands.js";

const f32 = Math.fround;

/** Reads table rows: `row(id)` gives an array in which row `id` starts at `base` (set by that call; no allocation per id). */
interface RowReader {
  rows: number;
  dim: number;
  base: number;
  row(id: number): Float32Array;
}

/** A whole table: in place from a DenseTensor's data, else copied by `readRow` into a scratch row. */
function tensorReader(t: Tensor): RowReader {
  const [rows, dim] = t.shape as [number, number];
  if (t instanceof DenseTensor)
    return {
      rows,
      dim,
      base: 0,
      row(id) {
        this.base = id * dim;
        return t.data;
      },
    };
  const scratch = new Float32Array(dim);
  return { rows, dim, base: 0, row: (id) => (t.readRow(id, scratch, 0), scratch) };
}

/** A logical table over its bound parts: rows routed to the part that holds them, or assembled from column parts. */
function tableReader(table: LogicalTable, parts: readonly BoundWeight[]): RowReader {
  if (table.layout === "whole") return tensorReader(parts[0]!.tensor);
  const readers = parts.map((p) => tensorReader(p.tensor));
  const scratch = new Float32Array(table.dim);
  if (table.layout === "cols")
    return {
      rows: table.rows,
      dim: table.dim,
      base: 0,
      row(id) {
        readers.forEach((r, i) => {
          const data = r.row(id);
          scratch.set(data.subarray(r.base, r.base + r.dim), table.parts[i]!.start);
        });
        return scratch;
      },
    };
  return {
    rows: table.rows,
    dim: table.dim,
    base: 0,
    row(id) {
      const where = routeRow(table, id)!;
      const r = readers[where.part]!;
      const data = r.row(where.row);
      this.base = r.base;
      return data;
    },
  };
}

/**
 * Pools one bag into `out[o .. o+dim)` (which starts zeroed). Ids are added
 * in bag order, rounding after every add; a weighted id contributes
 * `fround(w * row)`.
 *  - sum:  Σ (w·)row.
 *  - mean: Σ (w·)row, then divided by the number of ids (not by Σ w: PyTorch
 *          rejects per_sample_weights with mode="mean", so this is our choice).
 *  - max:  element-wise max over the (w·)rows, starting from the first row.
 * An empty bag pools to zeros whatever the mode. Returns the position of the
 * first out-of-range id (before anything is read for it), or -1.
 */
function poolBag(
  pool: string,
  r: RowReader,
  ids: Int32Array,
  weights: Float32Array | undefined,
  start: number,
  end: number,
  out: Float32Array,
  o: number,
): number {
  const dim = r.dim;
  const max = pool === "max";
  for (let p = start; p < end; p++) {
    const id = ids[p]!;
    if (id < 0 || id >= r.rows) return p;
    const row = r.row(id);
    const base = r.base;
    const w = weights ? weights[p]! : 1;
    const first = p === start;
    for (let d = 0; d < dim; d++) {
      // fround(1 * x) === x, so unweighted bags are unaffected by `w`.
      const v = f32(w * row[base + d]!);
      if (max) out[o + d] = first ? v : Math.max(out[o + d]!, v);
      else out[o + d] = f32(out[o + d]! + v);
    }
  }
  if (pool === "mean" && end > start) {
    const n = end - start;
    for (let d = 0; d < dim; d++) out[o + d] = f32(out[o + d]! / n);
  }
  return -1;
}

/**
 * embedding_bag: output `[B, T, D]` (stacked) or `[B, D]` (one table), sample-major.
 * With `only`, just those logical tables (by index) are pooled, into their
 * columns (zeroed first); the other columns keep what `a.out` holds — the
 * precision search's incremental evaluation of a one-table change, which
 * also passes the bags' `offsets` (bagOffsets) it keeps per batch.
 */
export function embeddingBagKernel(a: KernelArgs, only?: ReadonlySet<number>, offsets?: Int32Array): void {
  const bags = bagsOperand(a, 0);
  const feats = a.attrs.bags as number[];
  const pool = a.attrs.pool as string;
  offsets ??= bagOffsets(bags);
  const outW = sampleWidth(a.outType);
  const tables = logicalTables(
    feats,
    Array.isArray(a.attrs.parts) ? (a.attrs.parts as number[]) : undefined,
    a.weights.map((w) => w.decl),
  );
  if (typeof tables === "string") throw new Error(`internal: embedding_bag %${a.node.id} passed its type check: ${tables}`);
  tables.forEach((table, t) => {
    if (only && !only.has(t)) return;
    if (only) for (let b = 0; b < a.batch; b++) a.out.fill(0, b * outW + t * table.dim, b * outW + (t + 1) * table.dim);
    const reader = tableReader(table, a.weights.slice(table.first, table.first + table.parts.length));
    const f = table.feature;
    const ids = applyIdPolicy(bags.values, table.ids, reader.rows);
    for (let b = 0; b < a.batch; b++) {
      const bag = f * a.batch + b;
      const bad = poolBag(pool, reader, ids, bags.weights, offsets[bag]!, offsets[bag + 1]!, a.out, b * outW + t * reader.dim);
      if (bad >= 0) throw badId(a, table.name, f, b, ids[bad]!, reader.rows);
    }
  });
}

/**
 * The ids a table reads under its `ids` policy: `error` (default) leaves them
 * for poolBag to reject, `clamp` pins them into [0, rows), `modulo` wraps them
 * (((id % rows) + rows) % rows, so negative ids wrap too). The runtime applies
 * the same rule before ids reach a backend.
 */
function applyIdPolicy(values: Int32Array, policy: string | undefined, rows: number): Int32Array {
  if (policy === "clamp") return values.map((id) => (id < 0 ? 0 : id >= rows ? rows - 1 : id));
  if (policy === "modulo") return values.map((id) => ((id % rows) + rows) % rows);
  return values;
}

function badId(a: KernelArgs, table: string, feature: number, sample: number, id: number, rows: number): RmcError {
  const input = a.node.inputs[0] ?? "?";
  return new RmcError(
    error(
      "E1506",
      `embedding_bag %${a.node.id}: id ${id} (input ${input}, feature ${feature}, sample ${sample}) is out of range for table @${table} with ${rows} rows (valid ids 0..${rows - 1})`,
      a.node.span,
      "ids must already be reduced to the table's row range (hash or modulo them when reading the data)",
    ),
  );
}
