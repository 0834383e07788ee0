// fold-activations.js — an example rmc plugin: a custom pass written as a plain
// ES module, with no build step and no imports (it updates the graph with the
// `ctx.produce` the pass manager hands it; its types, in JSDoc, come from the
// `rmc` package's main entry). It removes a `relu` applied to a
// value that is already non-negative — the output of another relu or of a
// sigmoid — since such a relu changes nothing but still costs a pass over memory.
//
//   rmc ir model.rmdl --plugin ./examples/plugins/fold-activations.js \
//     --passes 'canonicalize,fold-activations{report=true},infer-shapes,dce'

/** Ops whose every output element is >= 0, so relu after them is the identity. */
const NON_NEGATIVE = new Set(["relu", "sigmoid"]);

/**
 * For every foldable relu, the id of the value that replaces it. Nodes come
 * in dependence order, so a chain relu(relu(relu(x))) resolves to its first relu.
 * @param {{ nodes: { id: string, op: string, inputs: string[] }[] }} graph
 * @returns {Map<string, string>}
 */
function findFoldable(graph) {
  const opOf = new Map(graph.nodes.map((n) => [n.id, n.op]));
  /** @type {Map<string, string>} */
  const replacement = new Map();
  for (const n of graph.nodes) {
    if (n.op !== "relu" || n.inputs.length !== 1 || !n.inputs[0].startsWith("%")) continue;
    const read = n.inputs[0].slice(1);
    const source = replacement.get(read) ?? read;
    if (NON_NEGATIVE.has(opOf.get(source) ?? "")) replacement.set(n.id, source);
  }
  return replacement;
}

/** @type {import("rmc").Pass<{ report: boolean }>[]} */
export const passes = [
  {
    name: "fold-activations",
    summary: "Remove a relu applied to an already non-negative value (the output of relu or sigmoid)",
    options: {
      report: { type: "boolean", default: false, doc: "add a note for every relu removed" },
    },
    run(graph, ctx) {
      const replacement = findFoldable(graph);
      if (replacement.size === 0) return graph;
      if (ctx.options.report)
        for (const n of graph.nodes)
          if (replacement.has(n.id))
            ctx.diagnostics.push({
              code: "fold-activations",
              severity: "note",
              message: `removed %${n.id}: relu of %${replacement.get(n.id)}, which is already non-negative`,
              span: n.span,
            });
      /** @param {string} ref */
      const redirect = (ref) => (ref.startsWith("%") && replacement.has(ref.slice(1)) ? `%${replacement.get(ref.slice(1))}` : ref);
      return ctx.produce(graph, (draft) => {
        draft.nodes = draft.nodes.filter((n) => !replacement.has(n.id));
        for (const n of draft.nodes) if (n.inputs.some((r) => redirect(r) !== r)) n.inputs = n.inputs.map(redirect);
        for (const o of draft.outputs) o.value = replacement.get(o.value) ?? o.value;
      });
    },
  },
];
