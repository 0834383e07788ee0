// Hand-built graphs for the IR, pipeline and pass tests, written without the
// front end (which is developed in parallel). Types are written out by hand,
// so tests that compare against them check the op table independently.

import type { Attrs, Dim, Graph, Input, Node, Output, Span, Type, WeightDecl, WeightRole } from "../../src/ir/types.js";

/** A span on `line` of `file`. */
export const sp = (line: number, col = 3, endCol = col + 20, file = "t.rmdl"): Span => ({ file, line, col, endLine: line, endCol });

export const f32 = (...shape: Dim[]): Type => ({ kind: "tensor", dtype: "f32", shape });
export const bags = (count: number, weighted = false): Type => ({ kind: "bags", count, weighted });

let line = 100;
const next = () => sp(line++);

export const input = (name: string, type: Type, span: Span = next()): Input => ({ name, type, span });
export const weight = (name: string, role: WeightRole, shape: number[], attrs: Attrs = {}, span: Span = next()): WeightDecl => ({
  name,
  role,
  dtype: "f32",
  shape,
  attrs,
  span,
});
export const node = (id: string, op: string, inputs: string[], attrs: Attrs, type: Type | null, span: Span = next()): Node => ({
  id,
  op,
  inputs,
  attrs,
  type,
  span,
});
export const output = (name: string, value: string, span: Span = next()): Output => ({ name, value, span });

/** A small valid DLRM: bottom mlp, two tables, dot interaction, top mlp with sigmoid. */
export function dlrmSmall(): Graph {
  return {
    name: "dlrm_small",
    inputs: [input("dense", f32("B", 4), sp(2)), input("sparse", bags(2), sp(3))],
    weights: [
      weight("emb.0", "table", [10, 4], {}, sp(4)),
      weight("emb.1", "table", [12, 4], { precision: "int4" }, sp(4)),
      weight("bottom.0.weight", "weight", [8, 4], {}, sp(5)),
      weight("bottom.0.bias", "bias", [8], {}, sp(5)),
      weight("bottom.1.weight", "weight", [4, 8], {}, sp(5)),
      weight("bottom.1.bias", "bias", [4], {}, sp(5)),
      weight("top.0.weight", "weight", [1, 7], {}, sp(8)),
      weight("top.0.bias", "bias", [1], {}, sp(8)),
    ],
    nodes: [
      node(
        "bottom",
        "mlp",
        ["%dense", "@bottom.0.weight", "@bottom.0.bias", "@bottom.1.weight", "@bottom.1.bias"],
        { sizes: [8, 4], act: "relu", final: "relu" },
        f32("B", 4),
        sp(5),
      ),
      node("pooled", "embedding_bag", ["%sparse", "@emb.0", "@emb.1"], { pool: "sum", bags: [0, 1] }, f32("B", 2, 4), sp(6)),
      node("z", "interact", ["%bottom", "%pooled"], { op: "dot" }, f32("B", 7), sp(7)),
      node(
        "top",
        "mlp",
        ["%z", "@top.0.weight", "@top.0.bias"],
        { sizes: [1], act: "relu", final: "sigmoid", precision: "fp32" },
        f32("B", 1),
        sp(8),
      ),
    ],
    outputs: [output("ctr", "top", sp(9))],
  };
}

/** A valid graph using every op in the op table at least once. */
export function allOps(): Graph {
  return {
    name: "all_ops",
    inputs: [input("dense", f32("B", 4)), input("sparse", bags(2)), input("wsparse", bags(1, true)), input("feats", f32("B", 2, 4))],
    weights: [
      weight("l.w", "weight", [4, 4]),
      weight("l.b", "bias", [4]),
      weight("m.0.weight", "weight", [6, 4]),
      weight("m.0.bias", "bias", [6]),
      weight("m.1.weight", "weight", [4, 6]),
      weight("m.1.bias", "bias", [4]),
      weight("emb.0", "table", [10, 4]),
      weight("emb.1", "table", [12, 4], { precision: "int4" }),
      weight("emb.2", "table", [5, 4]),
      weight("c.0.w", "weight", [4, 4]),
      weight("c.0.b", "bias", [4]),
      weight("c.1.w", "weight", [4, 4]),
      weight("c.1.b", "bias", [4]),
      weight("cl.down", "weight", [2, 4]),
      weight("cl.up", "weight", [4, 2]),
      weight("cl.b", "bias", [4]),
    ],
    nodes: [
      node("lin", "linear", ["%dense", "@l.w", "@l.b"], {}, f32("B", 4)),
      node("r", "relu", ["%lin"], {}, f32("B", 4)),
      node("s", "sigmoid", ["%r"], {}, f32("B", 4)),
      node("t", "tanh", ["%s"], { precision: "fp16" }, f32("B", 4)),
      node(
        "m",
        "mlp",
        ["%t", "@m.0.weight", "@m.0.bias", "@m.1.weight", "@m.1.bias"],
        { sizes: [6, 4], act: "tanh", final: "none", bias: true },
        f32("B", 4),
      ),
      node("pooled", "embedding_bag", ["%sparse", "@emb.0", "@emb.1"], { pool: "sum", bags: [0, 1] }, f32("B", 2, 4)),
      node("single", "embedding_bag", ["%wsparse", "@emb.2"], { pool: "mean", bags: [0], stacked: false }, f32("B", 4)),
      node("z", "interact", ["%m", "%pooled", "%single"], { op: "dot" }, f32("B", 10)),
      node("zc", "interact", ["%m", "%feats"], { op: "cat", self: false }, f32("B", 12)),
      node("fl", "flatten", ["%pooled"], {}, f32("B", 8)),
      node("cat", "concat", ["%z", "%zc", "%fl"], {}, f32("B", 30)),
      node("x", "cross", ["%dense", "@c.0.w", "@c.0.b", "@c.1.w", "@c.1.b"], { layers: 2 }, f32("B", 4)),
      node("xl", "cross_layer", ["%x", "%x", "@cl.down", "@cl.up", "@cl.b"], { rank: 2 }, f32("B", 4)),
    ],
    outputs: [output("a", "cat"), output("b", "xl")],
  };
}
