// Tables placed outside memory, through the file store: an artifact whose
// tables (whole, or the cold part of a hot/cold split) live in its store/
// files predicts exactly as the interpreter and the all-in-memory artifact
// do — on one thread and two, with batches cut to fit a small staging area,
// with a cache smaller than one batch's rows — and refuses a corrupted block,
// naming the table and the block.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { load } from "../../src/runtime/index.js";
import { RmcError } from "../../src/diagnostics/index.js";
import { readBatches } from "../../src/data/tsv.js";
import { dataSchema } from "../../src/data/schema.js";
import type { Batch } from "../../src/data/batch.js";
import type { Manifest } from "../../src/runtime/manifest.js";
import { parseModel } from "../../src/frontend/index.js";
import { rmc, tempDir } from "../cli/helpers.js";
import { testWorkerUrl } from "../runtime/transpile.js";
import { requireAdapter } from "../webgpu.js";

const SMALL = "examples/dlrm_kaggle_small.rmdl";
const workerUrl = testWorkerUrl();
const dir = tempDir();
const w = join(dir, "w.safetensors");
const d = join(dir, "d.tsv");
const graph = parseModel(readFileSync(SMALL, "utf8"), SMALL).graph!;
const manifest = (p: string) => JSON.parse(readFileSync(join(p, "manifest.json"), "utf8")) as Manifest;

async function batches(): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of readBatches(d, dataSchema(graph), { batchSize: 700 })) out.push(b);
  return out;
}

/** Every output of every batch, through an artifact loaded with `opts`. */
async function predictAll(
  artifact: string,
  opts: Parameters<typeof load>[1] = {},
): Promise<{ ctr: Float32Array[]; stats: ReturnType<Awaited<ReturnType<typeof load>>["storeStats"]> }> {
  const model = await load(artifact, { workerUrl, ...opts });
  try {
    const ctr: Float32Array[] = [];
    for (const b of await batches()) ctr.push((await model.predict(b.inputs)).ctr!);
    return { ctr, stats: model.storeStats() };
  } finally {
    await model.close();
  }
}

