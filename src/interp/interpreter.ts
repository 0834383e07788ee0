// The reference interpreter: runs a graph on a batch in fp32 with Math.fround
// semantics and defines what every op means. It is the oracle for every
// backend and for accuracy measurement (the precision search and the synthetic
// data generator's teacher run through it). Each node is re-checked against the
// op table's type rule before its kernel runs, so a bad graph, batch or weight
// store is an RmcError, never a silent wrong answer.

import { RmcError, didYouMean, error, type Code } from "../diagnostics/index.js";
import type { Attrs, Graph, Node, TensorType, Type, WeightDecl } from "../ir/types.js";
import { formatType, isValueRef, isWeightRef, refName, typesEqual } from "../ir/types.js";
import { COMMON_ATTRS, OPS, OP_NAMES, type OpDef, checkAttr, isOpName, withDefaults } from "../ir/ops.js";
import type { Batch } from "../data/batch.js";
import { isBags } from "../data/batch.js";
import type { WeightStore } from "../weights/store.js";
import { KERNELS } from "./kernels.js";
import { tableAt } from "./precision.js";
import { withTableParts } from "../weights/parts.js";
import { nonNegativeValues, precisionOf } from "../ir/attrs.js";
import { type BoundWeight, type KernelArgs, type Value, sampleWidth } from "./operands.js";
import { checkBatchSize, checkInput } from "./inputs.js";
import { dict } from "../util/records.js";

/** What to return besides the outputs. */
export interface InterpretOptions {
  /** "all": also every dense graph input and every node's value (by bare id), e.g. for calibration. Default "outputs". */
  keep?: "outputs" | "all";
  /**
   * Fused multiply-add mode: every f32 multiply-add of a dense layer's and a
   * cross layer's matrix product and of the dot interaction is rounded once
   * (fma), as the relaxed-SIMD Wasm variant computes it where the engine fuses
   * `f32x4.relaxed_madd`. Default false: a rounding after the product and
   * another after the sum, as the SIMD128 variant does. Integer paths are the
   * same in both modes.
   */
  fma?: boolean;
  /**
   * Values to take as they are for nodes that need no recomputing (by node
   * id, from an earlier `keep: "all"` run): such a node's kernel does not run.
   * The precision search's incremental evaluator (src/precision/incremental.ts).
   */
  reuse?: ReadonlyMap<string, Float32Array>;
  /** Runs in place of a node's kernel and returns true when it filled `args.out` (the incremental evaluator's fast paths). */
  override?: (args: KernelArgs) => boolean;
  /**
   * A buffer of `length` for a node's output (default: a new zero-filled one), so a caller can recycle
   * them; one that is not zeroed must be filled by `override` (or zeroed before it returns false).
   */
  alloc?: (length: number) => Float32Array;
  /**
   * The graph's weights bound to their tensors, kept between calls with the same weights (by graph:
   * the incremental evaluator runs thousands of batches), filled on first use.
   */
  bound?: WeakMap<Graph, Map<string, BoundWeight>>;
}

/** The graph's outputs by output name, and with `keep: "all"` every dense value by id (bags inputs are not included). */
export interface InterpretResult {
  outputs: Record<string, Float32Array>;
  values?: Map<string, Float32Array>;
}

/** Error codes of graph and weight-store problems found while interpreting. */
export const INTERP_ERRORS = { missingWeight: "E1504", weightShape: "E1505", badGraph: "E1507" } as const satisfies Record<string, Code>;

interface Slot {
  type: Type;
  value: Value;
}

/**
 * Runs `graph` on `batch` with the weights in `weights`. Nodes run in list
 * order (a valid graph is topologically ordered). Dense weights are
 * materialised at most once per call; embedding tables are only read row by
 * row. Intermediate values are dropped after their last use unless
 * `keep: "all"`.
 */
