// Each target's own estimate of how fast a precision runs, relative to fp32
// (1.0 = same time; lower is faster). The precision search reads it so that
// it never picks a precision that saves bytes but is slower where the model
// will run. Kept apart from the code generators so passes can read it without
// loading them (binaryen takes a while to start).

/** What is being estimated: a dense layer or an embedding table. */
export type CostKind = "linear" | "table";

/** Relative run time of a layer or table at a precision (fp32 = 1); `shape` is [outputs, inputs] of a layer, [rows, dim] of a table. */
export type CostModel = (kind: CostKind, precision: string, shape?: readonly [number, number]) => number;

/**
 * Wasm SIMD128: int8 layers use i32x4.dot_i16x8_s (8 multiply-adds per
 * instruction) but quantize each activation row first and dequantize each
 * output after, work that grows with inputs + outputs rather than their
 * product: 0.7 + 8/outputs + 4/inputs of the f32 time, which puts the small
 * DLRM's 367→64 layer at 0.84 (measured 0.82 with bench:call-profile) and its
 * 13→64, 64→16 and 64→1 layers above 1 (measured 1.2, 1.5 and 3.0: slower,
 * so they stay f32). fp16/bf16 layers widen every weight on load and are
 * slower than fp32. Table lookups are estimated as for
 * tables larger than the caches, where they are memory-bound and smaller rows
 * move fewer bytes. For cache-resident tables (dlrm_kaggle_small's) unpacking
 * a quantized row costs more than loading an f32 one (BENCHMARKS.md); expanding
 * such tables to f32 at load time is the planned fix, so the estimate stays.
 */
const wasm: CostModel = (kind, precision, shape) => {
  if (kind === "linear" && precision === "int8") return shape ? 0.7 + 8 / shape[0] + 4 / shape[1] : 0.8;
  if (kind === "linear") return ({ fp32: 1, fp16: 1.2, bf16: 1.1 } as Record<string, number>)[precision] ?? Infinity;
  return ({ fp32: 1, fp16: 0.8, int8: 0.7, int4: 0.6, int2: 0.6 } as Record<string, number>)[precision] ?? Infinity;
};

export const COST_MODELS: Record<string, CostModel> = { wasm };
