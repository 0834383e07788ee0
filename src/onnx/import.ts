// ONNX import (`rmc import-onnx`): an ONNX model becomes DSL text and
// weights. Steps: decode; refuse ops no rmc pattern uses (one error listing
// each op with its node name); recognise the graph back from its outputs
// (recognize.ts, pooling.ts) into canonical IR; write it as DSL (dsl.ts);
// parse that text again, run the default pipeline, and pair the result with
// the recognised IR node by node, which checks the DSL says exactly what the
// file computes and gives every weight its DSL name.

import { RmcError, error, type Diagnostic } from "../diagnostics/index.js";
import { type ExternalReader, resolveExternal } from "./external.js";
import { parseModel } from "../frontend/index.js";
import { type Graph, type Input, type Node, type TensorType, valueInputs, weightInputs } from "../ir/types.js";
import { DEFAULT_PIPELINE, runPipeline } from "../pipeline/index.js";
import { createPassRegistry } from "../../passes/index.js";
import { writeDsl } from "./dsl.js";
import { INPUTS_METADATA } from "./export.js";
import { GraphIndex } from "./match.js";
import { ONNX_CODES, type ModelProto, decodeModel } from "./proto.js";
import { Recognizer } from "./recognize.js";

/** What an import gives: DSL text, the canonical IR it lowers to, and the weights under their DSL names. */
export interface ImportResult {
  text: string;
  graph: Graph;
  weights: Map<string, { shape: number[]; data: Float32Array }>;
}

/** The ONNX ops that occur in the patterns rmc imports; any other op is refused up front. */
export const IMPORTED_OPS = new Set([
  "Identity",
  "Relu",
  "Sigmoid",
  "Tanh",
  "Gemm",
  "MatMul",
  "Add",
  "Mul",
  "Sub",
  "Div",
  "Max",
  "Concat",
  "Flatten",
  "Reshape",
  "Unsqueeze",
  "Transpose",
  "Gather",
  "Slice",
  "ReduceSum",
  "ReduceMean",
  "ReduceMax",
  "Range",
  "Less",
  "Greater",
  "Where",
  "Cast",
  "Clip",
  "Mod",
  "Constant",
  // rmc's int8 layers (int8-import.ts): the dynamic and the exact form.
  "DynamicQuantizeLinear",
  "MatMulInteger",
  "Abs",
  "Round",
  "Reciprocal",
]);

/** Imports ONNX model bytes (`file` names it in errors); initializers in external data are read with `readExternal`. */
export function importOnnx(bytes: Uint8Array, file: string, opts: { readExternal?: ExternalReader } = {}): ImportResult {
  const model = resolveExternal(decodeModel(bytes, file), file, opts.readExternal);
  refuseUnknownOps(model, file);
  const g = new GraphIndex(model.graph!);
  const meta = inputsMetadata(model);
  const counts = new Map(meta.filter((m) => m.bags !== undefined).map((m) => [m.name, m.bags!]));
  const r = new Recognizer(g, counts);
  const outputs = (model.graph!.output ?? []).map((o) => ({ name: o.name ?? "", id: r.value(o.name ?? "") }));
  if (r.failures.length) {
    const lines = r.failures.map((f) => `  ${f.node.opType} node \`${f.node.name || f.node.output?.[0] || "?"}\`: ${f.reason}`);
    throw new RmcError(
      error(
        ONNX_CODES.unsupported,
        `${file}: ${r.failures.length} node${r.failures.length > 1 ? "s" : ""} fit no pattern rmc imports:\n${lines.join("\n")}`,
        undefined,
        "rmc imports DLRM-style graphs: embedding bags, dense layers, activations, the dot/cat interaction, concat, cross layers (docs/onnx.md)",
      ),
    );
  }
  const inputs = graphInputs(g, r, meta);
  const recognised = r.result(
    model.graph!.name || "imported",
    inputs,
    outputs.map((o) => ({ name: o.name, value: o.id!, span: { file, line: 0, col: 0, endLine: 0, endCol: 0 } })),
  );
  const text = writeDsl(recognised.graph, `// Imported from ${file.split(/[\\/]/).pop()} by rmc import-onnx.\n`);
  const parsed = parseModel(text, "<imported>");
  if (!parsed.graph)
    throw new RmcError(
      error(
        ONNX_CODES.unsupported,
        `${file}: the DSL written for this model does not parse (a bug in rmc): ${parsed.diagnostics.map((d) => d.message).join("; ")}`,
      ),
    );
  const graph = runPipeline(parsed.graph, DEFAULT_PIPELINE, createPassRegistry(), { out: () => {} });
  const rename = pairGraphs(recognised.graph, graph, file);
  const weights = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const w of graph.weights) {
    const from = rename.get(w.name)!;
    weights.set(w.name, { shape: [...w.shape], data: recognised.weights.get(from)! });
  }
  return { text, graph, weights };
}