export function interpret(graph: Graph, weights: WeightStore, batch: Batch, opts: InterpretOptions = {}): InterpretResult {
  const size = checkBatchSize(batch);
  const env = new Map<string, Slot>();
  for (const input of graph.inputs) env.set(input.name, { type: input.type, value: checkInput(input, batch) });
  // Parts of split tables are views of their tables (src/weights/parts.ts).
  const bound = opts.bound?.get(graph) ?? bindWeights(graph, withTableParts(graph, weights));
  opts.bound?.set(graph, bound);
  const keepAll = opts.keep === "all";
  const outputIds = new Set(graph.outputs.map((o) => outputValueId(o.value)));
  const lastUse = keepAll ? undefined : lastUses(graph);
  const values = keepAll ? new Map<string, Float32Array>() : undefined;
  if (values) for (const [id, slot] of env) if (!isBags(slot.value)) values.set(id, slot.value);

  const nonNegative = nonNegativeValues(graph);
  graph.nodes.forEach((node, index) => {
    const reused = opts.reuse?.get(node.id);
    if (reused && node.type?.kind === "tensor") {
      env.set(node.id, { type: node.type, value: reused });
      values?.set(node.id, reused);
    } else {
      const args = prepareNode(node, env, bound, size, nonNegative, opts.fma === true, opts.alloc);
      if (!opts.override?.(args)) KERNELS[node.op as keyof typeof KERNELS](args);
      env.set(node.id, { type: args.outType, value: args.out });
      values?.set(node.id, args.out);
    }
    if (lastUse)
      for (const ref of node.inputs)
        if (isValueRef(ref) && lastUse.get(refName(ref)) === index && !outputIds.has(refName(ref))) env.delete(refName(ref));
  });

  const outputs: Record<string, Float32Array> = dict();
  for (const o of graph.outputs) {
    const slot = env.get(outputValueId(o.value));
    if (!slot)
      throw new RmcError(error(INTERP_ERRORS.badGraph, `output \`${o.name}\` is bound to ${o.value}, which no input or node defines`, o.span));
    if (isBags(slot.value))
      throw new RmcError(
        error(INTERP_ERRORS.badGraph, `output \`${o.name}\` is bound to bags input ${o.value}; outputs must be dense tensors`, o.span),
      );
    outputs[o.name] = slot.value;
  }
  return values ? { outputs, values } : { outputs };
}

/** An output's value is a bare id or a `%id` reference; accept both. */
const outputValueId = (v: string): string => (isValueRef(v) ? refName(v) : v);

/** For every value id, the index of the last node that reads it. */
function lastUses(graph: Graph): Map<string, number> {
  const last = new Map<string, number>();
  graph.nodes.forEach((n, i) => {
    for (const ref of n.inputs) if (isValueRef(ref)) last.set(refName(ref), i);
  });
  return last;
}

/** Binds every weight the nodes reference to its tensor, checking presence and shape. */
function bindWeights(graph: Graph, store: WeightStore): Map<string, BoundWeight> {
  const decls = new Map(graph.weights.map((w) => [w.name, w]));
  const bound = new Map<string, BoundWeight>();
  for (const node of graph.nodes) {
    for (const ref of node.inputs) {
      if (!isWeightRef(ref) || bound.has(refName(ref))) continue;
      const decl = decls.get(refName(ref));
      if (!decl) throw badNode(node, `uses weight ${ref}, which the graph does not declare`);
      bound.set(decl.name, bindWeight(decl, store, node));
    }
  }
  return bound;
}

