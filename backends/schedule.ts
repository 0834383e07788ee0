// Backends, first step (shared by wasm: schedule → layout → plan → codegen,
// and wgsl: schedule → lower): turns the final IR into the list of kernel
// invocations a forward call makes, each dense layer with its precision and
// epilogue activation. It checks that every op is one the kernels implement,
// reads the `act` a fuse-epilogue pass wrote on linear and cross layers (and,
// for IR that did not run that pass, still folds a relu into the layer before
// it itself), and turns flatten into an alias (same bytes, new shape).

import { RmcError, error } from "../src/diagnostics/index.js";
import type { Graph, Node, Span, TensorType } from "../src/ir/types.js";
import { valueInputs, weightInputs } from "../src/ir/types.js";
import { users } from "../src/ir/analysis.js";
import { type Act, actOf, layerPrecision } from "../src/ir/attrs.js";
import { KERNEL_OPS, type KernelOp } from "../src/target/index.js";

/** Activations a dense layer's epilogue applies. */
export type EpilogueAct = Act;

/** One kernel call of `forward`: reads values, writes one value. */
export interface Step {
  /** The IR node this step computes (the relu's id when a relu is folded in). */
  id: string;
  op: KernelOp;
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

/** Builds the schedule for `target` (named in errors); unsupported ops are one error listing each node. */
export function schedule(graph: Graph, target = "wasm"): Schedule {
  const unsupported = graph.nodes.filter((n) => !(KERNEL_OPS as readonly string[]).includes(n.op));
  if (unsupported.length > 0)
    throw new RmcError(
      unsupported.map((n) =>
        error(
          "E1801",
          `the ${target} backend cannot compile \`${n.op}\` (node %${n.id})`,
          n.span,
          n.op === "mlp" || n.op === "cross"
            ? "add `canonicalize` to the pipeline (the default pipeline has it)"
            : `it compiles ${KERNEL_OPS.join(", ")}`,
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
    const act = actOf(node);
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

/** Features per sample of a value's tensor type (product of the non-batch dims). */
export const widthOf = (t: TensorType): number => (t.shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
