// Calibration of the int8 layers for the precision search and the fixed
// modes: SmoothQuant-style smoothing factors from the fp32 model's
// per-channel input maxima, and static activation scales from its inputs.

import type { Graph, Node } from "../ir/types.js";
import { valueInputs, weightInputs } from "../ir/types.js";
import { smoothingFactors } from "../quant/dense.js";
import type { Batch } from "../data/batch.js";
import type { WeightStore } from "../weights/store.js";
import { interpret } from "../interp/interpreter.js";
import { RangeCollector, activationScale, type CalibrationMethod } from "../quant/calibrate.js";
import { applyAssignment, precisionUnits } from "./units.js";

/** What calibration gives the int8 layers: smoothing factors (when α > 0) and static activation scales (when asked). */
export interface LayerCalibration {
  smooth: Map<string, number[]>;
  actScale?: Map<string, number>;
}

/**
 * Calibrates every linear layer on the fp32 model's values: per-input-channel
 * maxima give SmoothQuant-style factors (α = `alpha`; 0 = none), and the
 * smoothed inputs give static activation scales by `method` when `statics`.
 */
export function calibrateLayers(
  graph: Graph,
  weights: WeightStore,
  batches: readonly Batch[],
  opts: { alpha: number; statics: boolean; method: CalibrationMethod },
  /** The fp32 model's values on `batches` (interpret's `keep: "all"`), when the caller has them already. */
  fp32Values?: readonly ReadonlyMap<string, Float32Array>[],
): LayerCalibration {
  const layers = graph.nodes.filter((n) => n.op === "linear");
  const fp32 = applyAssignment(graph, { precision: new Map(precisionUnits(graph).map((u) => [u.id, "fp32"])) });
  const inputs = (each: (n: Node, x: Float32Array, width: number) => void) => {
    for (const [i, batch] of batches.entries()) {
      const values = fp32Values?.[i] ?? interpret(fp32, weights, batch, { keep: "all" }).values;
      for (const n of layers) {
        const x = values!.get(valueInputs(n)[0]!)!;
        each(n, x, weights.get(weightInputs(n)[0]!)!.shape[1]!);
      }
    }
  };
  const smooth = new Map<string, number[]>();
  if (opts.alpha > 0) {
    const maxima = new Map(layers.map((n) => [n.id, new Float64Array(weights.get(weightInputs(n)[0]!)!.shape[1]!)]));
    inputs((n, x, width) => {
      const m = maxima.get(n.id)!;
      for (let i = 0; i < x.length; i++) m[i % width] = Math.max(m[i % width]!, Math.abs(x[i]!));
    });
    for (const n of layers) {
      const w = weights.get(weightInputs(n)[0]!)!;
      const [out, inF] = w.shape as [number, number];
      smooth.set(n.id, Array.from(smoothingFactors(maxima.get(n.id)!, w.toFloat32(), out, inF, opts.alpha)));
    }
  }
  if (!opts.statics) return { smooth };
  const collectors = new Map(layers.map((n) => [n.id, new RangeCollector()]));
  inputs((n, x, width) => {
    const s = smooth.get(n.id);
    collectors.get(n.id)!.add(s ? x.map((v, i) => Math.fround(v * Math.fround(1 / s[i % width]!))) : x);
  });
  return { smooth, actScale: new Map(layers.map((n) => [n.id, activationScale(collectors.get(n.id)!.range(opts.method))])) };
}
