// Tensors whose rows are computed on demand rather than stored: synthetic
// embedding tables (src/weights/init.ts) generate row i from (seed, table, i),
// so reading one row of a 10M-row table is instant and nothing is held in
// memory. Materialising the whole tensor is allowed only for moderate sizes.

import { RmcError, error } from "../diagnostics/index.js";
import type { DType } from "../ir/types.js";
import { numElements, rowLength, type Tensor } from "./store.js";

/** Writes row `row` (rowLength elements) into `out` at `offset`. Must be deterministic. */
export type RowGenerator = (row: number, out: Float32Array, offset: number) => void;

/** `toFloat32` refuses tensors above this many elements (1 GiB of f32): read them row by row. */
export const MAX_MATERIALISE_ELEMENTS = 1 << 28;

/** Tensors up to this many elements are kept once generated: small tables are read over and over (evaluation, search). */
export const CACHE_ELEMENTS = 1 << 22;

/**
 * A tensor computed row by row. Small ones (≤ CACHE_ELEMENTS) are generated
 * whole on first use and kept, since regenerating a row costs far more than
 * reading it; large ones are never held, only recomputed.
 */
export class LazyTensor implements Tensor {
  readonly dtype: DType = "f32";
  private cached: Float32Array | undefined;
  constructor(
    readonly name: string,
    readonly shape: readonly number[],
    private readonly generate: RowGenerator,
  ) {}

  readRow(i: number, out: Float32Array, offset = 0): void {
    const rows = this.shape[0] ?? 1;
    if (!Number.isInteger(i) || i < 0 || i >= rows)
      throw new RmcError(error("E1303", `row ${i} is out of range for tensor \`${this.name}\` [${this.shape.join(", ")}]`));
    if (!this.cached && numElements(this.shape) <= CACHE_ELEMENTS) this.toFloat32();
    if (this.cached) {
      const n = rowLength(this.shape);
      out.set(this.cached.subarray(i * n, (i + 1) * n), offset);
    } else this.generate(i, out, offset);
  }

  toFloat32(): Float32Array {
    if (this.cached) return this.cached;
    const n = numElements(this.shape);
    if (n > MAX_MATERIALISE_ELEMENTS)
      throw new RmcError(
        error("E1304", `tensor \`${this.name}\` [${this.shape.join(", ")}] has ${n} elements, too many to materialise; read it row by row`),
      );
    const out = new Float32Array(n);
    const perRow = rowLength(this.shape);
    const rows = this.shape[0] ?? 1;
    for (let i = 0; i < rows; i++) this.generate(i, out, i * perRow);
    if (n <= CACHE_ELEMENTS) this.cached = out;
    return out;
  }
}
