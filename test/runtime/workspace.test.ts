// Runtime: workspace planning keeps every buffer aligned and inside 32-bit
// memory, and a batch too big for 4 GiB is refused (E1708) without harming
// the model, which then still grows for, and answers, reasonable batches.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { RmcError } from "../../src/diagnostics/index.js";
import { load } from "../../src/runtime/index.js";
import type { InputSignature, WasmLayout } from "../../src/runtime/manifest.js";
import { fittingPlan, planWorkspaces } from "../../src/runtime/wasm/workspace.js";
import { writeFakeArtifact, type FakeSpec } from "./fake-artifact.js";
import { randomBatch, referencePredict } from "./reference.js";

const root = mkdtempSync(join(tmpdir(), "rmc-runtime-workspace-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const inputs: InputSignature[] = [
  { name: "dense", kind: "dense", width: 3 },
  {
    name: "a",
    kind: "bags",
    count: 2,
    weighted: true,
    features: [
      { rows: 9, ids: "error" },
      { rows: 9, ids: "error" },
    ],
  },
  { name: "b", kind: "bags", count: 1, weighted: false, features: [{ rows: 9, ids: "error" }] },
];
const layout = { workspaceBase: 1000, headerBytes: 16, perSample: 44 } as WasmLayout;

test("workspaces are 16-byte aligned, back to back, with ids and weights after the per-sample buffers", () => {
  const plan = planWorkspaces(layout, inputs, 3, 32, [0, 10, 5]);
  expect(plan.bases).toEqual([1008, 1008 + plan.bytes, 1008 + 2 * plan.bytes]);
  expect(plan.bytes % 16).toBe(0);
  // Header 16 + 44 * 32 = 1424; input a: ids 10 (40 -> 48 bytes) then weights; b: ids only.
  expect(plan.idsAt).toEqual([1424, 1424, 1424 + 48 + 48]);
  expect(plan.weightsAt).toEqual([0, 1424 + 48, 0]);
  expect(plan.bytes).toBe(1424 + 48 + 48 + 32);
  expect(plan.end).toBe(1008 + 3 * plan.bytes);
});

test("the first candidate that fits 4 GiB wins; none fitting is E1708", () => {
  const big = { ...layout, perSample: 1 << 20 };
  const plan = fittingPlan(big, inputs, 1, [
    { cap: 8192, ids: [] },
    { cap: 100, ids: [] },
  ]);
  expect(plan.cap).toBe(112);
  expect(plan.idCaps).toEqual([0, 8 * 2 * 112, 8 * 112]);
  expect(() => fittingPlan(big, inputs, 1, [{ cap: 5000, ids: [] }])).toThrow(/needs more than the 4 GiB/);
});

test("a batch too big for 32-bit memory is refused and the model keeps working", async () => {
  const spec: FakeSpec = { weighted: false, rows: [100, 50], ids: ["error", "error"] };
  const dir = join(root, "wide");
  // A (fake) 1 MB of activations per sample: 5000 samples would need 5 GB.
  writeFakeArtifact(dir, spec, { layout: (l) => (l.perSample = 1 << 20) });
  const model = await load(dir, { threads: 1, batchCapacity: 16 });
  const err = await model.predict(randomBatch(1, 5000, false, 1, [0, 50])).catch((e: unknown) => e);
  expect((err as RmcError).diagnostics[0]!.code).toBe("E1708");
  const batch = randomBatch(2, 40, false, 3, [0, 50]);
  expect((await model.predict(batch)).p).toEqual(referencePredict(batch, spec).p);
  await model.close();
});
