// Runtime, WebGPU engine: finding a GPU for a WebGPU artifact — the caller's
// `gpu`, the browser's `navigator.gpu`, or Dawn's `webgpu` package in Node
// (node-gpu.ts) — and checking the adapter against the plan (limits, WGSL
// language features) before asking for a device with the limits the plan
// needs. Also watches the device for loss and stray errors, so a broken GPU
// becomes an RmcError, never a hang.

import { RmcError, error } from "../../diagnostics/index.js";
import type { WgslLayout, WgslStep } from "../manifest.js";
import { RUNTIME_CODES as C } from "../codes.js";
import { isNode } from "../host/platform.js";
import { requestAnyAdapter, type FoundAdapter } from "./adapter.js";
import type { Gpu, GpuAdapter, GpuDevice, GpuDeviceLostInfo, GpuError } from "./api.js";

/** What the loaded model tells about the GPU it runs on. */
export interface GpuInfo {
  /** The adapter as it describes itself (vendor, architecture, device, description). */
  adapter: string;
  /** "core" or "compatibility" (a WebGPU subset for older GPUs and OpenGL ES). */
  featureLevel: string;
  /** Optional WGSL language features in use: steps run the faster shader variants that need them. */
  usedLanguageFeatures: string[];
  /** Optional features the artifact has variants for but this GPU lacks: those steps run their plain shaders. */
  missingLanguageFeatures: string[];
}

/** Limits the runtime asks for at the adapter's maximum: they bound how big a batch one call can take, and the plan does not state them. */
const GENEROUS_LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupsPerDimension",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupStorageSize",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
];

/** An adapter for `explicit`, else the browser's or Node's WebGPU; E1730/E1731 when there is none. */
export async function openAdapter(explicit: Gpu | undefined): Promise<FoundAdapter> {
  const browserGpu = (globalThis as { navigator?: { gpu?: Gpu } }).navigator?.gpu;
  const gpu = explicit ?? browserGpu;
  try {
    if (gpu) {
      const found = await requestAnyAdapter(gpu);
      if (found) return found;
    } else if (isNode()) {
      const found = await (await import("./node-gpu.js")).nodeAdapter();
      if (found) return found;
    } else {
      const hint = "use a browser with WebGPU (and a secure context: https or localhost), or compile for `--target wasm`";
      throw new RmcError(error(C.webgpuUnavailable, "this host has no WebGPU (`navigator.gpu` is missing)", undefined, hint));
    }
  } catch (cause) {
    if (cause instanceof RmcError) throw cause;
    throw new RmcError(error(C.noAdapter, `asking WebGPU for an adapter failed: ${(cause as Error).message}`));
  }
  const hint =
    isNode() && !explicit
      ? "Linux without a GPU needs Mesa's EGL and GLES drivers (libegl1, libgles2) for Dawn's OpenGL ES backend"
      : "check the GPU driver, or compile for `--target wasm`";
  throw new RmcError(
    error(C.noAdapter, "WebGPU gives no adapter on this machine (neither a default nor a compatibility-level one)", undefined, hint),
  );
}

/** The adapter's self-description, for messages. */
export function describeAdapter(adapter: GpuAdapter): string {
  const info = adapter.info ?? {};
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((p): p is string => typeof p === "string" && p.trim() !== "");
  return parts.length ? parts.join(" ").trim() : "an unnamed adapter";
}

/** The WGSL language features `gpu` implements. */
export function languageFeaturesOf(gpu: Gpu): Set<string> {
  const features = gpu.wgslLanguageFeatures;
  return features ? new Set(features) : new Set();
}

/**
 * The steps with the shader each runs here: the first alternative whose WGSL
 * language feature the implementation offers, else the step's own shader.
 * E1733 when a feature the shaders require (`languageFeatures`) is missing.
 */
export function chooseShaders(
  layout: WgslLayout,
  gpu: Gpu,
  adapter: GpuAdapter,
  where: string,
): { steps: WgslStep[]; used: string[]; missing: string[] } {
  const offered = languageFeaturesOf(gpu);
  const lacking = layout.languageFeatures.filter((f) => !offered.has(f));
  if (lacking.length) {
    const message = `${where}: the shaders need the WGSL language feature${lacking.length > 1 ? "s" : ""} ${lacking.join(", ")}, which this WebGPU implementation (${describeAdapter(adapter)}) does not offer`;
    throw new RmcError(error(C.languageFeature, message, undefined, "use a newer browser or GPU driver, or recompile without the feature"));
  }
  const used = new Set<string>();
  const missing = new Set<string>();
  const steps = layout.steps.map((step) => {
    const chosen = step.alternatives?.find((alt) => offered.has(alt.languageFeature));
    for (const alt of step.alternatives ?? []) if (!offered.has(alt.languageFeature)) missing.add(alt.languageFeature);
    if (!chosen) return step;
    used.add(chosen.languageFeature);
    return { ...step, shader: chosen.shader };
  });
  return { steps, used: [...used], missing: [...missing].filter((f) => !used.has(f)) };
}

