// Streaming compile: both backends write tables (whole or split into parts)
// row by row, so a table is never held whole — the weight store's tables
// here refuse to be materialised, and compiling still succeeds, with the same
// artifact bytes as from ordinary in-memory tables.

import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileWgsl } from "../../backends/wgsl/index.js";
import type { Tensor, WeightStore } from "../../src/weights/store.js";
import { compileTo, tempDir } from "../backends/wasm/helpers.js";
import { PIPELINES, batches, model, run, weightsFor } from "./helpers.js";

/** The same weights, with every table readable only row by row. */
function rowsOnly(store: WeightStore, tables: Set<string>): WeightStore {
  const out = new Map<string, Tensor>();
  for (const [name, t] of store)
    out.set(
      name,
      tables.has(name)
        ? {
            dtype: t.dtype,
            shape: t.shape,
            readRow: (i, o, offset) => t.readRow(i, o, offset),
            toFloat32: () => {
              throw new Error(`table ${name} was materialised whole`);
            },
          }
        : t,
    );
  return out;
}

const filesOf = (dir: string): Record<string, string> =>
  Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f)).toString("base64")]));

describe("streaming compile", () => {
  const g = model();
  const weights = weightsFor(g);
  const tables = new Set(g.weights.filter((w) => w.role === "table").map((w) => w.name));
  const calib = batches(g, [64]);

  for (const [mode, pipeline] of [
    ["whole", ""],
    ["rows", PIPELINES.rows],
    ["cols", PIPELINES.cols],
    ["hotcold", PIPELINES.mixed],
  ] as const)
    it(`${mode}: Wasm and WebGPU artifacts from row-only tables are those from in-memory tables`, async () => {
      const graph = pipeline ? run(g, pipeline, calib) : g;
      const opts = (dir: string) => ({ outDir: dir, emitText: false, features: [], compilerVersion: "test" });
      const streamed = await compileTo(graph, rowsOnly(weights, tables));
      const held = await compileTo(graph, weights);
      expect(filesOf(streamed)).toEqual(filesOf(held));
      const gpuStreamed = join(tempDir(), "a");
      const gpuHeld = join(tempDir(), "b");
      await compileWgsl(graph, rowsOnly(weights, tables), opts(gpuStreamed));
      await compileWgsl(graph, weights, opts(gpuHeld));
      expect(filesOf(gpuStreamed)).toEqual(filesOf(gpuHeld));
    });
});
