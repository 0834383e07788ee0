// Split tables in the WebGPU artifact, run by the runtime on the test device:
// after splitting by rows, by columns and into hot and cold parts, the
// outputs are those of the unsplit WebGPU artifact bit for bit (row parts
// gather their rows, then one step pools them in bag order), and agree with
// the interpreter as the unsplit artifact does. A table over the 128 MiB
// binding limit compiles once split; parts are shards, uploaded on first use.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileWgsl } from "../../backends/wgsl/index.js";
import { interpret } from "../../src/interp/interpreter.js";
import { RmcError } from "../../src/diagnostics/index.js";
import { load } from "../../src/runtime/index.js";
import type { Manifest } from "../../src/runtime/manifest.js";
import type { Graph } from "../../src/ir/types.js";
import type { WeightStore } from "../../src/weights/store.js";
import type { Batch } from "../../src/data/batch.js";
import { isBags } from "../../src/data/batch.js";
import { tempDir } from "../backends/wasm/helpers.js";
import { requireAdapter } from "../webgpu.js";
import { MODEL, PIPELINES, batches, expectIdentical, model, partNames, run, weightsFor } from "./helpers.js";

const webgpu = await requireAdapter();

async function compile(g: Graph, weights: WeightStore): Promise<string> {
  const dir = join(tempDir(), "dist");
  await compileWgsl(g, weights, { outDir: dir, emitText: false, features: [], compilerVersion: "test" });
  return dir;
}

const request = (batch: Batch): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(batch.inputs).map(([name, v]) => [
      name,
      isBags(v) ? { lengths: v.lengths, values: v.values, ...(v.weights ? { weights: v.weights } : {}) } : v,
    ]),
  );

async function predictAll(dir: string, test: Batch[]): Promise<{ outputs: Record<string, Float32Array>[]; resident: string[] }> {
  const m = await load(dir, { batchCapacity: 8 });
  try {
    const outputs = [];
    for (const b of test) outputs.push(await m.predict(request(b) as never));
    return { outputs, resident: m.residentShards() };
  } finally {
    await m.close();
  }
}

/** A batch of one sample whose feature-0 bag holds `id` and whose other bags are empty. */
function oneId(template: Batch, id: number): Batch {
  const bags = template.inputs.sparse!;
  if (!isBags(bags)) throw new Error("bags expected");
  return {
    size: 1,
    inputs: {
      dense: (template.inputs.dense as Float32Array).slice(0, 3),
      sparse: { ...bags, batch: 1, lengths: Int32Array.of(1, 0, 0), values: Int32Array.of(id) },
    },
  } as Batch;
}

function expectClose(got: Float32Array, want: Float32Array): void {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.max(Math.abs(want[i]!), 1e-3));
  expect(worst).toBeLessThan(1e-4);
}

describe.skipIf(!webgpu)("split tables in the WebGPU artifact", () => {
  for (const [pool, weighted] of [
    ["sum", true],
    ["mean", false],
    ["max", true],
  ] as const)
    it(`${pool}${weighted ? ", weighted" : ""}: rows, cols, hot/cold give the unsplit artifact's outputs bit for bit`, async () => {
      const g = model(MODEL(pool, weighted));
      const weights = weightsFor(g);
      const calib = batches(g, [64, 64]);
      const test = batches(g, [1, 21], 3);
      const whole = await predictAll(await compile(g, weights), test);
      test.forEach((b, i) => expectClose(whole.outputs[i]!.y!, interpret(g, weights, b).outputs.y!));
      for (const [mode, pipeline] of Object.entries(PIPELINES)) {
        if (mode === "mixed") continue;
        const split = run(g, pipeline, calib);
        const dir = await compile(split, weights);
        const m = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest;
        expect(
          m.shards!.map((s) => s.name),
          mode,
        ).toEqual(partNames(split));
        const got = await predictAll(dir, test);
        test.forEach((_, i) => expectIdentical(got.outputs[i]!, whole.outputs[i]!));
        expect(got.resident.length, mode).toBeGreaterThan(0);
      }
    });

  it("hot rows at fp32 and cold ones at int8 agree with the interpreter on the split graph", async () => {
    const g = model(MODEL("sum", true));
    const weights = weightsFor(g);
    const split = run(g, PIPELINES.mixed, batches(g, [64, 64]));
    const test = batches(g, [17], 5);
    const got = await predictAll(await compile(split, weights), test);
    expectClose(got.outputs[0]!.y!, interpret(split, weights, test[0]!).outputs.y!);
  });

  it("a shard is uploaded when first needed; a corrupted one is an error naming it then, not at load", async () => {
    const g = model();
    const weights = weightsFor(g);
    const dir = await compile(run(g, PIPELINES.rows), weights);
    const m = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest;
    const last = m.shards!.find((s) => s.table === "emb.0.weight" && "rows" in s.holds && s.holds.rows[1] === 200)!;
    const bytes = readFileSync(join(dir, last.file));
    bytes[3] ^= 0x40;
    writeFileSync(join(dir, last.file), bytes);
    const loaded = await load(dir, { batchCapacity: 8 });
    try {
      expect(loaded.residentShards()).toEqual([]);
      const first = oneId(batches(g, [1])[0]!, 0);
      expectClose((await loaded.predict(request(first) as never)).y!, interpret(g, weights, first).outputs.y!);
      expect(loaded.residentShards()).toEqual(["emb.0.weight.p0"]);
      const failed = await loaded.predict(request(oneId(first, 199)) as never).catch((e: RmcError) => e);
      expect((failed as RmcError).diagnostics[0]!.code).toBe("E1705");
      expect((failed as RmcError).message).toContain(`shard ${last.name} of table emb.0.weight`);
      expect(loaded.residentShards()).not.toContain(last.name);
    } finally {
      await loaded.close();
    }
  });

  it("a table over the binding limit is an error naming it; split by rows it compiles into parts under the limit", async () => {
    const g = model();
    const weights = weightsFor(g);
    const small = { maxStorageBufferBindingSize: 4096, maxComputeWorkgroupsPerDimension: 65535 };
    const opts = { outDir: join(tempDir(), "dist"), emitText: false, features: [], compilerVersion: "test" };
    await expect(compileWgsl(g, weights, opts, small)).rejects.toThrow(/table emb\.0\.weight: .* over WebGPU's .* split it/);
    const split = run(g, "split-tables{target=wgsl,max-bytes=4KiB}");
    await compileWgsl(split, weights, opts, small);
    const m = JSON.parse(readFileSync(join(opts.outDir, "manifest.json"), "utf8")) as Manifest;
    for (const b of m.wgsl!.buffers) if (b.kind === "weights") expect(b.bytes).toBeLessThanOrEqual(4096);
  });
});
