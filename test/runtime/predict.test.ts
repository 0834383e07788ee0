// Runtime: predictions of a loaded artifact (the hand-built fake model) match
// an independent plain-JS computation — typed and plain-object batches,
// weighted and plain bags, capacity and id-room growth, id policies, loading
// over fetch, and two threads giving the same answers as one.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { load, type Model, type SampleObject } from "../../src/runtime/index.js";
import { writeFakeArtifact, type FakeSpec } from "./fake-artifact.js";
import { randomBatch, referencePredict, toSamples, type RawBatch } from "./reference.js";
import { testWorkerUrl } from "./transpile.js";

const root = mkdtempSync(join(tmpdir(), "rmc-runtime-predict-"));
const open: Model[] = [];
afterAll(async () => {
  await Promise.all(open.map((m) => m.close()));
  rmSync(root, { recursive: true, force: true });
});

async function loadFake(name: string, spec: FakeSpec, opts: Parameters<typeof load>[1] = {}): Promise<Model> {
  writeFakeArtifact(join(root, name), spec);
  const model = await load(join(root, name), { threads: 1, ...opts });
  open.push(model);
  return model;
}

const expectMatches = (out: Record<string, Float32Array>, batch: RawBatch, spec: FakeSpec): void => {
  const want = referencePredict(batch, spec);
  expect(Object.keys(out).sort()).toEqual(["p", "q"]);
  expect(out.p).toEqual(want.p);
  expect(out.q).toEqual(want.q);
};

describe.each([false, true])("weighted = %s", (weighted) => {
  const spec: FakeSpec = { weighted, rows: [1000, 300], ids: ["error", "error"] };
  let model: Model;
  beforeAll(async () => {
    // A small capacity so growth happens: 600 samples outgrow it, long bags outgrow the id room.
    model = await loadFake(`plain-${weighted}`, spec, { batchCapacity: 16 });
  });

  test("typed batches of 0, 1, 7, 600, 2000 and 7 again match the reference", async () => {
    for (const [seed, size, maxLen] of [
      [1, 0, 3],
      [2, 1, 3],
      [3, 7, 40],
      [4, 600, 5],
      [9, 2000, 3],
      [5, 7, 2],
    ] as const) {
      const batch = randomBatch(seed, size, weighted, maxLen, [0, 300]);
      const out = await model.predict(batch);
      expect(out.p).toHaveLength(size);
      expectMatches(out, batch, spec);
    }
  });

  test("plain-object samples give the same outputs as the typed batch", async () => {
    const batch = randomBatch(6, 9, weighted, 4, [0, 300]);
    const fromSamples = await model.predict(toSamples(batch) as SampleObject[]);
    expectMatches(fromSamples, batch, spec);
    expect(await model.predict([])).toEqual({ p: new Float32Array(0), q: new Float32Array(0) });
  });

  test("outputs are fresh arrays, not views of the model's memory", async () => {
    const batch = randomBatch(7, 5, weighted, 3, [0, 300]);
    const first = await model.predict(batch);
    expect(first.q.buffer.byteLength).toBe(first.q.byteLength);
    first.p.fill(42);
    await model.predict(randomBatch(8, 5, weighted, 3, [0, 300]));
    expect(first.p).toEqual(new Float32Array(5).fill(42));
  });
});

test("id policies clamp and modulo map out-of-range ids, without touching the caller's arrays", async () => {
  const spec: FakeSpec = { weighted: true, rows: [50, 20], ids: ["clamp", "modulo"] };
  const model = await loadFake("policies", spec);
  const batch = randomBatch(11, 40, true, 4, [-30, 80]);
  const values = batch.sparse.values.slice();
  expect(values.some((id) => id < 0) && values.some((id) => id >= 50)).toBe(true);
  expectMatches(await model.predict(batch), batch, spec);
  expect(batch.sparse.values).toEqual(values);
  // Plain number[] ids go through the same policies.
  const asNumbers = { dense: batch.dense, sparse: { ...batch.sparse, values: Array.from(values) } };
  expectMatches(await model.predict(asNumbers), batch, spec);
});

test("an artifact at a URL loads through the given fetch", async () => {
  const spec: FakeSpec = { weighted: false, rows: [100, 100], ids: ["error", "error"] };
  writeFakeArtifact(join(root, "served"), spec);
  const requested: string[] = [];
  const fakeFetch = (async (url: string) => {
    requested.push(url);
    const name = new URL(url).pathname.replace("/models/fake/", "");
    try {
      return new Response(readFileSync(join(root, "served", name)));
    } catch {
      return new Response("not found", { status: 404, statusText: "Not Found" });
    }
  }) as typeof fetch;
  const model = await load("https://cdn.example/models/fake", { fetch: fakeFetch, threads: 1 });
  open.push(model);
  expect(requested).toContain("https://cdn.example/models/fake/weights.bin");
  const batch = randomBatch(12, 10, false, 3, [0, 100]);
  expectMatches(await model.predict(batch), batch, spec);
});

describe("two threads", () => {
  const spec: FakeSpec = { weighted: true, rows: [1000, 300], ids: ["error", "modulo"] };
  const workerUrl = testWorkerUrl();

  test("give exactly the results of one thread on a batch of 1000, and on small batches", async () => {
    const one = await loadFake("threads-one", spec);
    const two = await loadFake("threads-two", spec, { threads: 2, workerUrl, batchCapacity: 64 });
    expect(two.threads).toBe(2);
    for (const [seed, size] of [
      [21, 1000],
      [22, 5],
      [23, 0],
      [24, 301],
    ] as const) {
      const batch = randomBatch(seed, size, true, 6, [0, 600]);
      const [a, b] = [await one.predict(batch), await two.predict(batch)];
      expect(b).toEqual(a);
      expectMatches(b, batch, spec);
    }
  });

  test("concurrent predict calls do not share a workspace", async () => {
    const two = await loadFake("threads-concurrent", spec, { threads: 2, workerUrl });
    const batches = [31, 32, 33, 34].map((seed) => randomBatch(seed, 200 + seed, true, 3, [0, 300]));
    const outs = await Promise.all(batches.map((batch) => two.predict(batch)));
    outs.forEach((out, i) => expectMatches(out, batches[i]!, spec));
  });
});
