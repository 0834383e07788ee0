// The fusion passes (fuse-epilogue, fuse-bags, fuse-interaction, fold-quant)
// on whole models: each changes the graph where it should, leaves it valid,
// and changes no number — the interpreter gives bit-identical outputs with
// and without every fusion, on every example and on a model built to offer
// each fusion (separate bags, interaction + concat, int8 layers with static
// scales, smoothed and not); the Wasm artifact of the fused graph (that model,
// and the multitask example through the Wasm target's passes) equals the
// interpreter bit for bit. The IR shapes themselves are golden files
// (fuse-*.ir, fold-quant.ir).

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { produce } from "immer";
import { describe, expect, it } from "vitest";
import { parseModel } from "../../src/frontend/index.js";
import { interpret } from "../../src/interp/interpreter.js";
import { verifyGraph } from "../../src/ir/verify.js";
import { runPipeline } from "../../src/pipeline/index.js";
import { compilerRegistry } from "../../src/driver/index.js";
import { initWeights } from "../../src/weights/init.js";
import { dataSchema } from "../../src/data/schema.js";
import { InputSampler, rawToBatch } from "../../src/data/synth.js";
import { Rng } from "../../src/util/rng.js";
import type { Batch } from "../../src/data/batch.js";
import type { Graph } from "../../src/ir/types.js";
import { compileTo, maxRelError, runArtifact } from "../backends/wasm/helpers.js";
import { FUSIBLE } from "./fusible.js";
import { wasmBackend } from "../../backends/wasm/index.js";

const FUSIONS = ["fuse-epilogue", "fuse-bags", "fuse-interaction", "fold-quant"];
const BASE = "canonicalize,infer-shapes,dce";
const run = (g: Graph, pipeline: string): Graph => runPipeline(g, pipeline, compilerRegistry(), { out: () => {} });

function parse(src: string, file: string): Graph {
  const { graph, diagnostics } = parseModel(src, file);
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return graph!;
}

/** Makes the top MLP int8 with static activation scales (the second layer smoothed), as assign-precision would. */
function int8Top(g: Graph): Graph {
  return produce(g, (d) => {
    const scales: Record<string, number> = { "top.0": 0.031, "top.1": 0.0123, top: 0.02 };
    for (const n of d.nodes) {
      const scale = scales[n.id] ?? (n.op === "linear" && n.inputs.some((r) => r.startsWith("@top.2")) ? scales.top : undefined);
      if (n.op !== "linear" || scale === undefined) continue;
      n.attrs.precision = "int8";
      n.attrs.act_scale = scale;
    }
    const second = d.nodes.find((n) => n.id === "top.1")!;
    const width = (d.weights.find((w) => w.name === "top.1.weight")!.shape[1] as number) ?? 0;
    second.attrs.smooth = Array.from({ length: width }, (_, k) => 0.5 + (k % 5) * 0.25);
  });
}

function batchOf(g: Graph, n: number, seed: number): Batch {
  const schema = dataSchema(g);
  return rawToBatch(schema, new InputSampler(schema, { idsPerBag: [0, 4] }).sample(new Rng(seed), n));
}

function expectSameOutputs(a: Record<string, Float32Array>, b: Record<string, Float32Array>, g: Graph, what: string): void {
  for (const o of g.outputs) expect(maxRelError(a[o.name]!, b[o.name]!), `${o.name}: ${what}`).toBe(0);
}

