// The compile driver: model graph + weights → an artifact folder for a
// target, the one path the CLI, the server and library users all take. It
// assembles the pipeline as typed steps (the user's, then the precision
// step, the table split the target's buffers need and the target's own
// passes), runs it with the target's facts in every pass's context, reads
// the typed results the passes emit (precision plan, memory plan) and hands
// the final IR to the backend.

import { RmcError, type Code } from "../diagnostics/index.js";
import type { Graph } from "../ir/types.js";
import type { Batch } from "../data/batch.js";
import type { WeightStore } from "../weights/store.js";
import type { PrecisionPlan } from "../precision/plan.js";
import type { PassControl } from "../pipeline/pass.js";
import {
  DEFAULT_PIPELINE,
  parsePipeline,
  runPipelineWithReport,
  type Instrumentation,
  formatTimings,
  type PassOutputs,
  type PassRegistry,
  type PassTiming,
  type PipelineReport,
  type PipelineStep,
} from "../pipeline/index.js";
import type { Diagnostic } from "../diagnostics/index.js";
import type { Backend, CompileResult } from "../../backends/index.js";
import { stageClock, type StageTiming } from "../../backends/backend.js";
import { provenanceRecorder, type Provenance } from "./provenance.js";
import { compilerRegistry } from "./registry.js";
import { findBackend } from "./targets.js";
import { compilerVersion } from "./version.js";
import { precisionStep, type PrecisionRequest } from "./precision.js";

/**
 * Diagnostic code: a `--features` entry the target does not offer. It is a
 * value not among its choices, like an unknown `--target`: the same code.
 */
export const E_UNKNOWN_FEATURE = "E0904" satisfies Code;

/** Everything one compile needs; only `model`, `weights`, `target` and `outDir` are required. */
export interface CompileRequest {
  model: Graph;
  weights: WeightStore;
  /** A built-in target (wasm, wgsl) or one of `backends`. */
  target: string;
  outDir: string;
  /** The user's pipeline (default: canonicalize, infer-shapes, dce). */
  passes?: string | readonly PipelineStep[];
  /** A precision choice (an assign-precision step after the user's pipeline); none: the pins in the model apply. */
  precision?: PrecisionRequest;
  /** Progress lines and checkpoints of long passes (the precision search). */
  control?: PassControl;
  /** Calibration samples for the precision search and hot/cold splits. */
  calibration?: readonly Batch[];
  /** Append the target's fusions and memory plan (default true). */
  targetPasses?: boolean;
  /** Optional target features (wasm: `profile`). */
  features?: readonly string[];
  /** Also write model.wat / final.ir. */
  emitText?: boolean;
  /** The pass registry to resolve steps in (with plugins loaded); default: the compiler's own. */
  registry?: PassRegistry;
  /** Backends from plugins. */
  backends?: readonly Backend[];
  /** IR printing, dumps and timing between passes. */
  instrumentation?: Instrumentation;
  /** Where tables that do not fit the memory budget go (place-tables' options). */
  placement?: PlacementRequest;
  /** Rows each staging table holds per call (tables placed outside memory). */
  stagingRows?: number;
  /** The history of a model compiled before (its manifest's `provenance`), carried into this compile's. */
  provenance?: Provenance;
  /** A plan to record in the manifest when no assign-precision step makes one (the model already carries its precisions, as `rmc verify --repair` builds it). */
  plan?: PrecisionPlan;
}

/** What `--memory-budget`, `--store` and `--store-tables` ask of place-tables. */
export interface PlacementRequest {
  /** Bytes of weights the model's memory may hold (default: three quarters of the target's memory). */
  memoryBudget?: number;
  store?: "file" | "redis";
  /** Tables placed in the store whatever the budget. */
  tables?: readonly string[];
}

const placementOptions = (p: PlacementRequest | undefined): Record<string, string> => ({
  ...(p?.memoryBudget !== undefined ? { "memory-budget": String(p.memoryBudget) } : {}),
  ...(p?.store ? { store: p.store } : {}),
  ...(p?.tables?.length ? { tables: p.tables.join(";") } : {}),
});

/** What a compile produced. */
export interface CompileOutcome {
  /** The final IR the backend compiled. */
  graph: Graph;
  backend: Backend;
  plan?: PrecisionPlan;
  memory?: PassOutputs["memory-plan"];
  placement?: PassOutputs["placement"];
  result: CompileResult;
  /** Warnings and notes the passes left. */
  diagnostics: Diagnostic[];
  timings: PassTiming[];
  /** The backend's stages (codegen, optimise, emit, per module), timed when the backend reports them. */
  stages: StageTiming[];
}