/** Binds one weight; a table read by an embedding bag reads at its precision (dense layers apply theirs in their kernels). */
function bindWeight(decl: WeightDecl, store: WeightStore, reader: Node): BoundWeight {
  const stored = store.get(decl.name);
  const declared = `${decl.dtype}[${decl.shape.join(",")}]`;
  if (!stored) {
    const msg = `weight @${decl.name} (${declared}) is not in the weight store (${store.size} tensors)`;
    throw new RmcError(error(INTERP_ERRORS.missingWeight, msg, decl.span, didYouMean(decl.name, store.keys())));
  }
  if (stored.shape.length !== decl.shape.length || stored.shape.some((d, i) => d !== decl.shape[i]))
    throw new RmcError(
      error(
        INTERP_ERRORS.weightShape,
        `weight @${decl.name}: the store holds shape [${stored.shape.join(",")}] but the graph declares ${declared}`,
        decl.span,
      ),
    );
  const tensor = reader.op === "embedding_bag" ? tableAt(stored, precisionOf(decl, reader), decl) : stored;
  let data: Float32Array | undefined;
  return { name: decl.name, decl, tensor, dense: () => (data ??= tensor.toFloat32()) };
}

function badNode(node: Node, what: string, hint?: string): RmcError {
  return new RmcError(error(INTERP_ERRORS.badGraph, `${node.op} %${node.id} ${what}`, node.span, hint));
}

/** Checks a node's op, arity and attributes; returns its op definition and attributes with defaults. */
function checkOp(node: Node): { def: OpDef; attrs: Attrs } {
  if (!isOpName(node.op)) throw badNode(node, `has an unknown op`, didYouMean(node.op, OP_NAMES));
  const def: OpDef = OPS[node.op];
  const nValues = node.inputs.filter(isValueRef).length;
  const nWeights = node.inputs.filter(isWeightRef).length;
  if (nValues < def.values[0] || nValues > def.values[1])
    throw badNode(node, `has ${nValues} value operands, expected ${def.values[0]}..${def.values[1]}`);
  if (nWeights < def.weights[0] || nWeights > def.weights[1])
    throw badNode(node, `has ${nWeights} weight operands, expected ${def.weights[0]}..${def.weights[1]}`);
  const attrs = withDefaults(def, node.attrs);
  for (const [name, spec] of Object.entries({ ...COMMON_ATTRS, ...def.attrs })) {
    const v = attrs[name];
    if (v === undefined) {
      if (spec.required) throw badNode(node, `is missing its required attribute \`${name}\``);
      continue;
    }
    const problem = checkAttr(name, spec, v);
    if (problem) throw badNode(node, problem);
  }
  return { def, attrs };
}

/** Resolves a node's operands, re-derives its type from the op table and allocates its output. */
function prepareNode(
  node: Node,
  env: Map<string, Slot>,
  bound: Map<string, BoundWeight>,
  size: number,
  nonNegative: ReadonlySet<string>,
  fma: boolean,
  alloc?: (length: number) => Float32Array,
): KernelArgs {
  const { def, attrs } = checkOp(node);
  const slots = node.inputs.filter(isValueRef).map((ref) => {
    const slot = env.get(refName(ref));
    if (!slot) throw badNode(node, `reads ${ref}, which no input or earlier node defines`, "nodes must come after the values they read");
    return slot;
  });
  const weights = node.inputs.filter(isWeightRef).map((ref) => bound.get(refName(ref))!);
  const types = slots.map((s) => s.type);
  const inferred = def.infer({ values: types, weights: weights.map((w) => w.decl), attrs });
  if (!inferred.ok) throw badNode(node, `is ill-typed: ${inferred.message}`, inferred.hint);
  if (inferred.type.kind !== "tensor") throw badNode(node, `produces ${formatType(inferred.type)}; the interpreter only produces dense tensors`);
  if (node.type && !typesEqual(node.type, inferred.type))
    throw badNode(node, `is annotated ${formatType(node.type)} but its operands give ${formatType(inferred.type)}`);
  const outType: TensorType = inferred.type;
  return {
    node,
    attrs,
    batch: size,
    values: slots.map((s) => s.value),
    types,
    weights,
    outType,
    out: alloc ? alloc(size * sampleWidth(outType)) : new Float32Array(size * sampleWidth(outType)),
    fma,
    nonNegative,
  };
}
