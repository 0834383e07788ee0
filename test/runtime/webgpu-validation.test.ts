// Runtime, WebGPU engine: a WebGPU model checks requests exactly as a Wasm
// one does (the same codes and messages, before anything reaches the GPU), and
// a rejected request — even one large enough to have grown the GPU buffers —
// leaves the model intact: the next good request gives the right answers.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { RmcError } from "../../src/diagnostics/index.js";
import { load, type Model, type SampleObject } from "../../src/runtime/index.js";
import { requireAdapter } from "../webgpu.js";
import { fakeWgslPredict, worstRelError, writeFakeWgslArtifact, type FakeWgslSpec } from "./fake-wgsl.js";
import { randomBatch } from "./reference.js";

const webgpu = await requireAdapter();
const root = mkdtempSync(join(tmpdir(), "rmc-webgpu-validation-"));
const plainSpec: FakeWgslSpec = { weighted: false, rows: [100, 50], ids: ["error", "error"] };
const weightedSpec: FakeWgslSpec = { weighted: true, rows: [100, 50], ids: ["error", "error"] };
let plain: Model;
let weighted: Model;

/** Asserts that a request is rejected with an RmcError carrying `code` and every message part. */
async function rejects(model: Model, batch: unknown, code: string, ...parts: string[]): Promise<void> {
  const err = await model.predict(batch as SampleObject[]).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RmcError);
  expect((err as RmcError).diagnostics.map((d) => d.code)).toContain(code);
  for (const part of parts) expect((err as RmcError).message).toContain(part);
}

const dense2 = new Float32Array(6);
const sparse2 = { lengths: Int32Array.from([1, 0, 2, 1]), values: Int32Array.from([3, 4, 5, 6]) };

describe.skipIf(!webgpu)("WebGPU requests", () => {
  beforeAll(async () => {
    writeFakeWgslArtifact(join(root, "plain"), plainSpec);
    writeFakeWgslArtifact(join(root, "weighted"), weightedSpec);
    [plain, weighted] = await Promise.all([load(join(root, "plain"), { batchCapacity: 8 }), load(join(root, "weighted"), { batchCapacity: 8 })]);
  });
  afterAll(async () => {
    await Promise.all([plain?.close(), weighted?.close()]);
    rmSync(root, { recursive: true, force: true });
  });

  test("every kind of bad request is refused with the Wasm path's code and message", async () => {
    await rejects(plain, { dens: dense2, sparse: sparse2 }, "E1710", "unknown input `dens`", "did you mean `dense`?", "missing input `dense`");
    await rejects(plain, null, "E1710", "predict expects an object");
    await rejects(plain, { dense: new Float32Array(8), sparse: sparse2 }, "E1711", "input `dense` has 8 values, not a multiple of its width 3");
    await rejects(
      plain,
      { dense: new Float32Array(12), sparse: { lengths: new Int32Array(10), values: new Int32Array(0) } },
      "E1712",
      "dense has 4 samples, sparse 5",
    );
    await rejects(
      plain,
      { dense: dense2, sparse: { lengths: Int32Array.from([1, -1, 2, 1]), values: new Int32Array(3) } },
      "E1713",
      "length -1 is negative",
    );
    await rejects(
      plain,
      { dense: dense2, sparse: { lengths: sparse2.lengths, values: new Int32Array(3) } },
      "E1713",
      "lengths add up to 4 ids, but values has 3",
    );
    await rejects(weighted, { dense: dense2, sparse: sparse2 }, "E1713", "input `sparse` is weighted: pass `weights`");
    await rejects(plain, { dense: dense2, sparse: { ...sparse2, weights: new Float32Array(4) } }, "E1713", "input `sparse` is not weighted");
    await rejects(plain, { dense: dense2, sparse: { lengths: sparse2.lengths, values: [3, 4, 2.5, 6] } }, "E1714", "id 2.5 is not an integer");
    await rejects(
      plain,
      { dense: dense2, sparse: { lengths: sparse2.lengths, values: Int32Array.from([3, 4, 5, 50]) } },
      "E1715",
      "feature 1, sample 1: id 50 is outside the table's 50 rows",
    );
    const good = { dense: [1, 2, 3], sparse: [[1], [2, 3]] };
    await rejects(plain, [good, { dense: [1, 2, 3] }], "E1710", "sample 1: missing input `sparse`");
    await rejects(plain, [good, { ...good, dense: [1, 2] }], "E1711", "sample 1: input `dense` has 2 values, expected 3");
    await rejects(weighted, [{ ...good, sparse: [[[1, 1]], [2]] }], "E1713", "sample 0: input `sparse` feature 1: expected [id, weight] pairs");
  });

  test("after rejected requests, good requests still give correct results", async () => {
    for (const [model, spec] of [
      [plain, plainSpec],
      [weighted, weightedSpec],
    ] as const) {
      const before = randomBatch(41, 20, spec.weighted, 5, [0, 50]);
      const first = await model.predict(before);
      expect(worstRelError(first.p!, fakeWgslPredict(spec, before).p)).toBeLessThan(1e-5);
      // A bad id at the very end of a batch that would have grown the buffers, then a size mismatch.
      const bad = randomBatch(42, 3000, spec.weighted, 5, [0, 50]);
      bad.sparse.values[bad.sparse.values.length - 1] = 1000;
      await rejects(model, bad, "E1715");
      await rejects(model, { dense: new Float32Array(9), sparse: before.sparse }, "E1712");
      const again = await model.predict(before);
      expect(again.p).toEqual(first.p);
      expect(again.q).toEqual(first.q);
      const after = randomBatch(43, 20, spec.weighted, 5, [0, 50]);
      const want = fakeWgslPredict(spec, after);
      const got = await model.predict(after);
      expect(worstRelError(got.p!, want.p)).toBeLessThan(1e-5);
      expect(worstRelError(got.q!, want.q)).toBeLessThan(1e-5);
    }
  });

  // WGSL lets a GPU assume no NaN or infinity, so only the other samples' outputs are certain.
  test("NaN and Infinity in dense inputs are data, not errors, and leave other samples alone", async () => {
    const batch = randomBatch(3, 4, false, 2, [0, 50]);
    batch.dense[3] = NaN;
    batch.dense[7] = Infinity;
    const out = await plain.predict(batch);
    const want = fakeWgslPredict(plainSpec, batch);
    expect(out.p).toHaveLength(4);
    for (const b of [0, 3]) expect(Math.abs(out.p![b]! - want.p[b]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want.p[b]!)));
  });
});
