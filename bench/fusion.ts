// `npm run bench:fusion [-- --quick]`: what each fusion pass buys on the Wasm
// target, each variant compiled from the same IR and weights with fusions off,
// one at a time, and all on. Model forms: the benchmark DLRM
// (bench/dlrm_kaggle_100k.rmdl) in fp32 and with int8 layers at static
// activation scales (assign-precision{mode=int8,act=static} calibrated on 2,048
// synthetic rows, so fold-quant has int8 layer pairs to join); the small DLRM
// (examples/dlrm_kaggle_small.rmdl, whose small MLPs make the rest of the
// model count) at int8 static, and written with its 26 tables looked up one by
// one and the bottom output concatenated after the interaction (work for
// fuse-bags and fuse-interaction). Timing: batch 64, one thread, one id per
// bag; after a warm-up, rounds of every variant of a form interleaved (other
// jobs share the machine, so drift hits each variant alike); the median round,
// and the median of each round's ratio to the unfused variant. Outputs of
// every variant are checked equal to the unfused artifact's first.

import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseModel } from "../src/frontend/index.js";
import { runPipelineWithReport, DEFAULT_PIPELINE } from "../src/pipeline/index.js";
import { compilerRegistry } from "../src/driver/index.js";
import { initWeights } from "../src/weights/init.js";
import { dataSchema } from "../src/data/schema.js";
import { InputSampler, rawToBatch } from "../src/data/synth.js";
import type { Batch } from "../src/data/batch.js";
import type { Graph } from "../src/ir/types.js";
import type { WeightStore } from "../src/weights/store.js";
import { Rng } from "../src/util/rng.js";
import { load, type Model } from "../src/runtime/index.js";
import { wasmBackend } from "../backends/wasm/index.js";
import type { MemoryPlanSummary } from "../backends/wasm/plan-memory.js";

const quick = process.argv.includes("--quick");
const ROUND_MS = quick ? 200 : 300;
const ROUNDS = quick ? 3 : 15;
const BATCH = 64;

/** One model form and the fusion pipelines to compare on it (the first is the baseline). */
interface Form {
  name: string;
  source: string;
  /** Passes after the default pipeline that make the form (e.g. assign-precision). */
  prepare: string;
  variants: [label: string, passes: string][];
}

/**
 * A DLRM text with its table array declared and looked up one table at a time
 * (as a model exported op by op would be) and the bottom output concatenated
 * after the interaction: work for fuse-bags and fuse-interaction.
 */
function separateBags(text: string): string {
  const rows = /rows: \[([^\]]*)\]/
    .exec(text)![1]!
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const ids = rows.map((_, i) => `e${i}`);
  return text
    .replace(/model (\w+)/, "model $1_unbatched")
    .replace(
      / *table emb\[\d+\]: embedding\(dim: 16, pool: sum, rows: \[[^\]]*\]\)/,
      rows.map((r, i) => `  table t${i}: embedding(dim: 16, pool: sum, rows: ${r})`).join("\n"),
    )
    .replace(/ *pooled *= embedding_bag\(emb, sparse\).*/, rows.map((_, i) => `  e${i} = embedding_bag(t${i}, sparse[${i}])`).join("\n"))
    .replace(/ *z *= interact\(bottom, pooled, op: dot\).*/, `  z = concat(interact(bottom, ${ids.join(", ")}, op: dot), bottom)`);
}

const ALL = "fuse-epilogue,fuse-bags,fuse-interaction,fold-quant";

const INT8 = "assign-precision{mode=int8,act=static}";

function forms(big: string, small: string): Form[] {
  const quant: Form["variants"] = [
    ["none", ""],
    ["fuse-epilogue", "fuse-epilogue"],
    ["fuse-epilogue + fold-quant", "fuse-epilogue,fold-quant"],
  ];
  return [
    // "all" does what fuse-epilogue alone does on this form: the same artifact twice, a yardstick for the noise.
    {
      name: "100k fp32",
      source: big,
      prepare: "",
      variants: [
        ["none", ""],
        ["fuse-epilogue", "fuse-epilogue"],
        ["all", ALL],
      ],
    },
    { name: "100k int8 static", source: big, prepare: INT8, variants: quant },
    { name: "small int8 static", source: small, prepare: INT8, variants: quant },
    {
      name: "small, separate bags + concat",
      source: separateBags(small),
      prepare: "",
      variants: [
        ["none", ""],
        ["fuse-bags", "fuse-bags"],
        ["fuse-interaction", "fuse-interaction"],
        ["all", ALL],
      ],
    },
  ];
}

