import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isBags, type Batch } from "../../src/data/batch.js";
import { generateData, type GenerateOptions } from "../../src/data/generate.js";
import { dataSchema, type DataSchema } from "../../src/data/schema.js";
import { dataStats } from "../../src/data/stats.js";
import { readBatches } from "../../src/data/tsv.js";
import { RmcError } from "../../src/diagnostics/index.js";
import { batchDigest, kaggleGraph, smallGraph, tempDir } from "./fixtures.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const small = dataSchema(smallGraph());
const kaggle = dataSchema(kaggleGraph());

/** A hand-written "model": linear in the dense features plus a term from one table's ids. */
function logitsOf(schema: DataSchema, denseName: string, bagsName: string) {
  return (batch: Batch): Float32Array[] => {
    const dense = batch.inputs[denseName] as Float32Array;
    const bags = batch.inputs[bagsName]!;
    if (!isBags(bags)) throw new Error("expected bags");
    const width = dense.length / batch.size;
    const n = batch.size;
    return schema.labels.map((_, o) => {
      const z = new Float32Array(n);
      // Feature 0's ids: the first bag of each sample in key-major order.
      let at = 0;
      for (let i = 0; i < n; i++) {
        let idTerm = 0;
        for (let k = 0; k < bags.lengths[i]!; k++, at++) idTerm += ((bags.values[at]! % 5) - 2) * 0.4;
        z[i] = dense[i * width]! * 0.5 - dense[i * width + 1]! * (0.2 + o * 0.3) + idTerm;
      }
      return z;
    });
  };
}

async function readAll(path: string, schema: DataSchema, batchSize: number): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of readBatches(path, schema, { batchSize })) out.push(b);
  return out;
}

const options = (schema: DataSchema, out: string, extra: Partial<GenerateOptions> = {}): GenerateOptions => ({
  schema,
  rows: 3000,
  seed: 42,
  out,
  logits: schema === small ? logitsOf(small, "d", "s") : logitsOf(kaggle, "dense", "sparse"),
  chunk: 700,
  ...extra,
});

