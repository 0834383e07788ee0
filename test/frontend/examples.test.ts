// The example models (examples/*.rmdl) parse without any diagnostic and have
// the shapes their published configurations imply: interaction widths, output
// types, table sizes and weight shapes, computed here independently.

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseModel } from "../../src/frontend/index.js";
import { formatType, type Graph, type Span } from "../../src/ir/types.js";

const examplesDir = join(dirname(fileURLToPath(import.meta.url)), "../../examples");
const source = (name: string) => readFileSync(join(examplesDir, name), "utf8");

function load(name: string): Graph {
  const { graph, diagnostics } = parseModel(source(name), name);
  expect(diagnostics).toEqual([]);
  return graph!;
}

const typeOf = (g: Graph, id: string) => formatType(g.nodes.find((n) => n.id === id)!.type!);
const outputType = (g: Graph, name: string) => {
  const value = g.outputs.find((o) => o.name === name)!.value;
  return typeOf(g, value);
};
const weight = (g: Graph, name: string) => g.weights.find((w) => w.name === name);
/** The source text a single-line span covers. */
const textAt = (text: string, s: Span) => text.split("\n")[s.line - 1]!.slice(s.col - 1, s.endCol - 1);

const KAGGLE_ROWS = [
  1460, 583, 10131227, 2202608, 305, 24, 12517, 633, 3, 93145, 5683, 8351593, 3194, 27, 14992, 5461306, 10, 5652, 2173, 4, 7046547, 18, 15, 286181,
  105, 142572,
];

