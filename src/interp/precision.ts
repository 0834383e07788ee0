// Interpreter semantics of low precision (the spec is docs/numerics.md; the
// math is src/quant). Tables: a row stored at fp16/int8/int4/int2 reads as
// the row quantized and dequantized (or, for a table PyTorch already
// quantized in that format, dequantized from its own bytes). Dense layers:
// fp16/bf16 round the weights and bias once; int8 quantizes the weights per
// output channel (int8a7 too, unsmoothed). Everything here is cached per Tensor object across
// interpret() calls, because the precision search runs the interpreter
// thousands of times on the same weights (tensors are treated as immutable).

import { RmcError, error, type Code } from "../diagnostics/index.js";
import type { Node, WeightDecl } from "../ir/types.js";
import { DenseTensor, numElements, rowLength, type Tensor } from "../weights/store.js";
import { ROW_FORMATS, type RowFormat, type RowRange, dequantizeRow, roundTripRow, rowBytes } from "../quant/rowwise.js";
import { type Precision, precisionOf, rowRangeOf } from "../ir/attrs.js";
import { type PrequantizedRows, prequantizedIn } from "../weights/prequantized.js";
import { type Int8Weights, quantizeInt8Weights, toBf16, toF16, smoothWeights } from "../quant/dense.js";

/** Error code: a precision the interpreter gives no meaning to for this op or weight. */
export const E_PRECISION = "E1508" satisfies Code;

/** Precisions a table may be stored at. */
const TABLE_PRECISIONS = ["fp32", ...ROW_FORMATS] as const;

/** Tables up to this many elements are dequantized whole once and kept (16 MiB of f32); larger ones row by row. */
const CACHE_TABLE_ELEMENTS = 1 << 22;

/** Reads a table's rows as stored at a row format: from its own bytes, or quantized and dequantized. */
class RowFormatTable implements Tensor {
  readonly dtype;
  readonly shape;
  private readonly dim: number;
  private readonly bytes: Uint8Array<ArrayBuffer>;
  private readonly stored: PrequantizedRows | undefined;
  constructor(
    private readonly inner: Tensor,
    private readonly format: RowFormat,
    private readonly range: RowRange,
  ) {
    this.dtype = inner.dtype;
    this.shape = inner.shape;
    this.dim = rowLength(inner.shape);
    this.bytes = new Uint8Array(rowBytes(format, this.dim));
    this.stored = prequantizedIn(inner, format);
  }
  readRow(i: number, out: Float32Array, offset = 0): void {
    if (this.stored) {
      this.stored.readRowBytes(i, this.bytes, 0);
      dequantizeRow(this.format, this.bytes, 0, this.dim, out, offset);
      return;
    }
    this.inner.readRow(i, out, offset);
    roundTripRow(this.format, out.subarray(offset, offset + this.dim), this.bytes, this.range);
  }
  toFloat32(): Float32Array {
    const out = new Float32Array(numElements(this.shape));
    for (let i = 0, rows = this.shape[0] ?? 0; i < rows; i++) this.readRow(i, out, i * this.dim);
    return out;
  }
}

const tableCache = new WeakMap<Tensor, Map<string, Tensor>>();

/** A table as the interpreter reads it at `precision` (`decl` names it in errors). */
export function tableAt(tensor: Tensor, precision: string, decl: WeightDecl): Tensor {
  if (precision === "fp32") return tensor;
  if (!(ROW_FORMATS as readonly string[]).includes(precision))
    throw new RmcError(
      error(E_PRECISION, `table @${decl.name} cannot be stored at ${precision}`, decl.span, `tables take ${TABLE_PRECISIONS.join(", ")}`),
    );
  let byFormat = tableCache.get(tensor);
  if (!byFormat) tableCache.set(tensor, (byFormat = new Map()));
  const range = rowRangeOf(decl);
  const key = `${precision}:${range}`;
  let t = byFormat.get(key);
  if (!t) {
    const rows = new RowFormatTable(tensor, precision as RowFormat, range);
    // Small tables become a DenseTensor, which the bag kernel indexes in place.
    t = numElements(tensor.shape) <= CACHE_TABLE_ELEMENTS ? new DenseTensor(tensor.shape, rows.toFloat32()) : rows;
    byFormat.set(key, t);
  }
  return t;
}

const roundedCache = new WeakMap<Tensor, Map<string, Float32Array>>();

/** A dense weight's values rounded to fp16 or bf16 (the tensor itself at fp32). */
export function roundedWeights(tensor: Tensor, precision: "fp32" | "fp16" | "bf16"): Float32Array {
  if (precision === "fp32") return tensor.toFloat32();
  let byPrecision = roundedCache.get(tensor);
  if (!byPrecision) roundedCache.set(tensor, (byPrecision = new Map()));
  let data = byPrecision.get(precision);
  if (!data) byPrecision.set(precision, (data = tensor.toFloat32().map(precision === "fp16" ? toF16 : toBf16)));
  return data;
}

const int8Cache = new WeakMap<Tensor, Map<string, Int8Weights>>();

/**
 * A `[out, in]` weight quantized to int8 per output channel, after smoothing
 * (W·s) when the layer has factors. Computed once per tensor and smoothing
 * (51 clip trials per row are not cheap, and the precision search calls the
 * interpreter thousands of times).
 */
export function int8Weights(tensor: Tensor, smooth?: readonly number[]): Int8Weights {
  let bySmooth = int8Cache.get(tensor);
  if (!bySmooth) int8Cache.set(tensor, (bySmooth = new Map()));
  const key = smooth ? smooth.join(",") : "";
  let q = bySmooth.get(key);
  if (!q) {
    const [out, inF] = tensor.shape as [number, number];
    const w = smooth ? smoothWeights(tensor.toFloat32(), out, inF, smooth) : tensor.toFloat32();
    bySmooth.set(key, (q = quantizeInt8Weights(w, out, inF)));
  }
  return q;
}

/** Precisions a dense layer may take, by op. */
export const LAYER_PRECISIONS: Record<string, readonly string[]> = {
  linear: ["fp32", "fp16", "bf16", "int8", "int8a7"],
  mlp: ["fp32", "fp16", "bf16", "int8", "int8a7"],
  cross_layer: ["fp32", "fp16", "bf16"],
  cross: ["fp32", "fp16", "bf16"],
};

/**
 * The precision a dense layer runs at (its weight matrix's, by the one pin
 * rule of src/ir/attrs.ts), checked against what the interpreter gives a
 * meaning for that op: anything else is an error naming the node.
 */
export function runnableLayerPrecision(node: Node, weight: WeightDecl): Precision {
  const p = precisionOf(weight, node);
  const allowed = LAYER_PRECISIONS[node.op] ?? ["fp32"];
  if (!allowed.includes(p))
    throw new RmcError(error(E_PRECISION, `${node.op} %${node.id} cannot run at ${p}`, node.span, `${node.op} layers take ${allowed.join(", ")}`));
  return p;
}
