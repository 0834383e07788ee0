// `npm run bench:i7-ne`: the accuracy cost of int8a7 against int8 on
// dlrm_kaggle_small (trained weights seed 7, 8,192 generated samples, ids per
// bag 1-4, the generator's default dense inputs): the expected NE change
// (src/precision/evaluate.ts, against the fp32 model's predictions) of every
// linear layer at int8 and at int8a7, and of each layer alone, with the
// standard error of each figure.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { parseModel } from "../src/frontend/index.js";
import { runPipeline } from "../src/pipeline/index.js";
import { createPassRegistry } from "../passes/index.js";
import { initWeights } from "../src/weights/init.js";
import { dataSchema } from "../src/data/schema.js";
import { InputSampler, rawToBatch } from "../src/data/synth.js";
import { ExpectedNE } from "../src/precision/evaluate.js";
import { Rng } from "../src/util/rng.js";
import type { Graph } from "../src/ir/types.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const { graph: source } = parseModel(readFileSync(join(repo, "examples/dlrm_kaggle_small.rmdl"), "utf8"), "dlrm_kaggle_small.rmdl");
const graph = runPipeline(source!, "canonicalize,infer-shapes,dce", createPassRegistry(), { out: () => {} });
const weights = initWeights(source!, { seed: 7, dist: "trained" });
const schema = dataSchema(source!);
const rng = new Rng(7);
const batches = Array.from({ length: 16 }, () => rawToBatch(schema, new InputSampler(schema, { idsPerBag: [1, 4] }).sample(rng, 512)));
const ev = new ExpectedNE(graph, weights, batches);
const layers = graph.nodes.filter((n) => n.op === "linear").map((n) => n.id);
const at = (ids: readonly string[], p: string): Graph => {
  const g = structuredClone(graph);
  for (const n of g.nodes) if (ids.includes(n.id)) n.attrs.precision = p;
  return g;
};
const cell = (g: Graph): string => {
  const d = ev.delta(g);
  return `+${d.toFixed(4)}% ± ${ev.lastError.toFixed(4)}`;
};
console.log(`# expected NE change vs fp32, dlrm_kaggle_small, trained seed 7, ${16 * 512} samples\n`);
console.log("| layers | int8 | int8a7 |");
console.log("|---|---|---|");
console.log(`| all ${layers.length} linear layers | ${cell(at(layers, "int8"))} | ${cell(at(layers, "int8a7"))} |`);
for (const id of layers) console.log(`| ${id} alone | ${cell(at([id], "int8"))} | ${cell(at([id], "int8a7"))} |`);
