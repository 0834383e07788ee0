// Interpreter semantics of low-precision storage. fp16: a weight stored at
// fp16 reads as its values rounded to the nearest fp16 (ties to even), then
// used in fp32 arithmetic — exactly what a backend that stores f16 and widens
// on load computes. Other precisions come with the quantization work.

import { RmcError, error } from "../diagnostics.js";
import type { DType, WeightDecl } from "../ir/types.js";
import { f16ToF32, f32ToF16 } from "../weights/dtypes.js";
import { rowLength, type Tensor } from "../weights/store.js";

const toF16 = (x: number): number => f16ToF32(f32ToF16(x));

/** A tensor whose values read rounded to fp16. */
class F16Rounded implements Tensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  private cached: Float32Array | undefined;
  constructor(private readonly inner: Tensor) {
    this.dtype = inner.dtype;
    this.shape = inner.shape;
  }
  toFloat32(): Float32Array {
    return (this.cached ??= this.inner.toFloat32().map(toF16));
  }
  readRow(i: number, out: Float32Array, offset = 0): void {
    this.inner.readRow(i, out, offset);
    for (let k = offset, end = offset + rowLength(this.shape); k < end; k++) out[k] = toF16(out[k]!);
  }
}

/** The tensor as the interpreter reads it at `precision`. */
export function atPrecision(tensor: Tensor, precision: string, decl: WeightDecl): Tensor {
  if (precision === "fp32") return tensor;
  if (precision === "fp16") return new F16Rounded(tensor);
  throw new RmcError(error("E1508", `the interpreter has no ${precision} semantics yet (weight @${decl.name})`, decl.span, "pin fp32 or fp16"));
}
