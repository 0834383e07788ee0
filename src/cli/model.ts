// Shared steps of the CLI commands: read a model (DSL or textual IR), load
// plugins, run a pass pipeline with the IR-dump instrumentation flags, and get
// weights (from a safetensors file or synthetic from a seed). Each step turns
// problems into RmcErrors that point at the file, line or flag at fault.

import { dirname, resolve } from "node:path";
import type { Graph } from "../ir/types.js";
import { RmcError, formatDiagnostics, hasErrors, type Diagnostic } from "../diagnostics/index.js";
import { colorsOf, paintDiagnostics } from "./color.js";
import { parseModel } from "../frontend/index.js";
import { parseGraph } from "../ir/parse.js";
import { verifyGraph } from "../ir/verify.js";
import {
  parsePipeline,
  printPipeline,
  runPipelineWithReport,
  DEFAULT_PIPELINE,
  type Instrumentation,
  type PassRegistry,
  type PipelineReport,
  type PipelineStep,
} from "../pipeline/index.js";
import { loadToolchain, type Toolchain } from "../driver/index.js";
import { openSafetensors } from "../weights/safetensors.js";
import { bindWeights } from "../weights/bind.js";
import { readWeightsMap, renameTensors } from "../weights/weights-map.js";
import { initWeights } from "../weights/init.js";
import type { WeightStore } from "../weights/store.js";
import type { Batch } from "../data/batch.js";
import type { CliIO } from "./command.js";
import { choiceFlag, numberFlag, type FlagSpec, type ParsedArgs } from "./args.js";
import { readSource, rememberSource, sourceLookup, sourceText } from "./sources.js";

/** Reads a model from `.rmdl` (DSL) or `.ir` (textual IR); warnings go to stderr (or into `warnings`, for --json), errors throw. */
export function loadModel(path: string, io: CliIO, warnings?: Diagnostic[]): Graph {
  const text = readSource(path);
  if (path.endsWith(".ir")) {
    const graph = parseGraph(text, path);
    const ds = verifyGraph(graph, { allowUntyped: true }); // infer-shapes may be what the user is about to run
    if (hasErrors(ds)) throw new RmcError(ds);
    return graph;
  }
  const { graph, diagnostics } = parseModel(text, path);
  if (!graph || hasErrors(diagnostics)) throw new RmcError(diagnostics);
  if (warnings) warnings.push(...diagnostics);
  else if (diagnostics.length) io.err(paintDiagnostics(formatDiagnostics(diagnostics, sourceLookup), colorsOf(io, "err")) + "\n");
  return graph;
}

/** Flags for choosing and observing the pass pipeline. */
export const PIPELINE_FLAGS: Record<string, FlagSpec> = {
  passes: { type: "string", value: "PIPELINE", doc: `pass pipeline, e.g. \`canonicalize,dce{...}\``, default: DEFAULT_PIPELINE },
  plugin: { type: "string", multiple: true, value: "FILE", doc: "ES module exporting `passes` to register" },
  "print-ir-before": { type: "string", multiple: true, value: "PASS", doc: "print the IR before PASS" },
  "print-ir-after": { type: "string", multiple: true, value: "PASS|all", doc: "print the IR after PASS (or every pass)" },
  "print-ir-after-change": {
    type: "string",
    bare: "diff",
    value: "[=full]",
    doc: "after each pass that changed the IR, print a unified diff against its input (=full: the whole IR)",
  },
  "print-ir-after-failure": { type: "boolean", doc: "print a failing pass's input IR" },
  "ir-dump-dir": { type: "string", value: "DIR", doc: "write the IR after each pass to DIR/NN-pass.ir" },
  "time-passes": { type: "boolean", doc: "report the time spent in each pass" },
  "print-ir-filter": {
    type: "string",
    multiple: true,
    value: "NAME",
    doc: "dumps show only nodes (and weights) NAME matches: an id, its dotted prefix, `*` globs",
  },
  "stop-after": { type: "string", value: "PASS|N", doc: "end the pipeline after PASS (its first step) or after step N, and write that IR" },
  "repro-dir": { type: "string", value: "DIR", doc: "where a failing pass's reproducer goes (default: beside the output)" },
};

