// Test helper shared by every WebGPU test (the runtime's and the WGSL
// backend's): a GPU to run WGSL on, found the way `load` finds one — in Node,
// Dawn's `webgpu` package, on a machine without a GPU its OpenGL ES backend on
// Mesa's llvmpipe (vitest.config.ts sets EGL_PLATFORM=surfaceless). No adapter
// fails the test file loudly, unless RMC_SKIP_WEBGPU=1 (developer machines
// only: CI must run these tests), which makes the WebGPU tests skip.

import { RmcError } from "../src/diagnostics/index.js";
import type { FoundAdapter } from "../src/runtime/webgpu/adapter.js";
import { openAdapter } from "../src/runtime/webgpu/device.js";

/** True when the WebGPU tests may be skipped for want of an adapter (RMC_SKIP_WEBGPU=1). */
export const MAY_SKIP_WEBGPU = process.env.RMC_SKIP_WEBGPU === "1";

/**
 * A WebGPU implementation, a fresh adapter (request a device from it as
 * needed) and its feature level ("compatibility" on OpenGL ES). Undefined only when none is available and RMC_SKIP_WEBGPU=1: use
 * it as `describe.skipIf(!webgpu)`. Otherwise no adapter throws, failing the file.
 */
export async function requireAdapter(): Promise<FoundAdapter | undefined> {
  try {
    return await openAdapter(undefined);
  } catch (cause) {
    if (MAY_SKIP_WEBGPU) return undefined;
    const why = cause instanceof RmcError ? cause.diagnostics.map((d) => `${d.message}${d.hint ? ` (${d.hint})` : ""}`).join("; ") : String(cause);
    throw new Error(
      `no WebGPU adapter for the WebGPU tests: ${why}. Install Mesa's EGL/GLES (libegl1 libgles2 libegl-mesa0) as .ci/run does, or set RMC_SKIP_WEBGPU=1 on a developer machine to skip them`,
    );
  }
}
