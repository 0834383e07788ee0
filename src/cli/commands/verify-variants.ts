// `rmc verify`, per code variant: a Wasm artifact ships SIMD128 code and a
// relaxed-SIMD variant, and the engine that loads it picks one, so the gate
// measures each. The plan is compiled again on the new weights (into a
// temporary folder, as --repair would write it) and every variant this engine
// validates runs for real over the samples; its NE against the new fp32 model
// and its largest errors against the interpreter in the matching mode (the
// relaxed variant's f32x4.relaxed_madd against fma mode, docs/numerics.md)
// are reported. A variant the engine cannot run (relaxed SIMD on Node 20) is
// measured with the interpreter's fma mode instead, labelled so.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Graph } from "../../ir/types.js";
import type { Batch } from "../../data/batch.js";
import type { WeightStore } from "../../weights/store.js";
import type { BatchOutputs, ExpectedNE } from "../../precision/evaluate.js";
import type { PrecisionPlan } from "../../precision/plan.js";
import { interpret } from "../../interp/interpreter.js";
import { compileModel } from "../../driver/index.js";
import { chooseVariant, detectFeatures, variantsOf } from "../../runtime/wasm/variants.js";
import { readManifest } from "../artifact.js";

/** One variant's figures (`rmc verify --json`'s `variants`). */
export interface VariantResult {
  /** "relaxed-simd" or "simd128" (`rmc run --json`'s `variant` when it runs). */
  name: string;
  module: string;
  features: string[];
  /** The variant `load` (and `rmc run`) picks on this engine. */
  runsHere: boolean;
  /**
   * "wasm": it ran; "interpreter-fma": this engine cannot run it (relaxed SIMD), so the interpreter's fma mode stood
   * in for it; "interpreter": the same for SIMD128 code on an engine without SIMD (the unfused interpreter).
   */
  measured: "wasm" | "interpreter-fma" | "interpreter";
  neDelta: number;
  neDeltaError: number;
  /** When it ran: the largest |wasm − interpreter| over every output, and the same relative to |interpreter| (floored at 1e-12). */
  maxAbsError?: number;
  maxRelError?: number;
  /** The interpreter mode those errors are against: "fma" for a relaxed-SIMD variant, else "unfused". */
  against?: "fma" | "unfused";
  withinBudget: boolean;
}

/** The outputs of `graph` on `batches` with the interpreter, fused multiply-adds or not. */
export const interpreted = (graph: Graph, weights: WeightStore, batches: readonly Batch[], fma = false): BatchOutputs =>
  batches.map((b) => interpret(graph, weights, b, { fma }).outputs);

/**
 * Compiles `graph` (the plan on the new weights) for `target` into a temporary folder and measures each of its
 * variants over `batches`; `unfused`: the interpreter's outputs of `graph`. Undefined for targets without variants.
 */
export async function measureVariants(
  target: string,
  graph: Graph,
  weights: WeightStore,
  batches: readonly Batch[],
  plan: PrecisionPlan | undefined,
  ev: ExpectedNE,
  budget: number,
  unfused: BatchOutputs,
): Promise<VariantResult[] | undefined> {
  if (target !== "wasm") return undefined;
  const dir = mkdtempSync(join(tmpdir(), "rmc-verify-"));
  try {
    await compileModel({ model: graph, weights, target, outDir: dir, passes: [], ...(plan ? { plan } : {}) });
    return await measureArtifact(dir, graph, weights, batches, ev, budget, unfused);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Measures each variant of the Wasm artifact in `dir`, compiled from `graph` on `weights` (as measureVariants). */
export async function measureArtifact(
  dir: string,
  graph: Graph,
  weights: WeightStore,
  batches: readonly Batch[],
  ev: ExpectedNE,
  budget: number,
  unfused: BatchOutputs,
): Promise<VariantResult[]> {
  const layout = readManifest(dir).wasm!;
  const here = new Set(detectFeatures());
  const picked = chooseVariant(layout, undefined).name;
  let fused: BatchOutputs | undefined;
  const results: VariantResult[] = [];
  for (const v of variantsOf(layout)) {
    const relaxed = v.features.includes("relaxed-simd");
    const want = relaxed ? (fused ??= interpreted(graph, weights, batches, true)) : unfused;
    const base = { name: v.name, module: v.module, features: v.features, runsHere: v.name === picked };
    if (!v.features.every((f) => here.has(f))) {
      const neDelta = ev.deltaOf(want);
      const measured = relaxed ? "interpreter-fma" : "interpreter";
      results.push({ ...base, measured, neDelta, neDeltaError: ev.lastError, withinBudget: neDelta <= budget });
      continue;
    }
    const got = await runVariant(dir, v.features, batches);
    const neDelta = ev.deltaOf(got);
    results.push({
      ...base,
      measured: "wasm",
      neDelta,
      neDeltaError: ev.lastError,
      ...largestErrors(got, want),
      against: relaxed ? "fma" : "unfused",
      withinBudget: neDelta <= budget,
    });
  }
  return results;
}

/** The artifact in `dir` run with exactly `features` on one thread, batch by batch. */
async function runVariant(dir: string, features: readonly string[], batches: readonly Batch[]): Promise<BatchOutputs> {
  const { load } = await import("../../runtime/index.js");
  const model = await load(dir, { features, threads: 1 });
  try {
    const out: Record<string, Float32Array>[] = [];
    for (const b of batches) out.push(await model.predict(b.inputs));
    return out;
  } finally {
    await model.close();
  }
}

/** The largest absolute and relative differences of `got` from `want` over every output value (NaN where they disagree on NaN). */
function largestErrors(got: BatchOutputs, want: BatchOutputs): { maxAbsError: number; maxRelError: number } {
  let abs = 0;
  let rel = 0;
  want.forEach((w, i) => {
    for (const [name, ref] of Object.entries(w)) {
      const g = got[i]![name]!;
      for (let k = 0; k < ref.length; k++) {
        const d = Math.abs(g[k]! - ref[k]!);
        if (Number.isNaN(d)) {
          if (!(Number.isNaN(g[k]!) && Number.isNaN(ref[k]!))) abs = rel = NaN;
          continue;
        }
        abs = Math.max(abs, d);
        rel = Math.max(rel, d / Math.max(Math.abs(ref[k]!), 1e-12));
      }
    }
  });
  return { maxAbsError: abs, maxRelError: rel };
}

const pct = (x: number): string => `${x >= 0 ? "+" : ""}${x.toFixed(4)}%`;

/** One line per variant, for the console. */
export function formatVariant(r: VariantResult): string {
  const head = `  ${r.name} (${r.module}${r.runsHere ? ", the one this engine loads" : ""}): `;
  const ne = `expected NE ${pct(r.neDelta)} ± ${pct(r.neDeltaError)}`;
  if (r.measured !== "wasm") {
    const missing = r.features.filter((f) => !detectFeatures().includes(f)).join(", ");
    const mode = r.measured === "interpreter-fma" ? "the interpreter's fused multiply-add mode" : "the interpreter";
    return `${head}not runnable here (this engine does not validate ${missing}); measured with ${mode} as its stand-in: ${ne}\n`;
  }
  return `${head}ran: ${ne}; vs the interpreter (${r.against}): max abs error ${r.maxAbsError!.toExponential(2)}, max rel error ${r.maxRelError!.toExponential(2)}\n`;
}
