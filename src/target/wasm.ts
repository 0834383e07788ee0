// The WebAssembly target's facts (backends/wasm compiles for them): SIMD128
// kernels in one 4 GiB linear memory, and the speed estimate the precision
// search uses for it.

import { KERNEL_OPS, type CostModel, type TargetInfo } from "./target.js";

/**
 * Wasm SIMD128: int8 layers use i32x4.dot_i16x8_s (8 multiply-adds per
 * instruction) but quantize each activation row first and dequantize each
 * output after, work that grows with inputs + outputs rather than their
 * product: 0.7 + 8/outputs + 4/inputs of the f32 time, which puts the small
 * DLRM's 367→64 layer at 0.84 (measured 0.82 with bench:call-profile) and its
 * 13→64, 64→16 and 64→1 layers above 1 (measured 1.2, 1.5 and 3.0: slower,
 * so they stay f32). fp16/bf16 layers widen every weight on load and are
 * slower than fp32. Table lookups are estimated as for tables larger than the
 * caches, where they are memory-bound and smaller rows move fewer bytes. For
 * cache-resident tables (dlrm_kaggle_small's) unpacking a quantized row costs
 * more than loading an f32 one (BENCHMARKS.md); expanding such tables to f32
 * at load time is the planned fix, so the estimate stays. int8a7 layers
 * (relaxed_dot, 16 multiply-adds per instruction) are rated as the relaxed
 * variant runs them (bench:i7-kernels, Node 24): 0.3 + 2.2/outputs + 8/inputs
 * + 600/(inputs·outputs), which gives 367→64 0.39 (measured 0.40) and keeps
 * the small layers above 1; the SIMD128 variant's widened form is slower
 * than int8 (0.74 for 367→64).
 */
const cost: CostModel = (kind, precision, shape) => {
  if (kind === "linear" && precision === "int8a7") return shape ? 0.3 + 2.2 / shape[0] + 8 / shape[1] + 600 / (shape[0] * shape[1]) : 0.5;
  if (kind === "linear" && precision === "int8") return shape ? 0.7 + 8 / shape[0] + 4 / shape[1] : 0.8;
  if (kind === "linear") return ({ fp32: 1, fp16: 1.2, bf16: 1.1 } as Record<string, number>)[precision] ?? Infinity;
  return ({ fp32: 1, fp16: 0.8, int8: 0.7, int4: 0.6, int2: 0.6 } as Record<string, number>)[precision] ?? Infinity;
};

export const WASM_TARGET: TargetInfo = {
  name: "wasm",
  summary: "WebAssembly (SIMD128) via binaryen; runs in Node and browsers with src/runtime",
  ops: KERNEL_OPS,
  precisions: {
    tables: ["fp32", "fp16", "int8", "int4", "int2"],
    linear: ["fp32", "fp16", "bf16", "int8", "int8a7"],
    cross_layer: ["fp32", "fp16", "bf16"],
  },
  // Wasm32: one linear memory of 4 GiB holds every weight and the workspaces.
  limits: { maxMemoryBytes: 4 * 2 ** 30, maxBufferBytes: 4 * 2 ** 30 },
  cost,
  // `profile`: kernels stay functions of their own, named (k3_interact, ...), so a CPU profile shows time per kernel.
  // Relaxed SIMD (fused multiply-add) would break bit-equality with the interpreter and needs a flag on Node 20; not offered yet.
  features: ["profile"],
  // Every artifact ships the relaxed-SIMD variant too, whose f32x4.relaxed_madd may fuse.
  fusedMultiplyAdd: true,
  // Every fusion has a kernel form here; plan-memory writes this target's workspace plan and must come last.
  passes: "fuse-epilogue,fuse-bags,fuse-interaction,fold-quant,plan-memory",
};
