// Graph analyses over the IR's value dependences: a graphlib view, a stable
// topological order, cycles, value users and liveness. The verifier, shape
// inference, dead-code elimination and memory planning call these; they are
// computed on demand from the Graph and never stored in it.

import { Graph as DiGraph, alg } from "@dagrejs/graphlib";
import { RmcError, type Code } from "../diagnostics/index.js";
import type { Graph } from "./types.js";
import { isValueRef, refName } from "./types.js";

/** What a graphlib vertex stands for: a graph input, or the node at `index` in `graph.nodes`. */
export type VertexLabel = { kind: "input" } | { kind: "node"; index: number };

/** Diagnostic code for a dependence cycle. */
export const E_CYCLE = "E1106" satisfies Code;

/**
 * The dependence graph: one vertex per input and node (keyed by bare id), an
 * edge from each value to every node that reads it. References to values that
 * do not exist are left out (the verifier reports them). Where ids repeat, the
 * first definition wins.
 */
export function toGraphlib(g: Graph): DiGraph<string, VertexLabel> {
  const dg = new DiGraph<string, VertexLabel>({ directed: true });
  for (const input of g.inputs) if (!dg.hasNode(input.name)) dg.setNode(input.name, { kind: "input" });
  g.nodes.forEach((n, index) => {
    if (!dg.hasNode(n.id)) dg.setNode(n.id, { kind: "node", index });
  });
  for (const n of g.nodes)
    for (const ref of n.inputs) {
      const src = refName(ref);
      if (isValueRef(ref) && dg.hasNode(src)) dg.setEdge(src, n.id);
    }
  return dg;
}

/** Every dependence cycle, as node ids in program order; cycles ordered by their first node. */
export function findCycles(g: Graph): string[][] {
  const index = new Map(g.nodes.map((n, i) => [n.id, i] as const));
  const at = (id: string) => index.get(id) ?? -1;
  return alg
    .findCycles(toGraphlib(g))
    .map((cycle) => [...cycle].sort((a, b) => at(a) - at(b)))
    .sort((a, b) => at(a[0]!) - at(b[0]!));
}

/**
 * Node ids in an order where every node comes after the values it reads.
 * Stable: among ready nodes the earliest in `graph.nodes` goes first, so a
 * graph already in order keeps its order. Throws an RmcError on a cycle.
 */
export function topologicalOrder(g: Graph): string[] {
  const dg = toGraphlib(g);
  const nodeIds = g.nodes
    .map((n) => n.id)
    .filter((id, i) => {
      const label = dg.node(id);
      return label.kind === "node" && label.index === i;
    });
  const position = new Map(nodeIds.map((id, i) => [id, i] as const));
  const waiting = new Map<string, number>();
  const ready: string[] = [];
  for (const id of nodeIds) {
    const preds = (dg.predecessors(id) ?? []).filter((p) => position.has(p));
    waiting.set(id, preds.length);
    if (preds.length === 0) ready.push(id);
  }
  const order: string[] = [];
  while (ready.length > 0) {
    const id = ready.shift()!;
    order.push(id);
    for (const succ of dg.successors(id) ?? []) {
      const left = waiting.get(succ)! - 1;
      waiting.set(succ, left);
      if (left === 0) insertSorted(ready, succ, position);
    }
  }
  if (order.length < nodeIds.length) {
    const cycles = findCycles(g).map((c) => c.map((id) => `%${id}`).join(", "));
    throw new RmcError(`graph @${g.name} has a dependence cycle: ${cycles.join("; ")}`, E_CYCLE);
  }
  return order;
}

/** Inserts `id` into `list`, kept sorted by `position`. */
function insertSorted(list: string[], id: string, position: Map<string, number>): void {
  const p = position.get(id)!;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (position.get(list[mid]!)! < p) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, id);
}

/** For every input and node id: the ids of the nodes that read it (each once, in program order). */
export function users(g: Graph): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const input of g.inputs) result.set(input.name, []);
  for (const n of g.nodes) if (!result.has(n.id)) result.set(n.id, []);
  for (const n of g.nodes)
    for (const ref of n.inputs) {
      const list = isValueRef(ref) ? result.get(refName(ref)) : undefined;
      if (list && !list.includes(n.id)) list.push(n.id);
    }
  return result;
}

/** A value's live range, as indices into `topologicalOrder(g)`. */
export interface LiveRange {
  /** The index of the node that computes it; -1 for a graph input (live before the first node). */
  def: number;
  /** The index of its last reader; `order.length` if a graph output binds it; `def` if nothing reads it. */
  lastUse: number;
}

/** Live range of every input and node value, for buffer reuse. */
export function liveness(g: Graph): Map<string, LiveRange> {
  const order = topologicalOrder(g);
  const ranges = new Map<string, LiveRange>();
  for (const input of g.inputs) ranges.set(input.name, { def: -1, lastUse: -1 });
  order.forEach((id, i) => ranges.set(id, { def: i, lastUse: i }));
  const byId = new Map(g.nodes.map((n) => [n.id, n] as const));
  order.forEach((id, i) => {
    for (const ref of byId.get(id)!.inputs) {
      const r = isValueRef(ref) ? ranges.get(refName(ref)) : undefined;
      if (r) r.lastUse = Math.max(r.lastUse, i);
    }
  });
  for (const o of g.outputs) {
    const r = ranges.get(o.value);
    if (r) r.lastUse = order.length;
  }
  return ranges;
}
