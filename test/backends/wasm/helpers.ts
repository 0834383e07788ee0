// Shared plumbing for the Wasm backend tests: build small graphs for one op,
// compile them to a temp artifact, and run them through the runtime.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { wasmBackend } from "../../../backends/wasm/index.js";
import type { Graph } from "../../../src/ir/types.js";
import { runPipeline } from "../../../src/pipeline/index.js";
import { createPassRegistry } from "../../../passes/index.js";
import type { WeightStore } from "../../../src/weights/store.js";
import { load } from "../../../src/runtime/index.js";
import type { Batch } from "../../../src/data/batch.js";
import { isBags } from "../../../src/data/batch.js";
import { testWorkerUrl } from "../../runtime/transpile.js";

export const tempDir = (): string => mkdtempSync(join(tmpdir(), "rmc-wasm-"));

/** Canonicalizes and infers shapes, as `rmc compile`'s default pipeline does. */
export const canonical = (g: Graph): Graph => runPipeline(g, "canonicalize,infer-shapes,dce", createPassRegistry(), { out: () => {} });

/** Compiles `graph` into a fresh temp folder; returns the folder. */
export async function compileTo(
  graph: Graph,
  weights: WeightStore,
  opts: { emitText?: boolean; dir?: string; features?: string[] } = {},
): Promise<string> {
  const dir = opts.dir ?? join(tempDir(), "dist");
  await wasmBackend.compile(graph, weights, {
    outDir: dir,
    emitText: opts.emitText ?? false,
    features: opts.features ?? [],
    compilerVersion: "test",
  });
  return dir;
}

/**
 * Runs a Batch through a compiled artifact (single thread unless told
 * otherwise), on the portable SIMD128 code unless `features` allows more: the
 * bit-for-bit tests hold whichever Node runs them (the relaxed variant's
 * tests are test/relaxed/).
 */
export async function runArtifact(dir: string, batch: Batch, threads = 1, features: string[] = ["simd128"]): Promise<Record<string, Float32Array>> {
  const model = await load(dir, threads > 1 ? { threads, features, workerUrl: testWorkerUrl() } : { threads, features });
  try {
    const inputs: Record<string, unknown> = {};
    for (const [name, v] of Object.entries(batch.inputs))
      inputs[name] = isBags(v) ? { lengths: v.lengths, values: v.values, ...(v.weights ? { weights: v.weights } : {}) } : v;
    return await model.predict(inputs as never);
  } finally {
    await model.close();
  }
}

/** Largest |a-b| / max(|b|, 1e-30) over two arrays; exact equality gives 0. */
export function maxRelError(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    if (Object.is(a[i], b[i])) continue;
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), 1e-30));
  }
  return worst;
}
