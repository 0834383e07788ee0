// Writing imported canonical IR as readable DSL (the last step of
// `rmc import-onnx`). Nodes are grouped into statements the way the front end
// and canonicalize would have made them: linear/activation chains become
// `mlp`, cross_layer chains `cross`, and nodes named `N.op` nest inside
// statement N; ids and weight names that already follow rmc's naming are
// kept, so an exported model comes back with the same IR. Also returns the IR
// the DSL will lower to (for import.ts's self-check) and the weight renaming.

import { RmcError, error } from "../diagnostics.js";
import { type Graph, type Input, type Node, type TensorType, type WeightDecl, valueInputs, valueRef, weightInputs, weightRef } from "../ir/types.js";
import { planTables, tableExpr, type TablePlan } from "./dsl-tables.js";
import { ONNX_CODES } from "./proto.js";
import { type Statement, findStatement } from "./statements.js";

/** The DSL text, the IR it lowers to (canonical, spans aside) and each weight's DSL name. */
export interface DslModel {
  text: string;
  graph: Graph;
  weightNames: Map<string, string>;
}

const KEYWORDS = new Set(["model", "input", "table", "output", "true", "false"]);

/** A DSL name for any string: letters, digits and `_`, not starting with a digit, not a keyword. */
export function dslName(s: string): string {
  let n = s.replace(/[^A-Za-z0-9_]+/g, "_").replace(/^_+|_+$/g, "");
  if (n === "" || /^[0-9]/.test(n)) n = `v_${n}`;
  return KEYWORDS.has(n) ? `${n}_` : n;
}

/** Writes canonical IR `g` as a model in rmc's language. */
export function writeDsl(g: Graph, header: string): DslModel {
  const taken = new Set<string>();
  const claim = (wanted: string): string => {
    const base = dslName(wanted);
    let name = base;
    for (let k = 2; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  };
  const outputNames = new Map<string, string>(); // sanitized output name → IR value
  for (const o of g.outputs) outputNames.set(dslName(o.name), o.value.replace(/^%/, ""));
  const names = new Map<string, string>(); // IR value → DSL name
  const inputs: Input[] = g.inputs.map((i) => {
    const name = claim(i.name);
    names.set(i.name, name);
    return { ...i, name };
  });
  const tables = planTables(g, claim);
  const statements = groupStatements(g);
  const lines = [...inputs.map(inputLine), "", ...tables.lines, ""];
  const nodes: Node[] = [];
  const layerWeights: string[] = [];
  const weightNames = new Map(tables.rename);
  const nodeIds = new Map<string, string>();
  for (const st of statements) {
    const wanted = outputNames.has(dslName(st.name)) && outputNames.get(dslName(st.name)) !== st.root.id ? `${st.name}_value` : st.name;
    const name = claim(wanted);
    const predicted = st.predict(name);
    predicted.ids.forEach((id, old) => nodeIds.set(old, id));
    predicted.weights.forEach((w, old) => (weightNames.set(old, w), layerWeights.push(w)));
    const pin = st.pin();
    if (pin) lines.push(`@precision(${pin})`);
    lines.push(`${name} = ${st.render((id) => names.get(id)!, (t, whole) => tableExpr(tables.refs.get(t)!, whole), g)}`);
    names.set(st.root.id, name);
    for (const n of st.nodes) nodes.push(renameNode(n, nodeIds, weightNames, names));
  }
  const outputs = g.outputs.map((o) => {
    const value = names.get(o.value.replace(/^%/, ""))!;
    const name = dslName(o.name);
    lines.push(name === value ? `output ${name}` : `output ${name} = ${value}`);
    return { ...o, name, value: nodeIds.get(o.value.replace(/^%/, "")) ?? value };
  });
  const decls = new Map(g.weights.map((w) => [weightNames.get(w.name) ?? w.name, w]));
  const weights: WeightDecl[] = [...tables.order, ...layerWeights].map((n) => ({ ...decls.get(n)!, name: n }));
  const graph: Graph = { name: dslName(g.name || "imported"), inputs, weights, nodes, outputs };
  const body = lines.map((l) => (l ? `  ${l}` : "")).join("\n").replace(/\n{3,}/g, "\n\n");
  return { text: `${header}model ${graph.name} {\n${body}\n}\n`, graph, weightNames };
}

function inputLine(i: Input): string {
  if (i.type.kind === "bags") return `input ${i.name}: ${i.type.weighted ? "weighted_bags" : "bags"}[${i.type.count}]`;
  return `input ${i.name}: f32[${(i.type as TensorType).shape[1]}]`;
}

/** A node with its id, operands and weights renamed. */
function renameNode(n: Node, ids: Map<string, string>, weights: Map<string, string>, names: Map<string, string>): Node {
  const values = valueInputs(n).map((v) => valueRef(ids.get(v) ?? names.get(v) ?? v));
  return { ...n, id: ids.get(n.id)!, inputs: [...values, ...weightInputs(n).map((w) => weightRef(weights.get(w)!))] };
}

/** Every node in exactly one statement, statements in the order of their roots. */
function groupStatements(g: Graph): Statement[] {
  const uses = new Map<string, number>();
  for (const n of g.nodes) for (const v of valueInputs(n)) uses.set(v, (uses.get(v) ?? 0) + 1);
  for (const o of g.outputs) uses.set(o.value.replace(/^%/, ""), (uses.get(o.value.replace(/^%/, "")) ?? 0) + 1);
  const claimed = new Set<Node>();
  const found: Statement[] = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const root = g.nodes[i]!;
    if (claimed.has(root)) continue;
    const st = findStatement(g, root, { uses: (id) => uses.get(id) ?? 0, free: (n) => !claimed.has(n) });
    st.nodes.forEach((n) => claimed.add(n));
    found.push(st);
  }
  const position = new Map(g.nodes.map((n, i) => [n, i]));
  return found.sort((a, b) => position.get(a.root)! - position.get(b.root)!);
}

/** A model the language cannot say (raised from statement building). */
export function inexpressible(what: string): RmcError {
  return new RmcError(error(ONNX_CODES.unsupported, `cannot write the imported graph in rmc's language: ${what}`));
}

export type { TablePlan };
