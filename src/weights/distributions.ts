// The synthetic weight recipes behind `--init gaussian|trained`. init.ts
// applies them to a graph; this file says exactly what values come out.
//
// Seeding. Every weight draws from its own stream, seeded by
// hashSeed("rmc.init", dist, seed, weightName). A table row draws from a fresh
// Rng seeded by hashSeed(tableSeed, row), so any row can be generated alone,
// in any order, with the same values. Shapes: linear weights [out, in]
// (fan_out = shape[0], fan_in = product of the rest; DCN cross W [d, d], up
// [d, r] and down [r, d] are treated the same way), biases [out], tables
// [rows, dim].
//
// gaussian (facebookresearch/dlrm's initialisation, normal tables):
//   weight ~ N(0, sqrt(2 / (fan_in + fan_out)))          (Xavier-normal)
//   bias   ~ N(0, sqrt(1 / out))
//   table  ~ N(0, 1 / sqrt(dim))
//
// trained (what weights of a trained recommendation model look like: heavy
// tails, outlier channels, frequency-dependent row norms; low-precision
// results are only credible on weights like these):
//   T      = Student's t with nu = 4, scaled to unit variance
//   weight = T * sqrt(2 / (fan_in + fan_out)), then max(1, round(2% of fan_in))
//            input columns (chosen by the weight's stream) are multiplied by
//            a factor drawn uniformly from [6, 10], one factor per column.
//   bias   = T * 0.1 * sqrt(1 / out)
//   table  row i, with rank = IdPermutation(tableName, rows).idToRank(i)
//            (0 = the most frequent id in the synthetic data, see zipf.ts):
//            freq  = 0.25 + 0.75 * (1 - ln(1 + rank) / ln(1 + rows))
//            scale = (1 / sqrt(dim)) * freq * exp(0.25 * z), z ~ N(0, 1) per row
//            value = T * scale * outlier[d], where outlier[d] is 1 except for
//            1 (dim < 16) or 2 (dim >= 16) dimensions per table, chosen by
//            the table's stream, with factors uniform in [6, 10].
// Changing any of this changes generated files: bump INIT_RECIPE_VERSION.

import type { WeightDecl } from "../ir/types.js";
import { Rng, hashSeed } from "../util/rng.js";
import { IdPermutation } from "../util/zipf.js";
import type { RowGenerator } from "./lazy.js";
import { numElements, rowLength } from "./store.js";

/** Names of the synthetic weight distributions. */
export const INIT_DISTS = ["gaussian", "trained"] as const;
/** One of INIT_DISTS. */
export type InitDist = (typeof INIT_DISTS)[number];

/** What to generate: the recipe and the seed. */
export interface InitOptions {
  seed: number;
  dist: InitDist;
}

/** Version of the recipes above, recorded in file metadata. */
export const INIT_RECIPE_VERSION = "1";

const TRAINED_NU = 4;
const OUTLIER_COLUMN_FRACTION = 0.02;
const OUTLIER_FACTOR_MIN = 6;
const OUTLIER_FACTOR_SPAN = 4;
const TRAINED_BIAS_SCALE = 0.1;
const ROW_JITTER = 0.25;

/** The seed of one weight's stream. */
export const weightSeed = (opts: InitOptions, name: string): number => hashSeed("rmc.init", opts.dist, opts.seed, name);

/**
 * Student's t with `nu` = 4 degrees of freedom, unit variance. chi-square with
 * 4 degrees of freedom is -2 ln(u1 u2), so one normal and two uniforms suffice
 * (Rng.studentT sums nu squared normals; this is several times faster, which
 * matters when writing tables of hundreds of millions of values).
 */
export function studentT4(rng: Rng): number {
  let chi2: number;
  do chi2 = -2 * Math.log((1 - rng.next()) * (1 - rng.next()));
  while (!(chi2 > 0));
  return (rng.normal() / Math.sqrt(chi2 / TRAINED_NU)) * Math.sqrt((TRAINED_NU - 2) / TRAINED_NU);
}

/** fan_out and fan_in of a weight, by its shape. */
function fans(shape: readonly number[]): { fanOut: number; fanIn: number } {
  return { fanOut: shape[0] ?? 1, fanIn: shape.length > 1 ? rowLength(shape) : 1 };
}

/** Values of a weight or bias (small tensors, generated eagerly), row-major. */
export function denseValues(decl: WeightDecl, opts: InitOptions): Float32Array {
  const rng = new Rng(weightSeed(opts, decl.name));
  const out = new Float32Array(numElements(decl.shape));
  const { fanOut, fanIn } = fans(decl.shape);
  const trained = opts.dist === "trained";
  const draw = trained ? () => studentT4(rng) : () => rng.normal();
  const std = decl.role === "bias" ? Math.sqrt(1 / fanOut) * (trained ? TRAINED_BIAS_SCALE : 1) : Math.sqrt(2 / (fanIn + fanOut));
  for (let i = 0; i < out.length; i++) out[i] = draw() * std;
  if (trained && decl.role !== "bias") scaleOutlierColumns(out, fanOut, fanIn, rng);
  return out;
}

/** Multiplies a few input columns of an [out, in] matrix by large factors: the outlier channels of trained layers. */
function scaleOutlierColumns(values: Float32Array, fanOut: number, fanIn: number, rng: Rng): void {
  for (const { index, factor } of pickOutliers(fanIn, Math.max(1, Math.round(OUTLIER_COLUMN_FRACTION * fanIn)), rng))
    for (let r = 0; r < fanOut; r++) values[r * fanIn + index] *= factor;
}

/** `count` distinct indices below `n` (partial Fisher-Yates), each with a factor in [6, 10]. */
function pickOutliers(n: number, count: number, rng: Rng): { index: number; factor: number }[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const picked: { index: number; factor: number }[] = [];
  for (let k = 0; k < Math.min(count, n); k++) {
    const j = k + rng.int(n - k);
    [order[k], order[j]] = [order[j]!, order[k]!];
    picked.push({ index: order[k]!, factor: OUTLIER_FACTOR_MIN + OUTLIER_FACTOR_SPAN * rng.next() });
  }
  return picked;
}

/** A generator for the rows of an embedding table; row i depends only on (opts, table name, i). */
export function tableRows(decl: WeightDecl, opts: InitOptions): RowGenerator {
  const tableSeed = weightSeed(opts, decl.name);
  const rows = decl.shape[0] ?? 1;
  const dim = rowLength(decl.shape);
  const base = 1 / Math.sqrt(dim);
  if (opts.dist === "gaussian") {
    return (row, out, offset) => {
      const rng = new Rng(hashSeed(tableSeed, row));
      for (let d = 0; d < dim; d++) out[offset + d] = rng.normal() * base;
    };
  }
  const dimScale = new Float64Array(dim).fill(1);
  for (const { index, factor } of pickOutliers(dim, dim >= 16 ? 2 : 1, new Rng(tableSeed))) dimScale[index] = factor;
  const perm = new IdPermutation(decl.name, rows);
  const logRows = Math.log(1 + rows);
  return (row, out, offset) => {
    const rng = new Rng(hashSeed(tableSeed, row));
    const freq = 0.25 + 0.75 * (1 - Math.log(1 + perm.idToRank(row)) / logRows);
    const scale = base * freq * Math.exp(ROW_JITTER * rng.normal());
    for (let d = 0; d < dim; d++) out[offset + d] = studentT4(rng) * scale * dimScale[d]!;
  };
}
