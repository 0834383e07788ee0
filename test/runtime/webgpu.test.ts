// Runtime, WebGPU engine: a hand-written `wgsl` artifact (fake-wgsl.ts) runs
// on the GPU (Dawn; on a machine without one, llvmpipe through OpenGL ES) and
// agrees with the same model in plain JS — for empty, small and large batches
// (buffers grown for samples and for ids), typed and plain-object requests,
// id policies, batches sliced to the plan's maxBatch, concurrent calls, and
// the shader alternatives chosen by WGSL language feature.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { RmcError } from "../../src/diagnostics/index.js";
import { load, type SampleObject } from "../../src/runtime/index.js";
import { languageFeaturesOf } from "../../src/runtime/webgpu/device.js";
import { requireAdapter } from "../webgpu.js";
import { fakeWgslPredict, worstRelError, writeFakeWgslArtifact, type FakeWgslSpec } from "./fake-wgsl.js";
import { randomBatch, toSamples, type RawBatch } from "./reference.js";
import { gpuDouble } from "./gpu-double.js";

const webgpu = await requireAdapter();
const root = mkdtempSync(join(tmpdir(), "rmc-webgpu-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const plain: FakeWgslSpec = { weighted: false, rows: [100, 50], ids: ["error", "error"] };
const weighted: FakeWgslSpec = { weighted: true, rows: [100, 50], ids: ["error", "error"] };
let serial = 0;
const artifact = (spec: FakeWgslSpec): string => {
  const dir = join(root, `a${serial++}`);
  writeFakeWgslArtifact(dir, spec);
  return dir;
};

/** p within f32 rounding of the JS model (the GPU may fuse or reorder), q's id counts exact. */
function expectMatches(got: Record<string, Float32Array>, spec: FakeWgslSpec, batch: RawBatch, dot4 = false): void {
  const want = fakeWgslPredict(spec, batch, dot4);
  expect(got.p).toHaveLength(want.p.length);
  expect(worstRelError(got.p!, want.p)).toBeLessThan(1e-5);
  expect(worstRelError(got.q!, want.q)).toBeLessThan(1e-5);
  for (let b = 0; b < want.p.length; b++) expect(got.q![2 * b + 1]).toBe(want.q[2 * b + 1]);
}

describe.skipIf(!webgpu)("the WebGPU engine", () => {
  test("batches of 0, 1, 7 and 300 samples agree with plain JS, growing the buffers for samples and ids", async () => {
    for (const spec of [plain, weighted]) {
      const model = await load(artifact(spec), { batchCapacity: 4 });
      try {
        expect(model.target).toBe("wgsl");
        expect(model.threads).toBe(1);
        expect(model.gpu?.adapter).toBeTruthy();
        const empty = await model.predict(randomBatch(1, 0, spec.weighted, 1, [0, 50]));
        expect(empty.p).toHaveLength(0);
        expect(empty.q).toHaveLength(0);
        for (const [size, maxIds, seed] of [
          [1, 3, 2],
          [7, 3, 3],
          [300, 2, 4],
          [300, 30, 5],
          [7, 0, 6],
          [5, 40, 7],
        ] as const) {
          const batch = randomBatch(seed, size, spec.weighted, maxIds, [0, 50]);
          expectMatches(await model.predict(batch), spec, batch);
        }
      } finally {
        await model.close();
      }
    }
  });

  test("typed batches and plain-object samples give the same outputs", async () => {
    const model = await load(artifact(weighted));
    try {
      const batch = randomBatch(11, 4, true, 3, [0, 50]);
      const samples = toSamples(batch) as SampleObject[];
      const typed = await model.predict(batch);
      const objects = await model.predict(samples);
      expectMatches(typed, weighted, batch);
      expect(objects.p).toEqual(typed.p);
      expect(objects.q).toEqual(typed.q);
    } finally {
      await model.close();
    }
  });

  test("id policies clamp and modulo map ids into the tables before the GPU sees them", async () => {
    const spec: FakeWgslSpec = { weighted: false, rows: [10, 7], ids: ["clamp", "modulo"] };
    const model = await load(artifact(spec));
    try {
      const batch = randomBatch(21, 9, false, 4, [-5, 40]);
      const values = Int32Array.from(batch.sparse.values);
      expectMatches(await model.predict(batch), spec, batch);
      expect(batch.sparse.values).toEqual(values); // the caller's ids are not rewritten
    } finally {
      await model.close();
    }
  });

  test("a batch over the plan's maxBatch runs in slices with the same outputs", async () => {
    const spec: FakeWgslSpec = { ...weighted, edit: (layout) => void (layout.maxBatch = 5) };
    const model = await load(artifact(spec), { batchCapacity: 2 });
    try {
      for (const size of [5, 6, 23]) {
        const batch = randomBatch(30 + size, size, true, 5, [0, 50]);
        expectMatches(await model.predict(batch), weighted, batch);
      }
    } finally {
      await model.close();
    }
  });

  test("concurrent calls run one at a time, each getting its own outputs", async () => {
    const model = await load(artifact(plain), { batchCapacity: 2 });
    try {
      const batches = [3, 40, 1, 17, 64].map((size, i) => randomBatch(50 + i, size, false, 1 + i, [0, 50]));
      const results = await Promise.all(batches.map((batch) => model.predict(batch)));
      results.forEach((got, i) => expectMatches(got, plain, batches[i]!));
    } finally {
      await model.close();
    }
  });

  test("a step's alternative runs when the GPU offers its language feature, the plain shader when not", async () => {
    const feature = "packed_4x8_integer_dot_product";
    const spec: FakeWgslSpec = {
      ...plain,
      edit: (layout) => void (layout.steps[2]!.alternatives = [{ languageFeature: feature, shader: "pool_dot4" }]),
    };
    const dir = artifact(spec);
    const batch = randomBatch(60, 6, false, 3, [0, 50]);
    const offered = languageFeaturesOf(webgpu!.gpu).has(feature);
    const native = await load(dir);
    try {
      expectMatches(await native.predict(batch), plain, batch, offered);
      expect(native.gpu?.usedLanguageFeatures).toEqual(offered ? [feature] : []);
    } finally {
      await native.close();
    }
    const without = await load(dir, { gpu: gpuDouble(webgpu!.gpu, { hideFeatures: [feature] }) });
    try {
      expectMatches(await without.predict(batch), plain, batch, false);
      expect(without.gpu?.missingLanguageFeatures).toEqual([feature]);
    } finally {
      await without.close();
    }
  });

  test("a language feature the shaders require but the GPU lacks is E1733, naming it", async () => {
    const spec: FakeWgslSpec = { ...plain, edit: (layout) => void (layout.languageFeatures = ["packed_4x8_integer_dot_product"]) };
    const err = await load(artifact(spec), { gpu: gpuDouble(webgpu!.gpu, { hideFeatures: ["packed_4x8_integer_dot_product"] }) }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RmcError);
    expect((err as RmcError).diagnostics[0]!.code).toBe("E1733");
    expect((err as RmcError).message).toContain("need the WGSL language feature packed_4x8_integer_dot_product");
  });
});
