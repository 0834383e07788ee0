// What a kernel of the reference interpreter receives: checked operands bound
// to run-time values and weights, and a zero-filled output. Shared by
// kernels.ts and embedding.ts (kept apart so neither imports the other).

import type { Attrs, Node, TensorType, Type, WeightDecl } from "../ir/types.js";
import type { Tensor } from "../weights/store.js";
import { type Bags, isBags } from "../data/batch.js";

/** A run-time value: a dense f32 tensor (row-major, batch-first) or a batch of bags. */
export type Value = Float32Array | Bags;

/** A weight operand bound to its tensor (whose shape matches `decl`); `dense()` materialises it once per interpret call. */
export interface BoundWeight {
  name: string;
  decl: WeightDecl;
  tensor: Tensor;
  dense(): Float32Array;
}

/** Everything a kernel sees: checked operands and a zero-filled output of the node's type. */
export interface KernelArgs {
  node: Node;
  /** The node's attributes with the op's defaults filled in. */
  attrs: Attrs;
  batch: number;
  values: readonly Value[];
  types: readonly Type[];
  weights: readonly BoundWeight[];
  outType: TensorType;
  out: Float32Array;
  /** Fused multiply-add mode (InterpretOptions.fma). */
  fma: boolean;
  /** Values of the graph known non-negative (src/ir/attrs.ts nonNegativeValues): int8a7 layers' zero points. */
  nonNegative: ReadonlySet<string>;
}

/** A kernel fills `args.out`. */
export type Kernel = (args: KernelArgs) => void;

/** Elements per sample of a dense type (product of the non-batch dims). */
export function sampleWidth(t: Type): number {
  if (t.kind !== "tensor") throw new Error(`internal: expected a tensor type, got bags`);
  return (t.shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
}

/** Value operand `i` as a dense tensor (the type rule guaranteed it). */
export function tensorOperand(a: KernelArgs, i: number): Float32Array {
  const v = a.values[i];
  if (v === undefined || isBags(v)) throw new Error(`internal: ${a.node.op} %${a.node.id} operand ${i} is not a dense tensor`);
  return v;
}

/** Value operand `i` as bags (the type rule guaranteed it). */
export function bagsOperand(a: KernelArgs, i: number): Bags {
  const v = a.values[i];
  if (v === undefined || !isBags(v)) throw new Error(`internal: ${a.node.op} %${a.node.id} operand ${i} is not bags`);
  return v;
}
