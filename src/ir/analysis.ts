// Graph analyses over the IR's value dependences: the dependence graph, a
// stable topological order, cycles, value users and liveness. The verifier,
// shape inference, dead-code elimination and memory planning call these; they
// are computed on demand from the Graph and never stored in it. Every walk is
// iterative and keyed by Map, so a 20,000-node chain or a value named
// `__proto__` is just another graph.

import { RmcError, type Code } from "../diagnostics/index.js";
import type { Graph } from "./types.js";
import { isValueRef, refName } from "./types.js";

/** What a vertex stands for: a graph input, or the node at `index` in `graph.nodes`. */
export type VertexLabel = { kind: "input" } | { kind: "node"; index: number };

/** Diagnostic code for a dependence cycle. */
export const E_CYCLE = "E1106" satisfies Code;

/** Value dependences: vertices by bare id, and for each the distinct ids it reads and that read it (first-seen order). */
export interface DependenceGraph {
  vertices: Map<string, VertexLabel>;
  predecessors: Map<string, string[]>;
  successors: Map<string, string[]>;
  edgeCount: number;
}

/**
 * The dependence graph: one vertex per input and node (keyed by bare id), an
 * edge from each value to every node that reads it. References to values that
 * do not exist are left out (the verifier reports them). Where ids repeat, the
 * first definition wins.
 */
export function dependenceGraph(g: Graph): DependenceGraph {
  const vertices = new Map<string, VertexLabel>();
  for (const input of g.inputs) if (!vertices.has(input.name)) vertices.set(input.name, { kind: "input" });
  g.nodes.forEach((n, index) => {
    if (!vertices.has(n.id)) vertices.set(n.id, { kind: "node", index });
  });
  const predecessors = new Map<string, string[]>();
  const successors = new Map<string, string[]>();
  for (const id of vertices.keys()) {
    predecessors.set(id, []);
    successors.set(id, []);
  }
  // The edges already made, by reader: a node with thousands of operands stays linear.
  const made = new Map<string, Set<string>>();
  let edgeCount = 0;
  for (const n of g.nodes) {
    const from = made.get(n.id) ?? made.set(n.id, new Set()).get(n.id)!;
    for (const ref of n.inputs) {
      const src = refName(ref);
      if (!isValueRef(ref) || !vertices.has(src) || from.has(src)) continue;
      from.add(src);
      successors.get(src)!.push(n.id);
      predecessors.get(n.id)!.push(src);
      edgeCount++;
    }
  }
  return { vertices, predecessors, successors, edgeCount };
}

/**
 * Strongly connected components (Tarjan's algorithm with an explicit stack,
 * so a long chain cannot overflow the call stack); only those that are
 * cycles: more than one vertex, or one that reads itself.
 */
function cycleComponents(dg: DependenceGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let next = 0;
  for (const root of dg.vertices.keys()) {
    if (index.has(root)) continue;
    const work: Array<{ v: string; i: number }> = [{ v: root, i: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const succs = dg.successors.get(top.v)!;
      if (top.i < succs.length) {
        const w = succs[top.i++]!;
        if (!index.has(w)) {
          index.set(w, next);
          low.set(w, next++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.v, Math.min(low.get(parent.v)!, low.get(top.v)!));
      if (low.get(top.v) !== index.get(top.v)) continue;
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== top.v);
      if (scc.length > 1 || succs.includes(top.v)) out.push(scc);
    }
  }
  return out;
}

/** Every dependence cycle, as node ids in program order; cycles ordered by their first node. */
export function findCycles(g: Graph): string[][] {
  const index = new Map(g.nodes.map((n, i) => [n.id, i] as const));
  const at = (id: string) => index.get(id) ?? -1;
  return cycleComponents(dependenceGraph(g))
    .map((cycle) => [...cycle].sort((a, b) => at(a) - at(b)))
    .sort((a, b) => at(a[0]!) - at(b[0]!));
}

/**
 * Node ids in an order where every node comes after the values it reads.
 * Stable: among ready nodes the earliest in `graph.nodes` goes first, so a
 * graph already in order keeps its order. Throws an RmcError on a cycle.
 */
export function topologicalOrder(g: Graph): string[] {
  const dg = dependenceGraph(g);
  const nodeIds = g.nodes
    .map((n) => n.id)
    .filter((id, i) => {
      const label = dg.vertices.get(id)!;
      return label.kind === "node" && label.index === i;
    });
  const position = new Map(nodeIds.map((id, i) => [id, i] as const));
  const waiting = new Map<string, number>();
  const ready = new MinHeap();
  for (const id of nodeIds) {
    const preds = dg.predecessors.get(id)!.filter((p) => position.has(p));
    waiting.set(id, preds.length);
    if (preds.length === 0) ready.push(position.get(id)!);
  }
  const order: string[] = [];
  while (ready.size > 0) {
    const id = nodeIds[ready.pop()]!;
    order.push(id);
    for (const succ of dg.successors.get(id)!) {
      const left = waiting.get(succ)! - 1;
      waiting.set(succ, left);
      if (left === 0) ready.push(position.get(succ)!);
    }
  }
  if (order.length < nodeIds.length) {
    const cycles = findCycles(g).map((c) => c.map((id) => `%${id}`).join(", "));
    throw new RmcError(`graph @${g.name} has a dependence cycle: ${cycles.join("; ")}`, E_CYCLE);
  }
  return order;
}

/** A binary min-heap of positions: the earliest ready node in O(log n), where a sorted array costs O(n) per insert. */
class MinHeap {
  private readonly a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  push(x: number): void {
    const a = this.a;
    let i = a.push(x) - 1;
    while (i > 0 && a[(i - 1) >> 1]! > x) [a[i], i] = [a[(i - 1) >> 1]!, (i - 1) >> 1];
    a[i] = x;
  }
  pop(): number {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const c = l + 1 < a.length && a[l + 1]! < a[l]! ? l + 1 : l;
      if (a[c]! >= last) break;
      [a[i], i] = [a[c]!, c];
    }
    a[i] = last;
    return top;
  }
}

/** For every input and node id: the ids of the nodes that read it (each once, in program order). */
export function users(g: Graph): Map<string, string[]> {
  const result = new Map<string, string[]>();
  const seen = new Map<string, Set<string>>();
  for (const input of g.inputs) result.set(input.name, []);
  for (const n of g.nodes) if (!result.has(n.id)) result.set(n.id, []);
  for (const n of g.nodes)
    for (const ref of n.inputs) {
      const name = refName(ref);
      const list = isValueRef(ref) ? result.get(name) : undefined;
      if (!list) continue;
      // A set beside each list: a value read by thousands of nodes (or one node's thousands of operands) stays linear.
      const s = seen.get(name) ?? seen.set(name, new Set()).get(name)!;
      if (s.has(n.id)) continue;
      s.add(n.id);
      list.push(n.id);
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
