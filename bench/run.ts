// `npm run bench [-- --target wgsl]`: the Criteo Kaggle-shaped DLRM (bench/dlrm_kaggle_100k.rmdl)
// compiled for Wasm (or WebGPU) and timed side by side with the reference interpreter on
// the same weights and inputs: samples/s at batch 1, 64 and 512, with 1 and 4
// ids per bag, one and two threads. Also the compile time and artifact size.
// Every figure is measured after a warm-up (V8 tiers Wasm up in the
// background), as the median of several timed rounds.

import { readFileSync, mkdtempSync, rmSync, statSync, readdirSync } from "node:fs";
import { tmpdir, cpus, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseModel } from "../src/frontend/index.js";
import { createPassRegistry, runPipeline, DEFAULT_PIPELINE } from "../src/pipeline/index.js";
import { initWeights } from "../src/weights/init.js";
import { interpret } from "../src/interp/interpreter.js";
import { dataSchema } from "../src/data/schema.js";
import { InputSampler, rawToBatch } from "../src/data/synth.js";
import type { Batch } from "../src/data/batch.js";
import { Rng } from "../src/util/rng.js";
import { load } from "../src/runtime/index.js";
import { wasmBackend } from "../backends/wasm/index.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const targetAt = args.indexOf("--target");
const target = targetAt >= 0 ? args[targetAt + 1] ?? "wasm" : "wasm";
if (target !== "wasm" && target !== "wgsl") throw new Error(`--target must be wasm or wgsl, got ${target}`);
const ROUND_MS = quick ? 300 : 1000;
const ROUNDS = quick ? 3 : 5;

/** Median samples/s of `fn(batchSize)` over timed rounds, after a warm-up. */
async function measure(batch: number, fn: () => unknown | Promise<unknown>, warmMs = quick ? 300 : 1500): Promise<number> {
  for (const t = performance.now(); performance.now() - t < warmMs; ) await fn();
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < ROUND_MS) {
      await fn();
      n++;
    }
    rates.push((n * batch) / ((performance.now() - t0) / 1000));
  }
  return rates.sort((a, b) => a - b)[Math.floor(rates.length / 2)]!;
}

const fmt = (x: number): string => Math.round(x).toLocaleString("en-US");

async function main(): Promise<void> {
  const file = fileURLToPath(new URL("../../bench/dlrm_kaggle_100k.rmdl", import.meta.url));
  const model = parseModel(readFileSync(file, "utf8"), "bench/dlrm_kaggle_100k.rmdl").graph!;
  const graph = runPipeline(model, DEFAULT_PIPELINE, createPassRegistry(), { out: () => {} });
  const weights = initWeights(model, { seed: 1, dist: "trained" });
  const dir = join(mkdtempSync(join(tmpdir(), "rmc-bench-")), "dist");
  const t0 = performance.now();
  const backend = target === "wgsl" ? (await import("../backends/wgsl/index.js")).wgslBackend : wasmBackend;
  await backend.compile(graph, weights, { outDir: dir, emitText: false, features: [], compilerVersion: "bench" });
  const compileSecs = (performance.now() - t0) / 1000;
  const sizes = readdirSync(dir).map((f) => [f, statSync(join(dir, f)).size] as const);

  console.log(`# rmc benchmark: ${model.name}, target ${target}`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; ${new Date().toISOString().slice(0, 10)}`);
  console.log(`compile (weights packing included): ${compileSecs.toFixed(2)} s; artifact: ${sizes.map(([f, s]) => `${f} ${(s / 2 ** 20).toFixed(2)} MiB`).join(", ")}\n`);
  console.log(target === "wgsl" ? "| ids/bag | batch | rmc wgsl (WebGPU) | JS interpreter | wgsl / interpreter |\n|---|---|---|---|---|" : "| ids/bag | batch | rmc wasm 1 thread | rmc wasm 2 threads | JS interpreter | wasm / interpreter |\n|---|---|---|---|---|---|");
  const schema = dataSchema(model);
  const one = await load(dir, { threads: 1 });
  const two = target === "wasm" ? await load(dir, { threads: 2 }) : one;
  try {
    for (const ids of [1, 4]) {
      const pool: Batch = rawToBatch(schema, new InputSampler(schema, { idsPerBag: ids }).sample(new Rng(ids), 512));
      for (const b of [1, 64, 512]) {
        const batch = slice(pool, b);
        const w1 = await measure(b, () => one.predict(batch.inputs));
        const w2 = target === "wasm" && b >= 64 ? await measure(b, () => two.predict(batch.inputs)) : NaN;
        const js = await measure(b, () => interpret(graph, weights, batch), quick ? 100 : 300);
        if (target === "wgsl") console.log(`| ${ids} | ${b} | ${fmt(w1)} | ${fmt(js)} | ${(w1 / js).toFixed(1)}x |`);
        else console.log(`| ${ids} | ${b} | ${fmt(w1)} | ${Number.isNaN(w2) ? "—" : `${fmt(w2)} (${(w2 / w1).toFixed(2)}x)`} | ${fmt(js)} | ${(w1 / js).toFixed(1)}x |`);
      }
    }
  } finally {
    await one.close();
    if (two !== one) await two.close();
    rmSync(join(dir, ".."), { recursive: true, force: true });
  }
}

/** The first `b` samples of a batch (dense rows and KJT bags re-cut). */
function slice(batch: Batch, b: number): Batch {
  const inputs: Batch["inputs"] = {};
  for (const [name, v] of Object.entries(batch.inputs)) {
    if (v instanceof Float32Array) {
      inputs[name] = v.slice(0, (v.length / batch.size) * b);
      continue;
    }
    const lengths = new Int32Array(v.count * b);
    const values: number[] = [];
    let at = 0;
    for (let f = 0; f < v.count; f++)
      for (let s = 0; s < batch.size; s++) {
        const n = v.lengths[f * batch.size + s]!;
        if (s < b) {
          lengths[f * b + s] = n;
          for (let k = 0; k < n; k++) values.push(v.values[at + k]!);
        }
        at += n;
      }
    inputs[name] = { count: v.count, batch: b, lengths, values: Int32Array.from(values) };
  }
  return { size: b, inputs };
}

await main();
