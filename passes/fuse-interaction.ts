// fuse-interaction: an interaction whose only reader is a concat that starts
// with it takes the concat's other operands as `tail` operands, so one kernel
// writes the interaction and copies the rest after it, and the concat (a pass
// over memory and a buffer) is gone: `%z = interact(%x, %e)`,
// `%c = concat(%z, %d)` becomes `%z = interact(%x, %e, %d) {tail=1}`, and
// readers of %c read %z. The interaction keeps its id. Runs after canonicalize
// and fuse-bags (which looks at the interaction's feature operands).

import { users } from "../src/ir/analysis.js";
import { replaceValueUses } from "../src/ir/build.js";
import type { Graph } from "../src/ir/types.js";
import { valueInputs } from "../src/ir/types.js";
import type { Pass } from "../src/pipeline/pass.js";

/** `[interact id, concat id]` for each interaction a concat can be folded into. */
export function interactionMatches(graph: Graph): [string, string][] {
  const readers = users(graph);
  const byId = new Map(graph.nodes.map((n) => [n.id, n] as const));
  const outputs = new Set(graph.outputs.map((o) => o.value));
  const matches: [string, string][] = [];
  for (const node of graph.nodes) {
    if (node.op !== "interact" || outputs.has(node.id)) continue;
    const only = readers.get(node.id) ?? [];
    const concat = only.length === 1 ? byId.get(only[0]!) : undefined;
    if (concat?.op !== "concat") continue;
    const operands = valueInputs(concat);
    // The interaction must come first and only once: the tail follows its output.
    if (operands[0] !== node.id || operands.slice(1).includes(node.id) || operands.length < 2) continue;
    matches.push([node.id, concat.id]);
  }
  return matches;
}

export const fuseInteraction: Pass = {
  name: "fuse-interaction",
  summary: "Fold a concat that follows an interaction into it (the concat's other operands become `tail` operands)",
  requires: ["precision"],
  provides: ["fused-interaction"],
  options: {},
  run(graph, ctx) {
    const matches = interactionMatches(graph);
    if (matches.length === 0) return graph;
    const byId = new Map(graph.nodes.map((n) => [n.id, n] as const));
    return ctx.produce(graph, (g) => {
      for (const [interactId, concatId] of matches) {
        const node = byId.get(interactId)!;
        const concat = byId.get(concatId)!;
        const values = node.inputs.filter((r) => r.startsWith("%"));
        const weights = node.inputs.filter((r) => !r.startsWith("%"));
        const had = typeof node.attrs.tail === "number" ? node.attrs.tail : 0;
        const tail = concat.inputs.slice(1);
        const fused = { ...node, inputs: [...values, ...tail, ...weights], attrs: { ...node.attrs, tail: had + tail.length }, type: concat.type };
        // The fused node takes the concat's place: its tail operands may be computed after the interaction.
        g.nodes = g.nodes.filter((n) => n.id !== interactId).map((n) => (n.id === concatId ? fused : n));
        replaceValueUses(g, concatId, interactId);
      }
    });
  },
};
