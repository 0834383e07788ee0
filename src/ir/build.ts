// Small helpers for code that builds or rewrites IR: running an op's type rule
// on a node, picking fresh ids, redirecting uses of a value. The verifier,
// shape inference and the built-in passes share them so that "the type of a
// node" and "a fresh id" mean the same thing everywhere.

import type { Graph, Node, Type, WeightDecl } from "./types.js";
import { isValueRef, isWeightRef, refName, valueRef } from "./types.js";
import { opDef, withDefaults, type InferResult } from "./ops.js";

/** Where the type rule finds a node's operands: value types by id (null: not known yet) and weight decls by name. */
export interface TypeEnv {
  valueType(id: string): Type | null | undefined;
  weight(name: string): WeightDecl | undefined;
}

/** A TypeEnv reading the graph's inputs, stored node types and weight decls. */
export function graphTypeEnv(g: Graph): TypeEnv {
  const values = new Map<string, Type | null>();
  for (const n of g.nodes) if (!values.has(n.id)) values.set(n.id, n.type);
  for (const i of g.inputs) values.set(i.name, i.type);
  const weights = new Map(g.weights.map((w) => [w.name, w] as const));
  return { valueType: (id) => values.get(id), weight: (name) => weights.get(name) };
}

/**
 * Runs the op table's type rule for `node`. Returns undefined when it cannot
 * be run yet: an unknown op, or an operand that is missing or untyped (those
 * are reported where they arise, not here).
 */
export function inferNodeType(node: Pick<Node, "op" | "inputs" | "attrs">, env: TypeEnv): InferResult | undefined {
  const def = opDef(node.op);
  if (!def) return undefined;
  const values: Type[] = [];
  const weights: WeightDecl[] = [];
  for (const ref of node.inputs) {
    if (isValueRef(ref)) {
      const t = env.valueType(refName(ref));
      if (!t) return undefined;
      values.push(t);
    } else if (isWeightRef(ref)) {
      const w = env.weight(refName(ref));
      if (!w) return undefined;
      weights.push(w);
    } else return undefined;
  }
  try {
    return def.infer({ values, weights, attrs: withDefaults(def, node.attrs) });
  } catch (e) {
    // A type rule fed attributes of the wrong shape may throw; report it as a type error.
    return { ok: false, message: `type rule of ${node.op} failed: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** Every id in the value namespace: inputs and nodes. */
export const valueIds = (g: Graph): Set<string> => new Set([...g.inputs.map((i) => i.name), ...g.nodes.map((n) => n.id)]);

/** `base` if it is not taken, else `base_1`, `base_2`, ...; the result is added to `taken`. */
export function freshId(taken: Set<string>, base: string): string {
  let id = base;
  for (let k = 1; taken.has(id); k++) id = `${base}_${k}`;
  taken.add(id);
  return id;
}

/**
 * Points every reader of value `from` (node operands and graph outputs) at
 * value `to` instead. Works on plain graphs and on immer drafts alike.
 */
export function replaceValueUses(g: Graph, from: string, to: string): void {
  renameValueUses(g, new Map([[from, to]]));
}

/**
 * Points every reader of each key of `renames` at its value, in one walk of
 * the graph (a pass that renames once per fused node would be quadratic, and
 * on an immer draft each walk touches every node). Not transitive: a value
 * renamed to is not itself renamed.
 */
export function renameValueUses(g: Graph, renames: ReadonlyMap<string, string>): void {
  if (renames.size === 0) return;
  const renamed = (r: string): string | undefined => (isValueRef(r) ? renames.get(refName(r)) : undefined);
  for (const n of g.nodes) {
    if (!n.inputs.some((r) => renamed(r) !== undefined)) continue;
    n.inputs = n.inputs.map((r) => {
      const to = renamed(r);
      return to === undefined ? r : valueRef(to);
    });
  }
  for (const o of g.outputs) {
    const to = renames.get(o.value);
    if (to !== undefined) o.value = to;
  }
}
