// The relaxed-SIMD variant against the reference interpreter. These tests run
// under Node 24 (`npm run test:relaxed`, which npm test runs after the main
// suite): relaxed SIMD is on there by default. relaxed_madd may fuse or not,
// as the engine chooses, so f32 kernels are checked against the interpreter
// in both modes (FMA and unfused) within the stated tolerance
// (docs/numerics.md, "The relaxed-SIMD variant"); paths with no f32
// multiply-add stay bit-exact.

import { describe, expect, it } from "vitest";
import { parseModel } from "../../src/frontend/index.js";
import { interpret } from "../../src/interp/interpreter.js";
import { initWeights } from "../../src/weights/init.js";
import { dataSchema } from "../../src/data/schema.js";
import { InputSampler, rawToBatch } from "../../src/data/synth.js";
import type { Batch } from "../../src/data/batch.js";
import { Rng } from "../../src/util/rng.js";
import { load } from "../../src/runtime/index.js";
import { detectFeatures } from "../../src/runtime/wasm/variants.js";
import { canonical, compileTo, runArtifact } from "../backends/wasm/helpers.js";
import { testWorkerUrl } from "../runtime/transpile.js";

/** Per layer of f32 multiply-adds: |got − want| ≤ TOL · max(1, max|want|) for each output (docs/numerics.md). */
const TOL_PER_LAYER = 2 ** -16;

const rng = new Rng(15);

/** Largest |a − b| over an output, relative to max(1, max|b|). */
function scaledError(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  let scale = 1;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst / scale;
}

const same = (a: Float32Array, b: Float32Array): boolean => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

async function compare(src: string, layers: number, sizes: number[], threads = 1): Promise<{ fusedExact: boolean; unfusedExact: boolean }> {
  const { graph, diagnostics } = parseModel(src, "relaxed.rmdl");
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const g = canonical(graph!);
  const weights = initWeights(graph!, { seed: rng.u32(), dist: "trained" });
  const dir = await compileTo(g, weights);
  const schema = dataSchema(graph!);
  let fusedExact = true;
  let unfusedExact = true;
  for (const b of sizes) {
    const batch: Batch = rawToBatch(schema, new InputSampler(schema, { idsPerBag: [1, 4] }).sample(rng, b));
    for (const [name, v] of Object.entries(batch.inputs)) if (v instanceof Float32Array) batch.inputs[name] = v.map(() => rng.normal() * 2);
    const fused = interpret(g, weights, batch, { fma: true }).outputs;
    const unfused = interpret(g, weights, batch).outputs;
    const got = await runArtifact(dir, batch, threads, ["simd128", "relaxed-simd"]);
    for (const o of g.outputs) {
      expect(scaledError(got[o.name]!, fused[o.name]!), `${o.name} vs FMA mode at batch ${b}`).toBeLessThanOrEqual(TOL_PER_LAYER * layers);
      expect(scaledError(got[o.name]!, unfused[o.name]!), `${o.name} vs unfused at batch ${b}`).toBeLessThanOrEqual(TOL_PER_LAYER * layers);
      fusedExact &&= same(got[o.name]!, fused[o.name]!);
      unfusedExact &&= same(got[o.name]!, unfused[o.name]!);
    }
  }
  return { fusedExact, unfusedExact };
}

describe("relaxed-SIMD variant = interpreter (FMA and unfused modes) within tolerance", () => {
  it("runs under an engine with relaxed SIMD (Node 24: npm run test:relaxed)", () => {
    expect(detectFeatures(), `Node ${process.version} does not validate relaxed SIMD; run these tests with npm run test:relaxed`).toContain(
      "relaxed-simd",
    );
  });

  it("load picks the relaxed variant by default, the portable one when told, and threads run the same variant", async () => {
    const { graph } = parseModel("model k {\n  input x: f32[9]\n  y = mlp(x, [8, 1], final: sigmoid)\n  output y\n}", "v.rmdl");
    const dir = await compileTo(canonical(graph!), initWeights(graph!, { seed: 1, dist: "trained" }));
    for (const [opts, want] of [
      [{ threads: 1 }, "relaxed-simd"],
      [{ threads: 1, features: ["simd128"] }, "simd128"],
      [{ threads: 2, workerUrl: testWorkerUrl() }, "relaxed-simd"],
    ] as const) {
      const model = await load(dir, opts);
      expect(model.variant).toBe(want);
      await model.close();
    }
  });

  it("dense layers of random widths: the GEMM's relaxed_madd accumulation", async () => {
    const layers = Array.from({ length: 5 }, (_, i) => `  l${i} = relu(linear(x, ${[1, 4, 7, 8, 17, 33][rng.int(6)]}))\n  output o${i} = l${i}`);
    const r = await compare(`model k {\n  input x: f32[${40 + rng.int(300)}]\n${layers.join("\n")}\n}`, 1, [1, 5, 64]);
    // An engine either fuses or does not: the result is one mode exactly (this x64 host fuses).
    expect(r.fusedExact || r.unfusedExact).toBe(true);
  });

  it("an MLP stack and the dot interaction, one thread and two", async () => {
    const src = `model k {
  input x: f32[13]
  input s: bags[8]
  table t[8]: embedding(dim: 16, rows: 50)
  bot = mlp(x, [64, 16])
  e = embedding_bag(t, s)
  z = interact(bot, e, op: dot)
  y = mlp(z, [64, 16, 1], final: sigmoid)
  output y
}`;
    await compare(src, 6, [3, 64], 1);
    await compare(src, 6, [200], 2);
  });

  it("DCNv2 cross layers, full and low rank (their matrix products fuse, the elementwise step does not)", async () => {
    await compare(
      "model k {\n  input x: f32[19]\n  full = cross(x, layers: 2)\n  low = cross(x, layers: 3, rank: 4)\n  output full\n  output low\n}",
      3,
      [1, 9],
    );
  });

  it("paths without f32 multiply-adds are bit-exact: int8 tables pooled, int8 layers' integer dot", async () => {
    const src = `model k {
  input s: bags[2]
  @precision(int8)
  table t[2]: embedding(dim: 8, rows: 40)
  e = flatten(embedding_bag(t, s))
  @precision(int8)
  y = linear(e, 8)
  output e
  output y
}`;
    const r = await compare(src, 1, [1, 7]);
    expect(r.fusedExact && r.unfusedExact).toBe(true);
  });

  it("fp16 rows and weights widen exactly (relaxed_laneselect in place of bitselect): pooled bit-exact, fp16 layers as f32 ones", async () => {
    const pooled = `model k {
  input s: bags[2]
  @precision(fp16)
  table t[2]: embedding(dim: 12, rows: 60)
  e = flatten(embedding_bag(t, s))
  output e
}`;
    const r = await compare(pooled, 1, [1, 9]);
    expect(r.fusedExact && r.unfusedExact).toBe(true);
    const layer = "model k {\n  input x: f32[37]\n  @precision(fp16)\n  y = linear(x, 11)\n  output y\n}";
    const l = await compare(layer, 1, [1, 5]);
    expect(l.fusedExact || l.unfusedExact).toBe(true);
  });
});
