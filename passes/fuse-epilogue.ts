// fuse-epilogue: a linear (or cross) layer whose only reader is an activation
// takes that activation into its epilogue: `%y = linear(...)`, `%z = relu(%y)`
// becomes `%y = linear(...) {act="relu"}`, and every reader of %z (graph
// outputs too) reads %y. The layer keeps its id, so precision plans and pins,
// which name layers by id, still apply. Runs after assign-precision (the
// precision search measures the unfused graph; both forms compute the same
// numbers) and before fold-quant, which looks for layer-to-layer edges.

import { users } from "../src/ir/analysis.js";
import { ACTIVATIONS, actOf } from "../src/ir/attrs.js";
import { renameValueUses } from "../src/ir/build.js";
import type { Graph, Node } from "../src/ir/types.js";
import { valueInputs } from "../src/ir/types.js";
import type { Pass } from "../src/pipeline/pass.js";

/** Activations a layer's epilogue can apply, by layer op (cross layers: relu only). */
const EPILOGUES: Record<string, readonly string[]> = { linear: ACTIVATIONS, cross_layer: ["relu"] };

/** `[layer id, activation id, activation op]` for each layer that can take its reader's activation. */
export function epilogueMatches(graph: Graph, allowed: readonly string[]): [string, string, string][] {
  const readers = users(graph);
  const byId = new Map(graph.nodes.map((n) => [n.id, n] as const));
  const outputs = new Set(graph.outputs.map((o) => o.value));
  const matches: [string, string, string][] = [];
  for (const layer of graph.nodes) {
    if (!fusible(layer) || outputs.has(layer.id)) continue;
    const only = readers.get(layer.id) ?? [];
    const act = only.length === 1 ? byId.get(only[0]!) : undefined;
    if (!act || valueInputs(act).length !== 1 || !allowed.includes(act.op) || !EPILOGUES[layer.op]!.includes(act.op)) continue;
    matches.push([layer.id, act.id, act.op]);
  }
  return matches;
}

/** A layer with no epilogue yet that writes f32 (a fold-quant layer writes codes, which no activation reads). */
const fusible = (n: Node): boolean => n.op in EPILOGUES && actOf(n) === "none" && typeof n.attrs.out_scale !== "number";

export const fuseEpilogue: Pass<{ acts: string }> = {
  name: "fuse-epilogue",
  summary: "Fold an activation (relu, sigmoid, tanh) into the linear or cross layer it reads, as the layer's `act`",
  requires: ["precision"],
  provides: ["epilogues"],
  options: {
    acts: {
      type: "list",
      values: ACTIVATIONS,
      default: ACTIVATIONS.join(";"),
      doc: "activations to fold, separated by ; (a backend may take fewer)",
    },
  },
  run(graph, ctx) {
    // The manager checked every item against `values` when it resolved the pipeline.
    const allowed = ctx.options.acts.split(";").filter(Boolean);
    const matches = epilogueMatches(graph, allowed);
    if (matches.length === 0) return graph;
    // One walk for all matches: an activation's readers read its layer (a
    // layer is never an activation, so the renaming needs no chasing).
    const epilogue = new Map(matches.map(([layerId, , op]) => [layerId, op] as const));
    const renames = new Map(matches.map(([layerId, actId]) => [actId, layerId] as const));
    return ctx.produce(graph, (g) => {
      g.nodes = g.nodes.filter((n) => !renames.has(n.id));
      for (const n of g.nodes) {
        const op = epilogue.get(n.id);
        if (op !== undefined) n.attrs.act = op;
      }
      renameValueUses(g, renames);
    });
  },
};
