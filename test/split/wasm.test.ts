// Split tables in the Wasm artifact: the compiled model gives the unsplit
// interpreter's outputs bit for bit after splitting by rows, by columns and
// into hot and cold parts (hot fp32, cold int8 too); each part is a shard
// file of its own, listed with its checksum, read only when a request first
// needs one of its rows; a corrupted shard is an error naming it when (and
// only when) it is loaded.

import { mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { interpret } from "../../src/interp/interpreter.js";
import { RmcError } from "../../src/diagnostics/index.js";
import { load } from "../../src/runtime/index.js";
import type { Manifest } from "../../src/runtime/manifest.js";
import type { Batch } from "../../src/data/batch.js";
import { isBags } from "../../src/data/batch.js";
import { compileTo, runArtifact } from "../backends/wasm/helpers.js";
import { hotSearchForm } from "../../backends/wasm/layout.js";
import { MODEL, PIPELINES, batches, expectIdentical, model, partNames, run, weightsFor } from "./helpers.js";

const manifestOf = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));

/** A batch of one sample whose feature-0 bag holds `id` and whose other bags are empty. */
function oneId(template: Batch, id: number): Batch {
  const bags = template.inputs.sparse!;
  if (!isBags(bags)) throw new Error("bags expected");
  const dense = (template.inputs.dense as Float32Array).slice(0, 3);
  return { size: 1, inputs: { dense, sparse: { ...bags, batch: 1, lengths: Int32Array.of(1, 0, 0), values: Int32Array.of(id) } } } as Batch;
}

/** A small DLRM over one table per bag feature, of dim 4 and these row counts. */
const bagsModel = (rows: number[]): string => `model bags {
  input dense: f32[3]
  input sparse: bags[${rows.length}]
  table emb[${rows.length}]: embedding(dim: 4, rows: [${rows.join(", ")}])
  bottom = relu(linear(dense, 4))
  pooled = embedding_bag(emb, sparse)
  z = interact(bottom, pooled, op: dot)
  output y = linear(z, 2)
}`;

