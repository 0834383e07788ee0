// The one callback object the pass manager calls between passes. It carries
// everything that watches a pipeline run: verification after each pass (with
// a reproducer file when a pass breaks the IR), IR printing before / after /
// after-change (a unified diff, or the whole IR) / after-failure, each node
// noted with its source line, precision and buffer (src/ir/dump.ts) and
// optionally filtered to some nodes, numbered IR dumps to a directory, a
// record of every step for reports, and timing.

import { mkdirSync, mkdtempSync } from "node:fs";
import { writeFileAtomic } from "../util/fs.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RmcError, error, type Code } from "../diagnostics/index.js";
import { printGraph } from "../ir/print.js";
import { dumpPrintOptions, filterMatchesNothing } from "../ir/dump.js";
import { unifiedDiff } from "../util/diff.js";
import type { Graph } from "../ir/types.js";
import { VERIFY_CODES, verifyGraph } from "../ir/verify.js";
import type { WeightStore } from "../weights/store.js";
import type { PassRegistry } from "./registry.js";
import type { Pass, OptionValue } from "./pass.js";

/** Diagnostic codes of the pass manager. */
export const MANAGER_CODES = {
  invalidIr: "E1205",
  passFailed: "E1206",
  invalidInput: "E1208",
  note: "E1209",
  stopAfter: "E1270",
} as const satisfies Record<string, Code>;

/** What the caller asks to see while a pipeline runs. */
export interface Instrumentation {
  /** Print the IR before each pass with one of these names. */
  printBefore?: string[];
  /** Print the IR after each pass with one of these names, or after every pass. */
  printAfter?: string[] | "all";
  /** After each pass that changed the IR (returned a different object): a unified diff against its input, or the whole IR. */
  printAfterChange?: "diff" | "full";
  /** Dumps show only the nodes (and the weights they read) these names match (src/ir/dump.ts: nameFilter). */
  printFilter?: readonly string[];
  /** Source text by file name, so dumps quote each node's source line. */
  source?: (file: string) => string | undefined;
  /** End the pipeline after this pass (its name: the first step running it; or a 1-based step number). */
  stopAfter?: string | number;
  /** Called after every step with what it was given and returned (the compile report keeps each step's IR). */
  record?: (step: StepRecord) => void;
  /** When a pass throws or breaks the IR, print the IR it was given (or the broken IR). */
  printAfterFailure?: boolean;
  /** Write `00-input.ir`, `01-<pass>.ir`, ... here, one file per step. */
  irDumpDir?: string;
  /** Collect wall time per pass and print a table at the end. */
  timePasses?: boolean;
  /** Where dumps and reports go (default: stderr). */
  out?: (s: string) => void;
  /** Where reproducers are written (default: a fresh folder in the OS temp dir). */
  reproDir?: string;
  /** Verify after every pass (default true; the input and the final IR are always verified). */
  verifyEach?: boolean;
  /** Handed to every pass as `ctx.progress` (long passes report their progress through it). */
  progress?: (phase: string, done: number, total: number) => void;
  /** Called after each step with its input and output (the compile driver records node provenance from it). */
  onStep?: (pass: string, input: Graph, output: Graph) => void;
}

/** A step ready to run: the pass, its typed options and its canonical text. */
export interface ResolvedStep {
  pass: Pass;
  options: Record<string, OptionValue>;
  /** The step as pipeline text, e.g. `dce{keep-weights=true}`. */
  text: string;
}

/** One step as it ran, for `Instrumentation.record`. */
export interface StepRecord {
  /** 0-based position in the pipeline, and the step as pipeline text. */
  index: number;
  text: string;
  input: Graph;
  output: Graph;
  ms: number;
}

/** Wall time of one step. */
export interface PassTiming {
  pass: string;
  ms: number;
}

/** The callbacks the pass manager calls; built from Instrumentation by `instrument`. */
export interface PassCallbacks {
  start(input: Graph): void;
  before(step: ResolvedStep, index: number, input: Graph): void;
  /** Verifies, prints and times; throws an RmcError when the pass left invalid IR. */
  after(step: ResolvedStep, index: number, input: Graph, output: Graph, ms: number): void;
  /** Turns what a pass threw into the RmcError the manager rethrows. */
  failed(step: ResolvedStep, index: number, input: Graph, thrown: unknown): RmcError;
  finish(final: Graph, lastStep: ResolvedStep | undefined): PassTiming[];
}

