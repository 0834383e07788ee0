// Each target's own estimate of how fast a precision runs, relative to fp32
// (1.0 = same time; lower is faster). The precision search reads it so that
// it never picks a precision that saves bytes but is slower where the model
// will run. Kept apart from the code generators so passes can read it without
// loading them (binaryen takes a while to start).

/** What is being estimated: a dense layer or an embedding table. */
export type CostKind = "linear" | "table";

/** Relative run time of a layer or table at a precision (fp32 = 1). */
export type CostModel = (kind: CostKind, precision: string) => number;

/**
 * Wasm SIMD128: int8 layers use i32x4.dot_i16x8_s (8 multiply-adds per
 * instruction, activations quantized per row); fp16/bf16 layers widen every
 * weight on load and are slower than fp32. Table lookups are estimated as for
 * tables larger than the caches, where they are memory-bound and smaller rows
 * move fewer bytes. For cache-resident tables (dlrm_kaggle_small's) unpacking
 * a quantized row costs more than loading an f32 one (BENCHMARKS.md); expanding
 * such tables to f32 at load time is the planned fix, so the estimate stays.
 */
const wasm: CostModel = (kind, precision) => {
  if (kind === "linear") return ({ fp32: 1, fp16: 1.2, bf16: 1.1, int8: 0.6 } as Record<string, number>)[precision] ?? Infinity;
  return ({ fp32: 1, fp16: 0.8, int8: 0.7, int4: 0.6, int2: 0.6 } as Record<string, number>)[precision] ?? Infinity;
};

export const COST_MODELS: Record<string, CostModel> = { wasm };