/** The limits the plan needs: the manifest's, raised to what its steps and weights show. */
export function neededLimits(layout: WgslLayout): Record<string, number> {
  const bindings = Math.max(0, ...layout.steps.map((s) => s.bindings.length));
  const weights = Math.max(0, ...layout.buffers.map((b) => (b.kind === "weights" ? b.bytes : 0)));
  // Keys come from the manifest: no prototype, so a key named like an Object method is only a key.
  const needed: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [key, value] of Object.entries(layout.limits)) if (typeof value === "number") needed[key] = value;
  needed.maxStorageBufferBindingSize = Math.max(layout.limits.maxStorageBufferBindingSize, weights);
  needed.maxStorageBuffersPerShaderStage = Math.max(layout.limits.maxStorageBuffersPerShaderStage, bindings);
  return needed;
}

/** E1732 naming every limit of the adapter below the plan's needs. */
export function checkLimits(needed: Record<string, number>, adapter: GpuAdapter, where: string): void {
  const short = Object.entries(needed).filter(([key, value]) => !(typeof adapter.limits[key] === "number" && adapter.limits[key]! >= value));
  if (short.length === 0) return;
  const list = short.map(([key, value]) => `${key} ≥ ${value} (it offers ${adapter.limits[key] ?? "none"})`).join(", ");
  const message = `${where}: the artifact's plan needs ${list}, more than this GPU (${describeAdapter(adapter)}) allows`;
  throw new RmcError(
    error(C.gpuLimits, message, undefined, "recompile for this GPU's limits (split big tables with split-tables), or use a bigger GPU"),
  );
}

/** Requests a device with the plan's limits and, for the batch-bounding ones, the adapter's maximum. */
export async function requestDevice(adapter: GpuAdapter, needed: Record<string, number>, label: string): Promise<GpuDevice> {
  const requiredLimits: Record<string, number> = {};
  for (const key of GENEROUS_LIMITS) if (typeof adapter.limits[key] === "number") requiredLimits[key] = adapter.limits[key]!;
  for (const [key, value] of Object.entries(needed)) requiredLimits[key] = Math.max(value, requiredLimits[key] ?? 0);
  try {
    return await adapter.requestDevice({ requiredLimits, label });
  } catch (cause) {
    throw new RmcError(error(C.gpuSetup, `the GPU (${describeAdapter(adapter)}) refused a device: ${(cause as Error).message}`));
  }
}

/** Records what happens to a device outside the error scopes: loss and uncaptured errors. */
export class DeviceWatch {
  lost: GpuDeviceLostInfo | undefined;
  private stray: GpuError | undefined;
  private closing = false;
  private abortPending: ((err: RmcError) => void) | undefined;

  constructor(
    readonly device: GpuDevice,
    private readonly model: string,
  ) {
    void device.lost.then((info) => {
      this.lost = info;
      if (!this.closing) this.abortPending?.(this.lostError(info));
    });
    const listener = (event: { error: GpuError }): void => void (this.stray ??= event.error);
    if (typeof device.addEventListener === "function") device.addEventListener("uncapturederror", listener);
    else device.onuncapturederror = listener;
  }

  /** Marks a deliberate destroy, so the loss it causes is not reported as a failure. */
  close(): void {
    this.closing = true;
  }

  /** E1737 if the device is gone; E1736 for an error no scope caught since the last check. */
  check(): void {
    if (this.lost && !this.closing) throw this.lostError(this.lost);
    const stray = this.stray;
    this.stray = undefined;
    if (stray) throw new RmcError(error(C.gpuError, `model \`${this.model}\`: the GPU reported an error: ${stray.message}`));
  }

  /**
   * `work` (something the GPU settles), rejected with E1737 if the device is
   * lost first, so a dead GPU never leaves a caller waiting. One at a time.
   */
  untilLost<T>(work: Promise<T>): Promise<T> {
    if (this.lost && !this.closing) return Promise.reject(this.lostError(this.lost));
    return new Promise<T>((resolve, reject) => {
      this.abortPending = reject;
      work.then(resolve, reject);
    }).finally(() => (this.abortPending = undefined));
  }

  /** Waits up to `ms` for a loss to be reported (a failed map is usually one, announced a moment later). */
  async settle(ms: number): Promise<void> {
    if (this.lost) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.device.lost, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  }

  /** The RmcError for a lost device. */
  lostError(info: GpuDeviceLostInfo): RmcError {
    const why = info.message ? `: ${info.message}` : "";
    return new RmcError(
      error(
        C.deviceLost,
        `model \`${this.model}\`: the GPU device was lost (${info.reason || "unknown reason"})${why}`,
        undefined,
        "load the model again",
      ),
    );
  }
}