const shellQuote = (s: string): string => (/^[A-Za-z0-9_./,=:%-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** Writes the IR a failing pass was given, and returns the hint that says where and how to replay it. */
function reproducer(instr: Instrumentation, registry: PassRegistry, print: (g: Graph) => string) {
  return (step: ResolvedStep, input: Graph, why: string): string => {
    const dir = instr.reproDir ?? mkdtempSync(join(tmpdir(), "rmc-repro-"));
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `rmc-repro-${step.pass.name}.ir`);
    const source = registry.pluginFile(step.pass.name);
    const plugin = source !== undefined ? ` --plugin ${shellQuote(source)}` : "";
    const command = `rmc ir ${shellQuote(file)} --passes ${shellQuote(step.text)}${plugin}`;
    writeFileAtomic(file, `// rmc reproducer: pass \`${step.text}\` ${why}\n// replay: ${command}\n${print(input)}`);
    return `reproducer written to ${file}; replay with: ${command}`;
  };
}

/** Writes `NN-label.ir` into irDumpDir, when one is set. */
function dumpToDir(instr: Instrumentation, print: (g: Graph) => string) {
  return (index: number, label: string, g: Graph): void => {
    if (instr.irDumpDir === undefined) return;
    mkdirSync(instr.irDumpDir, { recursive: true });
    const safe = label.replace(/[^A-Za-z0-9_.-]+/g, "_");
    writeFileAtomic(join(instr.irDumpDir, `${String(index).padStart(2, "0")}-${safe}.ir`), print(g));
  };
}

/** Builds the callback object for one pipeline run. */
export function instrument(instr: Instrumentation, registry: PassRegistry, weights?: WeightStore): PassCallbacks {
  const out = instr.out ?? ((s: string) => void process.stderr.write(s));
  const timings: PassTiming[] = [];
  const print = (g: Graph) => printGraph(g, weights ? { weights } : {});
  // Dumps a person reads carry notes and the filter; files meant for replay stay plain graphs.
  const show = (g: Graph) =>
    printGraph(g, {
      ...(weights ? { weights } : {}),
      ...dumpPrintOptions(g, { ...(instr.source ? { source: instr.source } : {}), ...(instr.printFilter ? { filter: instr.printFilter } : {}) }),
    });
  const dump = (header: string, g: Graph) => out(`// ----- IR ${header} -----\n${show(g)}`);
  const diff = (step: ResolvedStep, input: Graph, output: Graph) =>
    out(
      `// ----- IR after ${step.text} (diff) -----\n${unifiedDiff(show(input), show(output), { a: `before ${step.text}`, b: `after ${step.text}` }) || "(the dump is unchanged)\n"}`,
    );
  const dumpFile = dumpToDir(instr, print);
  const reproduce = reproducer(instr, registry, print);
  const wants = (list: string[] | "all" | undefined, name: string) => list === "all" || (list ?? []).includes(name);

  return {
    start(input) {
      dumpFile(0, "input", input);
      // A mistyped filter would print empty dumps without a word: say so once, with what there is to match.
      if (instr.printFilter?.length && filterMatchesNothing(input, instr.printFilter))
        out(
          `rmc: --print-ir-filter ${instr.printFilter.join(",")} matches no node or weight of @${input.name} (nodes: ${input.nodes.map((n) => n.id).join(", ")})\n`,
        );
    },
    before(step, _index, input) {
      if (wants(instr.printBefore, step.pass.name)) dump(`before ${step.text}`, input);
    },
    after(step, index, input, output, ms) {
      timings.push({ pass: step.text, ms });
      const problems = instr.verifyEach === false ? [] : verifyGraph(output, { allowUntyped: true });
      if (problems.length > 0) {
        if (instr.printAfterFailure) dump(`after ${step.text} (failed verification)`, output);
        dumpFile(index + 1, `${step.pass.name}.invalid`, output);
        const head = error(
          MANAGER_CODES.invalidIr,
          `pass \`${step.text}\` produced invalid IR`,
          undefined,
          reproduce(step, input, "produced invalid IR"),
        );
        throw new RmcError([head, ...problems]);
      }
      instr.record?.({ index, text: step.text, input, output, ms });
      const changed = output !== input;
      if (wants(instr.printAfter, step.pass.name) || (instr.printAfterChange === "full" && changed)) dump(`after ${step.text}`, output);
      else if (instr.printAfterChange === "diff" && changed) diff(step, input, output);
      dumpFile(index + 1, step.pass.name, output);
    },
    failed(step, index, input, thrown) {
      if (instr.printAfterFailure) dump(`before ${step.text} (the pass failed)`, input);
      const where = error(MANAGER_CODES.note, `while running pass \`${step.text}\` (step ${index + 1} of the pipeline)`);
      if (thrown instanceof RmcError) return new RmcError([...thrown.diagnostics, { ...where, severity: "note" }]);
      const message = thrown instanceof Error ? thrown.message : String(thrown);
      const stack = process.env.RMC_DEBUG && thrown instanceof Error && thrown.stack ? `\n${thrown.stack}` : "";
      const hint = `this is a bug in the pass; ${reproduce(step, input, "threw an exception")}${stack || " (set RMC_DEBUG=1 for a stack trace)"}`;
      return new RmcError(error(MANAGER_CODES.passFailed, `pass \`${step.text}\` failed: ${message}`, undefined, hint));
    },
    finish(final, lastStep) {
      // A pipeline stopped early may end before infer-shapes: its result is checked as any step's is.
      const problems = verifyGraph(final, { allowUntyped: instr.stopAfter !== undefined });
      if (problems.length > 0) {
        const after = lastStep ? `after pass \`${lastStep.text}\`` : "(the pipeline is empty)";
        const hint = problems.some((d) => d.code === VERIFY_CODES.missingType) ? "add infer-shapes at the end of the pipeline" : undefined;
        throw new RmcError([error(MANAGER_CODES.invalidIr, `the pipeline's result is not valid IR ${after}`, undefined, hint), ...problems]);
      }
      if (instr.timePasses) out(formatTimings(timings));
      return timings;
    },
  };
}

/** A table of pass times: pass, ms, share of the total. */
export function formatTimings(timings: readonly PassTiming[]): string {
  const total = timings.reduce((s, t) => s + t.ms, 0);
  const rows = [
    ...timings.map((t) => [t.pass, t.ms.toFixed(3), `${total > 0 ? ((100 * t.ms) / total).toFixed(1) : "0.0"}%`]),
    ["total", total.toFixed(3), "100.0%"],
  ];
  const header = ["pass", "ms", "%"];
  const width = (i: number) => Math.max(header[i]!.length, ...rows.map((r) => r[i]!.length));
  const line = (r: string[]) => `${r[0]!.padEnd(width(0))}  ${r[1]!.padStart(width(1))}  ${r[2]!.padStart(width(2))}`;
  return `// ----- pass timing -----\n${[header, ...rows].map(line).join("\n")}\n`;
}
