// What the compile report shows, gathered while `rmc compile --report R.html`
// runs: each pipeline step's IR (as a noted dump) and its diff from the step
// before, recorded through the pass manager's `record` hook; then the plan,
// the numeric errors, the memory plan, the files and the timings. Plain data,
// so html.ts only renders.

import { dumpPrintOptions } from "../ir/dump.js";
import { printGraph } from "../ir/print.js";
import type { Graph } from "../ir/types.js";
import type { StepRecord } from "../pipeline/index.js";
import type { PrecisionPlan } from "../precision/plan.js";
import { unifiedDiff } from "../util/diff.js";

/** One pipeline step as the report shows it. */
export interface ReportStep {
  /** 1-based, and the step as pipeline text. */
  number: number;
  text: string;
  ms: number;
  changed: boolean;
  /** The IR after the step (a noted dump) and its unified diff from the IR before it ("" when unchanged). */
  ir: string;
  diff: string;
}

/** One node's error against the fp32 model (what `rmc debug-numerics` prints). */
export interface ReportNodeError {
  id: string;
  op: string;
  line: number;
  precision: string;
  maxAbs: number;
  relative: number;
  cosine: number;
}

/** What the memory section reads of plan-memory's summary. */
export interface ReportMemory {
  activationBytes: number;
  unsharedBytes: number;
  headerBytes: number;
  perSampleBytes: number;
}

/** Everything the page shows. */
export interface ReportData {
  model: string;
  target: string;
  compilerVersion: string;
  /** The IR the pipeline was given. */
  input: string;
  steps: ReportStep[];
  /** The final graph drawn by Graphviz (svg.ts). */
  svg: string;
  plan?: PrecisionPlan;
  /** Per-node errors on the calibration data, with how many samples they were measured on. */
  numerics?: { samples: number; nodes: ReportNodeError[] };
  memory?: ReportMemory;
  files: { name: string; bytes: number }[];
  /** Pass times, then the backend's (code generation and writing the artifact), in milliseconds. */
  timings: { pass: string; ms: number }[];
  backendMs: number;
}

/** A recorder for the pass manager's `record` hook: keeps each step's dump and diff. */
export function stepRecorder(source?: (file: string) => string | undefined): {
  record: (s: StepRecord) => void;
  input: () => string;
  steps: () => ReportStep[];
} {
  const steps: ReportStep[] = [];
  let input = "";
  let last = "";
  const show = (g: Graph) => printGraph(g, dumpPrintOptions(g, source ? { source } : {}));
  return {
    record(s) {
      if (s.index === 0) input = last = show(s.input);
      const ir = s.output === s.input ? last : show(s.output);
      const diff = unifiedDiff(last, ir, { a: `before ${s.text}`, b: `after ${s.text}` });
      steps.push({ number: s.index + 1, text: s.text, ms: s.ms, changed: s.output !== s.input, ir, diff });
      last = ir;
    },
    input: () => input,
    steps: () => steps,
  };
}
