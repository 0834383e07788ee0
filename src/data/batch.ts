// The in-memory form of a batch of samples, shared by the data readers, the
// synthetic generator, the reference interpreter and (later) the runtime.
// Sparse features use TorchRec's KeyedJaggedTensor layout: lengths are
// key-major (all samples of feature 0, then feature 1, ...) and values follow
// the same order, so one feature's ids for the whole batch are contiguous.

/** Multi-hot bags for `count` features over `batch` samples. */
export interface Bags {
  count: number;
  batch: number;
  /** `lengths[f * batch + b]`: number of ids sample b has for feature f. */
  lengths: Int32Array;
  /** Row ids, concatenated in (feature, sample) order; already reduced to the table's row range. */
  values: Int32Array;
  /** Per-id weights (same length as values), for weighted bags. */
  weights?: Float32Array;
}

/** A batch: one array per graph input (dense `[B, n]` row-major, or Bags), and labels when known. */
export interface Batch {
  size: number;
  inputs: Record<string, Float32Array | Bags>;
  /** One label per sample for each model output that has a label column, by output name. */
  labels?: Record<string, Float32Array>;
}

export const isBags = (x: Float32Array | Bags): x is Bags => !(x instanceof Float32Array);

/** Start offset of every (feature, sample) bag in `values`, plus the end: length count*batch+1. */
export function bagOffsets(b: Bags): Int32Array {
  const offsets = new Int32Array(b.lengths.length + 1);
  for (let i = 0; i < b.lengths.length; i++) offsets[i + 1] = offsets[i]! + b.lengths[i]!;
  return offsets;
}
