// Typed readers of the attributes that several stages read: precision pins
// and the one rule that says which pin applies, a layer's epilogue
// activation, an n-bit table's row range, static activation scales and
// SmoothQuant factors, int8a7's zero point. Every stage reads these through here, so the IR's
// meaning is written once (docs/numerics.md states the same rules).

import type { Attrs, Graph, Node, WeightDecl } from "./types.js";
import { valueInputs, weightInputs } from "./types.js";

/** Activation functions: elementwise ops of their own, and what a dense layer's epilogue may apply. */
export const ACTIVATIONS = ["relu", "sigmoid", "tanh"] as const;
export type Activation = (typeof ACTIVATIONS)[number];
/** A layer's epilogue: an activation or `none` (the identity). */
export type Act = Activation | "none";
/** The values an `act`/`final` attribute may take. */
export const ACT_VALUES: readonly Act[] = [...ACTIVATIONS, "none"];

/** Precisions a `@precision(...)` pin may name. */
export const PRECISIONS = ["fp32", "fp16", "bf16", "int8", "int8a7", "int4", "int2"] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Dense-layer ops that carry a precision of their own (their weight matrix's). */
export const DENSE_OPS = ["linear", "cross_layer"] as const;
export const isDenseOp = (op: string): op is (typeof DENSE_OPS)[number] => (DENSE_OPS as readonly string[]).includes(op);

const isPrecision = (v: unknown): v is Precision => typeof v === "string" && (PRECISIONS as readonly string[]).includes(v);
const isAct = (v: unknown): v is Act => typeof v === "string" && (ACT_VALUES as readonly string[]).includes(v);

/** The precision pinned on a weight or node (`@precision`, `--pin`, a plan), if any. */
export function pinOf(x: { attrs: Attrs }): Precision | undefined {
  const p = x.attrs.precision;
  return isPrecision(p) ? p : undefined;
}

/**
 * The precision `decl` is stored at as read by `reader`: a pin on the weight
 * itself wins (`@precision` on a table), else a pin on the node that reads it
 * (`@precision` on a layer applies to all its weights), else fp32.
 */
export function precisionOf(decl: WeightDecl, reader: Node | undefined): Precision {
  return pinOf(decl) ?? (reader ? pinOf(reader) : undefined) ?? "fp32";
}

/** A dense layer's precision: its weight matrix's (which applies to the bias too); fp32 for other ops. */
export function layerPrecision(graph: Graph, node: Node): Precision {
  if (!isDenseOp(node.op)) return "fp32";
  const name = weightInputs(node)[0];
  const decl = name === undefined ? undefined : weightsByName(graph).get(name);
  return decl ? precisionOf(decl, node) : "fp32";
}

// IR is immutable, so a graph's weight list can be indexed once: passes ask
// for every layer's precision, and a search over a list per layer made a
// 2,000-layer model quadratic. Where names repeat the first wins, as `find` did.
const weightIndex = new WeakMap<readonly WeightDecl[], Map<string, WeightDecl>>();
function weightsByName(graph: Graph): Map<string, WeightDecl> {
  let index = weightIndex.get(graph.weights);
  if (!index) {
    index = new Map();
    for (const w of graph.weights) if (!index.has(w.name)) index.set(w.name, w);
    weightIndex.set(graph.weights, index);
  }
  return index;
}

/** The activation a dense layer applies in its epilogue (`act`, written by the front end or fuse-epilogue). */
export function actOf(node: Node): Act {
  const a = node.attrs.act;
  return isAct(a) ? a : "none";
}

/** How an n-bit table's rows choose their range (`row_range`: l2, or minmax when absent; docs/numerics.md). */
export function rowRangeOf(decl: WeightDecl): "minmax" | "l2" {
  return decl.attrs.row_range === "l2" ? "l2" : "minmax";
}

/** A static activation scale as the kernels use it (an f32), or undefined for dynamic per-row scales. */
export function staticActScale(node: Node): number | undefined {
  const s = node.attrs.act_scale;
  return typeof s === "number" ? Math.fround(s) : undefined;
}

/** An int8 layer's SmoothQuant factors, one per input feature (the verifier checks their count), or undefined. */
export function smoothOf(node: Node): number[] | undefined {
  const s = node.attrs.smooth;
  return Array.isArray(s) ? (s as number[]) : undefined;
}

/** Epilogues whose output is never negative (NaN aside, which int8a7 maps to the zero point anyway). */
const NON_NEGATIVE_ACTS: readonly string[] = ["relu", "sigmoid"];

/**
 * The values of `graph` known non-negative from the graph alone: outputs of
 * relu and sigmoid, of linear with act relu/sigmoid, of mlp with final
 * relu/sigmoid, and concat, flatten and interact (cat or dot) of operands
 * that all are. Graph inputs and everything else are not. The rule gives the
 * same answer before and after canonicalize, fuse-epilogue and
 * fuse-interaction, so the interpreter and the backends agree on any stage.
 */
export function nonNegativeValues(graph: Graph): Set<string> {
  const known = new Set<string>();
  for (const n of graph.nodes) {
    const ins = valueInputs(n);
    const act = n.op === "mlp" ? (n.attrs.final ?? "relu") : n.attrs.act;
    const yes =
      n.op === "relu" ||
      n.op === "sigmoid" ||
      ((n.op === "linear" || n.op === "mlp") && NON_NEGATIVE_ACTS.includes(String(act))) ||
      ((n.op === "concat" || n.op === "flatten" || n.op === "interact") && ins.length > 0 && ins.every((id) => known.has(id)));
    if (yes) known.add(n.id);
  }
  return known;
}

/** An int8a7 layer's zero point (docs/numerics.md): 0 when its input is in `nonNegative` (nonNegativeValues), else 64. */
export const a7ZeroOf = (node: Node, nonNegative: ReadonlySet<string>): 0 | 64 => (nonNegative.has(valueInputs(node)[0] ?? "") ? 0 : 64);
