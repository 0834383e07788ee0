// Output calibration for synthetic weights: init-weights folds a fitted
// teacher p = sigmoid(a·z + b) into each output's last linear layer
// (W ← a·W, bias ← a·bias + b), so that on synthetic inputs the model itself
// predicts a realistic CTR (0.25) with a realistic NE (~0.8). The model is then
// exactly the teacher the data generator draws labels from: the fp32 model is
// the best predictor of its own synthetic data, as low-precision work needs.

import { RmcError } from "../diagnostics/index.js";
import type { Graph } from "../ir/types.js";
import { refName } from "../ir/types.js";
import { dataSchema } from "../data/schema.js";
import { InputSampler, rawToBatch, type SynthOptions } from "../data/synth.js";
import { fitTeacher, type Teacher } from "../data/teacher.js";
import { outputLogits, logitSources } from "./logits.js";
import { Rng, hashSeed } from "../util/rng.js";
import { DenseTensor, type WeightStore } from "../weights/store.js";

/** Samples the teacher is fitted on (as the data generator's pilot). */
export const CALIBRATION_ROWS = 4096;

export interface CalibrationOptions extends SynthOptions {
  seed: number;
  ctr?: number;
  ne?: number;
}

/** What calibration did to one output. */
export interface CalibrationReport extends Teacher {
  output: string;
  weight: string;
  bias: string;
}

/**
 * Returns a new store whose output layers are calibrated. `canonical` must be
 * the canonicalized graph (each output = sigmoid(linear(...))); `schemaGraph`
 * the graph the data schema is read from (the model as written).
 */
export function calibrateOutputs(
  canonical: Graph,
  schemaGraph: Graph,
  store: WeightStore,
  opts: CalibrationOptions,
): { store: WeightStore; reports: CalibrationReport[] } {
  const sampler = new InputSampler(dataSchema(schemaGraph), opts);
  const batch = rawToBatch(sampler.schema, sampler.sample(new Rng(hashSeed("rmc-calibration", opts.seed)), CALIBRATION_ROWS));
  const logits = outputLogits(canonical, store, batch);
  const sources = logitSources(canonical);
  const out = new Map(store);
  const reports = canonical.outputs.map((o, i) => {
    const layer = canonical.nodes.find((n) => n.id === sources[i]);
    const [w, b] = layer?.op === "linear" ? layer.inputs.slice(1).map(refName) : [];
    if (!w || !b)
      throw new RmcError({
        code: "E1316",
        severity: "error",
        message: `cannot calibrate output \`${o.name}\`: its sigmoid must read a linear layer with a bias${layer ? `, found \`${layer.op}\`` : ""}`,
        span: o.span,
        hint: "pass --no-calibrate to keep the weights as drawn",
      });
    const teacher = fitTeacher(logits[i]!, {
      ...(opts.ctr !== undefined ? { ctr: opts.ctr } : {}),
      ...(opts.ne !== undefined ? { ne: opts.ne } : {}),
    });
    const wt = out.get(w)!;
    const bt = out.get(b)!;
    out.set(
      w,
      new DenseTensor(
        wt.shape,
        wt.toFloat32().map((v) => v * teacher.scale),
      ),
    );
    out.set(
      b,
      new DenseTensor(
        bt.shape,
        bt.toFloat32().map((v) => v * teacher.scale + teacher.shift),
      ),
    );
    return { output: o.name, weight: w, bias: b, ...teacher };
  });
  return { store: out, reports };
}
