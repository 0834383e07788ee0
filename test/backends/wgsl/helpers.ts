// Shared plumbing for the WGSL backend tests: build small models in the DSL,
// compile them to a temp artifact, run them on the test device and compare
// with the reference interpreter by a relative error that does not blow up
// on outputs near zero: |a - b| / max(|b|, 1e-3 · rms(b)).

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { compileWgsl } from "../../../backends/wgsl/index.js";
import type { Graph } from "../../../src/ir/types.js";
import { parseModel } from "../../../src/frontend/index.js";
import { runPipeline } from "../../../src/pipeline/index.js";
import { createPassRegistry } from "../../../passes/index.js";
import type { WeightStore } from "../../../src/weights/store.js";
import { initWeights } from "../../../src/weights/init.js";
import { interpret } from "../../../src/interp/interpreter.js";
import { dataSchema } from "../../../src/data/schema.js";
import { InputSampler, rawToBatch } from "../../../src/data/synth.js";
import type { Batch } from "../../../src/data/batch.js";
import type { Rng } from "../../../src/util/rng.js";
import { GpuArtifact, type GpuContext, type Variant } from "./gpu.js";

export const tempDir = (): string => mkdtempSync(join(tmpdir(), "rmc-wgsl-"));

/** Canonicalizes and infers shapes, as `rmc compile`'s default pipeline does. */
export const canonical = (g: Graph): Graph => runPipeline(g, "canonicalize,infer-shapes,dce", createPassRegistry(), { out: () => {} });

/** A model as written and as compiled (canonical; `edit` may change a clone, e.g. to set act_scale). */
export interface Built {
  source: Graph;
  graph: Graph;
}

export function build(src: string, edit?: (g: Graph) => void): Built {
  const { graph, diagnostics } = parseModel(src, "kernel.rmdl");
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const g = structuredClone(canonical(graph!));
  edit?.(g);
  return { source: graph!, graph: g };
}

/** Compiles `graph` to a fresh temp folder with the WGSL backend (WebGPU's default limits unless given); returns the folder. */
export async function compileTo(
  graph: Graph,
  weights: WeightStore,
  opts: { emitText?: boolean; dir?: string; bindingLimit?: number } = {},
): Promise<string> {
  const dir = opts.dir ?? join(tempDir(), "dist");
  const limits =
    opts.bindingLimit === undefined ? undefined : { maxStorageBufferBindingSize: opts.bindingLimit, maxComputeWorkgroupsPerDimension: 65535 };
  await compileWgsl(graph, weights, { outDir: dir, emitText: opts.emitText ?? false, features: [], compilerVersion: "test" }, limits);
  return dir;
}

/** A random batch of `b` samples: dense inputs signed normal × 2 (relu's negative side too). */
export function batchFor(source: Graph, b: number, rng: Rng, idsPerBag: [number, number] = [0, 4]): Batch {
  const schema = dataSchema(source);
  const batch: Batch = rawToBatch(schema, new InputSampler(schema, { idsPerBag }).sample(rng, b));
  for (const [name, v] of Object.entries(batch.inputs)) if (v instanceof Float32Array) batch.inputs[name] = v.map(() => rng.normal() * 2);
  return batch;
}

/** Largest |a-b| / max(|b|, 1e-3·rms(b)); NaN anywhere in only one of them counts as infinite. */
export function relError(got: Float32Array, want: Float32Array): number {
  expect(got.length).toBe(want.length);
  let sq = 0;
  for (const v of want) sq += v * v;
  const floor = Math.max(1e-3 * Math.sqrt(sq / Math.max(1, want.length)), 1e-30);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(got[i]!) !== Number.isNaN(want[i]!)) return Infinity;
    if (Number.isNaN(want[i]!) || got[i] === want[i]) continue;
    worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.max(Math.abs(want[i]!), floor));
  }
  return worst;
}

/** Options of `agree`. */
export interface AgreeOptions {
  weights?: WeightStore;
  /** Largest relative error allowed per output (0: bit-identical); default 1e-4. */
  tol?: number | Record<string, number>;
  variant?: Variant;
  idsPerBag?: [number, number];
  /** A smaller storage-binding limit to compile for (splits tables across buffers). */
  bindingLimit?: number;
  /** Changes a batch before it runs (e.g. to put values on rounding ties). */
  edit?: (batch: Batch) => void;
}

/** Compiles, runs each batch size on the GPU and in the interpreter, checks every output; returns the worst error per output. */
export async function agree(ctx: GpuContext, built: Built, sizes: number[], rng: Rng, opts: AgreeOptions = {}): Promise<Record<string, number>> {
  const store = opts.weights ?? initWeights(built.source, { seed: rng.u32(), dist: "trained" });
  const dir = await compileTo(built.graph, store, opts.bindingLimit === undefined ? {} : { bindingLimit: opts.bindingLimit });
  const art = await GpuArtifact.load(dir, ctx, opts.variant ?? "best");
  const worst: Record<string, number> = {};
  try {
    for (const b of sizes) {
      const batch = batchFor(built.source, b, rng, opts.idsPerBag);
      opts.edit?.(batch);
      const want = interpret(built.graph, store, batch).outputs;
      const got = await art.run(batch);
      for (const o of built.graph.outputs) {
        const err = relError(got[o.name]!, want[o.name]!);
        const tol = typeof opts.tol === "object" ? (opts.tol[o.name] ?? 1e-4) : (opts.tol ?? 1e-4);
        expect(err, `${o.name} at batch ${b}`).toBeLessThanOrEqual(tol);
        worst[o.name] = Math.max(worst[o.name] ?? 0, err);
      }
    }
  } finally {
    art.destroy();
  }
  return worst;
}
