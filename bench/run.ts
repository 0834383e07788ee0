// `npm run bench [-- --target wgsl]` (`-- --peers`: the peer benchmark, bench/peers/main.ts): the Criteo Kaggle-shaped DLRM (bench/dlrm_kaggle_100k.rmdl)
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
import { runPipeline, DEFAULT_PIPELINE } from "../src/pipeline/index.js";
import { createPassRegistry } from "../passes/index.js";
import { initWeights } from "../src/weights/init.js";
import { interpret } from "../src/interp/interpreter.js";
import { samplePool, slice } from "./batches.js";
import { load } from "../src/runtime/index.js";
import { wasmBackend } from "../backends/wasm/index.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const targetAt = args.indexOf("--target");
const target = targetAt >= 0 ? (args[targetAt + 1] ?? "wasm") : "wasm";
if (target !== "wasm" && target !== "wgsl") throw new Error(`--target must be wasm or wgsl, got ${target}`);
const ROUND_MS = quick ? 300 : 1000;
const ROUNDS = quick ? 3 : 5;

/** Median samples/s of `fn(batchSize)` over timed rounds, after a warm-up. */
async function measure(batch: number, fn: () => unknown | Promise<unknown>, warmMs = quick ? 300 : 1500): Promise<number> {
  for (const t = performance.now(); performance.now() - t < warmMs;) await fn();
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
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; ${new Date().toISOString().slice(0, 10)}`,
  );
  console.log(
    `compile (weights packing included): ${compileSecs.toFixed(2)} s; artifact: ${sizes.map(([f, s]) => `${f} ${(s / 2 ** 20).toFixed(2)} MiB`).join(", ")}\n`,
  );
  console.log(
    target === "wgsl"
      ? "| ids/bag | batch | rmc wgsl (WebGPU) | JS interpreter | wgsl / interpreter |\n|---|---|---|---|---|"
      : "| ids/bag | batch | rmc wasm 1 thread | rmc wasm 2 threads | JS interpreter | wasm / interpreter |\n|---|---|---|---|---|---|",
  );
  const one = await load(dir, { threads: 1 });
  const two = target === "wasm" ? await load(dir, { threads: 2 }) : one;
  try {
    for (const ids of [1, 4]) {
      const pool = samplePool(model, ids);
      for (const b of [1, 64, 512]) {
        const batch = slice(pool, b);
        const w1 = await measure(b, () => one.predict(batch.inputs));
        const w2 = target === "wasm" && b >= 64 ? await measure(b, () => two.predict(batch.inputs)) : NaN;
        const js = await measure(b, () => interpret(graph, weights, batch), quick ? 100 : 300);
        if (target === "wgsl") console.log(`| ${ids} | ${b} | ${fmt(w1)} | ${fmt(js)} | ${(w1 / js).toFixed(1)}x |`);
        else
          console.log(
            `| ${ids} | ${b} | ${fmt(w1)} | ${Number.isNaN(w2) ? "—" : `${fmt(w2)} (${(w2 / w1).toFixed(2)}x)`} | ${fmt(js)} | ${(w1 / js).toFixed(1)}x |`,
          );
      }
    }
  } finally {
    await one.close();
    if (two !== one) await two.close();
    rmSync(join(dir, ".."), { recursive: true, force: true });
  }
}

// `--peers` hands the whole command line to the peer benchmark.
if (args.includes("--peers")) await import("./peers/main.js");
else await main();
