// The pass manager: resolves a textual pipeline against the registry (unknown
// passes and options are errors located by column), verifies the input, runs
// each pass with its typed options and hands control to the instrumentation
// callbacks between passes. Pure passes in, one final graph out.

import { produce } from "immer";
import { RmcError, didYouMean, error, formatDiagnostic, type Diagnostic, type Code } from "../diagnostics/index.js";
import type { Graph } from "../ir/types.js";
import { verifyGraph } from "../ir/verify.js";
import type { WeightStore } from "../weights/store.js";
import type { Batch } from "../data/batch.js";
import type { TargetInfo } from "../target/target.js";
import { instrument, MANAGER_CODES, type Instrumentation, type PassTiming, type ResolvedStep } from "./instrument.js";
import {
  describeOptions,
  findOption,
  parseOptionValue,
  suggestOption,
  type OptionValue,
  type Pass,
  type PassControl,
  type PassOutputs,
} from "./pass.js";
import type { PassRegistry } from "./registry.js";
import { parsePipeline, printStep, type PipelineStep } from "./text.js";
import { dict } from "../util/records.js";

/** What `rmc compile` runs when no `--passes` is given. */
export const DEFAULT_PIPELINE = "canonicalize,infer-shapes,dce";

/** Diagnostic codes for pipelines that name things the registry lacks, or order passes against their `requires`. */
export const RESOLVE_CODES = {
  unknownPass: "E1202",
  unknownOption: "E1203",
  badOptionValue: "E1204",
  order: "E1212",
  invalidPluginPass: "E1271",
} as const satisfies Record<string, Code>;

const located = (col: number | undefined, message: string, tail = ""): string => `${message}${col !== undefined ? ` at column ${col}` : ""}${tail}`;

/** Looks every step up in the registry and types its options; throws one RmcError listing every problem. */
export function resolvePipeline(pipeline: string | readonly PipelineStep[], registry: PassRegistry): ResolvedStep[] {
  const steps = typeof pipeline === "string" ? parsePipeline(pipeline) : pipeline;
  const problems: Diagnostic[] = [];
  const resolved: ResolvedStep[] = [];
  for (const step of steps) {
    const pass = registry.get(step.name);
    const invalid = pass ? undefined : registry.invalid(step.name);
    if (invalid) {
      problems.push(
        error(
          RESOLVE_CODES.invalidPluginPass,
          located(step.at?.col, `pass \`${step.name}\` was not loaded: its plugin's export is not a valid pass`),
        ),
        ...invalid.map((d) => ({ ...d, severity: "note" as const })),
      );
      continue;
    }
    if (!pass) {
      const dym = didYouMean(step.name, registry.names());
      problems.push(
        error(
          RESOLVE_CODES.unknownPass,
          located(step.at?.col, `unknown pass \`${step.name}\``, dym ? `: ${dym}` : ""),
          undefined,
          `known passes: ${registry.names().join(", ")}`,
        ),
      );
      continue;
    }
    const options = resolveOptions(pass, step, problems);
    if (options) resolved.push({ pass, options, text: printStep(step) });
  }
  problems.push(...orderProblems(resolved));
  if (problems.length > 0) throw new RmcError(problems);
  return resolved;
}

/**
 * Steps that run before a step providing a fact they require. A fact that no
 * step provides is the input's to have (an .ir file written after the pass
 * that provides it), so only a provider that comes too late is an error.
 */
function orderProblems(steps: readonly ResolvedStep[]): Diagnostic[] {
  const problems: Diagnostic[] = [];
  steps.forEach((step, i) => {
    for (const fact of step.pass.requires ?? []) {
      if (steps.slice(0, i).some((s) => s.pass.provides?.includes(fact))) continue;
      const later = steps.slice(i + 1).find((s) => s.pass.provides?.includes(fact));
      if (later)
        problems.push(
          error(
            RESOLVE_CODES.order,
            `pass \`${step.pass.name}\` needs ${fact}, which \`${later.pass.name}\` provides, but runs before it`,
            undefined,
            `move \`${step.pass.name}\` after \`${later.pass.name}\``,
          ),
        );
    }
  });
  return problems;
}

