// Lowering .rmdl to IR: the exact IR of a small model (written out by hand),
// node ids of nested calls, weight names and shapes per op, attribute
// defaults, the embedding_bag forms, aliases, outputs and precision pins.

import { describe, expect, it } from "vitest";
import { parseModel } from "../../src/frontend/index.js";
import type { Graph } from "../../src/ir/types.js";

/** Parses a model body (wrapped in `model t { ... }`), expecting no diagnostics. */
function lower(body: string): Graph {
  const { graph, diagnostics } = parseModel(`model t {\n${body}\n}\n`, "t.rmdl");
  expect(diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  return graph!;
}

const stripSpans = (g: Graph) => JSON.parse(JSON.stringify(g, (k, v) => (k === "span" ? undefined : v)));
const node = (g: Graph, id: string) => g.nodes.find((n) => n.id === id)!;
const shapes = (g: Graph) => Object.fromEntries(g.weights.map((w) => [w.name, w.shape]));

describe("lowering", () => {
  it("produces the exact IR of a small model", () => {
    const g = lower(`
  input x: f32[4]
  input s: bags[2]
  table t[2]: embedding(dim: 3, rows: [5, 7],)   // trailing commas are fine
  h = relu(linear(x, 3, bias: false))
  e = embedding_bag(t, s)
  z = interact(h, e, op: dot, self: true)
  output y = z`);
    const f32 = (...shape: Array<number | "B">) => ({ kind: "tensor", dtype: "f32", shape });
    expect(stripSpans(g)).toEqual({
      name: "t",
      inputs: [
        { name: "x", type: f32("B", 4) },
        { name: "s", type: { kind: "bags", count: 2, weighted: false } },
      ],
      weights: [
        { name: "t.0.weight", role: "table", dtype: "f32", shape: [5, 3], attrs: {} },
        { name: "t.1.weight", role: "table", dtype: "f32", shape: [7, 3], attrs: {} },
        { name: "h.linear.weight", role: "weight", dtype: "f32", shape: [3, 4], attrs: {} },
      ],
      nodes: [
        { id: "h.linear", op: "linear", inputs: ["%x", "@h.linear.weight"], attrs: {}, type: f32("B", 3) },
        { id: "h", op: "relu", inputs: ["%h.linear"], attrs: {}, type: f32("B", 3) },
        {
          id: "e",
          op: "embedding_bag",
          inputs: ["%s", "@t.0.weight", "@t.1.weight"],
          attrs: { pool: "sum", bags: [0, 1], stacked: true },
          type: f32("B", 2, 3),
        },
        // 3 features of width 3, self-dots included: 3 + 3*4/2 = 9.
        { id: "z", op: "interact", inputs: ["%h", "%e"], attrs: { op: "dot", self: true }, type: f32("B", 9) },
      ],
      outputs: [{ name: "y", value: "z" }],
    });
  });

  it("names nested calls STMT.OP, numbering repeats, innermost first", () => {
    const g = lower(`  input x: f32[4]\n  h = relu(linear(relu(linear(x, 8)), 2))\n  output y = h`);
    expect(g.nodes.map((n) => n.id)).toEqual(["h.linear", "h.relu", "h.linear.2", "h"]);
    expect(node(g, "h.linear.2").inputs).toEqual(["%h.relu", "@h.linear.2.weight", "@h.linear.2.bias"]);
    expect(shapes(g)).toEqual({ "h.linear.weight": [8, 4], "h.linear.bias": [8], "h.linear.2.weight": [2, 8], "h.linear.2.bias": [2] });
  });

  it("fills mlp defaults: final follows act, bias defaults to true", () => {
    const g = lower(`  input x: f32[4]
  a = mlp(x, [3, 2])
  b = mlp(a, [2], act: tanh)
  c = mlp(b, [5, 1], act: none, final: sigmoid, bias: false)
  output y = c`);
    expect(node(g, "a").attrs).toEqual({ sizes: [3, 2], act: "relu", final: "relu", bias: true });
    expect(node(g, "b").attrs).toEqual({ sizes: [2], act: "tanh", final: "tanh", bias: true });
    expect(node(g, "c").attrs).toEqual({ sizes: [5, 1], act: "none", final: "sigmoid", bias: false });
    expect(node(g, "a").inputs).toEqual(["%x", "@a.0.weight", "@a.0.bias", "@a.1.weight", "@a.1.bias"]);
    expect(node(g, "c").inputs).toEqual(["%b", "@c.0.weight", "@c.1.weight"]);
    expect(shapes(g)["c.1.weight"]).toEqual([1, 5]);
  });

  it("makes full-rank and low-rank cross weights", () => {
    const g = lower(`  input x: f32[4]\n  f = cross(x, layers: 2)\n  l = cross(f, 1, rank: 2)\n  output y = l`);
    expect(node(g, "f").attrs).toEqual({ layers: 2, rank: 0 });
    expect(node(g, "f").inputs).toEqual(["%x", "@f.0.weight", "@f.0.bias", "@f.1.weight", "@f.1.bias"]);
    expect(node(g, "l").inputs).toEqual(["%f", "@l.0.down", "@l.0.up", "@l.0.bias"]);
    expect(shapes(g)).toMatchObject({ "f.0.weight": [4, 4], "f.0.bias": [4], "l.0.down": [2, 4], "l.0.up": [4, 2], "l.0.bias": [4] });
    expect(g.weights.find((w) => w.name === "l.0.up")!.role).toBe("weight");
  });

  it("reads one table per embedding_bag in its single-table forms", () => {
    const g = lower(`  input s: bags[3]
  input w: weighted_bags[1]
  table t[3]: embedding(dim: 4, rows: 10)
  table u: embedding(dim: 4, rows: 6, pool: max)
  a = embedding_bag(t[2], s[1])
  b = embedding_bag(u, s[0])
  c = embedding_bag(u, w)
  output y = concat(a, b, c)`);
    expect(node(g, "a")).toMatchObject({ inputs: ["%s", "@t.2.weight"], attrs: { pool: "sum", bags: [1], stacked: false } });
    expect(node(g, "b")).toMatchObject({ inputs: ["%s", "@u.weight"], attrs: { pool: "max", bags: [0], stacked: false } });
    expect(node(g, "c")).toMatchObject({ inputs: ["%w", "@u.weight"], attrs: { bags: [0], stacked: false } });
    expect(node(g, "c").type).toEqual({ kind: "tensor", dtype: "f32", shape: ["B", 4] });
    expect(node(g, "y").type).toEqual({ kind: "tensor", dtype: "f32", shape: ["B", 12] });
    expect(g.weights.map((w) => w.name)).toEqual(["t.0.weight", "t.1.weight", "t.2.weight", "u.weight"]);
  });

  it("resolves aliases and outputs, with or without `=`", () => {
    const g = lower(`  input x: f32[2]\n  h = relu(x)\n  a = h\n  output h\n  output alias = a\n  output raw = x\n  output p = sigmoid(a)`);
    expect(g.outputs.map((o) => [o.name, o.value])).toEqual([
      ["h", "h"],
      ["alias", "h"],
      ["raw", "x"],
      ["p", "p"],
    ]);
    expect(g.nodes.map((n) => n.id)).toEqual(["h", "p"]);
  });

  it("pins every node of a statement, and every table of a pinned array", () => {
    const g = lower(`  input x: f32[4]
  input s: bags[2]
  @precision(int8)
  table t[2]: embedding(dim: 2, rows: 3)
  @precision(bf16)
  h = relu(linear(x, 2))
  output y = interact(h, embedding_bag(t, s))`);
    expect(g.weights.filter((w) => w.role === "table").map((w) => w.attrs)).toEqual([{ precision: "int8" }, { precision: "int8" }]);
    expect(node(g, "h.linear").attrs).toEqual({ precision: "bf16" });
    expect(node(g, "h").attrs).toEqual({ precision: "bf16" });
    expect(node(g, "y").attrs).toEqual({ op: "dot", self: false });
    expect(g.weights.find((w) => w.name === "h.linear.weight")!.attrs).toEqual({});
  });

  it("lexes names that begin with a keyword as names, and skips comments anywhere", () => {
    const g = lower(`  input inputs: f32[2]   // a name starting with \`input\`
  modelled = relu(/* inline */ inputs)
  tables = mlp(modelled, [
    3,   // first
    1,   /* last */
  ])
  output outputs = tables`);
    expect(g.inputs[0]!.name).toBe("inputs");
    expect(node(g, "tables").attrs.sizes).toEqual([3, 1]);
    expect(g.outputs[0]).toMatchObject({ name: "outputs", value: "tables" });
  });

  it("keeps going after an error inside a nested call without echoing it", () => {
    const { graph, diagnostics } = parseModel(
      "model t {\n  input x: f32[2]\n  h = relu(lienar(x, 4))\n  g = sigmoid(h)\n  output y = g\n}\n",
      "t.rmdl",
    );
    expect(graph).toBeUndefined();
    expect(diagnostics.map((d) => d.code)).toEqual(["E0203"]);
  });
});
