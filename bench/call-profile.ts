// `npm run bench:call-profile`: where one `predict` call of the small DLRM
// (examples/dlrm_kaggle_small.rmdl, trained weights, batch 64, one thread)
// spends its time, for the fp32, the all-int8 and the auto-hot artifact (the
// search under a 0.05% NE budget after split-tables{hot=128}, as in
// bench:precision): microseconds per call (after a warm-up, interleaved
// rounds, medians), then a CPU profile of each (node:inspector) split into the
// compiled Wasm forward, the runtime's JavaScript (input checks, bag
// preparation, copies) and the rest, and per kernel. Last, the ceiling int8
// layers can reach: the fp32 call with every dense layer at half its time
// (i32x4.dot_i16x8_s does 8 multiply-adds where f32x4 does 4, with one add
// each), everything else unchanged.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main as rmc } from "../src/cli/main.js";
import { load, type Model } from "../src/runtime/index.js";
import { parseModel } from "../src/frontend/index.js";
import { readBatches } from "../src/data/tsv.js";
import { dataSchema } from "../src/data/schema.js";
import type { Batch } from "../src/data/batch.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const model = join(repo, "examples/dlrm_kaggle_small.rmdl");
const dir = mkdtempSync(join(tmpdir(), "rmc-call-"));

async function cli(...argv: string[]): Promise<void> {
  const code = await rmc(argv, { out: () => {}, err: (s) => void process.stderr.write(s) });
  if (code !== 0) throw new Error(`rmc ${argv.join(" ")} failed (${code})`);
}

async function usPerCall(m: Model, batch: Batch, ms: number): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    await m.predict(batch.inputs);
    n++;
  }
  return ((performance.now() - t0) * 1000) / n;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

/**
 * Shares of self time: the Wasm forward, the runtime's JS (files under src/runtime), everything else;
 * and per Wasm kernel, for an artifact compiled with `--features profile` (kernels named, not inlined).
 */
async function profile(m: Model, batch: Batch): Promise<{ wasm: number; runtime: number; other: number; kernels: Map<string, number> }> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  await usPerCall(m, batch, 2000);
  const { profile: p } = (await session.post("Profiler.stop")) as unknown as {
    profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  };
  session.disconnect();
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const shares = { wasm: 0, runtime: 0, other: 0 };
  const kernels = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    const frame = byId.get(id)!.callFrame;
    if (/^(k\d+_|forward$|wasm-function)/.test(frame.functionName)) {
      shares.wasm += dt;
      kernels.set(frame.functionName, (kernels.get(frame.functionName) ?? 0) + dt);
    } else if (/\/runtime\/[^/]+\.js$/.test(frame.url)) shares.runtime += dt;
    else if (frame.functionName !== "(idle)") shares.other += dt;
    else return;
    total += dt;
  });
  for (const [k, v] of kernels) kernels.set(k, v / total);
  return { wasm: shares.wasm / total, runtime: shares.runtime / total, other: shares.other / total, kernels };
}

async function main(): Promise<void> {
  const w = join(dir, "w.safetensors");
  const data = join(dir, "d.tsv");
  await cli("init-weights", model, "--seed", "1", "--dist", "trained", "-o", w);
  await cli("gen-data", model, "--weights", w, "--rows", "4096", "--seed", "11", "-o", data);
  await cli("compile", model, "--weights", w, "-o", join(dir, "fp32"));
  await cli("compile", model, "--weights", w, "--precision", "int8", "--calib", data, "-o", join(dir, "int8"));
  // The same two with kernels kept as named functions, for the per-kernel split (timed separately: no inlining).
  await cli("compile", model, "--weights", w, "--features", "profile", "-o", join(dir, "fp32-profile"));
  await cli("compile", model, "--weights", w, "--precision", "int8", "--calib", data, "--features", "profile", "-o", join(dir, "int8-profile"));
  const hot = ["--passes", "canonicalize,infer-shapes,dce,split-tables{hot=128}", "--calib", data];
  const plan = join(dir, "auto-hot.plan.json");
  await cli("compile", model, "--weights", w, "--precision", "auto", "--ne-budget", "0.05", ...hot, "--plan-out", plan, "-o", join(dir, "auto-hot"));
  await cli("compile", model, "--weights", w, "--plan", plan, ...hot, "--features", "profile", "-o", join(dir, "auto-hot-profile"));
  const graph = parseModel(readFileSync(model, "utf8"), model).graph!;
  let batch: Batch | undefined;
  for await (const b of readBatches(data, dataSchema(graph), { batchSize: 64, limit: 64 })) batch = b;
  const modes = ["fp32", "int8", "auto-hot"];
  const models = await Promise.all(modes.map((m) => load(join(dir, m), { threads: 1 })));
  for (const m of models) await usPerCall(m, batch!, 1500);
  const rounds: number[][] = modes.map(() => []);
  for (let r = 0; r < 7; r++) for (let i = 0; i < models.length; i++) rounds[i]!.push(await usPerCall(models[i]!, batch!, 500));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `# predict() call profile: dlrm_kaggle_small, batch 64, 1 thread; ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`,
  );
  console.log("| artifact | µs per call (median of 7) | samples/s | Wasm forward | runtime JS | other |");
  console.log("|---|---|---|---|---|---|");
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  const profiled = await Promise.all(modes.map((m) => load(join(dir, `${m}-profile`), { threads: 1 })));
  const kernels: Map<string, number>[] = [];
  for (let i = 0; i < models.length; i++) {
    const us = median(rounds[i]!);
    const s = await profile(models[i]!, batch!);
    console.log(
      `| ${modes[i]} | ${us.toFixed(1)} | ${Math.round(64e6 / us).toLocaleString("en-US")} | ${pct(s.wasm)} | ${pct(s.runtime)} | ${pct(s.other)} |`,
    );
    await usPerCall(profiled[i]!, batch!, 1500);
    kernels.push((await profile(profiled[i]!, batch!)).kernels);
  }
  // Per kernel: its share of the profiled artifact's call, times the plain artifact's µs per call.
  console.log(`\n| kernel (--features profile) | ${modes.map((m) => `${m} share | ${m} ≈µs`).join(" | ")} |`);
  console.log(`|---|${modes.map(() => "---|---").join("|")}|`);
  const names = [...new Set(kernels.flatMap((k) => [...k.keys()]))].sort((a, b) => (kernels[0]!.get(b) ?? 0) - (kernels[0]!.get(a) ?? 0));
  for (const n of names)
    console.log(
      `| ${n} | ${modes.map((_, i) => `${pct(kernels[i]!.get(n) ?? 0)} | ${((kernels[i]!.get(n) ?? 0) * median(rounds[i]!)).toFixed(1)}`).join(" | ")} |`,
    );
  const fp32 = median(rounds[0]!);
  const dense = [...kernels[0]!].filter(([n]) => /_linear/.test(n)).reduce((a, [, share]) => a + share * fp32, 0);
  console.log(
    `\nCeiling for int8 dense layers: the fp32 call (${fp32.toFixed(1)} µs) with its dense layers (${dense.toFixed(1)} µs) at half their time: ${(fp32 / (fp32 - dense / 2)).toFixed(2)}x.`,
  );
  for (const m of [...models, ...profiled]) await m.close();
}

try {
  await main();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