function resolveOptions(pass: Pass, step: PipelineStep, problems: Diagnostic[]): Record<string, OptionValue> | undefined {
  const options: Record<string, OptionValue> = dict();
  for (const [key, spec] of Object.entries(pass.options)) options[key] = spec.default;
  let ok = true;
  for (const [written, text] of Object.entries(step.options)) {
    const col = step.at?.options[written];
    const key = findOption(pass, written);
    if (key === undefined) {
      const dym = suggestOption(pass, written);
      problems.push(
        error(
          RESOLVE_CODES.unknownOption,
          located(col, `pass \`${pass.name}\` has no option \`${written}\``, dym ? `: ${dym}` : ""),
          undefined,
          describeOptions(pass),
        ),
      );
      ok = false;
      continue;
    }
    const parsed = parseOptionValue(pass.options[key]!, text);
    if ("error" in parsed) {
      problems.push(
        error(
          RESOLVE_CODES.badOptionValue,
          located(col, `option \`${written}\` of \`${pass.name}\` ${parsed.error}`),
          undefined,
          describeOptions(pass),
        ),
      );
      ok = false;
    } else options[key] = parsed.value;
  }
  return ok ? options : undefined;
}

/** Everything a run produced: the final graph, what the passes reported, and per-pass times. */
export interface PipelineReport {
  graph: Graph;
  /** Warnings and notes the passes pushed to `ctx.diagnostics`. */
  diagnostics: Diagnostic[];
  /** What the passes handed back with `ctx.emit`, by name (typed for the names declared in PassOutputs). */
  outputs: Partial<PassOutputs> & Record<string, unknown>;
  timings: PassTiming[];
  /** With `stopAfter`: the step the pipeline ended after (1-based) and how many steps it had. */
  stopped?: { step: number; text: string; of: number };
}

/**
 * The steps up to and including the one `stopAfter` names: a pass name (its
 * first step) or a 1-based step number. Anything else is an error listing the
 * pipeline, so a bisecting user sees what there is to stop after.
 */
export function stopSteps(steps: readonly ResolvedStep[], stopAfter: string | number): number {
  const byNumber = typeof stopAfter === "number" ? stopAfter : /^\d+$/.test(stopAfter) ? Number(stopAfter) : undefined;
  const at =
    byNumber !== undefined ? (byNumber >= 1 && byNumber <= steps.length ? byNumber - 1 : -1) : steps.findIndex((s) => s.pass.name === stopAfter);
  if (at >= 0) return at + 1;
  const list = steps.map((s, i) => `${i + 1}. ${s.text}`).join(", ");
  const names = steps.map((s) => s.pass.name);
  const dym = typeof stopAfter === "string" && byNumber === undefined ? didYouMean(stopAfter, names) : undefined;
  const what =
    byNumber !== undefined
      ? `step ${byNumber}, but the pipeline has ${steps.length} step${steps.length === 1 ? "" : "s"}`
      : `\`${stopAfter}\`, which the pipeline does not run`;
  throw new RmcError(
    error(MANAGER_CODES.stopAfter, `cannot stop after ${what}${dym ? `: ${dym}` : ""}`, undefined, `the pipeline: ${list || "(empty)"}`),
  );
}

/** What a caller hands every pass besides the graph (each optional). */
export interface PassData {
  weights?: WeightStore;
  calibration?: readonly Batch[];
  target?: TargetInfo;
  control?: PassControl;
}

/** Checks that `--print-ir-before/after` name passes that exist, so a typo does not silently print nothing. */
function checkPrintNames(instr: Instrumentation, registry: PassRegistry): void {
  const lists = [instr.printBefore ?? [], instr.printAfter === "all" ? [] : (instr.printAfter ?? [])];
  const problems = lists.flat().flatMap((name) => {
    if (registry.get(name)) return [];
    const dym = didYouMean(name, registry.names());
    return [error(RESOLVE_CODES.unknownPass, `cannot print IR around unknown pass \`${name}\`${dym ? `: ${dym}` : ""}`)];
  });
  if (problems.length > 0) throw new RmcError(problems);
}

