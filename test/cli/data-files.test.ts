// What `rmc run` makes of data files: a predictions file with one line per
// sample and every column of every output, under a header naming them; a
// table's `ids:` policy applied to the ids as the file gives them (hashing,
// the `modulo` policy, is the default for data files), by the interpreter and
// by a compiled artifact alike; and no predictions file left by a failed run.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseModel } from "../../src/frontend/index.js";
import { interpret } from "../../src/interp/interpreter.js";
import { dataSchema } from "../../src/data/schema.js";
import { readBatches } from "../../src/data/tsv.js";
import { openSafetensors } from "../../src/weights/safetensors.js";
import { bindWeights } from "../../src/weights/bind.js";
import { runPipeline } from "../../src/pipeline/index.js";
import { createPassRegistry } from "../../passes/index.js";
import { rmc, tempDir } from "./helpers.js";

const dir = tempDir();
const source = (policyOfA: string) => `model ids {
  input dense: f32[2]
  input s: bags[3]
  table a: embedding(dim: 4, rows: 10${policyOfA})
  table b: embedding(dim: 4, rows: 10, ids: clamp)
  table c: embedding(dim: 4, rows: 10, ids: modulo)
  pa = embedding_bag(a, s[0])
  pb = embedding_bag(b, s[1])
  pc = embedding_bag(c, s[2])
  top = mlp(concat(dense, pa, pb, pc), [4, 2], final: sigmoid)
  output y = top
}
`;
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const model = file("ids.rmdl", source(""));
const weights = join(dir, "w.safetensors");
const predictions = async (target: string, data: string, ...extra: string[]): Promise<string[]> => {
  const out = join(dir, `p-${Math.random().toString(36).slice(2)}.tsv`);
  const r = await rmc("run", target, ...extra, "--data", data, "--predictions", out);
  expect(r.code, r.err).toBe(0);
  return readFileSync(out, "utf8").trimEnd().split("\n");
};

describe("rmc run on data files", () => {
  it("writes one line per sample with every column of a 2-wide output, under a header", async () => {
    expect((await rmc("init-weights", model, "--seed", "3", "-o", weights)).code).toBe(0);
    const data = file("wide.tsv", "0.5\t2\t1\t3\t4\n7\t1\t5\t0\t9\n3\t3\t2\t2\t2\n");
    const lines = await predictions(model, data, "--weights", weights);
    expect(lines[0]).toBe("y.0\ty.1");
    // The interpreter's own numbers for the same samples: sample b's values are y[2b], y[2b+1].
    const graph = runPipeline(parseModel(source(""), "ids.rmdl").graph!, "canonicalize,infer-shapes", createPassRegistry(), { out: () => {} });
    const store = bindWeights(graph, openSafetensors(weights)).store;
    const batches = [];
    for await (const b of readBatches(data, dataSchema(graph))) batches.push(b);
    const y = interpret(graph, store, batches[0]!).outputs.y!;
    expect(lines.slice(1).map((l) => l.split("\t").map(Number))).toEqual([0, 1, 2].map((b) => [y[2 * b]!, y[2 * b + 1]!]));
  });

  it("applies each table's ids policy to the file's raw ids, in the interpreter and in a compiled artifact", async () => {
    // 0x0c is outside the 10 rows: the default table hashes it to 2, the clamp table reads row 9, the modulo table row 2.
    const raw = file("raw.tsv", "1\t1\tc\t0C\tc\n0\t2\t1c,3\tff\t3\n");
    const rows = file("rows.tsv", "1\t1\t2\t9\t2\n0\t2\t8,3\t9\t3\n");
    const dist = join(dir, "dist");
    expect((await rmc("compile", model, "--weights", weights, "-o", dist)).code).toBe(0);
    const expected = await predictions(model, rows, "--weights", weights);
    expect(await predictions(model, raw, "--weights", weights)).toEqual(expected);
    expect(await predictions(dist, raw)).toEqual(expected);
    expect(await predictions(dist, rows)).toEqual(expected);
  });

  it("refuses an id outside an `ids: error` table's rows, naming the file, line, field and table", async () => {
    const strict = file("strict.rmdl", source(", ids: error"));
    const ok = file("ok.tsv", "1\t1\t9\t1\t1\n");
    expect((await predictions(strict, ok, "--weights", weights)).length).toBe(2);
    const bad = file("bad.tsv", "1\t1\t9\t1\t1\n1\t1\tA\t1\t1\n");
    const r = await rmc("run", strict, "--weights", weights, "--data", bad);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(
      /error E0714: .*bad\.tsv:2: field C1 \(s feature 0\): id `A` \(10\) is outside the 10 rows of table a\.weight, whose ids policy is error/,
    );
    // Ids beyond 32 bits are refused too, not wrapped into range.
    const huge = file("huge.tsv", "1\t1\tfffffffffffff\t1\t1\n");
    expect((await rmc("run", strict, "--weights", weights, "--data", huge)).err).toContain("(at least 2147483647) is outside the 10 rows");
  });

  it("leaves no predictions file when the run fails (a data file with no samples)", async () => {
    const out = join(dir, "none.tsv");
    const r = await rmc("run", model, "--weights", weights, "--data", file("empty.tsv", ""), "--predictions", out);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("no samples");
    expect(existsSync(out)).toBe(false);
  });
});
