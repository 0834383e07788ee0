// `rmc compile`: model + weights → a deployable artifact folder for a target
// (wasm now; plugin backends too), after the pass pipeline. Prints what was
// written, how big, how long it took and the planned activation memory.

import type { Command } from "../command.js";
import { choiceFlag, numberFlag, requireFlag } from "../args.js";
import { RmcError } from "../../diagnostics/index.js";
import { parseOptionValue } from "../../pipeline/index.js";
import {
  PIPELINE_FLAGS,
  WEIGHT_FLAGS,
  instrumentation,
  loadModel,
  loadPlugins,
  loadWeightsWithInfo,
  rememberPipeline,
  reportPassDiagnostics,
  userPipeline,
} from "../model.js";
import { PRECISION_FLAGS, pinPrequantized, precisionRequest, readCalibration, reportPlan, searchControl } from "../precision.js";
import { compileModel, compilePipeline, compileUntil, findBackend, type PlacementRequest } from "../../driver/index.js";
import { reportKind, writeHtmlReport } from "../report.js";
import { stepRecorder } from "../../report/data.js";
import { sourceText } from "../sources.js";
import { printGraph } from "../../ir/print.js";
import { dumpPrintOptions } from "../../ir/dump.js";
import { stoppedNote } from "../model.js";
import { humanBytes } from "../summary.js";
import { writeFileAtomic } from "../../util/fs.js";
import { formatMemoryLine, formatMemoryMarkdown } from "../memory.js";
import { capacityPlan, formatCapacityMarkdown, type ClusterShape } from "../../store/plan.js";
import type { PlacementSummary } from "../../../passes/place-tables.js";
import type { ParsedArgs } from "../args.js";
import { JSON_FLAG, diagnosticJson, printJson, wantsJson } from "../json.js";
import { phasedProgress } from "../progress.js";
import type { CompileOutcome } from "../../driver/index.js";
import type { CapacityPlan } from "../../store/plan.js";

/** `rmc compile --json`: what was written and how big, the plan's summary, the memory plan and placement (docs/cli.md). */
function compileJson(outcome: CompileOutcome, target: string, outDir: string, seconds: number, capacity: CapacityPlan | undefined, timings: boolean) {
  const { graph, plan, memory, placement, result } = outcome;
  const count = (xs: readonly { precision: string }[]) =>
    Object.fromEntries([...new Set(xs.map((d) => d.precision))].map((p) => [p, xs.filter((d) => d.precision === p).length]));
  return {
    model: graph.name,
    target,
    output: outDir,
    seconds,
    files: result.files,
    bytes: result.files.reduce((s, f) => s + f.bytes, 0),
    weightsBytes: result.weightsBytes,
    activationBytesPerSample: result.activationBytesPerSample,
    ...(plan
      ? {
          plan: {
            mode: plan.mode,
            ...(plan.budget !== undefined ? { budget: plan.budget } : {}),
            ...(plan.neDelta !== undefined ? { neDelta: plan.neDelta, neDeltaError: plan.neDeltaError } : {}),
            ...(plan.fma ? { fma: plan.fma } : {}),
            bytesBefore: plan.decisions.reduce((s, d) => s + d.bytesBefore, 0),
            bytesAfter: plan.decisions.reduce((s, d) => s + d.bytesAfter, 0),
            precisions: count(plan.decisions),
          },
        }
      : {}),
    ...(memory ? { memory } : {}),
    ...(placement ? { placement } : {}),
    ...(capacity ? { capacity } : {}),
    diagnostics: outcome.diagnostics.map(diagnosticJson),
    ...(timings ? { timings: [...outcome.timings, ...outcome.stages.map((t) => ({ pass: `${outcome.backend.name}: ${t.stage}`, ms: t.ms }))] } : {}),
  };
}

/** What --memory-budget, --store and --store-tables ask of place-tables. */
export function placementRequest(args: ParsedArgs, cmd: string): PlacementRequest {
  const budgetText = typeof args.flags["memory-budget"] === "string" ? args.flags["memory-budget"] : undefined;
  const budget = budgetText === undefined ? undefined : parseOptionValue({ type: "bytes" }, budgetText);
  if (budget && "error" in budget) throw new RmcError(`rmc ${cmd}: --memory-budget ${budget.error}`, "E0903");
  const storeTables =
    typeof args.flags["store-tables"] === "string"
      ? args.flags["store-tables"]
          .split(",")
          .map((t) => t.trim())
          .filter(Boolean)
      : [];
  return {
    ...(budget ? { memoryBudget: budget.value as number } : {}),
    store: choiceFlag(args, "store", cmd, ["file", "redis"] as const)!,
    ...(storeTables.length ? { tables: storeTables } : {}),
  };
}

