// scratch (to be rewritten)
import { describe, expect, it } from "vitest";
import { exportOnnx } from "../../src/onnx/export.js";
import { initWeights } from "../../src/weights/init.js";
import { interpret } from "../../src/interp/interpreter.js";
import { loadExample, randomBatch, runOrt, maxAbsError } from "./helpers.js";

describe("scratch", () => {
  for (const ex of ["dlrm_kaggle_small.rmdl", "multitask.rmdl", "dcnv2.rmdl"].slice(0, 2)) {
    it(ex, async () => {
      const g = loadExample(ex);
      const w = initWeights(g, { seed: 3, dist: "trained" });
      const bytes = exportOnnx(g, w);
      const batch = randomBatch(g, 7, 32);
      const stripped = { ...g, weights: g.weights.map((d) => ({ ...d, attrs: {} })), nodes: g.nodes.map((n) => ({ ...n, attrs: Object.fromEntries(Object.entries(n.attrs).filter(([k]) => k !== "precision")) })) };
      const ref = interpret(stripped, w, batch).outputs;
      for (const fl of ["node", "web"] as const) {
        const out = await runOrt(fl, bytes, g, batch);
        for (const k of Object.keys(ref)) console.log(ex, fl, k, maxAbsError(out[k]!, ref[k]!), ref[k]!.slice(0, 4));
      }
    });
  }
});