/** One error naming every node whose op rmc never imports. */
function refuseUnknownOps(model: ModelProto, file: string): void {
  const bad = (model.graph!.node ?? []).filter((n) => !IMPORTED_OPS.has(n.opType ?? "") || (n.domain && n.domain !== "ai.onnx"));
  if (bad.length === 0) return;
  const lines = bad.map((n) => `  ${n.domain ? `${n.domain}.` : ""}${n.opType} (node \`${n.name || n.output?.[0] || "?"}\`)`);
  throw new RmcError(
    error(
      ONNX_CODES.unsupported,
      `${file}: ${bad.length} node${bad.length > 1 ? "s use ops" : " uses an op"} rmc cannot import:\n${lines.join("\n")}`,
      undefined,
      `rmc imports ${[...IMPORTED_OPS].join(", ")} in DLRM-style patterns (docs/onnx.md)`,
    ),
  );
}

interface InputMeta {
  name: string;
  bags?: number;
  weighted?: boolean;
  dense?: number;
}

/** The input list rmc's exporter records (names, kinds, bag counts), or [] for other files. */
function inputsMetadata(model: ModelProto): InputMeta[] {
  const entry = (model.metadataProps ?? []).find((p) => p.key === INPUTS_METADATA);
  if (!entry?.value) return [];
  try {
    const parsed = JSON.parse(entry.value) as InputMeta[];
    return Array.isArray(parsed) ? parsed.filter((m) => typeof m?.name === "string") : [];
  } catch {
    return [];
  }
}

/** The model's inputs: in the recorded order when the file has rmc's metadata, else in the file's order. */
function graphInputs(g: GraphIndex, r: Recognizer, meta: InputMeta[]): Input[] {
  const span = { file: "<imported>", line: 0, col: 0, endLine: 0, endCol: 0 };
  const made = new Map<string, Input>();
  for (const [name, b] of r.bagsInputs) made.set(name, { name, type: { kind: "bags", count: b.count, weighted: b.weighted }, span });
  for (const name of g.inputs.keys()) {
    const t = r.typeOf(name);
    if (t) made.set(name, { name, type: t, span });
  }
  for (const m of meta)
    if (!made.has(m.name)) {
      if (m.bags !== undefined) made.set(m.name, { name: m.name, type: { kind: "bags", count: m.bags, weighted: m.weighted === true }, span });
      else if (typeof m.dense === "number") made.set(m.name, { name: m.name, type: { kind: "tensor", dtype: "f32", shape: ["B", m.dense] }, span });
    }
  const order = meta.length ? meta.map((m) => m.name) : [...g.inputs.keys()].map((n) => n.replace(/_(ids|offsets|weights)$/, ""));
  const seen = new Set<string>();
  const out: Input[] = [];
  for (const n of [...order, ...made.keys()]) if (made.has(n) && !seen.has(n)) (seen.add(n), out.push(made.get(n)!));
  return out;
}

/**
 * Pairs the recognised IR with the IR the written DSL lowers to, walking
 * back from the outputs; every paired node must have the same op, attributes
 * and type. Returns DSL weight name → recognised weight name.
 */
function pairGraphs(from: Graph, to: Graph, file: string): Map<string, string> {
  const fromNodes = new Map(from.nodes.map((n) => [n.id, n]));
  const toNodes = new Map(to.nodes.map((n) => [n.id, n]));
  const rename = new Map<string, string>();
  const problems: Diagnostic[] = [];
  const seen = new Set<string>();
  const stack: [string, string][] = from.outputs.map((o, i) => [o.value, to.outputs[i]?.value ?? ""]);
  while (stack.length) {
    const [a, b] = stack.pop()!;
    if (seen.has(a)) continue;
    seen.add(a);
    const na = fromNodes.get(a);
    const nb = toNodes.get(b);
    if (!na && !nb) continue; // both graph inputs
    if (!na || !nb || !sameNode(na, nb)) {
      problems.push(
        error(
          ONNX_CODES.unsupported,
          `${file}: node \`${a}\` reads back from the written DSL as ${nb ? `${nb.op} \`${nb.id}\`` : "nothing"} (a bug in rmc's DSL writer)`,
        ),
      );
      continue;
    }
    weightInputs(nb).forEach((w, i) => rename.set(w, weightInputs(na)[i]!));
    valueInputs(na).forEach((v, i) => stack.push([v, valueInputs(nb)[i]!]));
  }
  if (problems.length) throw new RmcError(problems);
  return rename;
}

const DROPPED_ATTRS = new Set(["act_scale", "smooth"]);

/** Same op, attributes (those the DSL can say) and type. */
function sameNode(a: Node, b: Node): boolean {
  const attrs = (n: Node) =>
    JSON.stringify(
      Object.entries(n.attrs)
        // A pin means nothing to a node without weights (the DSL's statement pin reaches its activations too).
        .filter(([k]) => !DROPPED_ATTRS.has(k) && (k !== "precision" || weightInputs(n).length > 0))
        .sort(([x], [y]) => x.localeCompare(y)),
    );
  const shape = (n: Node) => JSON.stringify((n.type as TensorType | null)?.shape ?? null);
  return (
    a.op === b.op &&
    attrs(a) === attrs(b) &&
    shape(a) === shape(b) &&
    weightInputs(a).length === weightInputs(b).length &&
    valueInputs(a).length === valueInputs(b).length
  );
}