describe("examples", () => {
  it("every example parses with no diagnostics", () => {
    const names = readdirSync(examplesDir).filter((f) => f.endsWith(".rmdl"));
    expect(names.length).toBeGreaterThanOrEqual(5);
    for (const name of names) {
      const { graph, diagnostics } = parseModel(source(name), name);
      expect(diagnostics, name).toEqual([]);
      expect(graph?.outputs.length, name).toBeGreaterThan(0);
    }
  });

  it("dlrm_kaggle: Criteo Kaggle tables, 367-wide dot interaction, a pinned top MLP", () => {
    const g = load("dlrm_kaggle.rmdl");
    expect(g.inputs.map((i) => `${i.name}: ${formatType(i.type)}`)).toEqual(["dense: f32[B,13]", "sparse: bags[26]"]);
    const tables = g.weights.filter((w) => w.role === "table");
    expect(tables.map((w) => w.shape)).toEqual(KAGGLE_ROWS.map((r) => [r, 16]));
    expect(tables.map((w) => w.name)).toEqual(KAGGLE_ROWS.map((_, i) => `emb.${i}.weight`));
    // Dot interaction: the 16-wide bottom output plus the strict lower triangle of 27 features.
    expect(typeOf(g, "z")).toBe(`f32[B,${16 + (27 * 26) / 2}]`);
    expect(typeOf(g, "pooled")).toBe("f32[B,26,16]");
    expect(outputType(g, "ctr")).toBe("f32[B,1]");
    expect(weight(g, "top.0.weight")!.shape).toEqual([512, 367]);
    expect(weight(g, "bottom.3.weight")!.shape).toEqual([16, 64]);
    const top = g.nodes.find((n) => n.id === "top")!;
    expect(top.attrs).toEqual({ sizes: [512, 256, 1], act: "relu", final: "sigmoid", bias: true, precision: "fp32" });
    expect(g.nodes.find((n) => n.id === "bottom")!.attrs.precision).toBeUndefined();
  });

  it("dlrm_kaggle_small: same structure, tables capped at 1000 rows", () => {
    const g = load("dlrm_kaggle_small.rmdl");
    expect(g.weights.filter((w) => w.role === "table").map((w) => w.shape[0])).toEqual(KAGGLE_ROWS.map((r) => Math.min(r, 1000)));
    expect(typeOf(g, "z")).toBe("f32[B,367]");
    expect(outputType(g, "ctr")).toBe("f32[B,1]");
    expect(g.nodes.find((n) => n.id === "top")!.attrs.sizes).toEqual([64, 1]);
  });

  it("dlrm_terabyte: dim 64, 415-wide interaction, tables capped at 10M rows", () => {
    const g = load("dlrm_terabyte.rmdl");
    const rows = g.weights.filter((w) => w.role === "table").map((w) => w.shape);
    expect(rows).toHaveLength(26);
    expect(rows.every(([r, d]) => d === 64 && r! <= 10_000_000)).toBe(true);
    expect(typeOf(g, "z")).toBe(`f32[B,${64 + (27 * 26) / 2}]`);
    expect(weight(g, "top.0.weight")!.shape).toEqual([512, 415]);
    expect(outputType(g, "ctr")).toBe("f32[B,1]");
  });

  it("dcnv2: cat interaction to 3456, low-rank cross weights in the op table's order", () => {
    const g = load("dcnv2.rmdl");
    expect(typeOf(g, "z")).toBe(`f32[B,${128 + 26 * 128}]`);
    const cross = g.nodes.find((n) => n.id === "crossed")!;
    expect(cross.attrs).toEqual({ layers: 3, rank: 512 });
    expect(cross.inputs.slice(0, 4)).toEqual(["%z", "@crossed.0.down", "@crossed.0.up", "@crossed.0.bias"]);
    expect(cross.inputs).toHaveLength(1 + 3 * 3);
    expect(weight(g, "crossed.2.down")!.shape).toEqual([512, 3456]);
    expect(weight(g, "crossed.2.up")!.shape).toEqual([3456, 512]);
    expect(weight(g, "top.0.weight")!.shape).toEqual([1024, 3456]);
    expect(outputType(g, "ctr")).toBe("f32[B,1]");
  });

  it("multitask: two heads, weighted bags, pins on a table and a layer", () => {
    const g = load("multitask.rmdl");
    expect(g.outputs.map((o) => [o.name, o.value])).toEqual([
      ["ctr", "ctr_head"],
      ["cvr", "cvr_head"],
    ]);
    expect(g.inputs.find((i) => i.name === "history")!.type).toEqual({ kind: "bags", count: 1, weighted: true });
    expect(weight(g, "item_emb.weight")!.attrs).toEqual({ precision: "fp16" });
    expect(g.nodes.find((n) => n.id === "ctr_head")!.attrs.precision).toBe("fp16");
    const pools = g.nodes.filter((n) => n.op === "embedding_bag").map((n) => n.attrs.pool);
    expect(new Set(pools)).toEqual(new Set(["mean", "max"]));
    expect(typeOf(g, "shared.concat")).toBe("f32[B,40]");
    expect(outputType(g, "cvr")).toBe("f32[B,1]");
  });

  it("spans point at the source text that made each node, weight, input and output", () => {
    const text = source("dlrm_kaggle.rmdl");
    const g = load("dlrm_kaggle.rmdl");
    const bottom = g.nodes.find((n) => n.id === "bottom")!;
    expect(textAt(text, bottom.span)).toBe("mlp(dense, [512, 256, 64, 16], act: relu)");
    expect(textAt(text, weight(g, "bottom.0.weight")!.span)).toBe("mlp(dense, [512, 256, 64, 16], act: relu)");
    expect(textAt(text, g.inputs[1]!.span)).toBe("input sparse: bags[26]");
    expect(textAt(text, g.outputs[0]!.span)).toBe("output ctr = top");
    // The table declaration spans several lines: from `table` to the closing `)`.
    const table = weight(g, "emb.0.weight")!.span;
    expect(text.split("\n")[table.line - 1]!.slice(table.col - 1)).toMatch(/^table emb\[26\]: embedding\(/);
    expect(
      text
        .split("\n")
        [table.endLine - 1]!.slice(0, table.endCol - 1)
        .trim(),
    ).toBe("])");
    for (const s of [...g.nodes, ...g.weights, ...g.inputs, ...g.outputs].map((x) => x.span)) expect(s.file).toBe("dlrm_kaggle.rmdl");
  });
});
