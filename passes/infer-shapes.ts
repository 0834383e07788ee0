// infer-shapes: (re)computes every node's type from the op table, visiting
// nodes in dependence order. Passes and plugins that build nodes may leave
// `type: null` and run this after them. A type error is a located RmcError
// naming the node; nodes that depend on a failed one are skipped, not blamed.

import { RmcError, didYouMean, error, type Diagnostic } from "../src/diagnostics/index.js";
import { topologicalOrder } from "../src/ir/analysis.js";
import { inferNodeType, type TypeEnv } from "../src/ir/build.js";
import { OP_NAMES, opDef } from "../src/ir/ops.js";
import type { Graph, Node, Type } from "../src/ir/types.js";
import { typesEqual } from "../src/ir/types.js";
import { VERIFY_CODES } from "../src/ir/verify.js";
import type { Pass } from "../src/pipeline/pass.js";

/** Every node's type by id (null where it could not be computed), plus the errors met on the way. */
function inferAll(graph: Graph): { types: Map<string, Type | null>; errors: Diagnostic[] } {
  const types = new Map<string, Type | null>(graph.inputs.map((i) => [i.name, i.type] as const));
  const weights = new Map(graph.weights.map((w) => [w.name, w] as const));
  const env: TypeEnv = { valueType: (id) => types.get(id), weight: (name) => weights.get(name) };
  const byId = new Map<string, Node>();
  for (const n of graph.nodes) if (!byId.has(n.id)) byId.set(n.id, n);
  const errors: Diagnostic[] = [];
  for (const id of topologicalOrder(graph)) {
    const n = byId.get(id)!;
    types.set(id, null);
    if (!opDef(n.op)) {
      errors.push(error(VERIFY_CODES.unknownOp, `%${id}: unknown op \`${n.op}\``, n.span, didYouMean(n.op, OP_NAMES)));
      continue;
    }
    const r = inferNodeType(n, env);
    if (r?.ok) types.set(id, r.type);
    else if (r) errors.push(error(VERIFY_CODES.typeError, `%${id}: ${r.message}`, n.span, r.hint));
  }
  return { types, errors };
}

export const inferShapes: Pass = {
  name: "infer-shapes",
  summary: "Compute every node's type from the op table, in dependence order",
  options: {},
  run(graph, ctx) {
    const { types, errors } = inferAll(graph);
    if (errors.length > 0) throw new RmcError(errors);
    return ctx.produce(graph, (draft) => {
      for (const n of draft.nodes) {
        const t = types.get(n.id);
        if (t && (n.type === null || !typesEqual(n.type, t))) n.type = t;
      }
    });
  },
};
