// NE deltas of predictions on held-out rows, shared by bench/precision.ts and
// bench/fullsize-precision-check.ts: the labelled delta (per-row log loss
// against the fp32 model's) and the expected one (mean KL against the fp32
// predictions over their mean entropy, as the precision search measures it),
// each with its standard error over the rows.

import type { Batch } from "../src/data/batch.js";
import { entropyTerm, klTerm } from "../src/precision/evaluate.js";
import { LOG_LOSS_EPS } from "../src/metrics/index.js";

/** A delta (%) and its standard error: 100 · mean(d) / base and 100 · sd(d) / √n / base, for per-row differences d. */
function meanAndError(d: Float64Array, base: number): { delta: number; se: number } {
  const n = d.length;
  let s = 0;
  let s2 = 0;
  for (const v of d) ((s += v), (s2 += v * v));
  const mean = s / n;
  return { delta: (100 * mean) / base, se: (100 * Math.sqrt(Math.max(0, s2 / n - mean * mean) / n)) / base };
}

/** Expected NE change (%) of predictions q against reference predictions p: mean KL(p‖q) / mean H(p), as the search measures it; with its standard error. */
export function expectedDelta(p: Float32Array[], q: Float32Array[]): { delta: number; se: number } {
  const kl = new Float64Array(p.reduce((n, b) => n + b.length, 0));
  let h = 0;
  let at = 0;
  p.forEach((pb, i) =>
    pb.forEach((pv, k) => {
      kl[at++] = klTerm(pv, q[i]![k]!);
      h += entropyTerm(pv);
    }),
  );
  return meanAndError(kl, h / kl.length);
}

/** Each row's log loss (clamped as BinaryMetrics clamps it). */
export function rowLoss(p: Float32Array[], data: Batch[]): Float64Array {
  const out = new Float64Array(p.reduce((n, b) => n + b.length, 0));
  let at = 0;
  p.forEach((pb, i) =>
    pb.forEach((pv, k) => {
      const c = Math.min(Math.max(pv, LOG_LOSS_EPS), 1 - LOG_LOSS_EPS);
      out[at++] = -(data[i]!.labels!.ctr![k]! === 1 ? Math.log(c) : Math.log(1 - c));
    }),
  );
  return out;
}

/** The labelled NE delta (%) against the fp32 predictions, with its standard error from the per-row log-loss differences. */
export function labelledDelta(base: Float64Array, losses: Float64Array): { delta: number; se: number } {
  const d = losses.map((v, i) => v - base[i]!);
  return meanAndError(d, base.reduce((s, v) => s + v, 0) / base.length);
}
