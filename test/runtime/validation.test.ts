// Runtime: every malformed request is rejected with an RmcError that names
// the problem (code and message substrings), and a rejected request leaves
// the loaded model intact: the next good request still gives right answers.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { RmcError } from "../../src/diagnostics/index.js";
import { load, type Model, type SampleObject } from "../../src/runtime/index.js";
import { writeFakeArtifact, type FakeSpec } from "./fake-artifact.js";
import { randomBatch, referencePredict } from "./reference.js";

const root = mkdtempSync(join(tmpdir(), "rmc-runtime-validation-"));
const plainSpec: FakeSpec = { weighted: false, rows: [100, 50], ids: ["error", "error"] };
const policySpec: FakeSpec = { weighted: false, rows: [100, 50], ids: ["modulo", "clamp"] };
const weightedSpec: FakeSpec = { weighted: true, rows: [100, 50], ids: ["error", "error"] };
let plain: Model;
let weighted: Model;
let policies: Model;
beforeAll(async () => {
  writeFakeArtifact(join(root, "plain"), plainSpec);
  writeFakeArtifact(join(root, "weighted"), weightedSpec);
  writeFakeArtifact(join(root, "policies"), policySpec);
  [plain, weighted, policies] = await Promise.all(["plain", "weighted", "policies"].map((name) => load(join(root, name), { threads: 1 })));
});
afterAll(async () => {
  await Promise.all([plain.close(), weighted.close(), policies.close()]);
  rmSync(root, { recursive: true, force: true });
});

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

test("names: unknown, misspelt and missing inputs", async () => {
  await rejects(plain, { dense: dense2, sparse: sparse2, extra: dense2 }, "E1710", "unknown input `extra`");
  await rejects(plain, { dens: dense2, sparse: sparse2 }, "E1710", "unknown input `dens`", "did you mean `dense`?", "missing input `dense`");
  await rejects(plain, { dense: dense2 }, "E1710", "missing input `sparse`");
  await rejects(plain, null, "E1710", "predict expects an object");
  await rejects(plain, new Float32Array(3), "E1710", "predict expects an object");
  await rejects(plain, { dense: "abc", sparse: sparse2 }, "E1710", "input `dense` must be a Float32Array");
  await rejects(plain, { dense: dense2, sparse: [1, 2] }, "E1710", "input `sparse` must be bags");
});

test("shapes: dense width, batch sizes, lengths and values", async () => {
  await rejects(plain, { dense: new Float32Array(8), sparse: sparse2 }, "E1711", "input `dense` has 8 values, not a multiple of its width 3");
  await rejects(plain, { dense: [1, 2, "x"], sparse: { lengths: [1, 1], values: [1, 2] } }, "E1711", "input `dense` value 2 is not a number");
  const fiveSamples = { lengths: new Int32Array(10), values: new Int32Array(0) };
  await rejects(
    plain,
    { dense: new Float32Array(12), sparse: fiveSamples },
    "E1712",
    "inputs disagree on the batch size: dense has 4 samples, sparse 5",
  );
  await rejects(
    plain,
    { dense: dense2, sparse: { lengths: new Int32Array(7), values: new Int32Array(0) } },
    "E1713",
    "has 7 lengths, not a multiple of its 2 features",
  );
  await rejects(
    plain,
    { dense: dense2, sparse: { lengths: Int32Array.from([1, -1, 2, 1]), values: new Int32Array(3) } },
    "E1713",
    "feature 0, sample 1: length -1 is negative",
  );
  await rejects(plain, { dense: dense2, sparse: { lengths: [1, 0.5, 2, 1], values: new Int32Array(3) } }, "E1713", "length 0.5 is not an integer");
  await rejects(
    plain,
    { dense: dense2, sparse: { lengths: sparse2.lengths, values: new Int32Array(3) } },
    "E1713",
    "lengths add up to 4 ids, but values has 3",
  );
});