describe("generateData", () => {
  it("writes what it generated: the batches read back equal the generated ones", async () => {
    const out = join(tmp.dir, "small.tsv");
    const seen: Batch[] = [];
    const report = await generateData(options(small, out, { idsPerBag: [0, 3], sparseMissing: 0.2, onBatch: (b) => seen.push(b) }));
    const back = await readAll(out, small, 700);
    expect(back.map((b) => b.size)).toEqual([700, 700, 700, 700, 200]);
    expect(back).toEqual(seen);
    // Multi-hot bags within the requested range, weights in [0.5, 1.5].
    const s = back[0]!.inputs.s;
    const w = back[0]!.inputs.w;
    if (!isBags(s) || !isBags(w)) throw new Error("expected bags");
    expect(Math.max(...s.lengths)).toBe(3);
    expect(s.lengths.filter((l) => l === 0).length).toBeGreaterThan(0);
    expect(w.weights!.every((x) => x >= 0.5 && x <= 1.5)).toBe(true);
    expect(report.rows).toBe(3000);
    expect(report.bytes).toBe(statSync(out).size);
    expect(report.outputs.map((o) => o.name)).toEqual(["ctr", "cvr"]);
    for (const o of report.outputs) {
      const labels = back.flatMap((b) => Array.from(b.labels![o.name]!));
      expect(o.ctr).toBeCloseTo(labels.reduce((a, y) => a + y, 0) / labels.length, 12);
      expect(Math.abs(o.ctr - 0.25)).toBeLessThan(0.03);
      expect(Math.abs(o.ne - 0.8)).toBeLessThan(0.05);
      expect(o.scale).toBeGreaterThan(0);
    }
  });

  it("is deterministic per seed, independent of the chunk size, and leaves no temp file", async () => {
    const a = join(tmp.dir, "det-a.tsv");
    const b = join(tmp.dir, "det-b.tsv");
    const c = join(tmp.dir, "det-c.tsv");
    await generateData(options(small, a, { rows: 1500 }));
    await generateData(options(small, b, { rows: 1500, chunk: 256 }));
    await generateData(options(small, c, { rows: 1500, seed: 43 }));
    const bytesA = readFileSync(a);
    expect(bytesA.equals(readFileSync(b))).toBe(true);
    expect(bytesA.equals(readFileSync(c))).toBe(false);
    expect(readdirSync(tmp.dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });

  it("writes Criteo's 40-column layout with 8-digit lowercase hex ids", async () => {
    const out = join(tmp.dir, "kaggle.tsv");
    await generateData(options(kaggle, out, { rows: 200 }));
    const lines = readFileSync(out, "utf8").split("\n");
    expect(lines.at(-1)).toBe("");
    expect(lines).toHaveLength(201);
    for (const line of lines.slice(0, -1)) {
      const fields = line.split("\t");
      expect(fields).toHaveLength(40);
      expect(fields[0]).toMatch(/^[01]$/);
      for (const f of fields.slice(1, 14)) expect(f).toMatch(/^(\d+)?$/);
      for (const f of fields.slice(14)) expect(f).toMatch(/^[0-9a-f]{8}$/);
    }
  });

  it("round-trips a multi-megabyte Kaggle-shape file and data-stats agrees", async () => {
    const out = join(tmp.dir, "kaggle-big.tsv");
    const seen: Batch[] = [];
    const report = await generateData(options(kaggle, out, { rows: 12_000, chunk: 4096, onBatch: (b) => seen.push(b) }));
    expect(report.bytes).toBeGreaterThan(2 << 20); // crosses the reader's 1 MiB chunks
    expect(batchDigest(await readAll(out, kaggle, 4096))).toEqual(batchDigest(seen));
    const stats = await dataStats(out);
    expect(stats.rows).toBe(12_000);
    const positives = seen.reduce((a, b) => a + b.labels!.ctr!.reduce((s, y) => s + y, 0), 0);
    expect(stats.labels[0]!.positives).toBe(positives);
    expect(stats.labels[0]!.ctr).toBeCloseTo(report.outputs[0]!.ctr, 12);
    // ~10% of dense fields are missing by default.
    for (const d of stats.dense) expect(Math.abs(d.missing - 0.1)).toBeLessThan(0.02);
  });

  it("uses the model's logits as they are with teacher as-is", async () => {
    const out = join(tmp.dir, "asis.tsv");
    const r = await generateData(options(small, out, { rows: 500, teacher: "as-is" }));
    expect(r.outputs.map((o) => [o.scale, o.shift])).toEqual([
      [1, 0],
      [1, 0],
    ]);
  });

  it("creates missing folders, and reports an unwritable output as an RmcError", async () => {
    const nested = join(tmp.dir, "new", "dir", "x.tsv");
    expect((await generateData(options(small, nested, { rows: 10 }))).rows).toBe(10);
    expect(readFileSync(nested, "utf8").split("\n")).toHaveLength(11);
    const blocker = tmp.file("blocker", "not a folder");
    const failed = generateData(options(small, join(blocker, "x.tsv"), { rows: 10 }));
    await expect(failed).rejects.toThrow(RmcError);
    await expect(failed).rejects.toThrow(/cannot write .*blocker\/x\.tsv: .*blocker is not a directory$/);
  });

  it("removes the temp file when generation fails half-way", async () => {
    const out = join(tmp.dir, "half.tsv");
    const model = logitsOf(small, "d", "s");
    let calls = 0;
    const logits = (b: Batch): Float32Array[] => {
      if (++calls === 3) throw new Error("model failed");
      return model(b);
    };
    // Call 1 is the pilot, call 2 the first chunk (written), call 3 fails.
    await expect(generateData(options(small, out, { rows: 2000, chunk: 500, logits }))).rejects.toThrow("model failed");
    expect(readdirSync(tmp.dir).filter((f) => f.includes("half"))).toEqual([]);
  });

  it("refuses a model whose output ignores its inputs", async () => {
    const out = join(tmp.dir, "const.tsv");
    const logits = (b: Batch): Float32Array[] => [new Float32Array(b.size).fill(0.3), new Float32Array(b.size).fill(0.1)];
    await expect(generateData(options(small, out, { logits }))).rejects.toThrow(/output ctr: the model's output does not depend on its inputs/);
  });
});
