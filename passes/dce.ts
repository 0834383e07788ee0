// dce: dead-code elimination. Keeps the nodes the graph's outputs depend on
// and the weight declarations those nodes read; drops the rest. Graph inputs
// always stay: an unused input is still part of the model's signature.

import type { Graph } from "../src/ir/types.js";
import { isValueRef, refName, weightInputs } from "../src/ir/types.js";
import type { Pass } from "../src/pipeline/pass.js";

/** Ids of the nodes some output depends on. */
function liveNodes(graph: Graph): Set<string> {
  const readsOf = new Map<string, string[]>();
  for (const n of graph.nodes) if (!readsOf.has(n.id)) readsOf.set(n.id, n.inputs.filter(isValueRef).map(refName));
  const live = new Set<string>();
  const work = graph.outputs.map((o) => o.value);
  while (work.length > 0) {
    const id = work.pop()!;
    const reads = readsOf.get(id);
    if (!reads || live.has(id)) continue;
    live.add(id);
    work.push(...reads);
  }
  return live;
}

export const dce: Pass<{ keepWeights: boolean }> = {
  name: "dce",
  summary: "Remove nodes no output depends on, and weights no node reads",
  options: {
    keepWeights: { type: "boolean", default: false, doc: "keep weight declarations even when no node reads them" },
  },
  run(graph, ctx) {
    const live = liveNodes(graph);
    const nodes = graph.nodes.filter((n) => live.has(n.id));
    const read = new Set(nodes.flatMap(weightInputs));
    const weights = ctx.options.keepWeights ? graph.weights : graph.weights.filter((w) => read.has(w.name));
    if (nodes.length === graph.nodes.length && weights.length === graph.weights.length) return graph;
    return ctx.produce(graph, (draft) => {
      draft.nodes = draft.nodes.filter((n) => live.has(n.id));
      draft.weights = draft.weights.filter((w) => ctx.options.keepWeights || read.has(w.name));
    });
  },
};
