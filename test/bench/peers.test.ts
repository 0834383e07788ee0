// The peer benchmark's models compute what rmc's interpreter computes: the
// TF.js model built from the IR (bench/peers/tfjs.ts) and the exported ONNX
// model in onnxruntime-node and onnxruntime-web, loaded through the same peer
// code the benchmark times, on batches with empty and multi-id bags. ORT
// Web's int8 form is checked against onnxruntime-node on the same file (the
// interpreter has no per-tensor dynamic int8); its run of a precision plan
// (mixed table formats in one bag) exported in rmc's exact int8 form against
// the interpreter running that plan, its reference in the benchmark. No timings here.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { interpret } from "../../src/interp/interpreter.js";
import { parseModel } from "../../src/frontend/index.js";
import type { Graph } from "../../src/ir/types.js";
import { exportOnnx } from "../../src/onnx/export.js";
import { initWeights } from "../../src/weights/init.js";
import { writeWeights } from "../../src/weights/write.js";
import type { Batch } from "../../src/data/batch.js";
import { maxAbsDiff } from "../../bench/peers/measure.js";
import { ortNode, ortWebFp32, ortWebInt8, ortWebPlan } from "../../bench/peers/ort.js";
import { PLAN_FORMAT } from "../../src/precision/plan.js";
import { precisionUnits } from "../../src/precision/units.js";
import { FP32_TOLERANCE, SAME_FILE_TOLERANCE, type Peer, type PeerFiles } from "../../bench/peers/peer.js";
import { tfjsWasm } from "../../bench/peers/tfjs.js";
import { canonicalGraph, plannedGraph, weightStore } from "../../bench/peers/interp.js";
import { ROOT, randomBatch, runOrt } from "../onnx/helpers.js";

/** Two bags inputs, an unstacked single table, tanh bottom, self-dots: paths the Kaggle shape does not take. */
const MIX = `model peers_mix {
  input dense: f32[5]
  input a: bags[2]
  input b: bags[1]
  table ta[2]: embedding(dim: 4, rows: [13, 7], pool: sum)
  table tb: embedding(dim: 4, rows: 9, pool: sum)
  bottom = mlp(dense, [8, 4], act: tanh)
  pa = embedding_bag(ta, a)
  pb = embedding_bag(tb, b[0])
  z = interact(bottom, pa, pb, op: dot, self: true)
  top = mlp(z, [6, 1], act: relu, final: sigmoid)
  output ctr = top
}`;

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The files a peer loads, for a model given as DSL text, with seeded trained-looking weights. */
function modelFiles(text: string): { files: PeerFiles; graph: Graph } {
  const dir = mkdtempSync(join(tmpdir(), "rmc-peers-test-"));
  dirs.push(dir);
  const rmdl = join(dir, "model.rmdl");
  writeFileSync(rmdl, text);
  const { graph, diagnostics } = parseModel(text, rmdl);
  if (!graph) throw new Error(diagnostics.map((d) => d.message).join("\n"));
  const weights = join(dir, "w.safetensors");
  writeWeights(weights, graph, initWeights(graph, { seed: 3, dist: "trained" }));
  const store = weightStore(graph, weights);
  const files: PeerFiles = { rmdl, weights, rmcFp32: join(dir, "unused"), onnxFp32: join(dir, "m.onnx"), onnxInt8: join(dir, "m.int8.onnx") };
  writeFileSync(files.onnxFp32!, exportOnnx(graph, store, { precision: "fp32" }));
  writeFileSync(files.onnxInt8!, exportOnnx(graph, store, { precision: "int8" }));
  return { files, graph: canonicalGraph(rmdl) };
}

async function outputsOf(peer: Peer, files: PeerFiles, batches: Batch[]): Promise<Float32Array[]> {
  const model = await peer.load(files, 1);
  try {
    const outs: Float32Array[] = [];
    for (const b of batches) outs.push(Float32Array.from(await model.run(model.prepare(b))));
    return outs;
  } finally {
    await model.close();
  }
}

