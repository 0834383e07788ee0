// Runtime, WebGPU engine, Node only: WebGPU for Node from Dawn's `webgpu` npm
// package, for loading `wgsl` artifacts without a browser. Reached only through
// a dynamic import from device.ts. On Linux without a GPU device node, Dawn's
// OpenGL ES backend on Mesa's software rasteriser is tried first (Vulkan would
// only print an error there); the instance that gave an adapter is reused.

import { existsSync, readdirSync } from "node:fs";
import { RmcError, error } from "../../diagnostics/index.js";
import { RUNTIME_CODES as C } from "../codes.js";
import type { Gpu } from "./api.js";
import { requestAnyAdapter, type FoundAdapter } from "./adapter.js";

interface WebGpuPackage {
  create(flags: string[]): Gpu;
  globals: Record<string, unknown>;
}

/** The package's name in a variable, so neither TypeScript nor a bundler follows the import. */
const PACKAGE = "webgpu";

let working: Gpu | undefined;

/** An adapter from the `webgpu` package, or undefined when no backend gives one; E1730 when the package is missing. */
export async function nodeAdapter(): Promise<FoundAdapter | undefined> {
  if (working) {
    const found = await requestAnyAdapter(working);
    if (found) return found;
  }
  const pkg = await importPackage();
  for (const flags of backendOrder()) {
    if (flags.includes("backend=opengles") && process.env.EGL_PLATFORM === undefined && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY)
      process.env.EGL_PLATFORM = "surfaceless"; // EGL without a display server
    const found = await requestAnyAdapter(pkg.create(flags));
    if (found) {
      working = found.gpu;
      return found;
    }
  }
  return undefined;
}

async function importPackage(): Promise<WebGpuPackage> {
  let pkg: WebGpuPackage;
  try {
    pkg = (await import(PACKAGE)) as WebGpuPackage;
  } catch (cause) {
    const message = `WebGPU artifacts need a WebGPU implementation; in Node that is the \`webgpu\` package, which cannot be loaded (${(cause as Error).message})`;
    throw new RmcError(
      error(C.webgpuUnavailable, message, undefined, "`npm install webgpu`, or pass `gpu` (a navigator.gpu-like object) in the load options"),
    );
  }
  // Dawn's objects expect their classes and flag objects as globals, as in a browser.
  for (const [name, value] of Object.entries(pkg.globals)) if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  return pkg;
}

/** Dawn instance flags to try, best first. */
function backendOrder(): string[][] {
  if (process.platform !== "linux") return [[]];
  return hasGpuDeviceNode() ? [[], ["backend=opengles"]] : [["backend=opengles"], []];
}

function hasGpuDeviceNode(): boolean {
  try {
    if (existsSync("/dev/nvidia0")) return true;
    return readdirSync("/dev/dri").some((name) => name.startsWith("renderD"));
  } catch {
    return false;
  }
}
