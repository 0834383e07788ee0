// Shared set-up of the split-tables tests: a small model whose tables a tiny
// size limit splits, synthetic weights and Zipf-distributed batches (the
// calibration data that hot/cold splitting counts ids in), and the pipelines
// that split it by rows, by columns and into hot and cold parts.

import { expect } from "vitest";
import type { Graph } from "../../src/ir/types.js";
import { parseModel } from "../../src/frontend/index.js";
import { runPipelineWithReport } from "../../src/pipeline/index.js";
import { createPassRegistry } from "../../passes/index.js";
import type { WeightStore } from "../../src/weights/store.js";
import { initWeights } from "../../src/weights/init.js";
import { dataSchema } from "../../src/data/schema.js";
import { InputSampler, rawToBatch } from "../../src/data/synth.js";
import type { Batch } from "../../src/data/batch.js";
import { Rng } from "../../src/util/rng.js";

/** Three tables of dim 8: 200 rows (6400 bytes in f32), 50 rows, 120 rows (3840 bytes); weighted bags exercise per-id weights. */
export const MODEL = (pool = "sum", weighted = false) => `model split {
  input dense: f32[3]
  input sparse: ${weighted ? "weighted_bags" : "bags"}[3]
  table emb[3]: embedding(dim: 8, pool: ${pool}, rows: [200, 50, 120])
  bottom = relu(linear(dense, 8))
  pooled = embedding_bag(emb, sparse)
  z = interact(bottom, pooled, op: dot)
  output y = linear(z, 2)
}`;

/** The pipelines the tests compare against the unsplit model. */
export const PIPELINES = {
  rows: "split-tables{max-bytes=4KiB}",
  cols: "split-tables{max-bytes=4KiB,mode=cols}",
  hotcold: "split-tables{max-bytes=2KiB,hot=8}",
  /** Hot rows kept at fp32, cold ones at int8 (cold parts still over 2 KiB are split by rows). */
  mixed: "split-tables{max-bytes=2KiB,hot=8,hot-precision=fp32,cold-precision=int8}",
} as const;

/** The model after the default pipeline (and `edit`, e.g. pins), unsplit. */
export function model(src = MODEL(), edit?: (g: Graph) => void): Graph {
  const { graph, diagnostics } = parseModel(src, "split.rmdl");
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const g = structuredClone(run(graph!, "canonicalize,infer-shapes,dce"));
  edit?.(g);
  return g;
}

/** Runs a pipeline with calibration data (for hot/cold splitting). */
export function run(g: Graph, pipeline: string, calibration?: Batch[]): Graph {
  return runPipelineWithReport(g, pipeline, createPassRegistry(), { out: () => {} }, calibration ? { calibration } : {}).graph;
}

export const weightsFor = (g: Graph, seed = 7): WeightStore => initWeights(g, { seed, dist: "trained" });

/** Zipf-distributed batches (ids 0..3 per bag), dense features signed normal. */
export function batches(g: Graph, sizes: number[], seed = 11): Batch[] {
  const rng = new Rng(seed);
  const schema = dataSchema(g);
  const sampler = new InputSampler(schema, { idsPerBag: [0, 3] });
  return sizes.map((b) => {
    const batch = rawToBatch(schema, sampler.sample(rng, b));
    for (const [name, v] of Object.entries(batch.inputs)) if (v instanceof Float32Array) batch.inputs[name] = v.map(() => rng.normal() * 2);
    return batch;
  });
}

/** Weight names of the graph's split parts. */
export const partNames = (g: Graph): string[] => g.weights.filter((w) => w.attrs.part_of !== undefined).map((w) => w.name);

/** Expects two output sets to be equal bit for bit. */
export function expectIdentical(got: Record<string, Float32Array>, want: Record<string, Float32Array>): void {
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const k of Object.keys(want)) {
    const g = got[k]!;
    const w = want[k]!;
    expect(g.length, k).toBe(w.length);
    const bad = Array.from(w).findIndex((v, i) => !Object.is(v, g[i]));
    expect(bad, `${k}: first difference at ${bad}: ${g[bad]} vs ${w[bad]}`).toBe(-1);
  }
}
