// Tensors whose rows are computed on demand rather than stored: synthetic
// embedding tables (src/weights/init.ts) generate row i from (seed, table, i),
// so reading one row of a 10M-row table is instant and nothing is held in
// memory. Materialising the whole tensor is allowed only for moderate sizes.

import { RmcError, error } from "../diagnostics.js";
import type { DType } from "../ir/types.js";
import { numElements, rowLength, type Tensor } from "./store.js";

/** Writes row `row` (rowLength elements) into `out` at `offset`. Must be deterministic. */
export type RowGenerator = (row: number, out: Float32Array, offset: number) => void;

/** `toFloat32` refuses tensors above this many elements (1 GiB of f32): read them row by row. */
export const MAX_MATERIALISE_ELEMENTS = 1 << 28;

/** A tensor computed row by row; `toFloat32` materialises it (not cached: it can always be recomputed). */
export class LazyTensor implements Tensor {
  readonly dtype: DType = "f32";
  constructor(
    readonly name: string,
    readonly shape: readonly number[],
    private readonly generate: RowGenerator,
  ) {}

  readRow(i: number, out: Float32Array, offset = 0): void {
    const rows = this.shape[0] ?? 1;
    if (!Number.isInteger(i) || i < 0 || i >= rows) throw new RmcError(error("E1303", `row ${i} is out of range for tensor \`${this.name}\` [${this.shape.join(", ")}]`));
    this.generate(i, out, offset);
  }

  toFloat32(): Float32Array {
    const n = numElements(this.shape);
    if (n > MAX_MATERIALISE_ELEMENTS)
      throw new RmcError(error("E1303", `tensor \`${this.name}\` [${this.shape.join(", ")}] has ${n} elements, too many to materialise; read it row by row`));
    const out = new Float32Array(n);
    const perRow = rowLength(this.shape);
    const rows = this.shape[0] ?? 1;
    for (let i = 0; i < rows; i++) this.generate(i, out, i * perRow);
    return out;
  }
}
