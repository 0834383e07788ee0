// Runtime, WebGPU engine: asking a WebGPU implementation for an adapter — the
// default request, then a compatibility-level one — shared by device.ts (the
// caller's or the browser's `navigator.gpu`) and node-gpu.ts (Dawn in Node),
// so neither needs the other's module.

import type { Gpu, GpuAdapter } from "./api.js";

/** A WebGPU implementation with an adapter it gave, and the feature level asked for. */
export interface FoundAdapter {
  gpu: Gpu;
  adapter: GpuAdapter;
  featureLevel: "core" | "compatibility";
}

/** Asks `gpu` for an adapter: the default request, then a compatibility-level one (OpenGL ES, older GPUs). */
export async function requestAnyAdapter(gpu: Gpu): Promise<FoundAdapter | undefined> {
  const core = await gpu.requestAdapter();
  if (core) return { gpu, adapter: core, featureLevel: "core" };
  const compatible = await gpu.requestAdapter({ featureLevel: "compatibility" });
  return compatible ? { gpu, adapter: compatible, featureLevel: "compatibility" } : undefined;
}
