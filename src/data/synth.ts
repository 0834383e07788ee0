// Synthetic inputs for the data generator: raw samples as a Criteo file would
// hold them (integer counts for dense features, Zipf-distributed hex ids for
// sparse ones), plus the two ways out of that raw form — a Batch, through the
// same BatchBuilder the TSV reader uses, and TSV text.

import { Rng, hashSeed } from "../util/rng.js";
import { IdPermutation, ZipfSampler } from "../util/zipf.js";
import type { Batch } from "./batch.js";
import { BatchBuilder, type DenseMode } from "./builder.js";
import type { DataSchema } from "./schema.js";

/** How synthetic inputs are drawn. */
export interface SynthOptions {
  /** Zipf exponent of id frequencies (default 1.05). */
  zipf?: number;
  /** Ids per non-empty bag: a fixed count or an inclusive range (default 1, one-hot as in Criteo). */
  idsPerBag?: number | [number, number];
  /** Probability that a dense field is missing (default 0.1). */
  denseMissing?: number;
  /** Probability that a bag is empty (default 0). */
  sparseMissing?: number;
}

/**
 * Raw samples, sample-major. Dense values are the file's values (NaN =
 * missing); ids are the file's ids, each with a weight (1 for plain bags).
 */
export interface RawSamples {
  n: number;
  /** `dense[i * denseColumns + c]`. */
  dense: Float64Array;
  /** `lengths[i * sparseColumns + c]`: ids of sample i in sparse column c. */
  lengths: Int32Array;
  /** All ids, in (sample, column) order. */
  ids: Float64Array;
  /** One weight per id. */
  weights: Float64Array;
}

/** Per-column log-scale of synthetic dense counts: depends on the column only, so it is the same for every seed and chunk. */
const denseScale = (column: number): number => 0.5 + (2.5 * hashSeed("synth-dense-scale", column)) / 4294967296;

/** Draws raw samples for one schema; build it once and call `sample` per chunk. */
export class InputSampler {
  private readonly zipf: ZipfSampler[];
  private readonly perms: IdPermutation[];
  private readonly scales: Float64Array;
  private readonly minIds: number;
  private readonly maxIds: number;
  private readonly denseMissing: number;
  private readonly sparseMissing: number;

  constructor(
    readonly schema: DataSchema,
    opts: SynthOptions = {},
  ) {
    const s = opts.zipf ?? 1.05;
    this.zipf = schema.sparse.map((f) => new ZipfSampler(f.rows, s));
    this.perms = schema.sparse.map((f) => new IdPermutation(f.table, f.rows));
    this.scales = Float64Array.from({ length: schema.denseColumns }, (_, c) => denseScale(c));
    const ids = opts.idsPerBag ?? 1;
    [this.minIds, this.maxIds] = typeof ids === "number" ? [ids, ids] : ids;
    if (!(Number.isInteger(this.minIds) && Number.isInteger(this.maxIds) && this.minIds >= 0 && this.maxIds >= this.minIds))
      throw new RangeError(`idsPerBag must be a count or a range [min, max] of counts, got ${JSON.stringify(ids)}`);
    this.denseMissing = opts.denseMissing ?? 0.1;
    this.sparseMissing = opts.sparseMissing ?? 0;
  }

  /** Draws `n` samples, consuming `rng` sample by sample (so chunking does not change the stream). */
  sample(rng: Rng, n: number): RawSamples {
    const { denseColumns, sparseColumns } = this.schema;
    const dense = new Float64Array(n * denseColumns);
    const lengths = new Int32Array(n * sparseColumns);
    let ids = new Float64Array(Math.max(16, n * sparseColumns * Math.max(1, this.maxIds)));
    let weights = new Float64Array(ids.length);
    let count = 0;
    const u01 = (): number => rng.next();
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < denseColumns; c++)
        dense[i * denseColumns + c] = rng.next() < this.denseMissing ? NaN : Math.round(Math.expm1(Math.abs(rng.normal()) * this.scales[c]!));
      for (let c = 0; c < sparseColumns; c++) {
        if (rng.next() < this.sparseMissing) continue;
        const len = this.minIds === this.maxIds ? this.minIds : this.minIds + rng.int(this.maxIds - this.minIds + 1);
        if (count + len > ids.length) [ids, weights] = [grow(ids, count + len), grow(weights, count + len)];
        const weighted = this.schema.sparse[c]!.weighted;
        for (let k = 0; k < len; k++, count++) {
          ids[count] = this.perms[c]!.rankToId(this.zipf[c]!.sample(u01));
          weights[count] = weighted ? Math.round((0.5 + rng.next()) * 1000) / 1000 : 1;
        }
        lengths[i * sparseColumns + c] = len;
      }
    }
    return { n, dense, lengths, ids: ids.slice(0, count), weights: weights.slice(0, count) };
  }
}

function grow(a: Float64Array<ArrayBuffer>, need: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}

/**
 * The Batch the TSV reader would produce for these samples, through the same
 * preprocessing code. `labels`, when given, holds one array per schema label.
 */
export function rawToBatch(schema: DataSchema, raw: RawSamples, opts: { dense?: DenseMode; labels?: ArrayLike<number>[] } = {}): Batch {
  const builder = new BatchBuilder(schema, Math.max(1, raw.n), opts.labels !== undefined, opts.dense ?? "log1p");
  const { denseColumns, sparseColumns } = schema;
  let at = 0;
  for (let i = 0; i < raw.n; i++) {
    opts.labels?.forEach((l, o) => builder.setLabel(o, l[i]!));
    for (let c = 0; c < denseColumns; c++) builder.setDense(c, raw.dense[i * denseColumns + c]!);
    for (let c = 0; c < sparseColumns; c++) {
      const len = raw.lengths[i * sparseColumns + c]!;
      for (let k = 0; k < len; k++, at++) builder.addId(c, raw.ids[at]!, raw.weights[at]!);
    }
    builder.endSample();
  }
  return builder.build();
}

/** An id as Criteo writes it: lowercase hex, at least 8 digits. */
export const formatId = (id: number): string => id.toString(16).padStart(8, "0");

/** TSV lines (each ending in a newline) for these samples; `labels` adds the label columns. */
export function rawToTsv(schema: DataSchema, raw: RawSamples, labels?: ArrayLike<number>[]): string {
  const { denseColumns, sparseColumns } = schema;
  const lines = new Array<string>(raw.n);
  const fields: string[] = [];
  let at = 0;
  for (let i = 0; i < raw.n; i++) {
    fields.length = 0;
    if (labels) for (const l of labels) fields.push(l[i] ? "1" : "0");
    for (let c = 0; c < denseColumns; c++) {
      const v = raw.dense[i * denseColumns + c]!;
      fields.push(Number.isNaN(v) ? "" : String(v));
    }
    for (let c = 0; c < sparseColumns; c++) {
      const len = raw.lengths[i * sparseColumns + c]!;
      const weighted = schema.sparse[c]!.weighted;
      let bag = "";
      for (let k = 0; k < len; k++, at++) {
        if (k) bag += ",";
        bag += formatId(raw.ids[at]!);
        if (weighted) bag += `:${raw.weights[at]!}`;
      }
      fields.push(bag);
    }
    lines[i] = fields.join("\t");
  }
  return raw.n ? lines.join("\n") + "\n" : "";
}
