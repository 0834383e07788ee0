// Reading an ONNX graph for import: an index of who produces and reads each
// tensor and which tensors are constants, and a template matcher. A template
// is the subgraph rmc itself writes for an op (lower.ts run on placeholder
// operands); matching walks it and the file backwards from a root in step,
// requiring the same op types, attributes (defaults filled in), wiring and
// constant values, and binds the placeholders ("holes") to the file's tensors.

import type { OnnxBuilder } from "./builder.js";
import {
  type GraphProto,
  type NodeProto,
  type TensorProto,
  type TensorValues,
  type ValueInfoProto,
  attrValue,
  tensorValues,
  toNumber,
} from "./proto.js";
import { dict } from "../util/records.js";

/** Where a tensor comes from: the node and which of its outputs. */
export interface Producer {
  node: NodeProto;
  index: number;
}

/** Lookups over one ONNX graph. */
export class GraphIndex {
  readonly producer = new Map<string, Producer>();
  readonly consumers = new Map<string, NodeProto[]>();
  readonly initializers = new Map<string, TensorProto>();
  /** Graph inputs that are not initializers, in order. */
  readonly inputs = new Map<string, ValueInfoProto>();
  /** Position of each node in the file (files list nodes in topological order). */
  readonly position = new Map<NodeProto, number>();

  constructor(readonly graph: GraphProto) {
    for (const t of graph.initializer ?? []) this.initializers.set(t.name ?? "", t);
    for (const i of graph.input ?? []) if (!this.initializers.has(i.name ?? "")) this.inputs.set(i.name ?? "", i);
    (graph.node ?? []).forEach((n, k) => {
      this.position.set(n, k);
      (n.output ?? []).forEach((o, index) => o && this.producer.set(o, { node: n, index }));
      for (const i of n.input ?? []) if (i) this.consumers.set(i, [...(this.consumers.get(i) ?? []), n]);
    });
  }

  /** The node computing `tensor` as its first output, or undefined. */
  nodeOf(tensor: string): NodeProto | undefined {
    const p = this.producer.get(tensor);
    return p && p.index === 0 ? p.node : undefined;
  }

  /** The node computing `tensor` if its op is `op`. */
  opOf(tensor: string, op: string): NodeProto | undefined {
    const n = this.nodeOf(tensor);
    return n?.opType === op ? n : undefined;
  }

  /** The values of a constant tensor (an initializer or a Constant node's output), or undefined. */
  constant(tensor: string): TensorValues | undefined {
    const init = this.initializers.get(tensor);
    if (init) return tensorValues(init);
    const n = this.opOf(tensor, "Constant");
    if (!n) return undefined;
    const t = attrValue(n, "value");
    if (t && typeof t === "object" && !Array.isArray(t)) return tensorValues(t);
    for (const [key, dtype] of [
      ["value_int", 7],
      ["value_ints", 7],
      ["value_float", 1],
      ["value_floats", 1],
    ] as const) {
      const v = attrValue(n, key);
      if (v === undefined) continue;
      const list = Array.isArray(v) ? (v as number[]) : [v as number];
      return { dtype, dims: Array.isArray(v) ? [list.length] : [], data: dtype === 1 ? Float32Array.from(list) : list };
    }
    return undefined;
  }

  /** Constant values as a number list, or undefined. */
  numbers(tensor: string): number[] | undefined {
    const c = this.constant(tensor);
    return c ? Array.from(c.data as ArrayLike<number>) : undefined;
  }

  /** Graph nodes reachable backwards from `tensor` (itself included), nearest first. */
  upstream(tensor: string, limit = 64): NodeProto[] {
    const seen = new Set<NodeProto>();
    const queue = [tensor];
    while (queue.length && seen.size < limit) {
      const n = this.producer.get(queue.shift()!)?.node;
      if (!n || seen.has(n)) continue;
      seen.add(n);
      queue.push(...(n.input ?? []).filter(Boolean));
    }
    return [...seen];
  }
}

/** Attribute defaults of the ops rmc writes, so `axis: 0` written out matches `axis` left out. */
const DEFAULT_ATTRS: Record<string, Record<string, number | number[]>> = {
  Gather: { axis: 0 },
  ReduceSum: { keepdims: 1, noop_with_empty_axes: 0 },
  ReduceMax: { keepdims: 1 },
  Gemm: { alpha: 1, beta: 1, transA: 0, transB: 0 },
  Mod: { fmod: 0 },
  Reshape: { allowzero: 0 },
  Flatten: { axis: 1 },
  Cast: { saturate: 1 },
};

/** A node's attributes as sorted JSON, defaults filled in. */
function attrKey(n: NodeProto): string {
  // Attribute names come from the file: a record without a prototype, so `__proto__` is an attribute like any other.
  const all: Record<string, unknown> = Object.assign(dict(), Object.hasOwn(DEFAULT_ATTRS, n.opType ?? "") ? DEFAULT_ATTRS[n.opType ?? ""] : {});
  for (const a of n.attribute ?? []) all[a.name ?? ""] = attrValue(n, a.name ?? "");
  return JSON.stringify(
    Object.keys(all)
      .sort()
      .map((k) => [k, all[k]]),
  );
}

