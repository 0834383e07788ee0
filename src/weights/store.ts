// The weight store: tensors live here, outside the IR, keyed by the names the
// IR references (`@bottom.0.weight`). A tensor may be held in memory, read
// lazily from a safetensors file, or generated row by row from a seed, so a
// 2 GB embedding table never has to be materialised to be used.

import type { DType } from "../ir/types.js";

/** A named tensor's data, however it is held. */
export interface Tensor {
  /** How the data is stored (a safetensors file may hold f16 or bf16). */
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** All elements as f32, row-major. May allocate; callers on hot paths keep the result. */
  toFloat32(): Float32Array;
  /** Copies row `i` (along the first axis) as f32 into `out` at `offset`. */
  readRow(i: number, out: Float32Array, offset?: number): void;
}

/** Weights by name. A plain map: passes and backends read it, the CLI builds it. */
export type WeightStore = ReadonlyMap<string, Tensor>;

/** Elements per row (product of all but the first axis; 1 for a vector). */
export const rowLength = (shape: readonly number[]): number => shape.slice(1).reduce((a, b) => a * b, 1);
/** Total elements. */
export const numElements = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A tensor held in memory as f32. */
export class DenseTensor implements Tensor {
  readonly dtype: DType = "f32";
  constructor(
    readonly shape: readonly number[],
    readonly data: Float32Array,
  ) {
    if (data.length !== numElements(shape))
      throw new RangeError(`tensor data has ${data.length} elements, shape [${shape.join(",")}] needs ${numElements(shape)}`);
  }
  toFloat32(): Float32Array {
    return this.data;
  }
  readRow(i: number, out: Float32Array, offset = 0): void {
    const n = rowLength(this.shape);
    out.set(this.data.subarray(i * n, (i + 1) * n), offset);
  }
}