/** The cluster the capacity plan assumes, from --masters, --replicas, --hosts and --host-memory. */
export function clusterShape(args: ParsedArgs, cmd: string): ClusterShape {
  const hosts = numberFlag(args, "hosts", cmd, { integer: true, min: 1 });
  const mem = typeof args.flags["host-memory"] === "string" ? parseOptionValue({ type: "bytes" }, args.flags["host-memory"]) : undefined;
  if (mem && "error" in mem) throw new RmcError(`rmc ${cmd}: --host-memory ${mem.error}`, "E0903");
  if ((hosts === undefined) !== (mem === undefined)) throw new RmcError(`rmc ${cmd}: give --hosts and --host-memory together`, "E0906");
  return {
    masters: numberFlag(args, "masters", cmd, { integer: true, min: 1 })!,
    replicas: numberFlag(args, "replicas", cmd, { integer: true, min: 0 })!,
    ...(hosts !== undefined && mem ? { hosts, hostMemory: mem.value as number } : {}),
  };
}

/** Where every table is, as Markdown, for the report. */
export function formatPlacementMarkdown(p: PlacementSummary | undefined): string {
  if (!p) return "";
  const rows = p.tables.map(
    (t) => `| ${t.table} | ${t.rows} | ${t.precision} | ${t.placement} | ${humanBytes(t.memoryBytes)} | ${humanBytes(t.storeBytes)} | ${t.why} |`,
  );
  return [
    `## Table placement (memory budget ${humanBytes(p.budget)}, ${humanBytes(p.memoryBytes)} of weights in memory)`,
    "",
    "| table | rows | precision | placement | in memory | in the store | why |",
    "|---|---|---|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
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
      "memory-budget": {
        type: "string",
        value: "SIZE",
        doc: "largest weights the model's memory holds, e.g. 2GiB (default: 3/4 of the target's); tables over it go to the store",
      },
      store: {
        type: "string",
        value: "KIND",
        doc: "where tables that do not fit go: file (the artifact's store/ folder) or redis (pushed with rmc store push)",
        default: "file",
      },
      "store-tables": { type: "string", value: "LIST", doc: "tables to place in the store whatever the budget, comma-separated" },
      "staging-rows": { type: "string", value: "N", doc: "rows per call each store-placed table stages (default 16384; bigger batches are cut)" },
      masters: { type: "string", value: "N", doc: "capacity plan of the store: Redis masters", default: "3" },
      replicas: { type: "string", value: "N", doc: "capacity plan: replicas per master", default: "1" },
      hosts: { type: "string", value: "N", doc: "capacity plan: hosts the cluster would run on (with --host-memory)" },
      "host-memory": { type: "string", value: "SIZE", doc: "capacity plan: memory of each host, e.g. 64GiB" },
      ...PRECISION_FLAGS,
      ...PIPELINE_FLAGS,
      ...JSON_FLAG,
    },
    details:
      "Tables larger than the target's largest buffer (WebGPU: 128 MiB per binding) are split by rows into parts (split-tables, appended to the pipeline unless it has that pass); each part is a weight shard of its own that the runtime loads on first use. The artifact is loaded with `load(dir)` from rmc/runtime, or run with `rmc run DIST/ --data D.tsv`.",
  },
  async run(args, io) {
    const cmd = "compile";
    const outDir = requireFlag(args, "output", cmd);
    const kind = reportKind(args, cmd);
    const { registry, backends } = await loadPlugins(args, io);
    const target = (args.flags.target as string) ?? "wasm";
    // Unknown targets fail before anything is read.
    const backend = await findBackend(target, backends);
    const features =
      typeof args.flags.features === "string"
        ? args.flags.features
            .split(",")
            .map((f) => f.trim())
            .filter(Boolean)
        : [];
    const t0 = performance.now();
    const json = wantsJson(args);
    // With --json stdout holds the one object: the plan table and the file list are left out.
    const human = json ? { ...io, out: () => {} } : io;
    const bar = phasedProgress("compile", "steps");
    const written = loadModel(args.positionals[0]!, io);
    const { store: weights, prequantized } = loadWeightsWithInfo(written, args, io, cmd);
    const model = pinPrequantized(written, prequantized);
    const precision = precisionRequest(args, cmd);
    const calibration = await readCalibration(model, args, cmd);
    const placement = placementRequest(args, cmd);
    const stagingRows = numberFlag(args, "staging-rows", cmd, { integer: true, min: 1, max: 1 << 24 });
    const request = {
      model,
      placement,
      ...(stagingRows ? { stagingRows } : {}),
      weights,
      target,
      outDir,
      passes: userPipeline(args),
      ...(precision ? { precision } : {}),
      ...(calibration ? { calibration } : {}),
      targetPasses: args.flags["no-target-passes"] !== true,
      features,
      emitText: args.flags["emit-text"] === true,
      registry,
      backends,
      instrumentation: { ...instrumentation(args, io, cmd, outDir), progress: bar.sink },
    };
    const recorder = kind === "html" ? stepRecorder(sourceText) : undefined;
    if (recorder) request.instrumentation.record = recorder.record;
    const user = request.passes;
    rememberPipeline(args, compilePipeline(request, backend).slice(user.length));
    if (request.instrumentation.stopAfter !== undefined) {
      if (kind)
        throw new RmcError(`rmc ${cmd}: --stop-after ends before the backend, so there is nothing to --report; give one or the other`, "E0906");
      // Bisecting: the IR after the chosen step goes to stdout; no artifact is written.
      const stopped = await compileUntil(request).finally(() => bar.finish());
      reportPassDiagnostics(stopped, io);
      if (stopped.stopped) io.err(stoppedNote(stopped.stopped));
      io.out(printGraph(stopped.graph, { weights, ...dumpPrintOptions(stopped.graph, { source: sourceText }) }));
      return 0;
    }
    const t1 = performance.now();
    const control = searchControl(args);
    const outcome = await compileModel({ ...request, control }).finally(() => (control.done(), bar.finish()));
    const compileMs = performance.now() - t1;
    const { graph, plan, memory, placement: placed, result, diagnostics } = outcome;
    if (!json) reportPassDiagnostics({ diagnostics }, io);
    const reportFile = args.flags.report as string | undefined;
    if (recorder && reportFile) {
      await writeHtmlReport(
        reportFile,
        outcome,
        { input: recorder.input(), steps: recorder.steps() },
        {
          weights,
          ...(calibration ? { calibration } : {}),
          target,
          compileMs,
        },
      );
      args = { ...args, flags: { ...args.flags, report: undefined } };
    }
    const capacity = capacityPlan(graph, clusterShape(args, cmd), calibration);
    const extra = capacity ? `\n${formatPlacementMarkdown(placed)}\n${formatCapacityMarkdown(capacity)}` : "";
    if (plan) reportPlan(plan, args, human, memory, extra);
    else if (typeof args.flags.report === "string")
      writeFileAtomic(
        args.flags.report,
        `# Compile report: ${graph.name}\n\n${memory ? formatMemoryMarkdown(memory) : "No memory plan: the target plans its buffers itself.\n"}${extra}`,
      );
    const secs = (performance.now() - t0) / 1000;
    if (json) {
      printJson(io, "compile", true, compileJson(outcome, target, outDir, secs, capacity, args.flags["time-passes"] === true));
      return 0;
    }
    io.out(`compiled ${graph.name} for ${target} in ${secs.toFixed(2)} s → ${outDir}\n`);
    const width = Math.max(20, ...result.files.map((f) => f.name.length));
    for (const f of result.files) io.out(`  ${f.name.padEnd(width)} ${humanBytes(f.bytes).padStart(12)}\n`);
    io.out(`  activations: ${humanBytes(result.activationBytesPerSample)} per sample (buffers reused by liveness)\n`);
    if (memory) io.out(`  ${formatMemoryLine(memory)}\n`);
    const stored = placed?.tables.filter((t) => t.placement !== "memory") ?? [];
    if (stored.length)
      io.out(
        `  placement: ${stored.length} table(s) in the ${stored[0]!.placement} store (${humanBytes(stored.reduce((s, t) => s + t.storeBytes, 0))}); ${humanBytes(placed!.memoryBytes)} of weights in memory (budget ${humanBytes(placed!.budget)})\n`,
      );
    if (capacity)
      io.out(
        `  store plan: ${humanBytes(capacity.perMaster)} per Redis master (${capacity.shape.masters} masters, ${capacity.shape.replicas} replica(s) each)${capacity.perRequest ? `; ${capacity.perRequest.rows.toFixed(2)} store rows and ${(capacity.perRequest.bytes / 1024).toFixed(1)} KiB per request with a cold cache, hot part ${(100 * capacity.perRequest.hotShare).toFixed(1)}% of lookups` : ""}${capacity.fit ? `; ${capacity.fit.fits ? "fits" : "does not fit"} ${capacity.shape.hosts} host(s): ${capacity.fit.note}` : ""}\n`,
      );
    return 0;
  },
};