const sameConstant = (a: TensorValues, b: TensorValues): boolean => {
  const sameKind = a.dtype === b.dtype || (isFloat(a.dtype) && isFloat(b.dtype));
  const da = Array.from(a.data as ArrayLike<number>);
  const db = Array.from(b.data as ArrayLike<number>);
  return sameKind && a.dims.join() === b.dims.join() && da.length === db.length && da.every((v, i) => Object.is(v, db[i]) || v === db[i]);
};
const isFloat = (dtype: number): boolean => dtype === 1 || dtype === 11;

/** A successful match: what each hole is in the file, and the file's nodes the template covers. */
export interface Match {
  bound: Map<string, string>;
  covered: Set<NodeProto>;
}

/**
 * Matches template `t` (from its tensor `root`) against the file (from its
 * tensor `target`). Holes bind to any tensor, the same one at every use.
 * Returns the match, or a sentence saying where the file differs.
 */
export function matchTemplate(g: GraphIndex, t: OnnxBuilder, root: string, target: string, holes: ReadonlySet<string>): Match | string {
  const tProducer = new Map<string, Producer>();
  for (const n of t.nodes) (n.output ?? []).forEach((o, index) => tProducer.set(o, { node: n, index }));
  const tConst = new Map(t.initializers.map((x) => [x.name ?? "", x]));
  const bound = new Map<string, string>();
  const covered = new Set<NodeProto>();
  const visited = new Set<string>();
  const stack: [string, string][] = [[root, target]];
  while (stack.length) {
    const [tn, gn] = stack.pop()!;
    if (holes.has(tn)) {
      if (bound.has(tn) && bound.get(tn) !== gn) return `\`${gn}\` and \`${bound.get(tn)}\` stand for the same operand`;
      bound.set(tn, gn);
      continue;
    }
    const c = tConst.get(tn);
    if (c) {
      const want = tensorValues(c)!;
      const got = g.constant(gn);
      if (!got || !sameConstant(want, got))
        return `\`${gn}\` should be the constant [${Array.from(want.data as ArrayLike<number>)
          .slice(0, 8)
          .join(", ")}]`;
      const constNode = g.opOf(gn, "Constant");
      if (constNode) covered.add(constNode);
      continue;
    }
    const tp = tProducer.get(tn);
    const gp = g.producer.get(gn);
    if (!tp) return `template tensor ${tn} has no producer`;
    if (!gp) return `\`${gn}\` should be computed by ${tp.node.opType}, but it is ${g.inputs.has(gn) ? "a graph input" : "not computed by any node"}`;
    const key = `${t.nodes.indexOf(tp.node)}|${g.position.get(gp.node)}|${tp.index}`;
    if (visited.has(key)) continue;
    visited.add(key);
    const problem = compareNodes(tp, gp);
    if (problem) return problem;
    covered.add(gp.node);
    const ti = tp.node.input ?? [];
    const gi = gp.node.input ?? [];
    ti.forEach((x, i) => x && stack.push([x, gi[i]!]));
  }
  return { bound, covered };
}

/** Why two nodes differ (op, output slot, operand count or attributes), or undefined. */
function compareNodes(tp: Producer, gp: Producer): string | undefined {
  const label = `${gp.node.opType} node \`${gp.node.name || gp.node.output?.[0]}\``;
  if (tp.node.opType !== gp.node.opType || tp.index !== gp.index) return `${label} stands where ${tp.node.opType} is expected`;
  const trim = (xs: readonly string[]): string[] => {
    const out = [...xs];
    while (out.length && !out[out.length - 1]) out.pop();
    return out;
  };
  const ti = trim(tp.node.input ?? []);
  const gi = trim(gp.node.input ?? []);
  if (ti.length !== gi.length || ti.some((x, i) => !x !== !gi[i])) return `${label} has ${gi.length} inputs, expected ${ti.length}`;
  if (attrKey(tp.node) !== attrKey(gp.node)) return `${label} has attributes ${attrKey(gp.node)}, expected ${attrKey(tp.node)}`;
  return undefined;
}

/** A value info's dimensions: numbers, or the symbolic names (or "?") of dynamic ones. */
export function valueDims(v: ValueInfoProto | undefined): (number | string)[] | undefined {
  const dims = v?.type?.tensorType?.shape?.dim;
  return dims
    ? dims.map((d) => (d.dimValue !== undefined && d.dimValue !== null && toNumber(d.dimValue) > 0 ? toNumber(d.dimValue) : d.dimParam || "?"))
    : undefined;
}

/** A value info's element type, or undefined. */
export const valueElemType = (v: ValueInfoProto | undefined): number | undefined => v?.type?.tensorType?.elemType ?? undefined;
