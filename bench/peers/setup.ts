// The files the peer benchmark loads, made once per run through the same
// entry points a user has: `rmc init-weights` (trained-looking weights, seed 1),
// `rmc compile` at fp32 and with auto precision, and the ONNX exporter at fp32,
// int8 (ONNX Runtime's dynamic quantization form) and the auto plan (rmc's
// own int8 scheme, `int8Form: "exact"`). The auto artifact is
// compiled from the plan the search chose for these weights, stored next to
// the model (bench/dlrm_kaggle_100k.auto-plan.json), because the search itself
// (`--precision auto`, NE budget 0.05%, 4096 calibration rows from
// `rmc gen-data --seed 11`) runs the interpreter for many minutes on this
// model; `--search` runs it again and writes the plan it finds into the work
// folder. With `--work DIR` the files are kept and reused by later runs.

import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main as rmc } from "../../src/cli/main.js";
import { parseModel } from "../../src/frontend/index.js";
import { exportOnnx } from "../../src/onnx/export.js";
import { loadWeights } from "../../src/weights/bind.js";
import { plannedGraph } from "./interp.js";
import type { PeerFiles } from "./peer.js";

/** The benchmark model. */
export const MODEL_FILE = fileURLToPath(new URL("../../../bench/dlrm_kaggle_100k.rmdl", import.meta.url));
/** The precision plan `--precision auto` chose for the benchmark's weights. */
export const PLAN_FILE = fileURLToPath(new URL("../../../bench/dlrm_kaggle_100k.auto-plan.json", import.meta.url));

/** What building took, for the report. */
export interface BuildInfo {
  /** Seconds per step that ran in this call (absent: reused from the work folder). */
  seconds: Record<string, number>;
  /** Bytes on disk of each model form. */
  bytes: Record<string, number>;
}

/** Runs an rmc command; its output goes to `log` (stderr by default), a failure throws. */
async function cli(log: (s: string) => void, ...argv: string[]): Promise<void> {
  const code = await rmc(argv, { out: log, err: log });
  if (code !== 0) throw new Error(`rmc ${argv.join(" ")} failed (exit ${code})`);
}

/** Makes `target` with `make` unless it exists already; records the time taken. */
async function step(info: BuildInfo, name: string, target: string, make: () => Promise<void> | void): Promise<void> {
  if (existsSync(target)) return;
  const t0 = performance.now();
  await make();
  info.seconds[name] = (performance.now() - t0) / 1000;
}

const dirBytes = (dir: string, files: string[]): number =>
  files.reduce((n, f) => n + (existsSync(join(dir, f)) ? statSync(join(dir, f)).size : 0), 0);

/** Builds (or reuses) every file in `work`. `auto` false skips the auto-precision artifact. */
export async function buildFiles(
  work: string,
  opts: { auto: boolean; search: boolean; calibRows: number; log: (s: string) => void },
): Promise<{ files: PeerFiles; info: BuildInfo }> {
  mkdirSync(work, { recursive: true });
  const info: BuildInfo = { seconds: {}, bytes: {} };
  const files: PeerFiles = { rmdl: MODEL_FILE, weights: join(work, "weights.safetensors"), rmcFp32: join(work, "rmc-fp32") };
  const log = opts.log;
  await step(info, "init-weights", files.weights, () =>
    cli(log, "init-weights", MODEL_FILE, "--seed", "1", "--dist", "trained", "-o", files.weights),
  );
  await step(info, "compile fp32", files.rmcFp32, () => cli(log, "compile", MODEL_FILE, "--weights", files.weights, "-o", files.rmcFp32));
  if (opts.auto) {
    files.rmcAuto = join(work, "rmc-auto");
    if (opts.search || !existsSync(PLAN_FILE)) {
      const calib = join(work, "calib.tsv");
      await step(info, "gen-data (calibration)", calib, () =>
        cli(log, "gen-data", MODEL_FILE, "--weights", files.weights, "--rows", String(opts.calibRows), "--seed", "11", "-o", calib),
      );
      const plan = join(work, "auto-plan.json");
      await step(info, "compile auto (search)", files.rmcAuto, () =>
        cli(
          log,
          "compile",
          MODEL_FILE,
          "--weights",
          files.weights,
          "--precision",
          "auto",
          "--ne-budget",
          "0.05",
          "--calib",
          calib,
          "--calib-rows",
          String(opts.calibRows),
          "--plan-out",
          plan,
          "--report",
          join(work, "auto-report.md"),
          "-o",
          files.rmcAuto!,
        ),
      );
      files.rmcAutoPlan = plan;
      log(`the auto plan is in ${plan}; copy it to ${PLAN_FILE} for later runs\n`);
    } else {
      files.rmcAutoPlan = PLAN_FILE;
      await step(info, "compile auto (stored plan)", files.rmcAuto, () =>
        cli(log, "compile", MODEL_FILE, "--weights", files.weights, "--plan", PLAN_FILE, "-o", files.rmcAuto!),
      );
    }
  }
  const parsed = parseModel(readFileSync(MODEL_FILE, "utf8"), MODEL_FILE);
  if (!parsed.graph) throw new Error(`${MODEL_FILE}: does not parse`);
  const graph = parsed.graph;
  for (const precision of ["fp32", "int8"] as const) {
    const out = join(work, precision === "fp32" ? "model.onnx" : "model.int8.onnx");
    await step(info, `export-onnx ${precision}`, out, () => {
      const bytes = exportOnnx(graph, loadWeights(graph, files.weights).store, { precision });
      writeFileSync(`${out}.tmp`, bytes);
      renameSync(`${out}.tmp`, out);
    });
    if (precision === "fp32") files.onnxFp32 = out;
    else files.onnxInt8 = out;
  }
  if (files.rmcAutoPlan) {
    const out = join(work, "model.plan.onnx");
    const plan = files.rmcAutoPlan;
    await step(info, "export-onnx plan", out, () => {
      const weights = loadWeights(graph, files.weights).store;
      const bytes = exportOnnx(plannedGraph(MODEL_FILE, plan, weights), weights, { precision: "plan", int8Form: "exact" });
      writeFileSync(`${out}.tmp`, bytes);
      renameSync(`${out}.tmp`, out);
    });
    files.onnxPlan = out;
  }
  info.bytes["weights.safetensors"] = statSync(files.weights).size;
  info.bytes["rmc fp32"] = dirBytes(files.rmcFp32, ["model.wasm", "weights.bin"]);
  if (files.rmcAuto) info.bytes["rmc auto"] = dirBytes(files.rmcAuto, ["model.wasm", "weights.bin"]);
  info.bytes["onnx fp32"] = statSync(files.onnxFp32!).size;
  info.bytes["onnx int8"] = statSync(files.onnxInt8!).size;
  if (files.onnxPlan) info.bytes["onnx auto plan"] = statSync(files.onnxPlan).size;
  return { files, info };
}
