// End to end on the GPU: examples/dlrm_kaggle_small.rmdl compiled by the WGSL
// backend into a real artifact, loaded with `load(dir)` (the default GPU
// path: Dawn from the `webgpu` package) and run at several batch sizes —
// growing the buffers on the way — against the reference interpreter; and a
// small int8 model whose GEMM steps have dot4I8Packed alternatives, run with
// and without the language feature.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { wgslBackend } from "../../backends/wgsl/index.js";
import { isBags, type Batch } from "../../src/data/batch.js";
import { dataSchema } from "../../src/data/schema.js";
import { InputSampler, rawToBatch } from "../../src/data/synth.js";
import { parseModel } from "../../src/frontend/index.js";
import { interpret } from "../../src/interp/interpreter.js";
import { load, type DenseOrBags } from "../../src/runtime/index.js";
import { languageFeaturesOf } from "../../src/runtime/webgpu/device.js";
import { Rng } from "../../src/util/rng.js";
import { initWeights } from "../../src/weights/init.js";
import { canonical, tempDir } from "../backends/wasm/helpers.js";
import { requireAdapter } from "../webgpu.js";
import { gpuDouble } from "./gpu-double.js";

const webgpu = await requireAdapter();
const FILE = "examples/dlrm_kaggle_small.rmdl";
const DOT4 = "packed_4x8_integer_dot_product";

/** A Batch as predict takes it. */
const request = (batch: Batch): Record<string, DenseOrBags> =>
  Object.fromEntries(
    Object.entries(batch.inputs).map(([name, v]) => [
      name,
      isBags(v) ? { lengths: v.lengths, values: v.values, ...(v.weights ? { weights: v.weights } : {}) } : v,
    ]),
  );

describe.skipIf(!webgpu)("dlrm_kaggle_small through the WGSL backend and the WebGPU runtime", () => {
  test("outputs agree with the interpreter within 1e-4 relative, at batch sizes 1 to 300", async () => {
    const source = parseModel(readFileSync(FILE, "utf8"), FILE).graph!;
    const graph = canonical(source);
    const weights = initWeights(source, { seed: 12, dist: "trained" });
    const dir = join(tempDir(), "dist");
    await wgslBackend.compile(graph, weights, { outDir: dir, emitText: false, features: [], compilerVersion: "test" });
    const model = await load(dir, { batchCapacity: 8 });
    try {
      expect(model.target).toBe("wgsl");
      const schema = dataSchema(source);
      for (const [size, ids, seed] of [
        [1, [1, 1], 1],
        [37, [0, 3], 2],
        [300, [0, 6], 3],
      ] as const) {
        const batch = rawToBatch(schema, new InputSampler(schema, { idsPerBag: [...ids] }).sample(new Rng(seed), size));
        const want = interpret(graph, weights, batch).outputs.ctr!;
        const got = (await model.predict(request(batch))).ctr!;
        expect(got).toHaveLength(size);
        let worst = 0;
        for (let i = 0; i < size; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.max(Math.abs(want[i]!), 1e-3));
        expect(worst).toBeLessThan(1e-4);
      }
    } finally {
      await model.close();
    }
  });
});

describe.skipIf(!webgpu)("int8 layers: the dot4I8Packed alternative and the plain shader", () => {
  test("both agree with the interpreter and with each other; the model says which ran", async () => {
    const src = `model q8 {
  input x: f32[37]
  @precision(int8)
  h = linear(x, 19)
  @precision(int8)
  y = linear(relu(h), 5)
  output y
}`;
    const source = parseModel(src, "q8.rmdl").graph!;
    const graph = canonical(source);
    const weights = initWeights(source, { seed: 5, dist: "trained" });
    const dir = join(tempDir(), "dist");
    await wgslBackend.compile(graph, weights, { outDir: dir, emitText: false, features: [], compilerVersion: "test" });
    const rng = new Rng(9);
    const x = Float32Array.from({ length: 23 * 37 }, () => rng.normal() * 2);
    const want = interpret(graph, weights, { size: 23, inputs: { x } }).outputs.y!;
    const offered = languageFeaturesOf(webgpu!.gpu).has(DOT4);
    const outputs: Float32Array[] = [];
    for (const gpu of [undefined, gpuDouble(webgpu!.gpu, { hideFeatures: [DOT4] })]) {
      const model = await load(dir, gpu ? { gpu } : {});
      try {
        expect(model.gpu!.usedLanguageFeatures).toEqual(offered && !gpu ? [DOT4] : []);
        expect(model.gpu!.missingLanguageFeatures).toEqual(offered && !gpu ? [] : [DOT4]);
        const got = (await model.predict({ x })).y!;
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.max(Math.abs(want[i]!), 1e-3));
        expect(worst).toBeLessThan(1e-4);
        outputs.push(got);
      } finally {
        await model.close();
      }
    }
    expect(outputs[0]).toEqual(outputs[1]);
  });
});
