// The reference embedding_bag kernel: for every table t and sample b, pool the
// rows named by sample b's bag of feature `bags[t]` (KJT layout, see
// src/data/batch.ts). Tables may be huge and lazily held, so rows are read one
// at a time with `Tensor.readRow` (in-memory DenseTensors are indexed in
// place, which reads the same numbers without a copy per row).

import { RmcError, error } from "../diagnostics.js";
import { bagOffsets } from "../data/batch.js";
import { DenseTensor, type Tensor } from "../weights/store.js";
import { type BoundWeight, type KernelArgs, bagsOperand, sampleWidth } from "./operands.js";

const f32 = Math.fround;

/** Reads table rows: in place from a DenseTensor's data, else copied by `readRow` into `scratch`. */
interface RowReader {
  rows: number;
  dim: number;
  inMemory: Float32Array | undefined;
  lazy: Tensor;
  scratch: Float32Array;
}

function rowReader(table: BoundWeight): RowReader {
  const [rows, dim] = table.tensor.shape as [number, number];
  const t = table.tensor;
  return { rows, dim, inMemory: t instanceof DenseTensor ? t.data : undefined, lazy: t, scratch: new Float32Array(dim) };
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
function poolBag(pool: string, r: RowReader, ids: Int32Array, weights: Float32Array | undefined, start: number, end: number, out: Float32Array, o: number): number {
  const dim = r.dim;
  const max = pool === "max";
  for (let p = start; p < end; p++) {
    const id = ids[p]!;
    if (id < 0 || id >= r.rows) return p;
    let row = r.inMemory;
    let base = id * dim;
    if (row === undefined) {
      r.lazy.readRow(id, r.scratch, 0);
      row = r.scratch;
      base = 0;
    }
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

/** embedding_bag: output `[B, T, D]` (stacked) or `[B, D]` (one table), sample-major. */
export function embeddingBagKernel(a: KernelArgs): void {
  const bags = bagsOperand(a, 0);
  const feats = a.attrs.bags as number[];
  const pool = a.attrs.pool as string;
  const offsets = bagOffsets(bags);
  const outW = sampleWidth(a.outType);
  for (let t = 0; t < a.weights.length; t++) {
    const table = a.weights[t]!;
    const reader = rowReader(table);
    const f = feats[t]!;
    const ids = applyIdPolicy(bags.values, table.decl.attrs.ids as string | undefined, reader.rows);
    for (let b = 0; b < a.batch; b++) {
      const bag = f * a.batch + b;
      const bad = poolBag(pool, reader, ids, bags.weights, offsets[bag]!, offsets[bag + 1]!, a.out, b * outW + t * reader.dim);
      if (bad >= 0) throw badId(a, table.name, f, b, ids[bad]!, reader.rows);
    }
  }
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