/**
 * Runs `pipeline` on `graph`. The input must verify (untyped nodes allowed),
 * every pass's output must verify, and the final graph must verify fully.
 */
export function runPipelineWithReport(
  graph: Graph,
  pipeline: string | readonly PipelineStep[],
  registry: PassRegistry,
  instr: Instrumentation = {},
  data: PassData = {},
): PipelineReport {
  const { weights, calibration, target, control } = data;
  const all = resolvePipeline(pipeline, registry);
  const steps = instr.stopAfter === undefined ? all : all.slice(0, stopSteps(all, instr.stopAfter));
  checkPrintNames(instr, registry);
  const inputProblems = verifyGraph(graph, { allowUntyped: true });
  if (inputProblems.length > 0)
    throw new RmcError([error(MANAGER_CODES.invalidInput, `the pipeline's input graph @${graph.name} is not valid IR`), ...inputProblems]);
  const callbacks = instrument(instr, registry, weights);
  const diagnostics: Diagnostic[] = [];
  const outputs: PipelineReport["outputs"] = dict();
  callbacks.start(graph);
  let current = graph;
  for (const [index, step] of steps.entries()) {
    callbacks.before(step, index, current);
    const emit = (name: string, value: unknown): void => void (outputs[name] = value);
    const ctx = {
      options: step.options,
      diagnostics: [] as Diagnostic[],
      produce,
      emit,
      ...(weights ? { weights } : {}),
      ...(calibration ? { calibration } : {}),
      ...(target ? { target } : {}),
      ...(instr.progress ? { progress: instr.progress } : {}),
      ...(control ? { control } : {}),
    };
    const t0 = performance.now();
    let output: unknown;
    try {
      output = step.pass.run(current, ctx);
    } catch (e) {
      throw callbacks.failed(step, index, current, e);
    }
    const ms = performance.now() - t0;
    if (!isGraphShaped(output)) throw callbacks.failed(step, index, current, new Error(`run() returned ${describeValue(output)} instead of a graph`));
    callbacks.after(step, index, current, output, ms);
    instr.onStep?.(step.pass.name, current, output);
    diagnostics.push(...ctx.diagnostics);
    current = output;
  }
  const timings = callbacks.finish(current, steps[steps.length - 1]);
  const last = steps[steps.length - 1];
  const stopped = instr.stopAfter !== undefined && last ? { stopped: { step: steps.length, text: last.text, of: all.length } } : {};
  return { graph: current, diagnostics, timings, outputs, ...stopped };
}

/**
 * Runs `pipeline` on `graph` and returns the final graph. Warnings the passes
 * raise are written to `instr.out` (default stderr); use runPipelineWithReport
 * to handle them yourself.
 */
export function runPipeline(
  graph: Graph,
  pipeline: string | readonly PipelineStep[],
  registry: PassRegistry,
  instr: Instrumentation = {},
  data: PassData = {},
): Graph {
  const report = runPipelineWithReport(graph, pipeline, registry, instr, data);
  const out = instr.out ?? ((s: string) => void process.stderr.write(s));
  for (const d of report.diagnostics) out(`${formatDiagnostic(d)}\n`);
  return report.graph;
}

function isGraphShaped(x: unknown): x is Graph {
  if (typeof x !== "object" || x === null) return false;
  const g = x as Record<string, unknown>;
  return typeof g.name === "string" && ["inputs", "weights", "nodes", "outputs"].every((k) => Array.isArray(g[k]));
}

const describeValue = (x: unknown): string =>
  x === null ? "null" : Array.isArray(x) ? "an array" : typeof x === "object" ? "an object that is not a graph" : typeof x;
