// `npm run bench:precision`: what low precision buys on the small
// Kaggle-shaped DLRM with trained-looking weights. Compiles the model at fp32,
// fp16, int8 and `auto` (the NE-budgeted search on calibration data), then on
// separate held-out data reports each artifact's size, its NE delta against
// the fp32 model, and its speed at batch 64 (one thread, after a warm-up).
// Everything goes through the same functions as `rmc compile` / `rmc run`.
// `auto` weighs hot/cold splits of every table itself; `auto-hot` is `auto`
// after a hand-written `split-tables{hot=K}` (`--hot=K`, default 128), for
// comparison. Each NE delta comes with its standard error over the held-out
// rows: the spread of the per-row difference (log loss, or KL against the
// fp32 predictions) over √rows, relative to the fp32 model's mean.

import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main as rmc } from "../src/cli/main.js";
import { load, type Model } from "../src/runtime/index.js";
import { dataSchema } from "../src/data/schema.js";
import { readBatches } from "../src/data/tsv.js";
import type { Batch } from "../src/data/batch.js";
import { BinaryMetrics, neDeltaPercent } from "../src/metrics/index.js";
import { expectedDelta, labelledDelta, rowLoss } from "./ne-deltas.js";
import type { PrecisionPlan } from "../src/precision/plan.js";
import { parseModel } from "../src/frontend/index.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const budget = args.find((a) => a.startsWith("--budget="))?.slice(9) ?? "0.05";
const hot = args.find((a) => a.startsWith("--hot="))?.slice(6) ?? "128";
const seed = Number(args.find((a) => a.startsWith("--seed="))?.slice(7) ?? "7");
const MODES = ["fp32", "fp16", "int8", "auto", "auto-hot"];
const modes = args
  .find((a) => a.startsWith("--modes="))
  ?.slice(8)
  .split(",") ?? [...MODES];
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

/** NE on the held-out labels, and the predictions (for the label-free expected delta against fp32). */
async function accuracy(m: Model, data: Batch[]): Promise<{ ne: number; predictions: Float32Array[] }> {
  const metrics = new BinaryMetrics();
  const predictions: Float32Array[] = [];
  for (const b of data) {
    const p = (await m.predict(b.inputs)).ctr!;
    predictions.push(p);
    metrics.add(p, b.labels!.ctr!);
  }
  return { ne: metrics.result().ne, predictions };
}

/** Samples/s at batch 64 of every model, in interleaved rounds after a warm-up (the machine is shared: side by side, not one after another). */
async function speeds(models: Model[], batch: Batch): Promise<number[]> {
  for (const m of models) for (const t = performance.now(); performance.now() - t < (quick ? 500 : 2000);) await m.predict(batch.inputs);
  const rates: number[][] = models.map(() => []);
  for (let r = 0; r < (quick ? 3 : 7); r++)
    for (const [i, m] of models.entries()) {
      let n = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < (quick ? 300 : 700)) {
        await m.predict(batch.inputs);
        n++;
      }
      rates[i]!.push((n * 64) / ((performance.now() - t0) / 1000));
    }
  return rates.map((xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);
}

// Code and weights: weights.bin plus the shard files of split tables.
const size = (dist: string): number =>
  readdirSync(dist)
    .filter((f) => f === "weights.bin" || f === "model.wasm" || /^shard\..*\.bin$/.test(f))
    .reduce((s, f) => s + statSync(join(dist, f)).size, 0);

