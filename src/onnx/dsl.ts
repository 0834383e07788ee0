// Writing imported canonical IR as DSL text (the last step of `rmc import-onnx`).
// Nodes are grouped into statements by rmc's own id convention — statement S
// makes node S, nested calls `S.op`, mlp layers `S.0`, `S.0.relu`, ...; cross
// layers `S.0`, ... — so a model rmc exported comes back as the statements it
// was written with (mlp and cross included). Nodes named any other way become
// one statement each. Tables are planned by dsl-tables.ts. Weight names are
// not decided here: import.ts parses the text and pairs weights up.

import { RmcError, error } from "../diagnostics/index.js";
import { type Graph, type Input, type Node, type TensorType, valueInputs, weightInputs } from "../ir/types.js";
import { planTables, tableExpr, type TablePlan } from "./dsl-tables.js";
import { ONNX_CODES } from "./proto.js";

const KEYWORDS = new Set(["model", "input", "table", "output", "true", "false"]);

/** A DSL name for any string: letters, digits and `_`, not starting with a digit, not a keyword. */
export function dslName(s: string): string {
  let n = s.replace(/[^A-Za-z0-9_]+/g, "_").replace(/^_+|_+$/g, "");
  if (n === "" || /^[0-9]/.test(n)) n = `v_${n}`;
  return KEYWORDS.has(n) ? `${n}_` : n;
}

/** A model the language cannot say. */
export function inexpressible(n: Node, why: string): RmcError {
  return new RmcError(error(ONNX_CODES.unsupported, `cannot write the imported node \`${n.id}\` (${n.op}) in rmc's language: ${why}`));
}

/** One statement: its root node (whose value the statement names) and every node it makes. */
interface Statement {
  key: string;
  root: Node;
  nodes: Node[];
}

