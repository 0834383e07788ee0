// Each built-in target's hard limits, kept apart from the code generators so
// that passes (split-tables) can read them without loading binaryen or the
// shader renderers. The backends declare these same objects as their `limits`.

import type { BackendLimits } from "./backend.js";

/** Wasm32: one linear memory of 4 GiB holds every weight and the workspaces. */
export const WASM_LIMITS: BackendLimits = { maxMemoryBytes: 4 * 2 ** 30, maxBufferBytes: 4 * 2 ** 30 };

/** WebGPU: one storage binding holds at most 128 MiB (maxStorageBufferBindingSize's default); the whole model is bounded by GPU memory. */
export const WGSL_LIMITS: BackendLimits = { maxMemoryBytes: 4 * 2 ** 30, maxBufferBytes: 128 * 2 ** 20 };

/** Limits of the built-in targets by name. */
export const TARGET_LIMITS: Record<string, BackendLimits> = { wasm: WASM_LIMITS, wgsl: WGSL_LIMITS };
