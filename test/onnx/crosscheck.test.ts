// Cross-check of `rmc export-onnx`: the exported model runs in ONNX Runtime
// (onnxruntime-node, and onnxruntime-web's wasm backend in Node) on the same
// batch as rmc's Wasm artifact and the reference interpreter, and all agree
// within 1e-5 (fp32). The models cover every op and option the exporter
// writes: the examples, plus a small "zoo" with mean/max/weighted pooling, id
// policies, the dot interaction with self, cat, full and low-rank cross layers.

import { describe, expect, it } from "vitest";
import { interpret } from "../../src/interp/interpreter.js";
import type { Graph } from "../../src/ir/types.js";
import { exportOnnx } from "../../src/onnx/export.js";
import { initWeights } from "../../src/weights/init.js";
import { canonical, compileTo, runArtifact } from "../backends/wasm/helpers.js";
import { ZOO, loadExample, maxAbsError, parseText, randomBatch, runOrt, withoutPins } from "./helpers.js";

const MODELS: [string, () => Graph][] = [
  ["dlrm_kaggle_small.rmdl", () => loadExample("dlrm_kaggle_small.rmdl")],
  ["multitask.rmdl", () => loadExample("multitask.rmdl")],
  ["zoo", () => parseText(ZOO, "zoo.rmdl")],
];

describe("exported ONNX agrees with the interpreter and the Wasm artifact (fp32)", () => {
  for (const [name, make] of MODELS) {
    it(name, async () => {
      // Pins (fp16 in multitask) are not exported: an fp32 export computes everything in f32.
      const g = canonical(withoutPins(make()));
      const weights = initWeights(g, { seed: 3, dist: "trained" });
      const bytes = exportOnnx(g, weights);
      const batch = randomBatch(g, 7, 33);
      const ref = interpret(g, weights, batch).outputs;
      const wasm = await runArtifact(await compileTo(g, weights), batch);
      const node = await runOrt("node", bytes, g, batch);
      const web = await runOrt("web", bytes, g, batch);
      expect(Object.keys(node).sort()).toEqual(g.outputs.map((o) => o.name).sort());
      for (const out of g.outputs.map((o) => o.name)) {
        expect(ref[out]!.length).toBe(batch.size * (ref[out]!.length / batch.size));
        expect(maxAbsError(wasm[out]!, ref[out]!), `${out}: wasm vs interpreter`).toBeLessThanOrEqual(1e-5);
        expect(maxAbsError(node[out]!, ref[out]!), `${out}: onnxruntime-node vs interpreter`).toBeLessThanOrEqual(1e-5);
        expect(maxAbsError(web[out]!, ref[out]!), `${out}: onnxruntime-web vs interpreter`).toBeLessThanOrEqual(1e-5);
        expect(maxAbsError(web[out]!, wasm[out]!), `${out}: onnxruntime-web vs wasm`).toBeLessThanOrEqual(1e-5);
      }
    });
  }

  it("a batch of one sample and a batch where every bag is empty", async () => {
    const g = canonical(parseText(ZOO, "zoo.rmdl"));
    const weights = initWeights(g, { seed: 4, dist: "gaussian" });
    const bytes = exportOnnx(g, weights);
    for (const batch of [randomBatch(g, 1, 1), randomBatch(g, 2, 5, 0)]) {
      const ref = interpret(g, weights, batch).outputs;
      const got = await runOrt("node", bytes, g, batch);
      for (const o of g.outputs) expect(maxAbsError(got[o.name]!, ref[o.name]!), o.name).toBeLessThanOrEqual(1e-5);
    }
  });

  it("the same model and weights give the same bytes", () => {
    const g = parseText(ZOO, "zoo.rmdl");
    const weights = initWeights(g, { seed: 4, dist: "gaussian" });
    expect(Buffer.from(exportOnnx(g, weights)).equals(Buffer.from(exportOnnx(g, weights)))).toBe(true);
  });
});