describe.each([
  ["dlrm_kaggle_small.rmdl", () => readFileSync(`${ROOT}examples/dlrm_kaggle_small.rmdl`, "utf8")],
  ["peers_mix", () => MIX],
])("peers on %s agree with the interpreter", (_name, text) => {
  let files: PeerFiles;
  let batches: Batch[];
  let expected: Float32Array[];
  beforeAll(() => {
    const made = modelFiles(text());
    files = made.files;
    // Bags of 0..3 ids (empty ones included), and a batch of one.
    batches = [randomBatch(made.graph, 1, 37), randomBatch(made.graph, 2, 1), randomBatch(made.graph, 3, 64, 5)];
    const weights = weightStore(made.graph, files.weights);
    expected = batches.map((b) => interpret(made.graph, weights, b).outputs.ctr!);
  });

  it.each([tfjsWasm, ortNode, ortWebFp32])("$label (fp32) within the fp32 tolerance", async (peer) => {
    const got = await outputsOf(peer, files, batches);
    got.forEach((out, i) => {
      expect(out.length).toBe(batches[i]!.size);
      expect(maxAbsDiff(out, expected[i]!)).toBeLessThanOrEqual(FP32_TOLERANCE);
    });
  });

  // Per-tensor activation scales lose a lot on these models (large interaction features), so
  // the int8 result is compared with ORT Node on the same file, and only shown to be the int8 one.
  it("ORT Web int8 equals onnxruntime-node on the same int8 file (and is not the fp32 result)", async () => {
    const got = await outputsOf(ortWebInt8, files, batches);
    for (const [i, out] of got.entries()) {
      expect(maxAbsDiff(out, await ortWebInt8.reference!.outputs(files, batches[i]!))).toBeLessThanOrEqual(SAME_FILE_TOLERANCE);
      expect(maxAbsDiff(out, expected[i]!)).toBeGreaterThan(0);
    }
  });
});

describe("ORT Web on a plan export (rmc's exact int8 form)", () => {
  it("equals the interpreter running the plan (its reference in the benchmark) and onnxruntime-node on the same file", async () => {
    const { files, graph } = modelFiles(readFileSync(`${ROOT}examples/dlrm_kaggle_small.rmdl`, "utf8"));
    const weights = weightStore(graph, files.weights);
    // As an auto plan chooses: int8 layers but one fp32, and tables of mixed formats in one stacked
    // bag (mostly int8, some fp32 and int4; the first one int8, as in the benchmark's plan).
    const cycle = ["int8", "int8", "fp32", "int4"];
    let t = 0;
    const decisions = precisionUnits(graph).map((u) => ({
      unit: u.id,
      precision: u.kind === "table" ? cycle[t++ % cycle.length]! : u.id === "top.1" ? "fp32" : "int8",
    }));
    expect(t).toBeGreaterThan(cycle.length);
    const dir = dirs.at(-1)!;
    files.rmcAutoPlan = join(dir, "plan.json");
    writeFileSync(
      files.rmcAutoPlan,
      JSON.stringify({ format: PLAN_FORMAT, model: graph.name, mode: "auto", target: "wasm", act: "dynamic", calibMethod: "max", decisions }),
    );
    const planned = plannedGraph(files.rmdl, files.rmcAutoPlan, weights);
    files.onnxPlan = join(dir, "m.plan.onnx");
    const bytes = exportOnnx(planned, weights, { precision: "plan", int8Form: "exact" });
    writeFileSync(files.onnxPlan, bytes);
    const batches = [randomBatch(graph, 4, 40), randomBatch(graph, 5, 1)];
    const got = await outputsOf(ortWebPlan, files, batches);
    expect(ortWebPlan.reference!.label).toMatch(/interpreter/);
    let fromFp32 = 0;
    for (const [i, out] of got.entries()) {
      expect(maxAbsDiff(out, await ortWebPlan.reference!.outputs(files, batches[i]!))).toBeLessThanOrEqual(FP32_TOLERANCE);
      expect(maxAbsDiff(out, interpret(planned, weights, batches[i]!).outputs.ctr!)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(out, (await runOrt("node", bytes, graph, batches[i]!)).ctr!)).toBeLessThanOrEqual(1e-5);
      fromFp32 = Math.max(fromFp32, maxAbsDiff(out, interpret(graph, weights, batches[i]!).outputs.ctr!));
    }
    expect(fromFp32).toBeGreaterThan(1e-3); // the plan did run
  });
});
