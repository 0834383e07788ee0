// Wasm backend, step 1 of 4 (schedule → layout → plan → codegen): turns the
// final IR into the list of kernel invocations the generated `forward` makes,
// each dense layer with its precision and epilogue activation.
// It checks that every op is one the backend implements, reads the `act` a
// fuse-epilogue pass wrote on linear and cross layers (and, for IR that did
// not run that pass, still folds a relu into the layer before it itself),
// and turns flatten into an alias (same bytes, new shape).

import { RmcError, error } from "../../src/diagnostics.js";
import type { Graph, Node, Span, TensorType } from "../../src/ir/types.js";
import { valueInputs, weightInputs } from "../../src/ir/types.js";
import { users } from "../../src/ir/analysis.js";
import { weightPrecision } from "../../src/ir/precision.js";

/** Ops the Wasm backend generates code for. High-level `mlp` and `cross` must be canonicalized first. */
export const WASM_OPS = ["linear", "relu", "sigmoid", "tanh", "embedding_bag", "interact", "concat", "flatten", "cross_layer"] as const;

/** Activations a dense layer's epilogue applies. */
export type EpilogueAct = "none" | "relu" | "sigmoid" | "tanh";

/** One kernel call of `forward`: reads values, writes one value. */
export interface Step {
  /** The IR node this step computes (the relu's id when a relu is folded in). */
  id: string;
  op: (typeof WASM_OPS)[number];
  node: Node;
  /** Value ids read (graph inputs or earlier steps' outputs). */
  reads: string[];
  /** Weight names, in operand order. */
  weights: string[];
  /** Precision of a dense layer (linear, cross_layer): its weight matrix's, which applies to the bias too; fp32 for other ops (tables carry their own). */
  precision: string;
  /** Activation applied in the epilogue (linear, cross_layer): the node's `act`, or a relu folded here. */
  act: EpilogueAct;
  /** Ids of nodes folded into this step (for reports). */
  folded: string[];
  span: Span;
}

export interface Schedule {
  steps: Step[];
  /** flatten results: value id → the id whose bytes it shares. */
  aliases: Map<string, string>;
}

/** The value a reference names, following flatten aliases. */
export const resolveAlias = (aliases: Map<string, string>, id: string): string => {
  let cur = id;
  while (aliases.has(cur)) cur = aliases.get(cur)!;
  return cur;
};

/** Builds the schedule; unsupported ops are one error listing each node. */
export function schedule(graph: Graph): Schedule {
  const unsupported = graph.nodes.filter((n) => !(WASM_OPS as readonly string[]).includes(n.op));
  if (unsupported.length > 0)
    throw new RmcError(
      unsupported.map((n) =>
        error(
          "E1801",
          `the wasm backend cannot compile \`${n.op}\` (node %${n.id})`,
          n.span,
          n.op === "mlp" || n.op === "cross"
            ? "add `canonicalize` to the pipeline (the default pipeline has it)"
            : `it compiles ${WASM_OPS.join(", ")}`,
        ),
      ),
    );
  const userMap = users(graph);
  const outputs = new Set(graph.outputs.map((o) => o.value));
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const folded = new Set<string>();
  const steps: Step[] = [];
  const aliases = new Map<string, string>();
  for (const node of graph.nodes) {
    if (folded.has(node.id)) continue;
    if (node.op === "flatten") {
      aliases.set(node.id, valueInputs(node)[0]!);
      continue;
    }
    const act = (node.attrs.act as EpilogueAct | undefined) ?? "none";
    const step: Step = {
      id: node.id,
      op: node.op as Step["op"],
      node,
      reads: valueInputs(node),
      weights: weightInputs(node),
      precision: layerPrecision(graph, node),
      act,
      folded: [],
      span: node.span,
    };
    const only = userMap.get(node.id) ?? [];
    const next = only.length === 1 ? byId.get(only[0]!) : undefined;
    // A layer that reads i8 codes or writes them (fold-quant) keeps its relu in the IR form only.
    const plain = node.attrs.out_scale === undefined || node.attrs.out_scale === null;
    if ((node.op === "linear" || node.op === "cross_layer") && act === "none" && plain && next?.op === "relu" && !outputs.has(node.id)) {
      step.id = next.id;
      step.act = "relu";
      step.folded = [node.id];
      folded.add(next.id);
    }
    steps.push(step);
  }
  return { steps, aliases };
}

/** A dense layer's precision, as the interpreter defines it: that of its weight matrix (a pin on the weight, else on the node). */
export function layerPrecision(graph: Graph, node: Node): string {
  if (node.op !== "linear" && node.op !== "cross_layer") return "fp32";
  const decl = graph.weights.find((w) => w.name === weightInputs(node)[0]);
  return decl ? weightPrecision(decl, node) : "fp32";
}

/** Features per sample of a value's tensor type (product of the non-batch dims). */
export const widthOf = (t: TensorType): number => (t.shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
