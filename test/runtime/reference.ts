// Test helper: random batches for the fake model (fake-artifact.ts), the same
// batches as plain sample objects, and an independent plain-JS computation of
// the fake model's outputs, written from its definition (f32 at every step).

import type { IdPolicy } from "../../src/runtime/manifest.js";
import { Rng } from "../../src/util/rng.js";
import { PARAMS, type FakeSpec } from "./fake-artifact.js";

/** A batch in the typed KJT form (a type alias, not an interface, so it fits `Record<string, ...>`). */
export type RawBatch = {
  dense: Float32Array;
  sparse: { lengths: Int32Array; values: Int32Array; weights?: Float32Array };
};

/** A random batch of `size` samples; ids drawn from [lo, hi) (may lie outside the tables to test policies). */
export function randomBatch(seed: number, size: number, weighted: boolean, maxLen: number, ids: [number, number]): RawBatch {
  const rng = new Rng(seed);
  const dense = Float32Array.from({ length: size * 3 }, () => rng.normal() * 3);
  const lengths = Int32Array.from({ length: 2 * size }, () => rng.int(maxLen + 1));
  const total = lengths.reduce((a, b) => a + b, 0);
  const values = Int32Array.from({ length: total }, () => ids[0] + rng.int(ids[1] - ids[0]));
  const sparse: RawBatch["sparse"] = { lengths, values };
  if (weighted) sparse.weights = Float32Array.from({ length: total }, () => rng.next() * 2 - 0.5);
  return { dense, sparse };
}

/** The same batch as an array of plain sample objects. */
export function toSamples(batch: RawBatch): { dense: number[]; sparse: (number[] | [number, number][])[] }[] {
  const size = batch.dense.length / 3;
  const { lengths, values, weights } = batch.sparse;
  const starts = [0];
  for (const length of lengths) starts.push(starts[starts.length - 1]! + length);
  return Array.from({ length: size }, (_, b) => ({
    dense: Array.from(batch.dense.subarray(b * 3, b * 3 + 3)),
    sparse: [0, 1].map((f) => {
      const from = starts[f * size + b]!;
      const ids = Array.from(values.subarray(from, from + lengths[f * size + b]!));
      return weights ? ids.map((id, k): [number, number] => [id, weights[from + k]!]) : ids;
    }),
  }));
}

const applyPolicy = (id: number, rows: number, policy: IdPolicy): number => {
  if (id >= 0 && id < rows) return id;
  if (policy === "clamp") return id < 0 ? 0 : rows - 1;
  if (policy === "modulo") return ((id % rows) + rows) % rows;
  throw new Error(`reference: id ${id} out of range with policy error`);
};

/** p = Σ_j Wd[j]·dense[b,j] + Σ_f Wf[f]·Σ ids (×weights); q = [sigmoid(p), tanh(p)], all in f32. */
export function referencePredict(batch: RawBatch, spec: FakeSpec): { p: Float32Array; q: Float32Array } {
  const fr = Math.fround;
  const size = batch.dense.length / 3;
  const p = new Float32Array(size);
  for (let b = 0; b < size; b++) {
    let acc = 0;
    for (let j = 0; j < 3; j++) acc = fr(acc + fr(fr(PARAMS.dense[j]!) * batch.dense[b * 3 + j]!));
    p[b] = acc;
  }
  let k = 0;
  for (let f = 0; f < 2; f++)
    for (let b = 0; b < size; b++) {
      let sum = 0;
      for (let n = 0; n < batch.sparse.lengths[f * size + b]!; n++, k++) {
        const id = applyPolicy(batch.sparse.values[k]!, spec.rows[f]!, spec.ids[f]!);
        sum = fr(sum + (batch.sparse.weights ? fr(fr(id) * batch.sparse.weights[k]!) : fr(id)));
      }
      p[b] = fr(p[b]! + fr(fr(PARAMS.features[f]!) * sum));
    }
  const q = new Float32Array(2 * size);
  for (let b = 0; b < size; b++) {
    q[2 * b] = 1 / (1 + Math.exp(-p[b]!));
    q[2 * b + 1] = Math.tanh(p[b]!);
  }
  return { p, q };
}
