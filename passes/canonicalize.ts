// canonicalize: rewrites composite ops into the primitive ops later passes
// and backends work on. `mlp` becomes a chain of `linear` (+ activation)
// nodes and `cross` a chain of `cross_layer` nodes; the last node of each chain
// keeps the original id, so readers of the composite value are untouched.

import { freshId, graphTypeEnv, inferNodeType, valueIds, type TypeEnv } from "../src/ir/build.js";
import { COMMON_ATTRS, OPS, withDefaults } from "../src/ir/ops.js";
import type { Attrs, Graph, Node, Type } from "../src/ir/types.js";
import { valueRef } from "../src/ir/types.js";
import type { Pass } from "../src/pipeline/pass.js";

/** The composite ops this pass expands. */
const COMPOSITES = new Set(["mlp", "cross"]);

/** The attributes every op accepts (user pins), copied onto each node a composite expands into. */
function pins(attrs: Attrs): Attrs {
  const out: Attrs = {};
  for (const k of Object.keys(COMMON_ATTRS)) if (attrs[k] !== undefined) out[k] = attrs[k]!;
  return out;
}

/** Collects the chain's nodes, typing each from the ones before it. */
class ChainBuilder {
  readonly nodes: Node[] = [];
  private readonly types = new Map<string, Type | null>();
  private readonly env: TypeEnv;
  constructor(
    private readonly composite: Node,
    base: TypeEnv,
  ) {
    this.env = { valueType: (id) => (this.types.has(id) ? this.types.get(id) : base.valueType(id)), weight: base.weight };
  }
  /** Adds `%id = op(inputs) {attrs}` and returns `%id`. */
  add(id: string, op: string, inputs: string[], attrs: Attrs): string {
    const node: Node = { id, op, inputs, attrs: { ...attrs, ...pins(this.composite.attrs) }, type: null, span: this.composite.span };
    const r = inferNodeType(node, this.env);
    node.type = r?.ok ? r.type : null;
    this.types.set(id, node.type);
    this.nodes.push(node);
    return valueRef(id);
  }
}

function expandMlp(n: Node, env: TypeEnv, taken: Set<string>): Node[] {
  const attrs = withDefaults(OPS.mlp, n.attrs);
  const sizes = attrs.sizes as number[];
  const perLayer = attrs.bias === false ? 1 : 2;
  const [x, ...weights] = n.inputs;
  const chain = new ChainBuilder(n, env);
  let prev = x!;
  sizes.forEach((_, i) => {
    const last = i === sizes.length - 1;
    const act = String(last ? attrs.final : attrs.act);
    const linearId = last && act === "none" ? n.id : freshId(taken, `${n.id}.${i}`);
    prev = chain.add(linearId, "linear", [prev, ...weights.slice(i * perLayer, (i + 1) * perLayer)], {});
    if (act !== "none") prev = chain.add(last ? n.id : freshId(taken, `${linearId}.${act}`), act, [prev], {});
  });
  return chain.nodes;
}

function expandCross(n: Node, env: TypeEnv, taken: Set<string>): Node[] {
  const attrs = withDefaults(OPS.cross, n.attrs);
  const layers = attrs.layers as number;
  const rank = attrs.rank as number;
  const perLayer = rank > 0 ? 3 : 2;
  const [x0, ...weights] = n.inputs;
  const chain = new ChainBuilder(n, env);
  let prev = x0!;
  for (let l = 0; l < layers; l++) {
    const id = l === layers - 1 ? n.id : freshId(taken, `${n.id}.${l}`);
    prev = chain.add(id, "cross_layer", [x0!, prev, ...weights.slice(l * perLayer, (l + 1) * perLayer)], { rank });
  }
  return chain.nodes;
}

export const canonicalize: Pass = {
  name: "canonicalize",
  summary: "Expand mlp into linear + activation nodes and cross into cross_layer nodes",
  provides: ["canonical"],
  options: {},
  run(graph: Graph, ctx) {
    if (!graph.nodes.some((n) => COMPOSITES.has(n.op))) return graph;
    const env = graphTypeEnv(graph);
    const taken = valueIds(graph);
    const expansions = graph.nodes.map((n) =>
      n.op === "mlp" ? expandMlp(n, env, taken) : n.op === "cross" ? expandCross(n, env, taken) : undefined,
    );
    return ctx.produce(graph, (draft) => {
      for (let i = expansions.length - 1; i >= 0; i--) {
        const nodes = expansions[i];
        if (nodes) draft.nodes.splice(i, 1, ...nodes);
      }
    });
  },
};
