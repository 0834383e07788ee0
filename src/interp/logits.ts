// Logits of a model's outputs: the value entering each output's final sigmoid.
// The synthetic data generator draws labels from them and init-weights
// calibrates output layers with them. Runs the reference interpreter on a
// canonicalized graph (where an output's last op is an explicit `sigmoid`).

import { RmcError } from "../diagnostics/index.js";
import type { Graph } from "../ir/types.js";
import type { Batch } from "../data/batch.js";
import type { WeightStore } from "../weights/store.js";
import { interpret } from "./interpreter.js";

/** For each output (graph order): the id of the value its final sigmoid reads. Errors name outputs that are not probabilities. */
export function logitSources(graph: Graph): string[] {
  return graph.outputs.map((o) => {
    const node = graph.nodes.find((n) => n.id === o.value);
    if (node?.op === "sigmoid") return node.inputs[0]!.slice(1);
    const what = node ? `\`${node.op}\`` : "a graph input";
    const hint =
      node?.op === "mlp"
        ? " (run the canonicalize pass first, which makes the mlp's final sigmoid explicit)"
        : "; end it with sigmoid(...) or mlp(..., final: sigmoid)";
    throw new RmcError({
      code: "E1560",
      severity: "error",
      message: `output \`${o.name}\` is not a probability: it comes from ${what}, not a sigmoid${hint}`,
      span: o.span,
    });
  });
}

/** The logits of every output for one batch, in graph output order. */
export function outputLogits(graph: Graph, weights: WeightStore, batch: Batch): Float32Array[] {
  const sources = logitSources(graph);
  const { values } = interpret(graph, weights, batch, { keep: "all" });
  return sources.map((id) => values!.get(id)!);
}