test("weights: present exactly for weighted inputs, one per id", async () => {
  await rejects(plain, { dense: dense2, sparse: { ...sparse2, weights: new Float32Array(4) } }, "E1713", "input `sparse` is not weighted");
  await rejects(weighted, { dense: dense2, sparse: sparse2 }, "E1713", "input `sparse` is weighted: pass `weights`");
  await rejects(weighted, { dense: dense2, sparse: { ...sparse2, weights: new Float32Array(3) } }, "E1713", "one entry per id (4), not 3");
});

test("ids: integers inside the table's rows under policy `error`", async () => {
  await rejects(
    plain,
    { dense: dense2, sparse: { lengths: sparse2.lengths, values: [3, 4, 2.5, 6] } },
    "E1714",
    "feature 1, sample 0: id 2.5 is not an integer",
  );
  await rejects(
    plain,
    { dense: dense2, sparse: { lengths: sparse2.lengths, values: Int32Array.from([3, 4, 5, 50]) } },
    "E1715",
    "input `sparse` feature 1, sample 1: id 50 is outside the table's 50 rows",
  );
  await rejects(
    plain,
    { dense: dense2, sparse: { lengths: sparse2.lengths, values: Int32Array.from([-1, 4, 5, 6]) } },
    "E1715",
    "feature 0, sample 0: id -1 is outside the table's 100 rows",
  );
});

test("plain-object samples are checked one by one, naming the sample", async () => {
  const good = { dense: [1, 2, 3], sparse: [[1], [2, 3]] };
  await rejects(plain, [good, { dense: [1, 2, 3] }], "E1710", "sample 1: missing input `sparse`");
  await rejects(plain, [good, good, { ...good, dense: [1, 2] }], "E1711", "sample 2: input `dense` has 2 values, expected 3");
  await rejects(plain, [good, { ...good, dense: [1, "2", 3] }], "E1711", "sample 1: input `dense` value 1 is not a number");
  await rejects(plain, [{ ...good, sparse: [[1]] }], "E1713", "sample 0: input `sparse` has 1 bags, expected 2");
  await rejects(plain, [good, { ...good, sparse: [[1], [[2, 0.5]]] }], "E1713", "sample 1: input `sparse` feature 1: expected ids", "not weighted");
  await rejects(weighted, [{ ...good, sparse: [[[1, 1]], [2]] }], "E1713", "sample 0: input `sparse` feature 1: expected [id, weight] pairs");
  await rejects(plain, [good, 7], "E1710", "sample 1 is not an object");
  await rejects(plain, [good, { ...good, sparse: [[1], [60]] }], "E1715", "feature 1, sample 1: id 60 is outside the table's 50 rows");
});

test("NaN and Infinity in dense inputs are data, not errors; an empty batch gives empty outputs", async () => {
  const batch = randomBatch(3, 4, false, 2, [0, 50]);
  batch.dense[3] = NaN;
  batch.dense[7] = Infinity;
  const out = await plain.predict(batch);
  expect(out.p).toEqual(referencePredict(batch, plainSpec).p);
  expect(Number.isNaN(out.p[1])).toBe(true);
  const empty = await plain.predict({ dense: new Float32Array(0), sparse: { lengths: new Int32Array(0), values: new Int32Array(0) } });
  expect(empty).toEqual({ p: new Float32Array(0), q: new Float32Array(0) });
});

test("after rejected requests, good requests still give correct results", async () => {
  for (const [model, spec] of [
    [plain, plainSpec],
    [weighted, weightedSpec],
  ] as const) {
    const before = randomBatch(41, 20, spec.weighted, 5, [0, 50]);
    expect((await model.predict(before)).p).toEqual(referencePredict(before, spec).p);
    // A bad id deep inside a large batch (it would have grown the workspaces), then a size mismatch.
    const bad = randomBatch(42, 3000, spec.weighted, 5, [0, 50]);
    bad.sparse.values[bad.sparse.values.length - 1] = 1000;
    await rejects(model, bad, "E1715");
    await rejects(model, { dense: new Float32Array(9), sparse: before.sparse }, "E1712");
    const after = randomBatch(43, 20, spec.weighted, 5, [0, 50]);
    const out = await model.predict(after);
    expect(out.p).toEqual(referencePredict(after, spec).p);
    expect(out.q).toEqual(referencePredict(after, spec).q);
  }
});

