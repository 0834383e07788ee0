// `npm run bench:search-speed`: how long `--precision auto --ne-budget 0.05`
// searches on dlrm_kaggle_small (trained weights, seed 7; 8,000 calibration
// rows, seed 11), as `rmc compile` runs it. Prints, per run, the plan's own
// search time (wall and CPU seconds: the machine may be shared, CPU time is
// the steadier figure), its evaluations, the artifact's bytes (weights.bin,
// model.wasm and shards, as bench/precision.ts counts them), its expected NE
// delta, and a digest of the plan without its timings, so that a faster
// evaluator can be seen to choose the very same plan.
//
//   npm run bench:search-speed -- [--runs=N] [--rows=8000] [--budget=0.05]
//   npm run bench:search-speed -- --kernels   (the fp32 linear layer: interpreter vs SIMD, CPU ms per batch of 256)

import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main as rmc } from "../src/cli/main.js";
import type { PrecisionPlan } from "../src/precision/plan.js";
import { linearBatch } from "../src/interp/math.js";
import { SimdLinear } from "../src/precision/simd-kernels.js";
import { Rng } from "../src/util/rng.js";

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const runs = Number(opt("runs", "1"));
const rows = opt("rows", "8000");
const budget = opt("budget", "0.05");
const repo = fileURLToPath(new URL("../..", import.meta.url));
const model = join(repo, "examples/dlrm_kaggle_small.rmdl");
const dir = mkdtempSync(join(tmpdir(), "rmc-search-speed-"));

async function cli(...argv: string[]): Promise<void> {
  const code = await rmc(argv, { out: () => undefined, err: (s) => void process.stderr.write(s) });
  if (code !== 0) throw new Error(`rmc ${argv.join(" ")} failed (${code})`);
}

const size = (dist: string): number =>
  readdirSync(dist)
    .filter((f) => f === "weights.bin" || f === "model.wasm" || /^shard\..*\.bin$/.test(f))
    .reduce((s, f) => s + statSync(join(dist, f)).size, 0);

async function main(): Promise<void> {
  const w = join(dir, "w.safetensors");
  const calib = join(dir, "calib.tsv");
  await cli("init-weights", model, "--seed", "7", "--dist", "trained", "-o", w);
  await cli("gen-data", model, "--weights", w, "--rows", rows, "--seed", "11", "-o", calib);
  console.log(`# search speed: dlrm_kaggle_small, --precision auto --ne-budget ${budget}, ${rows} calibration rows`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}; ${new Date().toISOString().slice(0, 10)}\n`);
  console.log("| run | search wall | search CPU | evaluations | bytes | x smaller | expected NE delta | plan digest |");
  console.log("|---|---|---|---|---|---|---|---|");
  await cli("compile", model, "--weights", w, "-o", join(dir, "fp32"));
  const fp32 = size(join(dir, "fp32"));
  for (let r = 1; r <= runs; r++) {
    const dist = join(dir, `auto-${r}`);
    const planPath = join(dir, `plan-${r}.json`);
    await cli(
      "compile",
      model,
      "--weights",
      w,
      "-o",
      dist,
      "--precision",
      "auto",
      "--ne-budget",
      budget,
      "--calib",
      calib,
      "--calib-rows",
      rows,
      "--plan-out",
      planPath,
    );
    const plan = JSON.parse(readFileSync(planPath, "utf8")) as PrecisionPlan;
    const { search, ...rest } = plan;
    const digest = createHash("sha256").update(JSON.stringify(rest)).digest("hex").slice(0, 12);
    const bytes = size(dist);
    console.log(
      `| ${r} | ${search!.seconds.toFixed(2)} s | ${search!.cpuSeconds.toFixed(2)} s | ${search!.evaluations} | ${bytes.toLocaleString("en-US")} | ${(fp32 / bytes).toFixed(2)}x | +${plan.neDelta!.toFixed(4)}% ± ${plan.neDeltaError!.toFixed(4)}% | ${digest} |`,
    );
  }
}

/** CPU ms per call of `f`, over about 1.5 s after one warm-up call. */
function cpuMsPer(f: () => void): number {
  f();
  const [c0, t0] = [process.cpuUsage(), performance.now()];
  let n = 0;
  for (; performance.now() - t0 < 1500; n++) f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / n;
}

/** The dense layers of the full-size and small models' top MLPs at fp32, batch 256: the interpreter's linearBatch against SimdLinear (same bits). */
function kernels(): void {
  const rng = new Rng(1);
  console.log("| layer, batch 256 | linearBatch | SimdLinear | speed-up | same bits |\n|---|---|---|---|---|");
  for (const [inF, out] of [
    [367, 512],
    [512, 256],
    [367, 64],
  ] as const) {
    const x = Float32Array.from({ length: 256 * inF }, () => Math.fround(rng.normal()));
    const w = Float32Array.from({ length: out * inF }, () => Math.fround(rng.normal() * 0.05));
    const b = Float32Array.from({ length: out }, () => Math.fround(rng.normal()));
    const [y1, y2] = [new Float32Array(256 * out), new Float32Array(256 * out)];
    const simd = new SimdLinear(w, b, inF, out);
    const [a, s] = [cpuMsPer(() => linearBatch(x, 256, inF, w, b, out, y1)), cpuMsPer(() => simd.run(x, 256, y2))];
    const same = y1.every((v, i) => Object.is(v, y2[i]));
    console.log(`| ${inF}→${out} | ${a.toFixed(2)} ms CPU | ${s.toFixed(2)} ms CPU | ${(a / s).toFixed(1)}x | ${same ? "yes" : "NO"} |`);
  }
}

try {
  if (args.includes("--kernels")) kernels();
  else await main();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