describe("fusions on a model built to offer each of them", () => {
  const source = parse(FUSIBLE, "fusible.rmdl");
  const plain = int8Top(run(source, BASE));
  const weights = initWeights(source, { seed: 5, dist: "trained" });

  it("each fusion rewrites the graph, leaves it valid, and changes no output bit", () => {
    const batch = batchOf(source, 37, 9);
    const want = interpret(plain, weights, batch).outputs;
    let g = plain;
    for (const pass of FUSIONS) {
      const next = run(g, pass);
      expect(next, `${pass} changed nothing`).not.toBe(g);
      expect(verifyGraph(next)).toEqual([]);
      expectSameOutputs(interpret(next, weights, batch).outputs, want, plain, `after ${pass}`);
      g = next;
    }
    // What the fused graph looks like: fewer nodes, one bag, codes between the int8 layers.
    expect(g.nodes.filter((n) => n.op === "embedding_bag")).toHaveLength(1);
    expect(g.nodes.some((n) => n.op === "concat" || n.op === "relu" || n.op === "sigmoid")).toBe(false);
    expect(g.nodes.find((n) => n.id === "top.0")!.type).toEqual({ kind: "tensor", dtype: "i8", shape: ["B", 24] });
    expect(g.nodes.find((n) => n.id === "top.1")!.attrs.out_smooth).toBeUndefined();
    expect(g.nodes.find((n) => n.id === "top.0")!.attrs.out_smooth).toEqual(plain.nodes.find((n) => n.id === "top.1")!.attrs.smooth);
  });

  it("runs in any order of the fusions with the same result as the interpreter's unfused graph", () => {
    const batch = batchOf(source, 5, 10);
    const want = interpret(plain, weights, batch).outputs;
    const fused = run(plain, [...FUSIONS].reverse().join(","));
    expectSameOutputs(interpret(fused, weights, batch).outputs, want, plain, "reversed order");
  });

  it("the Wasm artifact of the fused graph equals the interpreter, bit for bit, with the memory plan in the IR", async () => {
    const fused = run(plain, [...FUSIONS, "plan-memory"].join(","));
    expect(fused.nodes.every((n) => n.op === "flatten" || Array.isArray(n.attrs.buffer))).toBe(true);
    const dir = await compileTo(fused, weights);
    for (const n of [1, 16, 70]) {
      const batch = batchOf(source, n, 20 + n);
      // NaN, infinities and huge values must become the same codes (NaN → 0, clamped to ±127) as in the interpreter.
      if (n === 16) (batch.inputs.dense as Float32Array).set([NaN, Infinity, -Infinity, 3e38, -3e38], 6);
      expectSameOutputs(await runArtifact(dir, batch), interpret(plain, weights, batch).outputs, plain, `wasm, batch ${n}`);
    }
  });

  it("fold-quant leaves layers alone that have a dynamic scale or are not int8", () => {
    const dynamic = produce(plain, (d) => {
      for (const n of d.nodes) delete n.attrs.act_scale;
    });
    const epi = run(dynamic, "fuse-epilogue");
    expect(run(epi, "fold-quant")).toBe(epi);
    const f32 = run(run(source, BASE), "fuse-epilogue");
    expect(run(f32, "fold-quant")).toBe(f32);
  });
});

describe("the Wasm target's passes on the multitask example", () => {
  it("compile and run bit for bit as the unfused interpreter (weighted bags, mean/max pools, tanh, two outputs)", async () => {
    const source = parse(readFileSync(join(import.meta.dirname, "../../examples/multitask.rmdl"), "utf8"), "examples/multitask.rmdl");
    const plain = run(source, BASE);
    const fused = run(plain, wasmBackend.passes!);
    expect(fused.nodes.some((n) => n.attrs.act === "tanh")).toBe(true);
    const weights = initWeights(source, { seed: 4, dist: "trained" });
    const dir = await compileTo(fused, weights);
    const batch = batchOf(source, 33, 13);
    expectSameOutputs(await runArtifact(dir, batch), interpret(plain, weights, batch).outputs, plain, "multitask on wasm");
  });
});

describe("fusions on every example", () => {
  const dir = join(import.meta.dirname, "../../examples");
  // Full-size examples run on lazily generated tables: a few samples each.
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".rmdl"))
    .sort();
  it.each(files)("%s: identical outputs with and without every fusion", (file) => {
    const source = parse(readFileSync(join(dir, file), "utf8"), `examples/${file}`);
    const plain = run(source, BASE);
    const fused = run(plain, FUSIONS.join(","));
    expect(verifyGraph(fused)).toEqual([]);
    const weights = initWeights(source, { seed: 3, dist: "trained" });
    const batch = batchOf(source, 3, 12);
    expectSameOutputs(interpret(fused, weights, batch).outputs, interpret(plain, weights, batch).outputs, plain, file);
  });
});