async function main(): Promise<void> {
  // Held-out rows: label noise on an NE delta shrinks as 1/√rows (about ±0.01% at 40,000 rows here), so many.
  const rows = quick ? 20000 : 200000;
  const calibRows = quick ? 4096 : 8000;
  const w = join(dir, "w.safetensors");
  await cli("init-weights", model, "--seed", String(seed), "--dist", "trained", "-o", w);
  await cli("gen-data", model, "--weights", w, "--rows", String(calibRows), "--seed", "11", "-o", join(dir, "calib.tsv"));
  await cli("gen-data", model, "--weights", w, "--rows", String(rows), "--seed", "12", "-o", join(dir, "heldout.tsv"));
  const data = await heldOut(join(dir, "heldout.tsv"), rows);
  const results = new Map<
    string,
    {
      bytes: number;
      ne: number;
      labelled: { delta: number; se: number };
      expected: { delta: number; se: number };
      compile: number;
      search?: number;
      model: Model;
    }
  >();
  let reference: Float32Array[] | undefined;
  let referenceLoss: Float64Array | undefined;
  for (const mode of modes) {
    const dist = join(dir, mode);
    const t0 = performance.now();
    const auto = mode.startsWith("auto");
    const search = [
      "--ne-budget",
      budget,
      "--calib",
      join(dir, "calib.tsv"),
      "--calib-rows",
      String(calibRows),
      "--report",
      join(dir, `${mode}-report.md`),
      "--plan-out",
      join(dir, `${mode}-plan.json`),
    ];
    const passes = mode === "auto-hot" ? ["--passes", `canonicalize,infer-shapes,dce,split-tables{hot=${hot}}`] : [];
    const report = await cli("compile", model, "--weights", w, "--precision", auto ? "auto" : mode, ...passes, ...(auto ? search : []), "-o", dist);
    const compile = (performance.now() - t0) / 1000;
    if (auto) process.stderr.write(report);
    const m = await load(dist, { threads: 1 });
    const { ne, predictions } = await accuracy(m, data);
    reference ??= predictions;
    const losses = rowLoss(predictions, data);
    referenceLoss ??= losses;
    const plan = auto ? (JSON.parse(readFileSync(join(dir, `${mode}-plan.json`), "utf8")) as PrecisionPlan) : undefined;
    results.set(mode, {
      bytes: size(dist),
      compile,
      ne,
      labelled: labelledDelta(referenceLoss, losses),
      expected: expectedDelta(reference, predictions),
      ...(plan?.search ? { search: plan.search.seconds } : {}),
      model: m,
    });
  }
  const rates = await speeds(
    [...results.values()].map((r) => r.model),
    data.find((b) => b.size === 64)!,
  );
  for (const r of results.values()) await r.model.close();
  const rate = new Map([...results.keys()].map((k, i) => [k, rates[i]!]));
  const base = results.get("fp32")!;
  console.log(`# precision benchmark: dlrm_kaggle_small, trained weights (seed ${seed}), ${calibRows} calibration rows, ${rows} held-out rows`);
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}; ${new Date().toISOString().slice(0, 10)}; auto budget ${budget}% NE; auto-hot: hot=${hot}\n`,
  );
  console.log(
    "| mode | weights + code | x smaller | NE (held-out) | NE delta vs fp32 (labels) ± SE | expected NE delta (held-out inputs) ± SE | samples/s, batch 64, 1 thread | speed-up | search | compile |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  const signed = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(4)}%`;
  const withSe = (x: { delta: number; se: number }) => `${signed(x.delta)} ± ${x.se.toFixed(4)}%`;
  for (const [mode, r] of results) {
    // The labelled delta is the same per-row difference BinaryMetrics' NE sees (its denominator, the label entropy, is shared).
    if (Math.abs(r.labelled.delta - neDeltaPercent(base.ne, r.ne)) > 1e-6) throw new Error(`${mode}: per-row and NE deltas disagree`);
    console.log(
      `| ${mode} | ${(r.bytes / 1024).toFixed(1)} KiB | ${(base.bytes / r.bytes).toFixed(2)}x | ${r.ne.toFixed(5)} | ${withSe(r.labelled)} | ${withSe(r.expected)} | ${Math.round(rate.get(mode)!).toLocaleString("en-US")} | ${(rate.get(mode)! / rate.get("fp32")!).toFixed(2)}x | ${r.search !== undefined ? `${r.search.toFixed(1)} s` : ""} | ${r.compile.toFixed(1)} s |`,
    );
  }
  if (args.includes("--keep")) console.log(`\nThe auto plans' reports: ${join(dir, "auto-report.md")}, ${join(dir, "auto-hot-report.md")}`);
}

try {
  await main();
} finally {
  if (!args.includes("--keep")) rmSync(dir, { recursive: true, force: true });
}
