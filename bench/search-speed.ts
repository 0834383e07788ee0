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

import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main as rmc } from "../src/cli/main.js";
import type { PrecisionPlan } from "../src/precision/plan.js";

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

try {
  await main();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
