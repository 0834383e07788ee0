// `npm run bench:fusion [-- --quick]`: what each fusion pass buys on the Wasm
// target. The benchmark DLRM (bench/dlrm_kaggle_100k.rmdl) in three forms —
// fp32 as written; int8 layers with static activation scales (assign-precision
// {mode=int8,act=static} on 2,048 synthetic calibration rows, so fold-quant has
// int8 layer pairs to join); and the same tables written one by one (26
// separate embedding_bag calls) with the bottom output concatenated after the
// interaction (so fuse-bags and fuse-interaction have work) — each compiled
// with the fusions off, one at a time and all on, the same weights for every
// artifact. Timing: batch 64, one thread, one id per bag; after a warm-up,
// rounds of every artifact of a model interleaved (other jobs share the
// machine, so drift hits each variant alike), and the median round reported.
// Outputs of every variant are checked equal to the unfused artifact's first.

import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseModel } from "../src/frontend/index.js";
import { createPassRegistry, runPipelineWithReport, DEFAULT_PIPELINE } from "../src/pipeline/index.js";
import { initWeights } from "../src/weights/init.js";
import { dataSchema } from "../src/data/schema.js";
import { InputSampler, rawToBatch } from "../src/data/synth.js";
import type { Batch } from "../src/data/batch.js";
import type { Graph } from "../src/ir/types.js";
import type { WeightStore } from "../src/weights/store.js";
import { Rng } from "../src/util/rng.js";
import { load, type Model } from "../src/runtime/index.js";
import { wasmBackend } from "../backends/wasm/index.js";

const quick = process.argv.includes("--quick");
const ROUND_MS = quick ? 200 : 500;
const ROUNDS = quick ? 3 : 9;
const BATCH = 64;

/** One model form and the fusion pipelines to compare on it (the first is the baseline). */
interface Form {
  name: string;
  source: string;
  /** Passes after the default pipeline that make the form (e.g. assign-precision). */
  prepare: string;
  variants: [label: string, passes: string][];
}

/** The benchmark model with its 26 tables declared and looked up one by one, and bottom concatenated after the interaction. */
function separateBags(text: string): string {
  const rows = /rows: \[([^\]]*)\]/.exec(text)![1]!.split(",").map((s) => s.trim()).filter(Boolean);
  const tables = rows.map((r, i) => `  table t${i}: embedding(dim: 16, pool: sum, rows: ${r})`).join("\n");
  const bags = rows.map((_, i) => `  e${i} = embedding_bag(t${i}, sparse[${i}])`).join("\n");
  return `model dlrm_kaggle_100k_unbatched {
  input dense:  f32[13]
  input sparse: bags[26]
${tables}
  bottom = mlp(dense, [512, 256, 64, 16], act: relu)
${bags}
  z      = concat(interact(bottom, ${rows.map((_, i) => `e${i}`).join(", ")}, op: dot), bottom)
  top    = mlp(z, [512, 256, 1], act: relu, final: sigmoid)
  output ctr = top
}`;
}

const ALL = "fuse-epilogue,fuse-bags,fuse-interaction,fold-quant";

function forms(text: string): Form[] {
  return [
    { name: "fp32", source: text, prepare: "", variants: [["none", ""], ["fuse-epilogue", "fuse-epilogue"], ["all", ALL]] },
    {
      name: "int8 static",
      source: text,
      prepare: "assign-precision{mode=int8,act=static}",
      variants: [["none", ""], ["fuse-epilogue", "fuse-epilogue"], ["fuse-epilogue + fold-quant", "fuse-epilogue,fold-quant"], ["all", ALL]],
    },
    { name: "separate bags + concat", source: separateBags(text), prepare: "", variants: [["none", ""], ["fuse-bags", "fuse-bags"], ["fuse-interaction", "fuse-interaction"], ["all", ALL]] },
  ];
}

const pipelineOf = (...parts: string[]): string => parts.filter(Boolean).join(",");

/** Compiles `graph` after `passes` (plus plan-memory) into a temp folder; returns the loaded model and its node count. */
async function compileVariant(graph: Graph, passes: string, weights: WeightStore, root: string, k: number): Promise<{ model: Model; nodes: number }> {
  const g = runPipelineWithReport(graph, pipelineOf(passes, "plan-memory"), createPassRegistry()).graph;
  const dir = join(root, `v${k}`);
  await wasmBackend.compile(g, weights, { outDir: dir, emitText: false, features: [], compilerVersion: "bench" });
  return { model: await load(dir, { threads: 1 }), nodes: g.nodes.length };
}

/** Rounds of every model interleaved; the median samples/s of each. */
async function timeInterleaved(models: Model[], batch: Batch): Promise<number[]> {
  const run = (m: Model) => m.predict(batch.inputs);
  for (const m of models) for (const t = performance.now(); performance.now() - t < (quick ? 300 : 1500); ) await run(m);
  const rates: number[][] = models.map(() => []);
  for (let r = 0; r < ROUNDS; r++)
    for (const [i, m] of models.entries()) {
      let n = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < ROUND_MS) {
        await run(m);
        n++;
      }
      rates[i]!.push((n * BATCH) / ((performance.now() - t0) / 1000));
    }
  return rates.map((xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);
}

function sameOutputs(a: Record<string, Float32Array>, b: Record<string, Float32Array>): boolean {
  return Object.keys(a).every((k) => a[k]!.length === b[k]!.length && a[k]!.every((v, i) => Object.is(v, b[k]![i])));
}

async function main(): Promise<void> {
  const file = fileURLToPath(new URL("../../bench/dlrm_kaggle_100k.rmdl", import.meta.url));
  const text = readFileSync(file, "utf8");
  console.log(`# rmc fusion benchmark (wasm, batch ${BATCH}, 1 thread, 1 id per bag; median of ${ROUNDS} interleaved ${ROUND_MS} ms rounds)`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}; ${new Date().toISOString().slice(0, 10)}\n`);
  console.log("| model | fusions | nodes | samples/s | vs none | outputs = unfused |\n|---|---|---|---|---|---|");
  const root = mkdtempSync(join(tmpdir(), "rmc-bench-fusion-"));
  try {
    for (const form of forms(text)) {
      const model = parseModel(form.source, "bench.rmdl").graph!;
      const weights = initWeights(model, { seed: 1, dist: "trained" });
      const schema = dataSchema(model);
      const calibration = [rawToBatch(schema, new InputSampler(schema, { idsPerBag: 1 }).sample(new Rng(7), 2048))];
      const prepared = runPipelineWithReport(model, pipelineOf(DEFAULT_PIPELINE, form.prepare), createPassRegistry(), {}, weights, calibration).graph;
      const batch = rawToBatch(schema, new InputSampler(schema, { idsPerBag: 1 }).sample(new Rng(1), BATCH));
      const built: { model: Model; nodes: number }[] = [];
      for (const [k, [, passes]] of form.variants.entries()) built.push(await compileVariant(prepared, passes, weights, root, k));
      try {
        const first = await built[0]!.model.predict(batch.inputs);
        const same = await Promise.all(built.map(async (b) => sameOutputs(await b.model.predict(batch.inputs), first)));
        const rates = await timeInterleaved(built.map((b) => b.model), batch);
        form.variants.forEach(([label], i) =>
          console.log(`| ${form.name} | ${label} | ${built[i]!.nodes} | ${Math.round(rates[i]!).toLocaleString("en-US")} | ${(rates[i]! / rates[0]!).toFixed(2)}x | ${same[i] ? "yes" : "NO"} |`),
        );
      } finally {
        for (const b of built) await b.model.close();
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
