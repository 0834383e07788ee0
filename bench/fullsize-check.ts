// `node build/bench/fullsize-check.js DIST MODEL.rmdl SEED|W.safetensors [SAMPLES]`:
// checks a full-size artifact compiled with `--init random --seed SEED` (or
// `--weights W.safetensors`) against the reference interpreter on sampled
// inputs. The interpreter runs the IR the artifact was compiled from
// (manifest.ir: precisions and split tables included) on the same weights,
// generated row by row (or read row by row from the file); the Wasm
// artifact must match bit for bit, the WebGPU one within 1e-4 relative (its
// GEMMs sum in another order). Prints which shards the samples loaded.

import { readFileSync } from "node:fs";
import { parseModel } from "../src/frontend/index.js";
import { runPipeline, DEFAULT_PIPELINE } from "../src/pipeline/index.js";
import { createPassRegistry } from "../passes/index.js";
import { initWeights } from "../src/weights/init.js";
import { bindWeights } from "../src/weights/bind.js";
import { openSafetensors } from "../src/weights/safetensors.js";
import { interpret } from "../src/interp/interpreter.js";
import { dataSchema } from "../src/data/schema.js";
import { InputSampler, rawToBatch } from "../src/data/synth.js";
import { isBags } from "../src/data/batch.js";
import { Rng } from "../src/util/rng.js";
import { load } from "../src/runtime/index.js";

const [dir, modelFile, seedText, samplesText] = process.argv.slice(2);
if (!dir || !modelFile || !seedText) throw new Error("usage: fullsize-check.js DIST MODEL.rmdl SEED|W.safetensors [SAMPLES]");
const samples = Number(samplesText ?? 256);
const source = parseModel(readFileSync(modelFile, "utf8"), modelFile).graph!;
// The weights `rmc compile` read: the model's own declarations, before any pass.
const declared = runPipeline(source, DEFAULT_PIPELINE, createPassRegistry(), { out: () => {} });
const weights = seedText.endsWith(".safetensors")
  ? bindWeights(declared, openSafetensors(seedText)).store
  : initWeights(declared, { seed: Number(seedText), dist: "gaussian" });
const model = await load(dir, { threads: 1 });
const graph = model.manifest.ir;
const schema = dataSchema(graph);
const exact = model.target === "wasm";
let worst = 0;
let differing = 0;
for (const [size, ids, seed] of [
  [1, [1, 1], 1],
  [samples, [0, 4], 2],
] as const) {
  const batch = rawToBatch(schema, new InputSampler(schema, { idsPerBag: [...ids] }).sample(new Rng(seed), size));
  const inputs = Object.fromEntries(Object.entries(batch.inputs).map(([k, v]) => [k, isBags(v) ? { lengths: v.lengths, values: v.values } : v]));
  const got = await model.predict(inputs as never);
  const want = interpret(graph, weights, batch).outputs;
  for (const [name, w] of Object.entries(want))
    for (let i = 0; i < w.length; i++) {
      const g = got[name]![i]!;
      if (!Object.is(g, w[i])) differing++;
      worst = Math.max(worst, Math.abs(g - w[i]!) / Math.max(Math.abs(w[i]!), 1e-3));
    }
}
const resident = model.residentShards();
await model.close();
console.log(
  `${model.target} artifact vs interpreter on ${samples + 1} sampled inputs: ${differing} outputs differ, largest relative difference ${worst.toExponential(2)}`,
);
console.log(`shards loaded by these requests: ${resident.length} of ${(model.manifest.shards ?? []).length}`);
if (exact ? differing > 0 : worst > 1e-4) {
  console.error(exact ? "FAIL: the Wasm artifact must match the interpreter bit for bit" : "FAIL: over 1e-4 relative");
  process.exit(1);
}
