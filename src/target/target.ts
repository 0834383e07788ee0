// What the compiler knows about a target before any code is generated: the
// ops its kernels run, the precisions they implement, its hard limits, its
// speed estimate per precision, its optional features and the passes
// `rmc compile` appends for it. Passes (split-tables, assign-precision) and
// the compile driver read these facts without loading a code generator
// (binaryen takes a while to start); a backend declares the same object.

/** Hard limits of a target. */
export interface TargetLimits {
  /** Largest addressable memory for weights plus working buffers, in bytes. */
  maxMemoryBytes: number;
  /** Largest single buffer (one table, one weight), in bytes. */
  maxBufferBytes: number;
}

/** Precisions a target's kernels implement: tables, and dense layers by op. */
export interface TargetPrecisions {
  tables: readonly string[];
  linear: readonly string[];
  cross_layer: readonly string[];
}

/** What is being estimated: a dense layer or an embedding table. */
export type CostKind = "linear" | "table";

/** Relative run time of a layer or table at a precision (fp32 = 1, lower is faster); `shape` is [outputs, inputs] of a layer, [rows, dim] of a table. */
export type CostModel = (kind: CostKind, precision: string, shape?: readonly [number, number]) => number;

/** Everything target-specific that passes and the driver need. */
export interface TargetInfo {
  name: string;
  summary: string;
  /** IR ops its kernels run (others must be rewritten by passes first). */
  ops: readonly string[];
  precisions: TargetPrecisions;
  limits: TargetLimits;
  /** The precision search never takes a precision this estimates slower than fp32 for the layer's shape. */
  cost: CostModel;
  /** Optional features, requested with `--features`. */
  features: readonly string[];
  /**
   * Some variant of its code may fuse f32 multiply-adds (Wasm's relaxed-SIMD
   * variant, chosen at load): the precision search checks its plan in the
   * interpreter's fused multiply-add mode too.
   */
  fusedMultiplyAdd?: boolean;
  /**
   * Passes `rmc compile` appends after the user's pipeline (and after
   * assign-precision), as pipeline text: the fusions whose fused forms the
   * target runs, and its memory plan. A fusion a target does not list is
   * never applied for it.
   */
  passes: string;
}

/** Ops the built-in kernels run: high-level `mlp` and `cross` are canonicalized into these first. */
export const KERNEL_OPS = ["linear", "relu", "sigmoid", "tanh", "embedding_bag", "interact", "concat", "flatten", "cross_layer"] as const;

/** One of KERNEL_OPS. */
export type KernelOp = (typeof KERNEL_OPS)[number];

/** A cost model that rates every precision as fast as fp32, for targets that give none: the search then weighs bytes alone. */
export const NEUTRAL_COST: CostModel = () => 1;
