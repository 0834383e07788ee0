// Accuracy of a graph on labelled samples, as the precision search and
// `rmc verify` measure it: normalized entropy per labelled output with the
// reference interpreter (bit-identical to the compiled artifact), and the NE
// delta between two such measurements — relative, in percent, and the worst
// over outputs, so a multi-task model stays within budget on every head.

import { RmcError } from "../diagnostics.js";
import type { Graph } from "../ir/types.js";
import type { Batch } from "../data/batch.js";
import type { WeightStore } from "../weights/store.js";
import { interpret } from "../interp/interpreter.js";
import { BinaryMetrics, neDeltaPercent } from "../metrics/index.js";

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
  if (metrics.size === 0) throw new RmcError("the calibration data has no labels: measuring NE needs labelled samples", "E1901");
  const ne: NeByOutput = {};
  for (const [name, m] of metrics) ne[name] = m.result().ne;
  return ne;
}

/** The worst relative NE change (percent) from `base` to `ne` over outputs. */
export function worstDelta(base: NeByOutput, ne: NeByOutput): number {
  let worst = -Infinity;
  for (const [name, b] of Object.entries(base)) worst = Math.max(worst, neDeltaPercent(b, ne[name]!));
  return worst;
}