/** The compiler's passes and backends with every `--plugin` module's, each module loaded once; warnings about set-aside plugin passes go to stderr. */
export async function loadPlugins(args: ParsedArgs, io?: CliIO): Promise<Toolchain> {
  const toolchain = await loadToolchain((args.flags.plugin as string[] | undefined) ?? []);
  if (io && toolchain.warnings.length) io.err(formatDiagnostics(toolchain.warnings, sourceLookup) + "\n");
  return toolchain;
}

/** A pass registry with the built-ins and every `--plugin` module. */
export async function loadRegistry(args: ParsedArgs, io?: CliIO): Promise<PassRegistry> {
  return (await loadPlugins(args, io)).registry;
}

/** Runs the `--passes` pipeline with the dump flags; dumps and pass notes go to stderr. */
export async function runPasses(graph: Graph, args: ParsedArgs, io: CliIO, weights?: WeightStore): Promise<Graph> {
  return (await runPassesWithReport(graph, args, io, { ...(weights ? { weights } : {}) })).graph;
}

/** The user's `--passes` pipeline as steps. */
export const userPipeline = (args: ParsedArgs): PipelineStep[] => parsePipeline((args.flags.passes as string | undefined) ?? DEFAULT_PIPELINE);

/**
 * The instrumentation the dump, timing and bisecting flags ask for; dumps go
 * to stderr. A reproducer goes to --repro-dir, else beside `output` (the
 * folder holding the file or artifact the command writes), else here.
 */
export function instrumentation(args: ParsedArgs, io: CliIO, cmd = "ir", output?: string): Instrumentation {
  const after = (args.flags["print-ir-after"] as string[] | undefined) ?? [];
  const change = choiceFlag(args, "print-ir-after-change", cmd, ["diff", "full"] as const);
  const stop = args.flags["stop-after"];
  const repro =
    typeof args.flags["repro-dir"] === "string" ? args.flags["repro-dir"] : output !== undefined ? dirname(resolve(output)) : process.cwd();
  return {
    printBefore: (args.flags["print-ir-before"] as string[] | undefined) ?? [],
    printAfter: after.includes("all") ? "all" : after,
    ...(change ? { printAfterChange: change } : {}),
    ...(Array.isArray(args.flags["print-ir-filter"])
      ? { printFilter: args.flags["print-ir-filter"].flatMap((f) => f.split(",")).filter(Boolean) }
      : {}),
    ...(typeof stop === "string" ? { stopAfter: stop } : {}),
    reproDir: repro,
    source: sourceText,
    printAfterFailure: args.flags["print-ir-after-failure"] === true,
    timePasses: args.flags["time-passes"] === true,
    out: io.err,
    ...(typeof args.flags["ir-dump-dir"] === "string" ? { irDumpDir: args.flags["ir-dump-dir"] } : {}),
  };
}

/** Remembers the pipeline's text as the user wrote it, then the steps appended to it, so diagnostics located by column can show it. */
export function rememberPipeline(args: ParsedArgs, appended: readonly PipelineStep[]): void {
  const text = (args.flags.passes as string | undefined) ?? DEFAULT_PIPELINE;
  rememberSource("<pipeline>", [text, appended.length ? printPipeline(appended) : ""].filter((t) => t.trim() !== "").join(","));
}

/** Writes the warnings and notes passes left (a plugin's report, say) to stderr. */
export function reportPassDiagnostics(report: Pick<PipelineReport, "diagnostics">, io: CliIO): void {
  if (report.diagnostics.length) io.err(paintDiagnostics(formatDiagnostics(report.diagnostics, sourceLookup), colorsOf(io, "err")) + "\n");
}

