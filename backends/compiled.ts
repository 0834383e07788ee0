// Backends: what every target's compile step reports about the final IR —
// the request signature the runtime checks calls against, and the precision
// each table and dense layer is compiled at (checked against what the
// target's kernels implement, and written to the manifest). Shared by
// backends/wasm and backends/wgsl, which schedule the same ops.

import type { Graph, Span, TensorType } from "../src/ir/types.js";
import { weightInputs } from "../src/ir/types.js";
import { layerPrecision, precisionOf } from "../src/ir/attrs.js";
import { dataSchema } from "../src/data/schema.js";
import type { IdPolicy, InputSignature, Manifest } from "../src/runtime/manifest.js";
import { widthOf } from "./schedule.js";
import type { TargetPrecisions } from "../src/target/index.js";

/** Signature of the model as the runtime checks requests against it. */
export function signature(graph: Graph): Manifest["model"] {
  const schema = dataSchema(graph);
  const policy = (table: string): IdPolicy => (graph.weights.find((w) => w.name === table)?.attrs.ids as IdPolicy | undefined) ?? "error";
  const inputs: InputSignature[] = graph.inputs.map((i) =>
    i.type.kind === "bags"
      ? {
          name: i.name,
          kind: "bags",
          count: i.type.count,
          weighted: i.type.weighted,
          // The schema's policy is the logical table's (a split table's parts carry it); a table's own name finds unsplit ones.
          features: schema.sparse.filter((s) => s.input === i.name).map((s) => ({ rows: s.rows, ids: s.ids ?? policy(s.table) })),
        }
      : { name: i.name, kind: "dense", width: widthOf(i.type) },
  );
  const type = (id: string) => (graph.nodes.find((n) => n.id === id)?.type ?? graph.inputs.find((i) => i.name === id)?.type) as TensorType;
  return { name: graph.name, inputs, outputs: graph.outputs.map((o) => ({ name: o.name, width: widthOf(type(o.value)) })) };
}

/** One table (by weight name) or dense layer (by node id), its precision and what the target allows there. */
export interface CompiledPrecision {
  what: string;
  key: string;
  precision: string;
  allowed: readonly string[];
  span: Span;
}

/** Every table and dense layer with the precision it is compiled at; other ops compute in fp32. */
export function compiledPrecisions(graph: Graph, allowed: TargetPrecisions): CompiledPrecision[] {
  const decls = new Map(graph.weights.map((w) => [w.name, w]));
  const out: CompiledPrecision[] = [];
  const seen = new Set<string>();
  for (const n of graph.nodes) {
    if (n.op === "embedding_bag")
      for (const name of weightInputs(n)) {
        const decl = decls.get(name);
        if (!decl || seen.has(name)) continue;
        seen.add(name);
        out.push({ what: `table ${name}`, key: name, precision: precisionOf(decl, n), allowed: allowed.tables, span: decl.span });
      }
    if (n.op === "linear" || n.op === "cross_layer")
      out.push({ what: `${n.op} %${n.id}`, key: n.id, precision: layerPrecision(graph, n), allowed: allowed[n.op], span: n.span });
  }
  return out;
}

/** The manifest's `precision`: every table's and dense layer's compiled precision by key. */
export const precisionsByKey = (graph: Graph, allowed: TargetPrecisions): Record<string, string> =>
  Object.fromEntries(compiledPrecisions(graph, allowed).map((c) => [c.key, c.precision]));