const pipelineOf = (...parts: string[]): string => parts.filter(Boolean).join(",");

/** Compiles `graph` after `passes` (plus plan-memory) into a temp folder; returns the loaded model, its node count and planned peak. */
async function compileVariant(graph: Graph, passes: string, weights: WeightStore, root: string, k: number): Promise<Variant> {
  const report = runPipelineWithReport(graph, pipelineOf(passes, "plan-memory"), compilerRegistry());
  const dir = join(root, `v${k}`);
  await wasmBackend.compile(report.graph, weights, { outDir: dir, emitText: false, features: [], compilerVersion: "bench" });
  const memory = report.outputs["memory-plan"] as MemoryPlanSummary;
  return { model: await load(dir, { threads: 1 }), nodes: report.graph.nodes.length, activationBytes: memory.activationBytes };
}

interface Variant {
  model: Model;
  nodes: number;
  /** Planned peak of activations per sample (plan-memory). */
  activationBytes: number;
}

/**
 * Rounds of every model interleaved: per model, the median samples/s, and the
 * median over rounds of its rate over the first model's in the same round
 * (paired, so load that drifts between rounds cancels).
 */
async function timeInterleaved(models: Model[], batch: Batch): Promise<{ rate: number; ratio: number }[]> {
  const run = (m: Model) => m.predict(batch.inputs);
  for (const m of models) for (const t = performance.now(); performance.now() - t < (quick ? 300 : 1500);) await run(m);
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
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return rates.map((xs) => ({ rate: median(xs), ratio: median(xs.map((x, r) => x / rates[0]![r]!)) }));
}

function sameOutputs(a: Record<string, Float32Array>, b: Record<string, Float32Array>): boolean {
  return Object.keys(a).every((k) => a[k]!.length === b[k]!.length && a[k]!.every((v, i) => Object.is(v, b[k]![i])));
}

async function main(): Promise<void> {
  const read = (path: string) => readFileSync(fileURLToPath(new URL(`../../${path}`, import.meta.url)), "utf8");
  const [big, small] = [read("bench/dlrm_kaggle_100k.rmdl"), read("examples/dlrm_kaggle_small.rmdl")];
  console.log(`# rmc fusion benchmark (wasm, batch ${BATCH}, 1 thread, 1 id per bag; median of ${ROUNDS} interleaved ${ROUND_MS} ms rounds)`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}; ${new Date().toISOString().slice(0, 10)}\n`);
  console.log(
    "| model | fusions | nodes | peak activations / sample | samples/s (median) | vs none (median of paired rounds) | outputs = unfused |\n|---|---|---|---|---|---|---|",
  );
  const root = mkdtempSync(join(tmpdir(), "rmc-bench-fusion-"));
  try {
    for (const form of forms(big, small)) {
      const model = parseModel(form.source, "bench.rmdl").graph!;
      const weights = initWeights(model, { seed: 1, dist: "trained" });
      const schema = dataSchema(model);
      const calibration = [rawToBatch(schema, new InputSampler(schema, { idsPerBag: 1 }).sample(new Rng(7), 2048))];
      const prepared = runPipelineWithReport(
        model,
        pipelineOf(DEFAULT_PIPELINE, form.prepare),
        compilerRegistry(),
        {},
        { weights, calibration },
      ).graph;
      const batch = rawToBatch(schema, new InputSampler(schema, { idsPerBag: 1 }).sample(new Rng(1), BATCH));
      const built: Variant[] = [];
      for (const [k, [, passes]] of form.variants.entries()) built.push(await compileVariant(prepared, passes, weights, root, k));
      try {
        const first = await built[0]!.model.predict(batch.inputs);
        const same = await Promise.all(built.map(async (b) => sameOutputs(await b.model.predict(batch.inputs), first)));
        const rates = await timeInterleaved(
          built.map((b) => b.model),
          batch,
        );
        form.variants.forEach(([label], i) =>
          console.log(
            `| ${form.name} | ${label} | ${built[i]!.nodes} | ${built[i]!.activationBytes.toLocaleString("en-US")} B | ${Math.round(rates[i]!.rate).toLocaleString("en-US")} | ${rates[i]!.ratio.toFixed(2)}x | ${same[i] ? "yes" : "NO"} |`,
          ),
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