/** As runPasses, with extra steps appended, calibration data for the passes, and what the passes emitted. */
export async function runPassesWithReport(
  graph: Graph,
  args: ParsedArgs,
  io: CliIO,
  extra: { weights?: WeightStore; calibration?: Batch[]; append?: readonly PipelineStep[]; diagnostics?: Diagnostic[]; output?: string },
): Promise<Pick<PipelineReport, "graph" | "outputs" | "stopped"> & { steps: PipelineStep[] }> {
  const registry = await loadRegistry(args, io);
  const user = userPipeline(args);
  // Appended steps run after the user's, in order, except passes the user's pipeline already names.
  const named = new Set(user.map((s) => s.name));
  const appended = (extra.append ?? []).filter((step) => !named.has(step.name));
  const steps = [...user, ...appended];
  rememberPipeline(args, appended);
  const report = runPipelineWithReport(graph, steps, registry, instrumentation(args, io, "ir", extra.output), {
    ...(extra.weights ? { weights: extra.weights } : {}),
    ...(extra.calibration ? { calibration: extra.calibration } : {}),
  });
  if (extra.diagnostics) extra.diagnostics.push(...report.diagnostics);
  else reportPassDiagnostics(report, io);
  if (report.stopped) io.err(stoppedNote(report.stopped));
  return { graph: report.graph, outputs: report.outputs, steps, ...(report.stopped ? { stopped: report.stopped } : {}) };
}

/** The stderr line saying where `--stop-after` ended the pipeline. */
export function stoppedNote(s: NonNullable<PipelineReport["stopped"]>): string {
  return `rmc: stopped after step ${s.step} of ${s.of} (\`${s.text}\`)${s.step < s.of ? "; the rest of the pipeline did not run" : ""}\n`;
}

/** Flags for where weights come from. */
export const WEIGHT_FLAGS: Record<string, FlagSpec> = {
  weights: { type: "string", value: "FILE", doc: "weights (.safetensors; DSL or PyTorch DLRM names)" },
  init: { type: "string", value: "DIST", doc: "instead of --weights: synthetic weights, trained or gaussian (alias random)" },
  seed: { type: "string", value: "N", doc: "seed for --init", default: "1" },
  "weights-map": {
    type: "string",
    value: "MAP.json",
    doc: "rename the weights file's tensors first: a JSON object of glob patterns to names (docs/torchrec.md)",
  },
};

/** Weights for a graph from `--weights FILE` or `--init DIST --seed N`; warnings go to stderr. */
export function loadWeights(graph: Graph, args: ParsedArgs, io: CliIO, cmd: string): WeightStore {
  return loadWeightsWithInfo(graph, args, io, cmd).store;
}

/** As loadWeights, also telling which tables the file holds prequantized (and in which format). */
export function loadWeightsWithInfo(
  graph: Graph,
  args: ParsedArgs,
  io: CliIO,
  cmd: string,
): { store: WeightStore; prequantized?: ReadonlyMap<string, string> } {
  const file = args.flags.weights;
  // `random` is the plain Gaussian, under the name users reach for first.
  const chosen = choiceFlag(args, "init", cmd, ["gaussian", "trained", "random"] as const);
  const dist = chosen === "random" ? "gaussian" : chosen;
  if (typeof file === "string" && dist) throw new RmcError(`rmc ${cmd}: give either --weights or --init, not both`, "E0906");
  if (dist) return { store: initWeights(graph, { seed: numberFlag(args, "seed", cmd, { integer: true, min: 0 }) ?? 1, dist }) };
  if (typeof file !== "string")
    throw new RmcError(`rmc ${cmd}: needs weights: --weights FILE, or --init trained|gaussian [--seed N] for synthetic ones`, "E0902");
  const mapPath = args.flags["weights-map"];
  const rules = typeof mapPath === "string" ? readWeightsMap(mapPath) : undefined;
  const opened = openSafetensors(file);
  const mapped = rules ? renameTensors(opened, rules, mapPath as string) : undefined;
  const bound = bindWeights(graph, mapped?.source ?? opened);
  bound.diagnostics.unshift(...(mapped?.diagnostics ?? []));
  if (hasErrors(bound.diagnostics)) throw new RmcError(bound.diagnostics);
  if (bound.diagnostics.length) io.err(formatDiagnostics(bound.diagnostics, sourceLookup) + "\n");
  return { store: bound.store, prequantized: bound.prequantized };
}
