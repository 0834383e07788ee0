// The WebGPU target's facts (backends/wgsl compiles for them): WGSL compute
// shaders, WebGPU's default binding limit, and the speed estimate the
// precision search uses for it.

import { KERNEL_OPS, type CostModel, type TargetInfo } from "./target.js";

/**
 * WebGPU: at the batch sizes a model serves, each dense layer's shader is
 * bound by reading its weights (every workgroup streams the matrix once per
 * tile of samples) and each table lookup by reading its rows, so the estimate
 * follows the bytes a precision moves, plus its unpacking: fp16/bf16 weights
 * are unpacked from u32 pairs (half the bytes, some ALU), int8 layers read a
 * quarter of the bytes and quantize their input rows in the shader (a pass
 * over the row that runs in parallel, so unlike Wasm's it does not grow with
 * the layer's narrowness). Rows of n-bit tables carry a scale and bias. This
 * is a bytes-moved estimate, not a measurement on a GPU; it only has to rank
 * precisions against fp32 (the search never takes one rated slower).
 */
const cost: CostModel = (kind, precision) => {
  if (kind === "linear") return ({ fp32: 1, fp16: 0.6, bf16: 0.6, int8: 0.45 } as Record<string, number>)[precision] ?? Infinity;
  return ({ fp32: 1, fp16: 0.55, int8: 0.35, int4: 0.25, int2: 0.2 } as Record<string, number>)[precision] ?? Infinity;
};

/** WebGPU's default limits, which every adapter offers and the plan stays within. */
export const WEBGPU_DEFAULTS = {
  maxStorageBufferBindingSize: 128 * 2 ** 20,
  maxStorageBuffersPerShaderStage: 8,
  maxComputeWorkgroupSizeX: 256,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeWorkgroupsPerDimension: 65535,
} as const;

export const WGSL_TARGET: TargetInfo = {
  name: "wgsl",
  summary: "WebGPU compute shaders (WGSL) and a dispatch plan; runs in browsers and in Node with the webgpu package",
  ops: KERNEL_OPS,
  precisions: {
    tables: ["fp32", "fp16", "int8", "int4", "int2"],
    linear: ["fp32", "fp16", "bf16", "int8"],
    cross_layer: ["fp32", "fp16", "bf16"],
  },
  // One binding holds at most 128 MiB (a table or a layer); the whole model is bounded by GPU memory, not by an API limit.
  limits: { maxMemoryBytes: 4 * 2 ** 30, maxBufferBytes: WEBGPU_DEFAULTS.maxStorageBufferBindingSize },
  cost,
  // dot4I8Packed is used where the adapter has it (a shader variant chosen at load), so there is nothing to request.
  features: [],
  // The fused forms run here too; the per-call buffer plan is this target's own (backends/wgsl/plan.ts), so no plan-memory.
  passes: "fuse-epilogue,fuse-bags,fuse-interaction,fold-quant",
};