describe("split tables in the Wasm artifact", () => {
  for (const pool of ["sum", "max"])
    it(`${pool}, weighted: rows, cols, hot/cold and mixed-precision hot/cold match the unsplit interpreter bit for bit`, async () => {
      const g = model(MODEL(pool, true));
      const weights = weightsFor(g);
      const calib = batches(g, [64, 64]);
      const test = batches(g, [1, 33], 3);
      for (const [mode, pipeline] of Object.entries(PIPELINES)) {
        const split = run(g, pipeline, calib);
        expect(partNames(split).length, mode).toBeGreaterThan(1);
        const dir = await compileTo(split, weights);
        const m = manifestOf(dir);
        expect(m.shards!.map((s) => s.name)).toEqual(partNames(split));
        for (const s of m.shards!) expect(m.files[s.file]!.sha256).toMatch(/^[0-9a-f]{64}$/);
        // The mixed split changes the cold rows' precision: compare with the interpreter on the split graph there.
        const reference = mode === "mixed" ? split : g;
        for (const b of test) expectIdentical(await runArtifact(dir, b), interpret(reference, weights, b).outputs);
      }
    });

  // The kernel finds an id with a rank bitmap (groups of 64 rows: bits and a running count) when that
  // is no bigger than the id list, else among the list by SIMD counts over blocks of 16 and their last
  // ids (up to 32 blocks), else by binary search: bitmaps of one whole group, a partial last group and
  // many groups; lists of one partial block, a block and one more id, several pivot vectors, and past
  // 32 blocks; ids below, among, between and above the hot ones. The lists are u16 for tables below
  // 65,535 rows and i32 above.
  it.each([
    [20, 64, "rank"],
    [60, 130, "rank"],
    [128, 1000, "rank"],
    [700, 3000, "rank"],
    [5, 3000, "list"],
    [16, 3000, "list"],
    [17, 3000, "list"],
    [100, 3000, "list"],
    [17, 70000, "list"],
    [100, 70000, "list"],
    [700, 70000, "list"],
  ] as const)("hot part of %i ids in a table of %i rows (%s): every id finds its row, hot or cold", async (k, tableRows, form) => {
    expect(hotSearchForm(k, tableRows)).toBe(form);
    const g = model(bagsModel([tableRows]));
    const weights = weightsFor(g);
    // Calibration: every id 0..k-1 once, then id 2·i+1 for larger i a few times, so the hot ids are odd, spread out and exactly k.
    const calib = batches(g, [k + 3 * k]);
    const bags = calib[0]!.inputs.sparse!;
    if (!isBags(bags)) throw new Error("bags expected");
    // (In the big table the hot ids go past 65,535, so they need the i32 list.)
    const stride = tableRows > 65535 ? 97 : k > 50 ? 2 : 3;
    const ids = [...Array.from({ length: k }, (_, i) => stride * i + 1), ...Array.from({ length: 3 * k }, (_, i) => stride * (i % k) + 1)];
    calib[0]!.inputs.sparse = { ...bags, lengths: new Int32Array(ids.length).fill(1), values: Int32Array.from(ids) };
    const split = run(g, `split-tables{hot=${k}}`, calib);
    const hotDecl = split.weights.find((w) => Array.isArray(w.attrs.hot))!;
    expect((hotDecl.attrs.hot as number[]).length).toBe(k);
    const dir = await compileTo(split, weights);
    const test = batches(g, [500], 5)[0]!;
    const tb = test.inputs.sparse!;
    if (!isBags(tb)) throw new Error("bags expected");
    const rng = (i: number) => (i * 2654435761) >>> 0;
    const hotIds = hotDecl.attrs.hot as number[];
    const probes = [0, 1, 2, 3, tableRows - 1, tableRows - 2, ...hotIds.slice(0, 8), ...hotIds.slice(-8), ...hotIds.slice(-4).map((h) => h + 1)];
    test.inputs.sparse = {
      ...tb,
      lengths: new Int32Array(500).fill(1),
      values: Int32Array.from({ length: 500 }, (_, i) => (i < probes.length ? probes[i]! : i % 2 ? hotIds[rng(i) % k]! : rng(i) % tableRows)),
    };
    expectIdentical(await runArtifact(dir, test), interpret(g, weights, test).outputs);
  });

  it("tables of one shape share one pooling function, hot lists of different lengths included", async () => {
    const g = model(bagsModel([3000, 140, 3000, 120]));
    const weights = weightsFor(g);
    // 80 calibration samples: each table sees fewer than 100 distinct ids, so its hot list is as long as it saw.
    const calib = batches(g, [40, 40]);
    const split = run(g, "split-tables{hot=100}", calib);
    const counts = split.weights.filter((w) => Array.isArray(w.attrs.hot)).map((w) => (w.attrs.hot as number[]).length);
    expect(new Set(counts).size).toBeGreaterThan(1);
    const dir = await compileTo(split, weights, { emitText: true });
    // One function per shape, called once per table of that shape.
    const wat = readFileSync(join(dir, "model.wat"), "utf8");
    expect((wat.match(/call \$k\d+_embedding_bag_shape0\b/g) ?? []).length).toBeGreaterThan(1);
    // One id per bag, uniform over each table's rows (feature-major, as KJT lengths are): every hot and cold row, and ids above a list's last.
    const rows = [3000, 140, 3000, 120];
    for (const b of batches(g, [1, 300], 9)) {
      const bags = b.inputs.sparse!;
      if (!isBags(bags)) throw new Error("bags expected");
      const n = b.size;
      b.inputs.sparse = {
        ...bags,
        lengths: new Int32Array(4 * n).fill(1),
        values: Int32Array.from({ length: 4 * n }, (_, i) => ((i * 2654435761) >>> 0) % rows[Math.floor(i / n)]!),
      };
      expectIdentical(await runArtifact(dir, b), interpret(g, weights, b).outputs);
    }
  });

  it("loads a shard only when a request needs one of its rows; preload picks what is read at load", async () => {
    const g = model();
    const split = run(g, PIPELINES.hotcold, batches(g, [64]));
    const dir = await compileTo(split, weightsFor(g));
    const cold = manifestOf(dir).shards!.filter((s) => s.table === "emb.0.weight" && "cold" in s.holds);
    const hot = manifestOf(dir).shards!.find((s) => s.table === "emb.0.weight" && "hot" in s.holds)!;
    const model0 = await load(dir, { threads: 1 });
    expect(model0.residentShards()).toEqual([]);
    const template = batches(g, [1])[0]!;
    const hotId = "hot" in hot.holds ? hot.holds.hot[0]! : -1;
    await model0.predict(oneId(template, hotId).inputs as never);
    expect(model0.residentShards()).toEqual([hot.name]);
    // The last table row is cold (a hot part never takes every row) and in the last cold part.
    await model0.predict(oneId(template, 199).inputs as never);
    expect(model0.residentShards()).toEqual([hot.name, cold[cold.length - 1]!.name]);
    await model0.close();
    const hotFirst = await load(dir, { threads: 1, preload: "hot" });
    expect(hotFirst.residentShards().some((n) => cold.some((c) => c.name === n))).toBe(false);
    expect(hotFirst.residentShards()).toContain(hot.name);
    await hotFirst.close();
    const all = await load(dir, { threads: 1, preload: "all" });
    expect(all.residentShards().length).toBe(manifestOf(dir).shards!.length);
    await all.close();
  });

  it("a corrupted shard is reported, naming it, when it is first needed — not at load", async () => {
    const g = model();
    const split = run(g, PIPELINES.rows);
    const weights = weightsFor(g);
    const dir = await compileTo(split, weights);
    const last = manifestOf(dir).shards!.find((s) => s.table === "emb.0.weight" && "rows" in s.holds && s.holds.rows[1] === 200)!;
    const file = join(dir, last.file);
    const bytes = readFileSync(file);
    bytes[5] ^= 0xff;
    writeFileSync(file, bytes);
    const m = await load(dir, { threads: 1 });
    const template = batches(g, [1])[0]!;
    const fine = oneId(template, 0);
    expectIdentical(await m.predict(fine.inputs as never), interpret(g, weights, fine).outputs);
    const failed = await m.predict(oneId(template, 199).inputs as never).catch((e: RmcError) => e);
    expect(failed).toBeInstanceOf(RmcError);
    expect((failed as RmcError).diagnostics[0]!.code).toBe("E1705");
    expect((failed as RmcError).message).toMatch(
      new RegExp(`${last.file.replace(/\./g, "\\.")}.*checksum mismatch.*shard ${last.name.replace(/\./g, "\\.")} of table emb\\.0\\.weight`, "s"),
    );
    // The other parts still load and run.
    const middle = oneId(template, 100);
    expectIdentical(await m.predict(middle.inputs as never), interpret(g, weights, middle).outputs);
    await expect(load(dir, { threads: 1, preload: "all" })).rejects.toThrow(/checksum mismatch/);
    await m.close();
  });

  it("on two threads, shards loaded by the main thread serve the worker's samples too", async () => {
    const g = model();
    const weights = weightsFor(g);
    const dir = await compileTo(run(g, PIPELINES.hotcold, batches(g, [64])), weights);
    const b = batches(g, [96], 8)[0]!;
    expectIdentical(await runArtifact(dir, b, 2), interpret(g, weights, b).outputs);
  });

  it("reads shards from another place when told (`shards`: a folder or a URL, e.g. another host), still checked", async () => {
    const g = model();
    const weights = weightsFor(g);
    const dir = await compileTo(run(g, PIPELINES.rows), weights);
    const elsewhere = mkdtempSync(join(tmpdir(), "rmc-shards-"));
    for (const s of manifestOf(dir).shards!) renameSync(join(dir, s.file), join(elsewhere, s.file));
    const b = batches(g, [32], 3)[0]!;
    // Without the option the shards are missing; with it (a path, or a URL through fetch) the model runs exactly.
    const missing = await load(dir, { threads: 1 });
    await expect(missing.predict(b.inputs as never)).rejects.toThrow(/shard\..*file not found/s);
    await missing.close();
    const fromFolder = await load(dir, { threads: 1, shards: elsewhere });
    expectIdentical(await fromFolder.predict(b.inputs as never), interpret(g, weights, b).outputs);
    await fromFolder.close();
    const fetched: string[] = [];
    const fakeFetch = (async (url: URL | string) => {
      fetched.push(String(url));
      const name = String(url).replace("https://shards.example/table-host/", "");
      return new Response(readFileSync(join(elsewhere, name)));
    }) as typeof fetch;
    const fromUrl = await load(dir, { threads: 1, shards: "https://shards.example/table-host/", fetch: fakeFetch });
    expectIdentical(await fromUrl.predict(b.inputs as never), interpret(g, weights, b).outputs);
    expect(fetched.length).toBeGreaterThan(0);
    expect(fetched.every((u) => u.startsWith("https://shards.example/table-host/shard."))).toBe(true);
    await fromUrl.close();
    // A wrong file at the other place is still caught by the manifest's checksum.
    const first = manifestOf(dir).shards![0]!;
    const bytes = readFileSync(join(elsewhere, first.file));
    bytes[0] ^= 0xff;
    writeFileSync(join(elsewhere, first.file), bytes);
    await expect(load(dir, { threads: 1, shards: elsewhere, preload: "all" })).rejects.toThrow(/checksum mismatch/);
  });

  it("rejects an unknown preload option", async () => {
    const g = model();
    const dir = await compileTo(run(g, PIPELINES.rows), weightsFor(g));
    await expect(load(dir, { preload: "some" as never })).rejects.toThrow(/preload/);
  });
});
