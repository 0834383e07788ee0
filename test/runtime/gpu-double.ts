// Test helper: a `navigator.gpu` stand-in around a real one, for the cases a
// real GPU will not produce on demand: a WGSL language feature hidden, smaller
// limits, no adapter at all, or a handle on the device (to lose it).

import type { Gpu, GpuAdapter, GpuDevice } from "../../src/runtime/webgpu/api.js";

/** What to change about the real GPU. */
export interface GpuChanges {
  hideFeatures?: string[];
  limits?: Record<string, number>;
  noAdapter?: boolean;
  /** Called with every device the runtime requests. */
  onDevice?: (device: GpuDevice) => void;
}

/** `gpu` as seen through `changes`. */
export function gpuDouble(gpu: Gpu, changes: GpuChanges): Gpu {
  const features = [...(gpu.wgslLanguageFeatures ?? [])].filter((f) => !changes.hideFeatures?.includes(f));
  return {
    wgslLanguageFeatures: new Set(features),
    async requestAdapter(options) {
      if (changes.noAdapter) return null;
      const adapter = await gpu.requestAdapter(options);
      return adapter && adapterDouble(adapter, changes);
    },
  };
}

function adapterDouble(adapter: GpuAdapter, changes: GpuChanges): GpuAdapter {
  const limits = new Proxy(adapter.limits, {
    get: (target, key) => (typeof key === "string" && changes.limits?.[key] !== undefined ? changes.limits[key] : Reflect.get(target, key)),
  });
  return {
    limits,
    features: adapter.features,
    ...(adapter.info ? { info: adapter.info } : {}),
    async requestDevice(descriptor) {
      const device = await adapter.requestDevice(descriptor);
      changes.onDevice?.(device);
      return device;
    },
  };
}
