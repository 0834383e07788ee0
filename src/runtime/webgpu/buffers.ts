// Runtime, WebGPU engine: the GPU buffers of a WebGPU artifact. Weights
// buffers are created and filled once at load, streamed from their .bin files;
// per-call buffers (inputs, activations, outputs) are sized by the plan's size
// expressions for a capacity of samples and ids, with a MAP_READ staging
// buffer for the outputs, and replaced by bigger ones when a batch needs more.

import { RmcError, error } from "../../diagnostics/index.js";
import type { InputSignature, OutputSignature, WgslLayout, WgslManifest } from "../manifest.js";
import { RUNTIME_CODES as C } from "../codes.js";
import { evaluateSize } from "../check-wgsl.js";
import type { ArtifactFiles } from "../host/files.js";
import { BUFFER_USAGE as U, type GpuBuffer, type GpuDevice, type GpuLimits } from "./api.js";

/** Samples and ids (over all bags inputs) the per-call buffers hold. */
export interface Capacity {
  samples: number;
  ids: number;
}

/** Bytes of a GPU buffer for `bytes` of data: a multiple of 16, never empty (bindings may not be). */
export const bufferBytes = (bytes: number): number => Math.max(16, Math.ceil(bytes / 16) * 16);

/**
 * Creates the weights buffers and fills them from their files, reading each
 * file once, in chunks; shard files (split tables' parts) are left for
 * `fillWeightsFile`, on first use: their buffers exist but stay empty.
 */
export async function uploadWeights(device: GpuDevice, files: ArtifactFiles, manifest: WgslManifest): Promise<Map<string, GpuBuffer>> {
  const buffers = new Map<string, GpuBuffer>();
  const weights = manifest.wgsl.buffers.flatMap((b) => (b.kind === "weights" ? [b] : []));
  for (const w of weights) buffers.set(w.name, device.createBuffer({ label: w.name, size: bufferBytes(w.bytes), usage: U.STORAGE | U.COPY_DST }));
  // Staging tables start zeroed; the runtime writes each call's rows into them (src/runtime/staging.ts).
  for (const s of manifest.wgsl.buffers)
    if (s.kind === "staging") buffers.set(s.name, device.createBuffer({ label: s.name, size: bufferBytes(s.bytes), usage: U.STORAGE | U.COPY_DST }));
  const later = new Set((manifest.shards ?? []).map((s) => s.file));
  for (const file of new Set(weights.map((w) => w.file))) if (!later.has(file)) await fillWeightsFile(device, files, manifest, file, buffers);
  return buffers;
}

/** Uploads one weights file into the buffers it fills. */
export async function fillWeightsFile(
  device: GpuDevice,
  files: ArtifactFiles,
  manifest: WgslManifest,
  file: string,
  buffers: Map<string, GpuBuffer>,
): Promise<void> {
  const weights = manifest.wgsl.buffers.flatMap((b) => (b.kind === "weights" ? [b] : []));
  const parts = weights.filter((w) => w.file === file).map((w) => ({ ...w, buffer: buffers.get(w.name)! }));
  await files.readCheckedChunks(file, manifest.files[file]!, (at, bytes) => {
    for (const part of parts) {
      const from = Math.max(at, part.offset);
      const to = Math.min(at + bytes.length, part.offset + part.bytes);
      if (from >= to) continue;
      let piece = bytes.subarray(from - at, to - at);
      // writeBuffer moves whole words; only a range's last piece can end mid-word.
      if (piece.length % 4 !== 0) piece = padded(piece);
      try {
        device.queue.writeBuffer(part.buffer, from - part.offset, piece);
      } catch (cause) {
        throw new RmcError(error(C.gpuSetup, `${files.where(file)}: cannot upload weights \`${part.name}\` to the GPU: ${(cause as Error).message}`));
      }
    }
  });
}

function padded(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  out.set(bytes);
  return out;
}

/** Bytes of every per-call buffer for a capacity. */
export function batchBufferBytes(layout: WgslLayout, cap: Capacity): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const b of layout.buffers) if (b.kind === "batch") sizes.set(b.name, evaluateSize(b.size, cap.samples, cap.ids));
  return sizes;
}

