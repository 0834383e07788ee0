// fuse-bags: table-batched embedding bags (FBGEMM's TBE idea). Embedding bags
// that read the same bags input with the same pooling, dimension and table
// precision, and that feed one interaction or concat side by side, become one
// embedding_bag over all their tables: one kernel call, one pass over the
// bags' offsets, one output buffer, instead of one of each per bag. The
// merged node keeps the first bag's id and replaces the run of operands in
// its reader; for a concat, whose operands are [B,n], a flatten of the
// merged [B,tables,dim] value stands in (an alias, no copy). Split tables
// (`parts`) merge with their parts.

import { users } from "../src/ir/analysis.js";
import { freshId, valueIds } from "../src/ir/build.js";
import { precisionOf } from "../src/ir/attrs.js";
import type { Attrs, Graph, Node } from "../src/ir/types.js";
import { tensor, valueInputs, valueRef, weightInputs } from "../src/ir/types.js";
import type { Pass } from "../src/pipeline/pass.js";

/** One run of bags to merge: the reader, and the bags' ids in operand order. */
export interface BagRun {
  reader: string;
  bags: string[];
}

/** What bags must share to be merged: input, pooling, dimension, table precision and node pins. */
function bagKey(graph: Graph, node: Node): string | undefined {
  if (node.op !== "embedding_bag" || node.type?.kind !== "tensor") return undefined;
  const decls = weightInputs(node).map((w) => graph.weights.find((d) => d.name === w)!);
  const precisions = new Set(decls.map((d) => precisionOf(d, node)));
  if (precisions.size !== 1) return undefined;
  const dim = node.type.shape[node.type.shape.length - 1];
  return JSON.stringify([valueInputs(node)[0], node.attrs.pool ?? "sum", dim, [...precisions][0], node.attrs.precision ?? null]);
}

/** The operands a reader takes bags as: an interaction's first operand must stay one vector, and its tail operands are not features. */
function featureOperands(reader: Node): string[] {
  const values = valueInputs(reader);
  if (reader.op === "concat") return values;
  if (reader.op !== "interact") return [];
  const tail = typeof reader.attrs.tail === "number" ? reader.attrs.tail : 0;
  return values.slice(1, values.length - tail);
}

/** Runs of two or more mergeable bags that sit side by side in one reader's operands. */
export function bagRuns(graph: Graph): BagRun[] {
  const readers = users(graph);
  const byId = new Map(graph.nodes.map((n) => [n.id, n] as const));
  const outputs = new Set(graph.outputs.map((o) => o.value));
  const runs: BagRun[] = [];
  for (const reader of graph.nodes) {
    const operands = featureOperands(reader);
    const keyOf = (id: string): string | undefined => {
      const n = byId.get(id);
      if (!n || outputs.has(id) || (readers.get(id) ?? []).length !== 1 || operands.filter((o) => o === id).length !== 1) return undefined;
      // A concat reads [B,n] values: only unstacked bags fit it directly.
      if (reader.op === "concat" && n.attrs.stacked !== false) return undefined;
      return bagKey(graph, n);
    };
    let run: string[] = [];
    let key: string | undefined;
    const close = () => {
      if (run.length >= 2) runs.push({ reader: reader.id, bags: run });
      run = [];
    };
    for (const id of operands) {
      const k = keyOf(id);
      if (k === undefined || k !== key) close();
      key = k;
      if (k !== undefined) run.push(id);
    }
    close();
  }
  return runs;
}

/** The merged node of a run: every table in operand order, parts kept. */
function mergedNode(graph: Graph, run: BagRun): Node {
  const nodes = run.bags.map((id) => graph.nodes.find((n) => n.id === id)!);
  const first = nodes[0]!;
  const tables = nodes.flatMap(weightInputs);
  const dim = (first.type as { shape: number[] }).shape.at(-1)!;
  const attrs: Attrs = { ...first.attrs, bags: nodes.flatMap((n) => n.attrs.bags as number[]), stacked: true };
  if (nodes.some((n) => Array.isArray(n.attrs.parts)))
    attrs.parts = nodes.flatMap((n) => (Array.isArray(n.attrs.parts) ? (n.attrs.parts as number[]) : weightInputs(n).map(() => 1)));
  const count = (attrs.bags as number[]).length;
  return { ...first, inputs: [first.inputs[0]!, ...tables.map((t) => `@${t}`)], attrs, type: tensor(["B", count, dim]) };
}

export const fuseBags: Pass = {
  name: "fuse-bags",
  summary: "Merge embedding bags of one input, pooling, dimension and precision that feed one reader into one table-batched bag",
  requires: ["precision"],
  provides: ["fused-bags"],
  options: {},
  run(graph, ctx) {
    const runs = bagRuns(graph);
    if (runs.length === 0) return graph;
    const taken = valueIds(graph);
    let nodes = [...graph.nodes];
    for (const run of runs) {
      const merged = mergedNode(graph, run);
      const [, tables, dim] = (merged.type as { shape: number[] }).shape as [unknown, number, number];
      const readerAt = nodes.findIndex((n) => n.id === run.reader);
      const reader = nodes[readerAt]!;
      // A concat gets a flatten of the merged bag (same bytes); an interaction takes [B,tables,dim] as it is.
      const flat: Node | undefined =
        reader.op === "concat"
          ? {
              id: freshId(taken, `${merged.id}.flat`),
              op: "flatten",
              inputs: [valueRef(merged.id)],
              attrs: {},
              type: tensor(["B", tables * dim]),
              span: merged.span,
            }
          : undefined;
      const inputs = [...reader.inputs];
      inputs.splice(inputs.indexOf(valueRef(run.bags[0]!)), run.bags.length, valueRef(flat ? flat.id : merged.id));
      nodes[readerAt] = { ...reader, inputs };
      // The merged node sits where the last bag was, so that every bag's input is defined before it.
      const last = run.bags.at(-1)!;
      nodes = nodes.flatMap((n) => (n.id === last ? [merged, ...(flat ? [flat] : [])] : run.bags.includes(n.id) ? [] : [n]));
    }
    return ctx.produce(graph, (g) => {
      g.nodes = nodes;
    });
  },
};
