// The fused forms on the WGSL backend, on a real WebGPU device: a model that
// offers every fusion (separate bags of one input, interaction + concat, an
// int8 MLP with static scales, smoothed and not), compiled with the fusions
// the backend declares, gives exactly the outputs of the same model compiled
// without them (same shaders for the same math: the activation in the GEMM's
// epilogue, one bag kernel over all tables, the concat's copy after the
// interaction, the quantizer run on the layer's own output), and agrees with
// the reference interpreter as the unfused artifact does. Also tanh in the
// epilogue (the multitask example) and a fused concat after an interaction
// with more inputs than a shader has bindings (gathered first).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { wgslBackend } from "../../../backends/wgsl/index.js";
import { runPipeline } from "../../../src/pipeline/index.js";
import { compilerRegistry } from "../../../src/driver/index.js";
import { initWeights } from "../../../src/weights/init.js";
import { interpret } from "../../../src/interp/interpreter.js";
import { Rng } from "../../../src/util/rng.js";
import type { Graph } from "../../../src/ir/types.js";
import { FUSIBLE } from "../../passes/fusible.js";
import { GpuArtifact, gpuContext } from "./gpu.js";
import { batchFor, build, compileTo, relError } from "./helpers.js";

const ctx = await gpuContext();
const rng = new Rng(77);

/** The top MLP at int8 with static scales, its middle layer smoothed (as assign-precision would leave it). */
function int8Top(g: Graph): void {
  const scales = new Map([
    ["top.0.weight", 0.031],
    ["top.1.weight", 0.0123],
    ["top.2.weight", 0.02],
  ]);
  for (const n of g.nodes) {
    const scale = n.op === "linear" ? scales.get(n.inputs.find((r) => r.startsWith("@"))!.slice(1)) : undefined;
    if (scale === undefined) continue;
    n.attrs.precision = "int8";
    n.attrs.act_scale = scale;
    if (n.id === "top.1") n.attrs.smooth = Array.from({ length: 24 }, (_, k) => 0.5 + (k % 5) * 0.25);
  }
}

/** Compiles `built` with and without `passes`, runs both on the device, and expects identical outputs at a few batch sizes. */
async function sameFusedAndPlain(built: ReturnType<typeof build>, passes: string, seed: number): Promise<void> {
  const fused = runPipeline(built.graph, passes, compilerRegistry(), { out: () => {} });
  expect(fused).not.toBe(built.graph);
  const weights = initWeights(built.source, { seed, dist: "trained" });
  const plain = await GpuArtifact.load(await compileTo(built.graph, weights), ctx!, "best");
  const joined = await GpuArtifact.load(await compileTo(fused, weights), ctx!, "best");
  try {
    for (const b of [1, 9]) {
      const batch = batchFor(built.source, b, rng);
      const [a, f] = [await plain.run(batch), await joined.run(batch)];
      for (const o of built.graph.outputs) expect(Array.from(f[o.name]!), `${o.name}, batch ${b}`).toEqual(Array.from(a[o.name]!));
    }
  } finally {
    plain.destroy();
    joined.destroy();
  }
}

describe.skipIf(!ctx)("fusions on the WGSL backend", () => {
  it("tanh and sigmoid in the GEMM epilogue (multitask example) give the separate steps' outputs", async () => {
    const src = readFileSync(join(import.meta.dirname, "../../../examples/multitask.rmdl"), "utf8");
    await sameFusedAndPlain(build(src), "fuse-epilogue", 3);
  });

  it("an interaction with more inputs than bindings (gathered first) and a fused concat tail", async () => {
    const tables = Array.from(
      { length: 9 },
      (_, i) => `  table t${i}: embedding(dim: 4, rows: ${10 + i})\n  e${i} = embedding_bag(t${i}, sparse[${i}])`,
    ).join("\n");
    const src = `model wide {\n  input dense: f32[5]\n  input sparse: bags[9]\n  bottom = mlp(dense, [4], act: relu)\n${tables}\n  z = concat(interact(bottom, ${Array.from({ length: 9 }, (_, i) => `e${i}`).join(", ")}), dense, bottom)\n  output z\n}`;
    await sameFusedAndPlain(build(src), "fuse-interaction", 4);
  });

  it("fused and unfused artifacts give identical outputs, both as close to the interpreter", async () => {
    const built = build(FUSIBLE, int8Top);
    const fused = runPipeline(built.graph, wgslBackend.passes!, compilerRegistry(), { out: () => {} });
    // Every fusion the backend declares found something to do here.
    expect(fused.nodes.filter((n) => n.op === "embedding_bag")).toHaveLength(1);
    expect(fused.nodes.some((n) => n.op === "concat" || n.op === "relu" || n.op === "sigmoid")).toBe(false);
    expect(fused.nodes.some((n) => n.type?.kind === "tensor" && n.type.dtype === "i8")).toBe(true);
    const weights = initWeights(built.source, { seed: 8, dist: "trained" });
    const plain = await GpuArtifact.load(await compileTo(built.graph, weights), ctx!, "best");
    const joined = await GpuArtifact.load(await compileTo(fused, weights), ctx!, "best");
    try {
      for (const b of [1, 7, 40]) {
        const batch = batchFor(built.source, b, rng);
        const [a, f] = [await plain.run(batch), await joined.run(batch)];
        const want = interpret(built.graph, weights, batch).outputs;
        expect(Array.from(f.ctr!), `batch ${b}`).toEqual(Array.from(a.ctr!));
        expect(relError(f.ctr!, want.ctr!)).toBeLessThanOrEqual(1e-3);
      }
    } finally {
      plain.destroy();
      joined.destroy();
    }
  });
});