/** Bytes of output data for a batch, each output after the other (the staging buffer's layout). */
export function outputOffsets(outputs: readonly OutputSignature[], samples: number): { offsets: number[]; bytes: number } {
  const offsets: number[] = [];
  let bytes = 0;
  for (const output of outputs) {
    offsets.push(bytes);
    bytes += 4 * output.width * samples;
  }
  return { offsets, bytes };
}

/** Why `samples` samples with `ids` ids cannot run in one submit on a device with these limits, or undefined. */
export function fitProblem(layout: WgslLayout, outputs: readonly OutputSignature[], cap: Capacity, limits: GpuLimits): string | undefined {
  if (layout.maxBatch !== undefined && cap.samples > layout.maxBatch) return `the plan runs at most ${layout.maxBatch} samples per call`;
  const binding = Math.min(limits.maxStorageBufferBindingSize ?? Infinity, limits.maxBufferSize ?? Infinity);
  for (const [name, bytes] of batchBufferBytes(layout, cap))
    if (bufferBytes(bytes) > binding) return `buffer \`${name}\` would need ${bytes} bytes, more than the device's ${binding}`;
  const staging = outputOffsets(outputs, cap.samples).bytes;
  if (staging > (limits.maxBufferSize ?? Infinity))
    return `the outputs would need ${staging} bytes, more than the device's maxBufferSize ${limits.maxBufferSize}`;
  const most = limits.maxComputeWorkgroupsPerDimension ?? 65535;
  for (const [i, step] of layout.steps.entries())
    for (const [axis, size] of step.dispatch.entries()) {
      const count = evaluateSize(size, cap.samples, cap.ids);
      if (count > most) return `step ${i} would dispatch ${count} workgroups along ${"xyz"[axis]}, more than the device's ${most}`;
    }
  return undefined;
}

/**
 * E1701 when the plan's buffers for the inputs and outputs are smaller than
 * their data at a capacity: the runtime would write or read past them.
 */
export function checkSignatureBuffers(
  layout: WgslLayout,
  inputs: readonly InputSignature[],
  outputs: readonly OutputSignature[],
  cap: Capacity,
  where: string,
): void {
  const sizes = batchBufferBytes(layout, cap);
  const need: [string, number][] = [];
  for (const input of inputs) {
    const entry = layout.inputs.find((e) => e.name === input.name)!;
    if (input.kind === "dense" && entry.kind === "dense") need.push([entry.buffer, 4 * input.width * cap.samples]);
    if (input.kind === "bags" && entry.kind === "bags") {
      need.push([entry.offsets, 4 * (input.count * cap.samples + 1)], [entry.ids, 4 * cap.ids]);
      if (entry.weights !== undefined) need.push([entry.weights, 4 * cap.ids]);
    }
  }
  for (const output of outputs) need.push([layout.outputs.find((e) => e.name === output.name)!.buffer, 4 * output.width * cap.samples]);
  for (const [name, bytes] of need) {
    if (sizes.get(name)! >= bytes) continue;
    const message = `${where}: wgsl buffer \`${name}\` has ${sizes.get(name)} bytes for ${cap.samples} samples and ${cap.ids} ids, but its data needs ${bytes}`;
    throw new RmcError(error(C.manifestInvalid, message, undefined, "the manifest's size expressions are wrong: recompile the artifact"));
  }
}

/** The per-call buffers for one capacity, and the staging buffer outputs are read back through. */
export class BatchBuffers {
  readonly buffers = new Map<string, GpuBuffer>();
  readonly staging: GpuBuffer;

  constructor(
    device: GpuDevice,
    layout: WgslLayout,
    outputs: readonly OutputSignature[],
    readonly cap: Capacity,
  ) {
    for (const [name, bytes] of batchBufferBytes(layout, cap))
      this.buffers.set(name, device.createBuffer({ label: name, size: bufferBytes(bytes), usage: U.STORAGE | U.COPY_DST | U.COPY_SRC }));
    this.staging = device.createBuffer({
      label: "outputs (read back)",
      size: bufferBytes(outputOffsets(outputs, cap.samples).bytes),
      usage: U.MAP_READ | U.COPY_DST,
    });
  }

  destroy(): void {
    for (const buffer of this.buffers.values()) buffer.destroy();
    this.staging.destroy();
  }
}
