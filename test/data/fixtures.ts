// Hand-built graphs and temp-file helpers for the data tests. The graphs are
// plain IR data written out here (no front end needed): only inputs, outputs,
// table weights and embedding_bag nodes matter to the data layer.

import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Graph, Node, WeightDecl } from "../../src/ir/types.js";
import { syntheticSpan, tensor } from "../../src/ir/types.js";

const span = syntheticSpan("test.rmdl");

const table = (name: string, rows: number, dim = 4): WeightDecl => ({ name, role: "table", dtype: "f32", shape: [rows, dim], attrs: {}, span });

const bagNode = (id: string, source: string, tables: string[], features: number[]): Node => ({
  id,
  op: "embedding_bag",
  inputs: [`%${source}`, ...tables.map((t) => `@${t}`)],
  attrs: { bags: features, pool: "sum" },
  type: tensor(["B", tables.length, 4]),
  span,
});

/** Criteo Kaggle's shape: 1 label, dense f32[B,13], sparse bags[26], one table per feature. */
export function kaggleGraph(rows: number[] = Array.from({ length: 26 }, (_, i) => 10 + 37 * i)): Graph {
  const tables = rows.map((r, i) => table(`emb.${i}`, r));
  return {
    name: "kaggle",
    inputs: [
      { name: "dense", type: tensor(["B", 13]), span },
      { name: "sparse", type: { kind: "bags", count: 26, weighted: false }, span },
    ],
    weights: tables,
    nodes: [
      bagNode(
        "0",
        "sparse",
        tables.map((t) => t.name),
        rows.map((_, i) => i),
      ),
    ],
    outputs: [{ name: "ctr", value: "%0", span }],
  };
}

/**
 * A small multi-input model: dense d: f32[B,2]; s: bags[3] where feature 0 is
 * read by tables of 10 and 25 rows, feature 1 by 1000 rows and feature 2 by
 * none; w: weighted_bags[1] read by a 7-row table; outputs ctr and cvr.
 */
export function smallGraph(): Graph {
  const weights = [table("s.a", 25), table("s.b", 10), table("s.c", 1000), table("w.t", 7)];
  return {
    name: "small",
    inputs: [
      { name: "d", type: tensor(["B", 2]), span },
      { name: "s", type: { kind: "bags", count: 3, weighted: false }, span },
      { name: "w", type: { kind: "bags", count: 1, weighted: true }, span },
    ],
    weights,
    nodes: [bagNode("0", "s", ["s.a", "s.c"], [0, 1]), bagNode("1", "s", ["s.b"], [0]), bagNode("2", "w", ["w.t"], [0])],
    outputs: [
      { name: "ctr", value: "%0", span },
      { name: "cvr", value: "%1", span },
    ],
  };
}

/** A fresh temp directory and a helper to write files in it; call `cleanup` in afterAll. */
export function tempDir(): { dir: string; file: (name: string, text: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "rmc-data-"));
  return {
    dir,
    file: (name, text) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A Batch with every typed array replaced by its type, length and a SHA-1 of
 * its bytes: compares like the batch itself (deep equality) but fast, for
 * batches with hundreds of thousands of values.
 */
export function batchDigest(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    return `${value.constructor.name}(${(value as unknown as ArrayLike<number>).length}) ${createHash("sha1").update(bytes).digest("hex")}`;
  }
  if (Array.isArray(value)) return value.map(batchDigest);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, batchDigest(v)]));
  return value;
}
