// Accuracy of a lower-precision graph against its fp32 model, as the
// precision search and `rmc verify` measure it.
//
// `ExpectedNE` is the search's yardstick: the expected NE change if the fp32
// model's own predictions p were the truth, i.e. mean KL(p ‖ q) over the
// samples divided by the fp32 model's expected log loss mean H(p), in percent.
// It needs no labels and has no label noise: a change that does nothing costs
// exactly 0 and every change costs ≥ 0, so the greedy search cannot mistake
// luck on a few thousand samples for accuracy (measured with labels, deltas
// of ±0.05% are noise at that size, and a search that follows noise ends far
// over budget on held-out data). `measureNE` is NE on labels, for reports.

import { RmcError } from "../diagnostics/index.js";
import type { Graph } from "../ir/types.js";
import type { Batch } from "../data/batch.js";
import type { WeightStore } from "../weights/store.js";
import { interpret } from "../interp/interpreter.js";
import { BinaryMetrics, neDeltaPercent } from "../metrics/index.js";
import { dict } from "../util/records.js";

/** NE of every labelled output, by output name. */
export type NeByOutput = Record<string, number>;

/** Runs the graph over the batches and returns NE per labelled output. */
export function measureNE(graph: Graph, weights: WeightStore, batches: readonly Batch[]): NeByOutput {
  const metrics = new Map<string, BinaryMetrics>();
  for (const batch of batches) {
    const { outputs } = interpret(graph, weights, batch);
    for (const [name, labels] of Object.entries(batch.labels ?? {})) {
      let m = metrics.get(name);
      if (!m) metrics.set(name, (m = new BinaryMetrics()));
      m.add(outputs[name]!, labels);
    }
  }
  if (metrics.size === 0) throw new RmcError("the data has no labels: measuring NE needs labelled samples", "E1901");
  const ne: NeByOutput = dict();
  for (const [name, m] of metrics) ne[name] = m.result().ne;
  return ne;
}

/** The worst relative NE change (percent) from `base` to `ne` over outputs. */
export function worstDelta(base: NeByOutput, ne: NeByOutput): number {
  let worst = -Infinity;
  for (const [name, b] of Object.entries(base)) worst = Math.max(worst, neDeltaPercent(b, ne[name]!));
  return worst;
}

/** Clamp probabilities away from 0 and 1, as log loss does. */
const EPS = 1e-7;
const clampP = (p: number): number => Math.min(1 - EPS, Math.max(EPS, p));

/** One sample's KL(p ‖ q) of two Bernoulli predictions, clamped as log loss is (nats). */
export function klTerm(pRaw: number, qRaw: number): number {
  const p = clampP(pRaw);
  const q = clampP(qRaw);
  return p * Math.log(p / q) + (1 - p) * Math.log((1 - p) / (1 - q));
}

/** One sample's expected log loss H(p) of a prediction, clamped (nats). */
export function entropyTerm(pRaw: number): number {
  const p = clampP(pRaw);
  return -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
}

/** A graph's outputs on each batch, by output name. */
export type BatchOutputs = readonly Record<string, Float32Array>[];

/** Expected NE change against a reference model's predictions (see the file header). */
export class ExpectedNE {
  private readonly reference: BatchOutputs;
  private readonly entropy: Record<string, number> = dict();
  /** Graph evaluations so far (for reports). */
  evaluations = 0;
  /** The standard error of the last `delta` (same units): the spread of per-sample KL over √n. */
  lastError = 0;

  /** `reference`: the fp32 model, or its outputs on `batches` (the incremental evaluator has them already). */
  constructor(
    reference: Graph | BatchOutputs,
    private readonly weights: WeightStore,
    private readonly batches: readonly Batch[],
  ) {
    if (batches.length === 0) throw new RmcError("no calibration samples", "E1912");
    this.reference = "nodes" in reference ? batches.map((b) => interpret(reference, weights, b).outputs) : reference;
    for (const name of Object.keys(this.reference[0]!)) {
      let h = 0;
      let n = 0;
      for (const out of this.reference)
        for (const v of out[name]!) {
          h += entropyTerm(v);
          n++;
        }
      this.entropy[name] = h / n;
    }
  }

  /** The reference model's outputs on the batches. */
  get referenceOutputs(): BatchOutputs {
    return this.reference;
  }

  /** The worst expected NE change over outputs, in percent (≥ 0). */
  delta(graph: Graph): number {
    return this.deltaOf(this.batches.map((batch) => interpret(graph, this.weights, batch).outputs));
  }

  /** The same from a model's outputs on the batches (in batch order): exactly what `delta` gives for the graph that made them. */
  deltaOf(outputs: BatchOutputs): number {
    this.evaluations++;
    const kl: Record<string, number> = dict();
    const kl2: Record<string, number> = dict();
    let n = 0;
    this.batches.forEach((batch, i) => {
      const out = outputs[i]!;
      for (const name of Object.keys(this.entropy)) {
        const ref = this.reference[i]![name]!;
        const got = out[name]!;
        let s = 0;
        let s2 = 0;
        for (let k = 0; k < ref.length; k++) {
          const d = klTerm(ref[k]!, got[k]!);
          s += d;
          s2 += d * d;
        }
        kl[name] = (kl[name] ?? 0) + s;
        kl2[name] = (kl2[name] ?? 0) + s2;
      }
      n += batch.size;
    });
    let worst = 0;
    this.lastError = 0;
    for (const [name, h] of Object.entries(this.entropy)) {
      const mean = kl[name]! / n;
      const d = (100 * mean) / h;
      if (d < worst) continue;
      worst = d;
      this.lastError = (100 * Math.sqrt(Math.max(0, kl2[name]! / n - mean * mean) / n)) / h;
    }
    return worst;
  }

  /** Each sample's share of the expected NE change (percent; their sum is the delta of that output), by output, samples in batch order. */
  perSample(outputs: BatchOutputs): Record<string, Float64Array> {
    const n = this.batches.reduce((s, b) => s + b.size, 0);
    const out: Record<string, Float64Array> = dict();
    for (const [name, h] of Object.entries(this.entropy)) {
      const xs = new Float64Array(n);
      let at = 0;
      this.batches.forEach((_, i) => {
        const ref = this.reference[i]![name]!;
        const got = outputs[i]![name]!;
        for (let k = 0; k < ref.length; k++) xs[at++] = (100 * klTerm(ref[k]!, got[k]!)) / (h * n);
      });
      out[name] = xs;
    }
    return out;
  }

  /** NE on the batches' labels from a model's outputs on them: what `measureNE` gives for that model. */
  labelledNE(outputs: BatchOutputs): NeByOutput | undefined {
    if (!this.batches.some((b) => b.labels && Object.keys(b.labels).length > 0)) return undefined;
    const metrics = new Map<string, BinaryMetrics>();
    this.batches.forEach((batch, i) => {
      for (const [name, labels] of Object.entries(batch.labels ?? {})) {
        let m = metrics.get(name);
        if (!m) metrics.set(name, (m = new BinaryMetrics()));
        m.add(outputs[i]![name]!, labels);
      }
    });
    const ne: NeByOutput = dict();
    for (const [name, m] of metrics) ne[name] = m.result().ne;
    return ne;
  }
}
