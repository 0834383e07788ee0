// `rmc compile`: model + weights → a deployable artifact folder for a target
// (wasm now; plugin backends too), after the pass pipeline. Prints what was
// written, how big, how long it took and the planned activation memory.

import { RmcError, didYouMean } from "../../diagnostics.js";
import { BackendRegistry, type Backend } from "../../../backends/backend.js";
import type { Command } from "../command.js";
import { requireFlag } from "../args.js";
import { PIPELINE_FLAGS, WEIGHT_FLAGS, loadModel, loadPlugins, loadWeightsWithInfo, runPassesWithReport } from "../model.js";
import { PRECISION_FLAGS, pinPrequantized, precisionStep, readCalibration, reportPlan } from "../precision.js";
import type { PrecisionPlan } from "../../precision/plan.js";
import { compilerVersion } from "../version.js";
import { humanBytes } from "../summary.js";
import { parsePipeline, printStep } from "../../pipeline/index.js";
import { writeFileAtomic } from "../../util/fs.js";
import { type MemoryPlanSummary, formatMemoryLine, formatMemoryMarkdown } from "../memory.js";

/** Built-in targets, loaded on demand (binaryen takes a moment to start). */
const BUILTIN: Record<string, () => Promise<Backend>> = {
  wasm: async () => (await import("../../../backends/wasm/index.js")).wasmBackend,
  wgsl: async () => (await import("../../../backends/wgsl/index.js")).wgslBackend,
};

/** Checks a plugin's `backends` export just enough to call it safely. */
function pluginBackends(file: string, module: Record<string, unknown>): Backend[] {
  const list = module.backends;
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new RmcError(`plugin ${file}: \`backends\` must be an array`, "E1807");
  return list.map((b: Partial<Backend>, i) => {
    const missing = (["name", "compile", "ops", "limits", "precisions"] as const).filter((k) => b?.[k] === undefined);
    if (missing.length || typeof b.compile !== "function")
      throw new RmcError(
        `plugin ${file}: backend #${i}${typeof b?.name === "string" ? ` (${b.name})` : ""} lacks ${missing.join(", ") || "a compile function"}`,
        "E1807",
      );
    return b as Backend;
  });
}

export const compile: Command = {
  spec: {
    name: "compile",
    usage: "rmc compile MODEL.rmdl --weights W.safetensors --target wasm|wgsl -o DIST/",
    summary: "compile a model and its weights into an artifact for a target",
    positionals: { min: 1, max: 1 },
    flags: {
      ...WEIGHT_FLAGS,
      target: { type: "string", value: "NAME", doc: "backend: wasm or wgsl (WebGPU), or one a --plugin adds", default: "wasm" },
      output: { type: "string", short: "o", value: "DIR", doc: "artifact folder (replaced only if compilation succeeds)" },
      "emit-text": { type: "boolean", doc: "also write model.wat and final.ir" },
      features: {
        type: "string",
        value: "LIST",
        doc: "optional target features, comma-separated (wasm: `profile`, kernels kept as named functions for CPU profiles)",
      },
      "no-target-passes": { type: "boolean", doc: "do not append the target's passes (its fusions and memory plan) to the pipeline" },
      ...PRECISION_FLAGS,
      ...PIPELINE_FLAGS,
    },
    details:
      "Tables larger than the target's largest buffer (WebGPU: 128 MiB per binding) are split by rows into parts (split-tables, appended to the pipeline unless it has that pass); each part is a weight shard of its own that the runtime loads on first use. The artifact is loaded with `load(dir)` from rmc/runtime, or run with `rmc run DIST/ --data D.tsv`.",
  },
  async run(args, io) {
    const cmd = "compile";
    const outDir = requireFlag(args, "output", cmd);
    const { modules } = await loadPlugins(args);
    const targets = new BackendRegistry();
    for (const { file, module } of modules) for (const b of pluginBackends(file, module)) targets.register(b);
    const name = (args.flags.target as string) ?? "wasm";
    if (!targets.names().includes(name)) {
      const builtin = BUILTIN[name];
      if (!builtin) {
        const hint = didYouMean(name, [...Object.keys(BUILTIN), ...targets.names()]);
        throw new RmcError(
          `rmc compile: unknown target \`${name}\`${hint ? `: ${hint}` : ""} (targets: ${[...Object.keys(BUILTIN), ...targets.names()].join(", ")})`,
          "E0904",
        );
      }
      targets.register(await builtin());
    }
    const backend = targets.get(name);
    const features =
      typeof args.flags.features === "string"
        ? args.flags.features
            .split(",")
            .map((f) => f.trim())
            .filter(Boolean)
        : [];
    for (const f of features)
      if (!backend.features.includes(f))
        throw new RmcError(
          `rmc compile: target ${name} has no feature \`${f}\`${backend.features.length ? ` (it has ${backend.features.join(", ")})` : ""}`,
          "E0904",
        );
    const t0 = performance.now();
    const written = loadModel(args.positionals[0]!, io);
    const { store: weights, prequantized } = loadWeightsWithInfo(written, args, io, cmd);
    const model = pinPrequantized(written, prequantized);
    const step = precisionStep(args);
    const calibration = await readCalibration(model, args, cmd);
    // The target's fusions need the precisions assign-precision chose, so they come after it; tables over the
    // target's largest buffer are split before them (after precision: sizes are at the chosen precision).
    const targetPasses = args.flags["no-target-passes"] === true || !backend.passes ? [] : parsePipeline(backend.passes).map(printStep);
    const split = `split-tables{max-bytes=${backend.limits.maxBufferBytes}}`;
    const { graph, outputs } = await runPassesWithReport(model, args, io, {
      weights,
      ...(calibration ? { calibration } : {}),
      append: [...(step ? [step] : []), split, ...targetPasses],
    });
    const plan = outputs["precision-plan"] as PrecisionPlan | undefined;
    const memory = outputs["memory-plan"] as MemoryPlanSummary | undefined;
    if (plan) reportPlan(plan, args, io, memory);
    else if (typeof args.flags.report === "string")
      writeFileAtomic(
        args.flags.report,
        `# Compile report: ${graph.name}\n\n${memory ? formatMemoryMarkdown(memory) : "No memory plan: the target plans its buffers itself.\n"}`,
      );
    const result = await backend.compile(graph, weights, {
      outDir,
      emitText: args.flags["emit-text"] === true,
      features,
      compilerVersion: compilerVersion(),
      ...(plan ? { manifestExtras: { plan } } : {}),
    });
    const secs = (performance.now() - t0) / 1000;
    io.out(`compiled ${graph.name} for ${name} in ${secs.toFixed(2)} s → ${outDir}\n`);
    const width = Math.max(20, ...result.files.map((f) => f.name.length));
    for (const f of result.files) io.out(`  ${f.name.padEnd(width)} ${humanBytes(f.bytes).padStart(12)}\n`);
    io.out(`  activations: ${humanBytes(result.activationBytesPerSample)} per sample (buffers reused by liveness)\n`);
    if (memory) io.out(`  ${formatMemoryLine(memory)}\n`);
    return 0;
  },
};