/**
 * The pipeline a compile runs: the user's steps, then each extra step the
 * user's pipeline does not already name (a user's own split-tables or
 * assign-precision step wins over the one the flags would add).
 */
export function compilePipeline(
  request: Pick<CompileRequest, "passes" | "precision" | "targetPasses" | "placement">,
  backend: Backend,
): PipelineStep[] {
  const user = typeof request.passes === "string" ? parsePipeline(request.passes) : [...(request.passes ?? parsePipeline(DEFAULT_PIPELINE))];
  // The target's fusions need the precisions assign-precision chose, so they come after it; tables over the
  // target's largest buffer are split before them (after precision: sizes are at the chosen precision).
  const extra: PipelineStep[] = [
    ...(request.precision ? [precisionStep(request.precision, backend.name)] : []),
    { name: "place-tables", options: { target: backend.name, ...placementOptions(request.placement) } },
    { name: "split-tables", options: { "max-bytes": String(backend.limits.maxBufferBytes), target: backend.name } },
    ...(request.targetPasses === false || !backend.passes ? [] : parsePipeline(backend.passes).map(({ name, options }) => ({ name, options }))),
  ];
  const named = new Set(user.map((s) => s.name));
  return [...user, ...extra.filter((s) => !named.has(s.name))];
}

/** Runs the pipeline a compile runs (the target's facts in every pass's context), without the backend. */
function runCompilePipeline(request: CompileRequest, backend: Backend, instrumentation = request.instrumentation ?? {}): PipelineReport {
  return runPipelineWithReport(request.model, compilePipeline(request, backend), request.registry ?? compilerRegistry(), instrumentation, {
    weights: request.weights,
    ...(request.calibration ? { calibration: request.calibration } : {}),
    ...(request.control ? { control: request.control } : {}),
    target: backend,
  });
}

/** Bisecting a compile: runs its pipeline up to `instrumentation.stopAfter` and returns that IR; no artifact is written. */
export async function compileUntil(request: CompileRequest): Promise<PipelineReport> {
  return runCompilePipeline(request, await findBackend(request.target, request.backends));
}

/** Compiles `request.model` for `request.target` into `request.outDir` (written whole, or not at all). */
export async function compileModel(request: CompileRequest): Promise<CompileOutcome> {
  const backend = await findBackend(request.target, request.backends);
  const features = [...(request.features ?? [])];
  for (const f of features)
    if (!backend.features.includes(f))
      throw new RmcError(
        `target ${backend.name} has no feature \`${f}\`${backend.features.length ? ` (it has ${backend.features.join(", ")})` : ""}`,
        E_UNKNOWN_FEATURE,
      );
  const instr = request.instrumentation ?? {};
  const provenance = provenanceRecorder(request.provenance);
  // The timing table is printed after the backend, with its stages: the pipeline alone is a sliver of a compile.
  const steps = {
    ...instr,
    timePasses: false,
    onStep: (pass: string, a: Graph, b: Graph) => (provenance.step(pass, a, b), instr.onStep?.(pass, a, b)),
  };
  const report = runCompilePipeline(request, backend, steps);
  if (report.stopped) throw new RmcError(`the pipeline stopped after \`${report.stopped.text}\`: nothing to compile (use compileUntil)`, "E1270");
  const plan = report.outputs["precision-plan"] ?? request.plan;
  let staged = 0;
  const clock = stageClock(instr.progress ? () => instr.progress!(`${backend.name} backend stages`, ++staged, 0) : undefined);
  const result = await backend.compile(report.graph, request.weights, {
    outDir: request.outDir,
    emitText: request.emitText === true,
    features,
    compilerVersion: compilerVersion(),
    manifestExtras: { ...(plan ? { plan } : {}), provenance: provenance.result(report.graph) },
    ...(request.stagingRows ? { stagingRows: request.stagingRows } : {}),
    clock,
  });
  const stages = clock.stages.map((t) => ({ pass: `${backend.name}: ${t.stage}`, ms: t.ms }));
  if (instr.timePasses) (instr.out ?? ((t: string) => void process.stderr.write(t)))(formatTimings([...report.timings, ...stages]));
  const memory = report.outputs["memory-plan"];
  const placement = report.outputs.placement;
  return {
    graph: report.graph,
    backend,
    ...(plan ? { plan } : {}),
    ...(memory ? { memory } : {}),
    ...(placement ? { placement } : {}),
    result,
    diagnostics: report.diagnostics,
    timings: report.timings,
    stages: clock.stages,
  };
}