/** Writes canonical IR `g` as a model in rmc's language; `header` (comment lines) goes first. */
export function writeDsl(g: Graph, header: string): string {
  const taken = new Set<string>();
  const claim = (wanted: string): string => {
    const base = dslName(wanted);
    let name = base;
    for (let k = 2; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  };
  const names = new Map<string, string>(); // IR value → DSL name
  for (const i of g.inputs) names.set(i.name, claim(i.name));
  const outputs = new Map(g.outputs.map((o) => [dslName(o.name), o.value.replace(/^%/, "")]));
  for (const o of outputs.keys()) taken.add(o);
  const tables = planTables(g, claim);
  const lines = [...g.inputs.map((i) => inputLine(names.get(i.name)!, i)), "", ...tables.lines, ""];
  for (const st of statements(g)) {
    const wanted = dslName(st.key);
    const name = outputs.get(wanted) === st.root.id ? wanted : claim(outputs.has(wanted) ? `${wanted}_value` : wanted);
    // A statement's pin: its root's, or the one its layers share (an int8 layer read back under an activation).
    const pins = new Set(st.nodes.map((n) => n.attrs.precision).filter((p) => typeof p === "string"));
    const pin = st.root.attrs.precision ?? (pins.size === 1 ? [...pins][0] : undefined);
    if (typeof pin === "string") lines.push(`@precision(${pin})`);
    lines.push(`${name} = ${renderStatement(st, g, names, tables)}`);
    names.set(st.root.id, name);
  }
  for (const o of g.outputs) {
    const value = names.get(o.value.replace(/^%/, ""));
    if (value === undefined)
      throw new RmcError(error(ONNX_CODES.unsupported, `output ${o.name} returns a graph input directly, which rmc's language cannot say`));
    const name = dslName(o.name);
    lines.push(name === value ? `output ${name}` : `output ${name} = ${value}`);
  }
  const body = lines
    .map((l) => (l ? `  ${l}` : ""))
    .join("\n")
    .replace(/\n{3,}/g, "\n\n");
  return `${header}model ${dslName(g.name || "imported")} {\n${body}\n}\n`;
}

function inputLine(name: string, i: Input): string {
  if (i.type.kind === "bags") return `input ${name}: ${i.type.weighted ? "weighted_bags" : "bags"}[${i.type.count}]`;
  return `input ${name}: f32[${(i.type as TensorType).shape[1]}]`;
}

/** Groups nodes by id prefix (the part before the first `.`) where that is a valid statement, else one node each. */
function statements(g: Graph): Statement[] {
  const groups = new Map<string, Node[]>();
  for (const n of g.nodes) {
    const key = n.id.split(".")[0]!;
    groups.set(key, [...(groups.get(key) ?? []), n]);
  }
  const readers = new Map<string, Node[]>();
  for (const n of g.nodes) for (const v of valueInputs(n)) readers.set(v, [...(readers.get(v) ?? []), n]);
  const outputs = new Set(g.outputs.map((o) => o.value.replace(/^%/, "")));
  const found: Statement[] = [];
  for (const [key, nodes] of groups) {
    const root = nodes[nodes.length - 1]!;
    const inner = new Set(nodes.slice(0, -1));
    // Inner nodes are read once, inside the group, and are no outputs: they can be nested calls or mlp/cross layers.
    const closed =
      root.id === key &&
      [...inner].every((n) => !outputs.has(n.id) && (readers.get(n.id) ?? []).length === 1 && nodes.includes(readers.get(n.id)![0]!));
    if (closed) found.push({ key, root, nodes });
    else for (const n of nodes) found.push({ key: n.id, root: n, nodes: [n] });
  }
  const position = new Map(g.nodes.map((n, i) => [n, i]));
  return found.sort((a, b) => position.get(a.root)! - position.get(b.root)!);
}

/** The right-hand side of a statement: an mlp, a cross, or nested calls. */
function renderStatement(st: Statement, g: Graph, names: Map<string, string>, tables: TablePlan): string {
  const inner = new Map(st.nodes.map((n) => [n.id, n]));
  const operand = (id: string): string => {
    const n = inner.get(id);
    if (n && n !== st.root) return call(n);
    const name = names.get(id);
    if (name === undefined) throw inexpressible(st.root, `it reads \`${id}\`, which is defined later or not at all`);
    return name;
  };
  const call = (n: Node): string => renderCall(n, g, operand, tables);
  // One linear node is an mlp of one layer when its weights carry the layer index (`S.0.weight`), as mlp names them.
  const composite = st.nodes.length > 1 || weightInputs(st.root)[0] === `${st.key}.0.weight`;
  return (composite && (mlpCall(st, operand) ?? crossCall(st, operand))) || call(st.root);
}

/** `mlp(x, [sizes], act, final, bias)` when the statement's nodes are canonicalize's expansion of one. */
function mlpCall(st: Statement, operand: (id: string) => string): string | undefined {
  const layers: { linear: Node; act?: Node }[] = [];
  for (const n of st.nodes) {
    if (n.op === "linear") layers.push({ linear: n });
    else if (["relu", "sigmoid", "tanh"].includes(n.op) && layers.length && !layers[layers.length - 1]!.act) layers[layers.length - 1]!.act = n;
    else return undefined;
  }
  const S = st.key;
  const last = layers.length - 1;
  const acts = layers.map((l) => l.act?.op ?? "none");
  const hidden = new Set(acts.slice(0, last));
  if (hidden.size > 1) return undefined;
  const act = [...hidden][0] ?? acts[last]!;
  const bias = new Set(layers.map((l) => weightInputs(l.linear).length === 2));
  if (bias.size > 1) return undefined;
  const ok = layers.every((l, i) => {
    const linearId = i === last && !l.act ? S : `${S}.${i}`;
    const reads = i === 0 || valueInputs(l.linear)[0] === (layers[i - 1]!.act ?? layers[i - 1]!.linear).id;
    return reads && l.linear.id === linearId && (!l.act || l.act.id === (i === last ? S : `${linearId}.${l.act.op}`));
  });
  if (!ok) return undefined;
  const sizes = layers.map((l) => (l.linear.type as TensorType).shape[1] as number);
  const args = [operand(valueInputs(layers[0]!.linear)[0]!), `[${sizes.join(", ")}]`, `act: ${act}`, `final: ${acts[last]}`];
  if (!bias.has(true)) args.push("bias: false");
  return `mlp(${args.join(", ")})`;
}

/** `cross(x0, layers: L, rank: r)` when the statement's nodes are a chain of cross layers S.0, ..., S. */
function crossCall(st: Statement, operand: (id: string) => string): string | undefined {
  const ns = st.nodes;
  if (!ns.every((n) => n.op === "cross_layer")) return undefined;
  const x0 = valueInputs(ns[0]!)[0]!;
  const rank = ns[0]!.attrs.rank ?? 0;
  const ok = ns.every((n, i) => {
    const [a, b] = valueInputs(n);
    return (
      a === x0 && b === (i === 0 ? x0 : ns[i - 1]!.id) && (n.attrs.rank ?? 0) === rank && n.id === (i === ns.length - 1 ? st.key : `${st.key}.${i}`)
    );
  });
  return ok ? `cross(${operand(x0)}, layers: ${ns.length}${rank ? `, rank: ${rank}` : ""})` : undefined;
}

/** One node as a call of the language. */
function renderCall(n: Node, g: Graph, operand: (id: string) => string, tables: TablePlan): string {
  const xs = valueInputs(n);
  switch (n.op) {
    case "linear":
      return `linear(${operand(xs[0]!)}, ${(n.type as TensorType).shape[1]}${weightInputs(n).length === 1 ? ", bias: false" : ""})`;
    case "relu":
    case "sigmoid":
    case "tanh":
    case "flatten":
      return `${n.op}(${operand(xs[0]!)})`;
    case "concat":
      return `concat(${xs.map(operand).join(", ")})`;
    case "interact":
      return `interact(${xs.map(operand).join(", ")}, op: ${String(n.attrs.op ?? "dot")}${n.attrs.self === true ? ", self: true" : ""})`;
    case "cross_layer": {
      const [x0, xl] = xs;
      if (x0 !== xl) throw inexpressible(n, "a single cross layer whose x0 and x_l differ is only expressible inside a cross(...) chain");
      return `cross(${operand(x0!)}, layers: 1${n.attrs.rank ? `, rank: ${n.attrs.rank}` : ""})`;
    }
    case "embedding_bag":
      return embeddingBagCall(n, g, tables);
    default:
      throw inexpressible(n, "no call of the language makes this op");
  }
}

/** `embedding_bag(T, bags)` for a whole table array over all features, `embedding_bag(T[i], bags[f])` for one table. */
function embeddingBagCall(n: Node, g: Graph, tables: TablePlan): string {
  const bags = valueInputs(n)[0]!;
  const input = g.inputs.find((i) => i.name === bags);
  const feats = n.attrs.bags as number[];
  const ts = weightInputs(n);
  const name = dslName(bags);
  if (n.attrs.stacked === false) return `embedding_bag(${tableExpr(tables.refs.get(ts[0]!)!, false)}, ${name}[${feats[0]}])`;
  const refs = ts.map((t) => tables.refs.get(t)!);
  const count = input?.type.kind === "bags" ? input.type.count : -1;
  const whole =
    refs.every((r, i) => r.name === refs[0]!.name && r.index === i) && tables.lines.some((l) => l.startsWith(`table ${refs[0]!.name}[${ts.length}]`));
  if (!whole || count !== ts.length || feats.some((f, i) => f !== i))
    throw inexpressible(n, "a stacked lookup must read a whole table array, table i from bag feature i of one bags input with as many features");
  return `embedding_bag(${refs[0]!.name}, ${name})`;
}
