// The precision tests' shared fixture: dlrm_kaggle_small, canonicalized, with
// trained-looking weights (seed 3) calibrated to its synthetic data, labelled
// batches drawn from it as teacher, and the search options on the Wasm target.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseModel } from "../../src/frontend/index.js";
import { runPipeline } from "../../src/pipeline/index.js";
import { createPassRegistry } from "../../passes/index.js";
import { initWeights } from "../../src/weights/init.js";
import { calibrateOutputs } from "../../src/interp/output-calibration.js";
import { dataSchema } from "../../src/data/schema.js";
import { InputSampler, rawToBatch } from "../../src/data/synth.js";
import { outputLogits } from "../../src/interp/logits.js";
import { Rng } from "../../src/util/rng.js";
import type { Batch } from "../../src/data/batch.js";
import type { Graph } from "../../src/ir/types.js";
import { WASM_TARGET } from "../../src/target/index.js";

const src = readFileSync(join(import.meta.dirname, "../../examples/dlrm_kaggle_small.rmdl"), "utf8");
export const written = parseModel(src, "examples/dlrm_kaggle_small.rmdl").graph!;
export const canonical = (g: Graph) => runPipeline(g, "canonicalize,infer-shapes,dce", createPassRegistry(), { out: () => {} });
export const graph = canonical(written);
export const weights = calibrateOutputs(graph, written, initWeights(written, { seed: 3, dist: "trained" }), { seed: 3 }).store;

/** Labelled batches drawn from the model as teacher (as `rmc gen-data` does). */
export function labelled(seed: number, n: number): Batch[] {
  const schema = dataSchema(written);
  const rng = new Rng(seed);
  const out: Batch[] = [];
  for (let done = 0; done < n; done += 256) {
    const batch = rawToBatch(schema, new InputSampler(schema).sample(rng, 256));
    const [z] = outputLogits(graph, weights, batch);
    batch.labels = { ctr: Float32Array.from(z!, (v) => (rng.next() < 1 / (1 + Math.exp(-v)) ? 1 : 0)) };
    out.push(batch);
  }
  return out;
}

/** The search's options for the Wasm target at a 0.05% budget. */
export const searchOpts = {
  budget: 0.05,
  target: "wasm",
  cost: WASM_TARGET.cost,
  act: "dynamic" as const,
  calibMethod: "percentile" as const,
  smooth: 0.5,
};