test("64-bit ids: BigInt64Array and BigUint64Array are read exactly, reduced per policy past 2^53", async () => {
  const lengths = Int32Array.from([1, 2, 1, 1]);
  // Feature 0 (100 rows, modulo): 2^63 - 1 and a negative hash; feature 1 (50 rows, clamp): 2^60 and -5.
  const big = BigInt64Array.from([2n ** 63n - 1n, -(2n ** 62n) - 7n, 12n, 2n ** 60n, -5n]);
  const exact = [Number((2n ** 63n - 1n) % 100n), Number(((-(2n ** 62n) - 7n) % 100n) + 100n), 12, 49, 0];
  const out = await policies.predict({ dense: dense2, sparse: { lengths, values: big } });
  const same = { dense: dense2, sparse: { lengths, values: Int32Array.from(exact) } };
  expect(out.p).toEqual(referencePredict(same, policySpec).p);
  const unsigned = await policies.predict({ dense: dense2, sparse: { lengths, values: BigUint64Array.from([2n ** 64n - 1n, 3n, 12n, 7n, 8n]) } });
  const wrapped = { dense: dense2, sparse: { lengths, values: Int32Array.from([Number((2n ** 64n - 1n) % 100n), 3, 12, 7, 8]) } };
  expect(unsigned.p).toEqual(referencePredict(wrapped, policySpec).p);
  await rejects(
    plain,
    { dense: dense2, sparse: { lengths, values: BigInt64Array.from([1n, 2n, 3n, 4n, 2n ** 40n]) } },
    "E1715",
    "id 1099511627776 is outside",
  );
  // In a plain array a bigint past 2^53 cannot be read exactly as a number: refused, pointing at BigInt64Array.
  await rejects(plain, { dense: dense2, sparse: { lengths, values: [1, 2, 3, 4, 2n ** 60n] } }, "E1714", "beyond 2^53", "BigInt64Array");
  const small = await plain.predict({ dense: dense2, sparse: { lengths, values: [1n, 2n, 3n, 4n, 5n] } });
  expect(small.p).toEqual(referencePredict({ dense: dense2, sparse: { lengths, values: Int32Array.from([1, 2, 3, 4, 5]) } }, plainSpec).p);
});

test("each element is read once: what is checked is what is computed", async () => {
  /** An array whose element `at` reads as `first` once, then as `later` (a getter, as a hostile or buggy caller might pass). */
  const twoFaced = (items: number[], at: number, first: unknown, later: unknown): number[] => {
    const a = [...items];
    let reads = 0;
    Object.defineProperty(a, at, { get: () => (reads++ === 0 ? first : later), enumerable: true });
    return a;
  };
  const lengths = [1, 2, 1, 1];
  // An id that is 3 when checked and 10^6 after: computed as 3, never as a read out of the table.
  const ids = twoFaced([3, 4, 5, 6, 7], 0, 3, 1_000_000);
  const out = await plain.predict({ dense: dense2, sparse: { lengths, values: ids } });
  expect(out.p).toEqual(
    referencePredict({ dense: dense2, sparse: { lengths: Int32Array.from(lengths), values: Int32Array.from([3, 4, 5, 6, 7]) } }, plainSpec).p,
  );
  // A length that is 1 when checked and 1000 after; a dense value that is a number once and a string after.
  const lens = twoFaced(lengths, 0, 1, 1000);
  const dense = twoFaced([1, 2, 3, 4, 5, 6], 2, 0.5, "x");
  const out2 = await plain.predict({ dense, sparse: { lengths: lens, values: Int32Array.from([3, 4, 5, 6, 7]) } });
  const want = referencePredict(
    { dense: Float32Array.from([1, 2, 0.5, 4, 5, 6]), sparse: { lengths: Int32Array.from(lengths), values: Int32Array.from([3, 4, 5, 6, 7]) } },
    plainSpec,
  );
  expect(out2.p).toEqual(want.p);
});
