// `npm run bench:precision`: what low precision buys on the small
// Kaggle-shaped DLRM with trained-looking weights. Compiles the model at fp32,
// fp16, int8 and `auto` (the NE-budgeted search on calibration data), then on
// separate held-out data reports each artifact's size, its NE delta against
// the fp32 model, and its speed at batch 64 (one thread, after a warm-up).
// Everything goes through the same functions as `rmc compile` / `rmc run`.
// `auto-hot` is `auto` after `split-tables{hot=K}`: the K most frequent ids of
// each table (in the calibration data) form a hot part and the search treats
// hot and cold parts as separate units (`--hot=K`, default 128).

import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main as rmc } from "../src/cli/main.js";
import { load } from "../src/runtime/index.js";
import { dataSchema } from "../src/data/schema.js";
import { readBatches } from "../src/data/tsv.js";
import type { Batch } from "../src/data/batch.js";
import { BinaryMetrics, neDeltaPercent } from "../src/metrics/index.js";
import { parseModel } from "../src/frontend/index.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const budget = args.find((a) => a.startsWith("--budget="))?.slice(9) ?? "0.05";
const hot = args.find((a) => a.startsWith("--hot="))?.slice(6) ?? "128";
const MODES = ["fp32", "fp16", "int8", "auto", "auto-hot"];
const modes = args.find((a) => a.startsWith("--modes="))?.slice(8).split(",") ?? [...MODES];
for (const m of modes) if (!MODES.includes(m)) throw new Error(`--modes: unknown mode ${m} (modes: ${MODES.join(", ")})`);
if (modes[0] !== "fp32") modes.unshift("fp32");
const repo = fileURLToPath(new URL("../..", import.meta.url));
const model = join(repo, "examples/dlrm_kaggle_small.rmdl");
const dir = mkdtempSync(join(tmpdir(), "rmc-precision-"));

async function cli(...argv: string[]): Promise<string> {
  let out = "";
  const code = await rmc(argv, { out: (s) => void (out += s), err: (s) => void process.stderr.write(s) });
  if (code !== 0) throw new Error(`rmc ${argv.join(" ")} failed (${code})`);
  return out;
}

async function heldOut(path: string, rows: number): Promise<Batch[]> {
  const graph = parseModel(readFileSync(model, "utf8"), model).graph!;
  const out: Batch[] = [];
  for await (const b of readBatches(path, dataSchema(graph), { batchSize: 64, limit: rows })) out.push(b);
  return out;
}

async function measure(dist: string, data: Batch[]): Promise<{ ne: number; rate: number }> {
  const m = await load(dist, { threads: 1 });
  try {
    const metrics = new BinaryMetrics();
    for (const b of data) metrics.add((await m.predict(b.inputs)).ctr!, b.labels!.ctr!);
    const batch = data.find((b) => b.size === 64)!;
    for (const t = performance.now(); performance.now() - t < (quick ? 500 : 2000); ) await m.predict(batch.inputs);
    const rates: number[] = [];
    for (let r = 0; r < (quick ? 3 : 5); r++) {
      let n = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < (quick ? 300 : 1000)) {
        await m.predict(batch.inputs);
        n++;
      }
      rates.push((n * 64) / ((performance.now() - t0) / 1000));
    }
    return { ne: metrics.result().ne, rate: rates.sort((a, b) => a - b)[Math.floor(rates.length / 2)]! };
  } finally {
    await m.close();
  }
}

// Code and weights: weights.bin plus the shard files of split tables.
const size = (dist: string): number => readdirSync(dist).filter((f) => f === "weights.bin" || f === "model.wasm" || /^shard\..*\.bin$/.test(f)).reduce((s, f) => s + statSync(join(dist, f)).size, 0);

async function main(): Promise<void> {
  const rows = quick ? 8000 : 40000;
  const w = join(dir, "w.safetensors");
  await cli("init-weights", model, "--seed", "1", "--dist", "trained", "-o", w);
  await cli("gen-data", model, "--weights", w, "--rows", String(rows), "--seed", "11", "-o", join(dir, "calib.tsv"));
  await cli("gen-data", model, "--weights", w, "--rows", String(rows), "--seed", "12", "-o", join(dir, "heldout.tsv"));
  const data = await heldOut(join(dir, "heldout.tsv"), rows);
  const results = new Map<string, { bytes: number; ne: number; rate: number; compile: number }>();
  for (const mode of modes) {
    const dist = join(dir, mode);
    const t0 = performance.now();
    const auto = mode.startsWith("auto");
    const search = ["--ne-budget", budget, "--calib", join(dir, "calib.tsv"), "--calib-rows", quick ? "4096" : "8192", "--report", join(dir, `${mode}-report.md`)];
    const passes = mode === "auto-hot" ? ["--passes", `canonicalize,infer-shapes,dce,split-tables{hot=${hot}}`] : [];
    const report = await cli("compile", model, "--weights", w, "--precision", auto ? "auto" : mode, ...passes, ...(auto ? search : []), "-o", dist);
    const compile = (performance.now() - t0) / 1000;
    if (auto) process.stderr.write(report);
    results.set(mode, { bytes: size(dist), compile, ...(await measure(dist, data)) });
  }
  const base = results.get("fp32")!;
  console.log(`# precision benchmark: dlrm_kaggle_small, trained weights (seed 1), ${rows} held-out rows`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}; ${new Date().toISOString().slice(0, 10)}; auto budget ${budget}% NE; auto-hot: hot=${hot}\n`);
  console.log("| mode | weights + code | x smaller | NE (held-out) | NE delta vs fp32 | samples/s, batch 64, 1 thread | speed-up | compile |");
  console.log("|---|---|---|---|---|---|---|---|");
  for (const [mode, r] of results)
    console.log(`| ${mode} | ${(r.bytes / 1024).toFixed(1)} KiB | ${(base.bytes / r.bytes).toFixed(2)}x | ${r.ne.toFixed(5)} | ${neDeltaPercent(base.ne, r.ne) >= 0 ? "+" : ""}${neDeltaPercent(base.ne, r.ne).toFixed(4)}% | ${Math.round(r.rate).toLocaleString("en-US")} | ${(r.rate / base.rate).toFixed(2)}x | ${r.compile.toFixed(1)} s |`);
  if (args.includes("--keep")) console.log(`\nThe auto plans' reports: ${join(dir, "auto-report.md")}, ${join(dir, "auto-hot-report.md")}`);
}

try {
  await main();
} finally {
  if (!args.includes("--keep")) rmSync(dir, { recursive: true, force: true });
}
