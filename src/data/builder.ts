// Turning samples, one at a time, into a Batch: the single place where data
// preprocessing happens (dense log1p, missing = 0, ids reduced to table rows,
// KJT layout). Both the TSV reader and the synthetic generator feed samples
// through it, so a generated batch and the same rows read back cannot differ.

import type { Bags, Batch } from "./batch.js";
import { dict } from "../util/records.js";
import type { DataSchema } from "./schema.js";

/** Dense preprocessing: `log1p` is log(1 + max(x, 0)) as in facebookresearch/dlrm; `none` keeps x. */
export type DenseMode = "log1p" | "none";

/** The model-side value of a raw dense field; NaN stands for a missing (empty) field. */
export function preprocessDense(raw: number, mode: DenseMode): number {
  if (Number.isNaN(raw)) return 0;
  return mode === "log1p" ? Math.log1p(raw > 0 ? raw : 0) : raw;
}

/** A raw id (non-negative integer below 2^53) reduced to a row of a table with `rows` rows. */
export const idToRow = (id: number, rows: number): number => id % rows;

/** A growable Int32Array/Float32Array pair for one feature's ids and weights. */
class IdColumn {
  values = new Int32Array(64);
  weights: Float32Array | null;
  length = 0;
  constructor(weighted: boolean) {
    this.weights = weighted ? new Float32Array(64) : null;
  }
  push(row: number, weight: number): void {
    if (this.length === this.values.length) {
      const grown = new Int32Array(this.length * 2);
      grown.set(this.values);
      this.values = grown;
      if (this.weights) {
        const w = new Float32Array(this.length * 2);
        w.set(this.weights);
        this.weights = w;
      }
    }
    this.values[this.length] = row;
    if (this.weights) this.weights[this.length] = weight;
    this.length++;
  }
}

/**
 * Accumulates up to `capacity` samples and emits them as a Batch. Callers set
 * every field of the current sample (labels, dense, ids), then `endSample()`.
 */
export class BatchBuilder {
  /** Samples completed so far in the current batch. */
  size = 0;
  private readonly dense: Float32Array[];
  private readonly denseInput: Int32Array;
  private readonly denseOffset: Int32Array;
  private readonly labels: Float32Array[];
  private readonly ids: IdColumn[];
  private readonly lengths: Int32Array[];

  constructor(
    readonly schema: DataSchema,
    readonly capacity: number,
    readonly labeled: boolean,
    readonly denseMode: DenseMode = "log1p",
  ) {
    this.dense = schema.dense.map((d) => new Float32Array(capacity * d.width));
    this.denseInput = new Int32Array(schema.denseColumns);
    this.denseOffset = new Int32Array(schema.denseColumns);
    schema.dense.forEach((d, i) => {
      for (let k = 0; k < d.width; k++) {
        this.denseInput[d.column + k] = i;
        this.denseOffset[d.column + k] = k;
      }
    });
    this.labels = labeled ? schema.labels.map(() => new Float32Array(capacity)) : [];
    this.ids = schema.sparse.map((f) => new IdColumn(f.weighted));
    this.lengths = schema.sparse.map(() => new Int32Array(capacity));
  }

  get full(): boolean {
    return this.size >= this.capacity;
  }

  /** Label `output` (index into schema.labels) of the current sample. */
  setLabel(output: number, value: number): void {
    this.labels[output]![this.size] = value;
  }

  /** Dense column `column` (among all dense columns) of the current sample, from its raw value (NaN = missing). */
  setDense(column: number, raw: number): void {
    const i = this.denseInput[column]!;
    this.dense[i]![this.size * this.schema.dense[i]!.width + this.denseOffset[column]!] = preprocessDense(raw, this.denseMode);
  }

  /** Appends an already reduced row id (and its weight) to sparse column `column`'s bag. */
  addRow(column: number, row: number, weight = 1): void {
    this.ids[column]!.push(row, weight);
    this.lengths[column]![this.size]!++;
  }

  /** Appends a raw numeric id, reducing it to the feature's table rows. */
  addId(column: number, id: number, weight = 1): void {
    this.addRow(column, idToRow(id, this.schema.sparse[column]!.rows), weight);
  }

  endSample(): void {
    this.size++;
  }

  /** Emits the completed samples as a Batch and starts a new, empty one. */
  build(): Batch {
    const n = this.size;
    // Input names are the model's: no prototype, so an input called `__proto__` is an input like any other.
    const inputs: Batch["inputs"] = dict();
    this.schema.dense.forEach((d, i) => {
      inputs[d.input] = this.dense[i]!.slice(0, n * d.width);
    });
    for (const b of this.schema.bags) inputs[b.name] = this.buildBags(b.column, b.count, b.weighted, n);
    const batch: Batch = { size: n, inputs };
    if (this.labeled) batch.labels = Object.fromEntries(this.schema.labels.map((name, i) => [name, this.labels[i]!.slice(0, n)]));
    this.size = 0;
    for (const l of this.lengths) l.fill(0);
    for (const c of this.ids) c.length = 0;
    return batch;
  }

  private buildBags(first: number, count: number, weighted: boolean, n: number): Bags {
    const lengths = new Int32Array(count * n);
    let total = 0;
    for (let f = 0; f < count; f++) {
      lengths.set(this.lengths[first + f]!.subarray(0, n), f * n);
      total += this.ids[first + f]!.length;
    }
    const values = new Int32Array(total);
    const weights = weighted ? new Float32Array(total) : undefined;
    let at = 0;
    for (let f = 0; f < count; f++) {
      const col = this.ids[first + f]!;
      values.set(col.values.subarray(0, col.length), at);
      if (weights) weights.set(col.weights!.subarray(0, col.length), at);
      at += col.length;
    }
    return weights ? { count, batch: n, lengths, values, weights } : { count, batch: n, lengths, values };
  }
}
