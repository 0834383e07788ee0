// The backend interface: a target's facts (src/target: ops, precisions,
// limits, cost, the passes compile appends) plus the code generator that
// turns a final IR and its weights into an artifact folder, and any passes
// of the target's own (the Wasm memory plan). Plugins add backends of the
// same shape; the compile driver finds them by name.

import type { Graph } from "../src/ir/types.js";
import type { Pass } from "../src/pipeline/pass.js";
import type { TargetInfo } from "../src/target/index.js";
import type { WeightStore } from "../src/weights/store.js";

export interface CompileOptions {
  /** Folder to write; replaced as a whole only when compilation succeeds. */
  outDir: string;
  /** Also write human-readable forms (model.wat, final.ir). */
  emitText: boolean;
  /** Optional target features a backend offers (`--features`). */
  features: string[];
  compilerVersion: string;
  /** Extra records for the manifest (e.g. the precision plan, so `rmc verify` can reapply it). */
  manifestExtras?: Record<string, unknown>;
  /** Rows each staging table of a store-placed table holds per call (default backends/staging.ts's). */
  stagingRows?: number;
  /** Times the backend's stages (codegen, optimise, emit, per module) for `--time-passes`; absent: nothing is timed. */
  clock?: StageClock;
}

/** A backend's stopwatch: `time("codegen model.wasm", f)` runs f and records its wall time under that name. */
export interface StageClock {
  time<T>(stage: string, run: () => T): T;
}

/** One timed stage of a backend. */
export interface StageTiming {
  stage: string;
  ms: number;
}

/** A StageClock that keeps every stage it timed, in order; `onStage` hears each one as it ends (progress lines). */
export function stageClock(onStage?: (t: StageTiming) => void): StageClock & { stages: StageTiming[] } {
  const stages: StageTiming[] = [];
  return {
    stages,
    time(stage, run) {
      const t0 = performance.now();
      try {
        return run();
      } finally {
        const t = { stage, ms: performance.now() - t0 };
        stages.push(t);
        onStage?.(t);
      }
    },
  };
}

/** What a compile produced, for the CLI's report. */
export interface CompileResult {
  files: { name: string; bytes: number }[];
  /** Per-sample bytes of planned activation memory. */
  activationBytesPerSample: number;
  weightsBytes: number;
}

/** A target's facts and its code generator. */
export interface Backend extends TargetInfo {
  compile(graph: Graph, weights: WeightStore, opts: CompileOptions): Promise<CompileResult>;
}

/**
 * A built-in target as the driver and the pass registry see it before its
 * code generator is loaded: its facts, the passes it defines (registered
 * under its name, e.g. plan-memory for wasm), and a loader for the backend.
 */
export interface BuiltinBackend {
  info: TargetInfo;
  passes: readonly Pass[];
  load(): Promise<Backend>;
}