describe("tables in the file store", () => {
  const memory = join(dir, "memory");
  const stored = join(dir, "stored");

  it("compiles placed tables as store files and staging areas, and predicts as the all-in-memory artifact", async () => {
    expect((await rmc("init-weights", SMALL, "--seed", "4", "-o", w)).code).toBe(0);
    expect((await rmc("gen-data", SMALL, "--weights", w, "--rows", "2100", "--seed", "2", "-o", d)).code).toBe(0);
    expect((await rmc("compile", SMALL, "--weights", w, "-o", memory)).code).toBe(0);
    const r = await rmc("compile", SMALL, "--weights", w, "--store-tables", "emb.2.weight,emb.7.weight,emb.9.weight", "-o", stored);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/placement: 3 table\(s\) in the file store/);
    const m = manifest(stored);
    expect(m.store!.tables.map((t) => [t.name, t.placement])).toEqual([
      ["emb.2.weight", "file"],
      ["emb.7.weight", "file"],
      ["emb.9.weight", "file"],
    ]);
    expect(m.wasm!.staging!.map((s) => s.table)).toEqual(["emb.2.weight", "emb.7.weight", "emb.9.weight"]);
    // The placement is in the IR the manifest records, and the main weights file no longer holds those tables.
    expect(m.ir.weights.filter((x) => x.attrs.placement === "file").map((x) => x.name)).toEqual(["emb.2.weight", "emb.7.weight", "emb.9.weight"]);
    expect(m.files["weights.bin"]!.bytes).toBeLessThan(manifest(memory).files["weights.bin"]!.bytes);
    const want = await predictAll(memory, { threads: 1 });
    for (const threads of [1, 2]) {
      const got = await predictAll(stored, { threads });
      expect(got.ctr, `threads ${threads}`).toEqual(want.ctr);
      expect(got.stats!.staged).toBeGreaterThan(0);
      expect(got.stats!.hits).toBeGreaterThan(0); // Zipf ids repeat: the cache answers some
    }
  });

  it("stays exact with a cache smaller than one batch's rows and batches cut to fit a small staging area", async () => {
    const small = join(dir, "small-staging");
    expect(
      (await rmc("compile", SMALL, "--weights", w, "--store-tables", "emb.2.weight,emb.9.weight", "--staging-rows", "40", "-o", small)).code,
    ).toBe(0);
    const want = await predictAll(memory, { threads: 1 });
    const got = await predictAll(small, { threads: 2, cache: 2048 });
    expect(got.ctr).toEqual(want.ctr);
    expect(got.stats!.calls).toBeGreaterThan(3); // 3 batches of up to 700 samples, each cut to fit 40 rows per table
  });

  it("keeps a hot part in memory and reads the cold part from the store, as the interpreter computes", async () => {
    const hot = join(dir, "hot");
    const r = await rmc(
      "compile",
      SMALL,
      "--weights",
      w,
      "--calib",
      d,
      "--passes",
      "canonicalize,infer-shapes,dce,split-tables{hot=32,tables=emb.2.weight}",
      "--store-tables",
      "emb.2.weight",
      "-o",
      hot,
    );
    expect(r.code, r.err).toBe(0);
    const parts = manifest(hot).store!.tables.map((t) => t.placement);
    expect(parts[0]).toBe("memory");
    expect(parts.slice(1).every((p) => p === "file")).toBe(true);
    const interp = join(dir, "interp.tsv");
    expect((await rmc("run", SMALL, "--weights", w, "--data", d, "--predictions", interp)).code).toBe(0);
    const art = join(dir, "hot.tsv");
    const run = await rmc("run", hot, "--data", d, "--predictions", art);
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/store: \d+ rows staged over \d+ calls; cache hit rate/);
    expect(readFileSync(art, "utf8")).toBe(readFileSync(interp, "utf8"));
  });

  it("refuses a corrupted block, naming the table and the block", async () => {
    const bad = join(dir, "bad");
    expect((await rmc("compile", SMALL, "--weights", w, "--store-tables", "emb.9.weight", "-o", bad)).code).toBe(0);
    const rows = join(bad, "store/emb.9.weight.rows");
    const bytes = readFileSync(rows);
    const table = JSON.parse(readFileSync(join(bad, "manifest.json"), "utf8")).store.tables.find((t: { name: string }) => t.name === "emb.9.weight");
    const block = Math.floor(5000 / (table.blockRows * table.rowBytes));
    bytes[5000] = bytes[5000]! ^ 0x40;
    writeFileSync(rows, bytes);
    const err = await predictAll(bad, { threads: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RmcError);
    expect((err as RmcError).diagnostics[0]!.code).toBe("E1741");
    expect((err as RmcError).message).toMatch(
      new RegExp(`block ${block} of table emb\\.9\\.weight \\(rows ${block * table.blockRows}\\.\\.\\d+\\) is corrupted`),
    );
  });

  it("place-tables moves the largest tables out until the rest fits the budget, and the dump shows it", async () => {
    const r = await rmc("ir", SMALL, "--passes", "canonicalize,infer-shapes,dce,place-tables{memory-budget=900KiB,min-bytes=0}");
    expect(r.code, r.err).toBe(0);
    const placed = r.out.split("\n").filter((l) => l.includes("placement=file"));
    // Tables are 62.5 KiB each (1000 rows x 16 x f32) and dense weights about 1 MiB less that: a few must go.
    expect(placed.length).toBeGreaterThan(0);
    expect(r.err).toContain("note N1935: place-tables:");
  });
});

describe.skipIf(!(await requireAdapter()))("tables in the file store, WebGPU", () => {
  it("stages rows into GPU buffers and predicts as the all-in-memory WGSL artifact", async () => {
    const memory = join(dir, "gpu-memory");
    const stored = join(dir, "gpu-stored");
    expect((await rmc("compile", SMALL, "--weights", w, "--target", "wgsl", "-o", memory)).code).toBe(0);
    const r = await rmc(
      "compile",
      SMALL,
      "--weights",
      w,
      "--target",
      "wgsl",
      "--store-tables",
      "emb.2.weight,emb.9.weight",
      "--staging-rows",
      "64",
      "-o",
      stored,
    );
    expect(r.code, r.err).toBe(0);
    expect(
      manifest(stored)
        .wgsl!.buffers.filter((b) => b.kind === "staging")
        .map((b) => b.name),
    ).toEqual(["staging.emb.2.weight", "staging.emb.9.weight"]);
    const want = await predictAll(memory, { threads: 1 });
    const got = await predictAll(stored, { threads: 1, cache: 4096 });
    expect(got.ctr).toEqual(want.ctr);
    expect(got.stats!.calls).toBeGreaterThan(3);
  });
});
