// Runtime, WebGPU engine (for `wgsl` artifacts), reached from index.ts only by
// a dynamic import. At load it gets a device (device.ts), compiles every
// shader into a pipeline (shaders.ts), uploads the weights and sizes the
// per-call buffers (buffers.ts). A call writes the inputs (KJT offsets
// computed here) and the params uniform, encodes every step in one compute
// pass, copies the outputs to a staging buffer, submits once and maps it back.

import type { StagingSink, StagingSlot } from "../staging.js";
import { RmcError, error } from "../../diagnostics/index.js";
import type { OutputSignature, WgslLayout, WgslManifest, WgslStep } from "../manifest.js";
import { RUNTIME_CODES as C } from "../codes.js";
import { evaluateSize } from "../check-wgsl.js";
import { MANIFEST_FILE, type ArtifactFiles } from "../host/files.js";
import { INITIAL_IDS_PER_BAG, bagOffsets, idsInSlice, sliceBatch, type PreparedBatch } from "../inputs.js";
import { BUFFER_USAGE as U, COMPUTE_STAGE, MAP_READ_MODE, type Gpu, type GpuBindGroup, type GpuBuffer, type GpuDevice } from "./api.js";
import { BatchBuffers, checkSignatureBuffers, fillWeightsFile, fitProblem, outputOffsets, uploadWeights, type Capacity } from "./buffers.js";
import { ShardSet, type ShardPreload } from "../shards.js";
import { DeviceWatch, checkLimits, chooseShaders, describeAdapter, neededLimits, openAdapter, requestDevice, type GpuInfo } from "./device.js";
import { createPipelines, type ShaderPipeline } from "./shaders.js";
import { setOwn } from "../names.js";

/** How to start a WebGPU engine. */
export interface WebGpuOptions {
  /** A `navigator.gpu`-like object (default: the browser's, or the `webgpu` package in Node). */
  gpu?: Gpu;
  /** Samples the per-call buffers are first sized for. */
  batchCapacity: number;
  /** Which weight shards to upload at load (default none: each on first use). */
  preload?: ShardPreload;
  /** Where the shard files are read from (default: the artifact itself). */
  shardFiles?: ArtifactFiles;
}

/** Gets a device, compiles the shaders, uploads the weights; the device is destroyed again if any of it fails. */
export async function startWebGpuEngine(files: ArtifactFiles, manifest: WgslManifest, options: WebGpuOptions): Promise<WebGpuEngine> {
  const where = files.where(MANIFEST_FILE);
  const { gpu, adapter, featureLevel } = await openAdapter(options.gpu);
  const { steps, used, missing } = chooseShaders(manifest.wgsl, gpu, adapter, where);
  const needed = neededLimits(manifest.wgsl);
  checkLimits(needed, adapter, where);
  const device = await requestDevice(adapter, needed, manifest.model.name);
  const info: GpuInfo = { adapter: describeAdapter(adapter), featureLevel, usedLanguageFeatures: used, missingLanguageFeatures: missing };
  const watch = new DeviceWatch(device, manifest.model.name);
  try {
    device.pushErrorScope("out-of-memory");
    device.pushErrorScope("validation");
    const params = device.createBuffer({ label: "params", size: 16, usage: U.UNIFORM | U.COPY_DST });
    const paramsLayout = device.createBindGroupLayout({
      label: "params",
      entries: [{ binding: 0, visibility: COMPUTE_STAGE, buffer: { type: "uniform" } }],
    });
    const paramsGroup = device.createBindGroup({ label: "params", layout: paramsLayout, entries: [{ binding: 0, resource: { buffer: params } }] });
    const pipelines = await createPipelines(device, files, manifest, steps, paramsLayout);
    const weights = await uploadWeights(device, files, manifest);
    const shards = new ShardSet(manifest.shards ?? [], manifest.model.inputs, (s) =>
      fillWeightsFile(device, options.shardFiles ?? files, manifest, s.file, weights),
    );
    await shards.preload(options.preload ?? "none");
    const engine = new WebGpuEngine(manifest, device, watch, info, { steps, pipelines, weights, params, paramsGroup }, where, shards);
    engine.allocate(initialCapacity(manifest, options.batchCapacity, device));
    const problems = [await device.popErrorScope(), await device.popErrorScope()].filter((e) => e !== null);
    if (problems.length)
      throw new RmcError(error(C.gpuSetup, `${where}: setting up the model on the GPU failed: ${problems.map((e) => e!.message).join("; ")}`));
    watch.check();
    return engine;
  } catch (cause) {
    watch.close();
    device.destroy();
    throw cause;
  }
}

/** The capacity first allocated: the asked-for samples with room for 8 ids per bag, halved until the device allows it. */
function initialCapacity(manifest: WgslManifest, samples: number, device: GpuDevice): Capacity {
  const features = manifest.model.inputs.reduce((n, input) => n + (input.kind === "bags" ? input.count : 0), 0);
  const fits = (cap: Capacity): boolean => !fitProblem(manifest.wgsl, manifest.model.outputs, cap, device.limits);
  let cap = { samples, ids: INITIAL_IDS_PER_BAG * features * samples };
  while (cap.samples > 1 && !fits(cap)) cap = { samples: Math.ceil(cap.samples / 2), ids: Math.ceil(cap.ids / 2) };
  if (fits(cap)) return cap;
  const problem = fitProblem(manifest.wgsl, manifest.model.outputs, { samples: 1, ids: 0 }, device.limits);
  if (problem) throw new RmcError(error(C.gpuBatchLimit, `model \`${manifest.model.name}\`: even one sample does not fit this GPU: ${problem}`));
  return { samples: 1, ids: 0 };
}

/** What the engine runs: steps (with the shaders chosen for this GPU), pipelines, weights and params. */
interface Plan {
  steps: WgslStep[];
  pipelines: Map<string, ShaderPipeline>;
  weights: Map<string, GpuBuffer>;
  params: GpuBuffer;
  paramsGroup: GpuBindGroup;
}

/** A WebGPU model ready to run batches, one at a time. */
export class WebGpuEngine {
  readonly threads = 1;
  /** The staging tables of store-placed tables: GPU buffers the runtime writes each call's rows into. */
  get stagingSlots(): StagingSlot[] {
    return this.manifest.wgsl.buffers.flatMap((b) => (b.kind === "staging" ? [{ table: b.table, rows: b.rows, rowBytes: b.rowBytes }] : []));
  }

  readonly stageInto: StagingSink = (slot, bytes) => {
    const area = this.manifest.wgsl.buffers.filter((b) => b.kind === "staging")[slot]!;
    if (bytes.length === 0) return;
    // writeBuffer takes whole words: pad the rows.
    const data =
      bytes.length % 4 === 0
        ? bytes
        : (() => {
            const p = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
            p.set(bytes);
            return p;
          })();
    this.device.queue.writeBuffer(this.plan.weights.get(area.name)!, 0, data);
  };
  private batchBuffers: BatchBuffers | undefined;
  private groups: GpuBindGroup[] = [];
  private readonly layout: WgslLayout;
  private readonly outputs: readonly OutputSignature[];

  constructor(
    private readonly manifest: WgslManifest,
    private readonly device: GpuDevice,
    private readonly watch: DeviceWatch,
    readonly gpu: GpuInfo,
    private readonly plan: Plan,
    private readonly where: string,
    readonly shards: ShardSet,
  ) {
    this.layout = manifest.wgsl;
    this.outputs = manifest.model.outputs;
  }

  /** Replaces the per-call buffers by ones for `cap`, and their bind groups. */
  allocate(cap: Capacity): void {
    checkSignatureBuffers(this.layout, this.manifest.model.inputs, this.outputs, cap, this.where);
    this.batchBuffers?.destroy();
    const batch = new BatchBuffers(this.device, this.layout, this.outputs, cap);
    this.batchBuffers = batch;
    this.groups = this.plan.steps.map((step, i) => {
      const shader = this.plan.pipelines.get(step.shader)!;
      const entries = step.bindings.map((name, binding) => ({
        binding,
        resource: { buffer: this.plan.weights.get(name) ?? batch.buffers.get(name)! },
      }));
      return this.device.createBindGroup({ label: `step ${i}`, layout: shader.bindings, entries });
    });
  }

  /** Runs a checked batch; outputs by name, `[B * width]`. Batches too big for one submit run in slices. */
  async run(batch: PreparedBatch): Promise<Record<string, Float32Array>> {
    this.watch.check();
    const results: Record<string, Float32Array> = {};
    for (const output of this.outputs) setOwn(results, output.name, new Float32Array(batch.size * output.width));
    if (batch.size === 0) return results;
    await this.shards.ensure(batch);
    const most = this.layout.maxBatch ?? batch.size;
    const slices: [number, number][] = [];
    for (let start = 0; start < batch.size; start += most) slices.push(...this.slices(batch, start, Math.min(batch.size, start + most)));
    for (const [start, end] of slices) await this.runSlice(start === 0 && end === batch.size ? batch : sliceBatch(batch, start, end), results, start);
    return results;
  }

  /** Halves [start, end) until each part fits the device in one submit; E1738 when one sample does not. */
  private slices(batch: PreparedBatch, start: number, end: number): [number, number][] {
    const ids = idsInSlice(batch, start, end).reduce((a, b) => a + b, 0);
    const problem = fitProblem(this.layout, this.outputs, { samples: end - start, ids }, this.device.limits);
    if (!problem) return [[start, end]];
    if (end - start === 1)
      throw new RmcError(
        error(
          C.gpuBatchLimit,
          `model \`${this.manifest.model.name}\`: sample ${start} alone does not fit this GPU: ${problem}`,
          undefined,
          "fewer ids per bag",
        ),
      );
    const middle = start + Math.floor((end - start) / 2);
    return [...this.slices(batch, start, middle), ...this.slices(batch, middle, end)];
  }

  /** Grows the per-call buffers to hold `samples` and `ids`: doubled when that fits, else just enough. */
  private ensureCapacity(samples: number, ids: number): void {
    const cap = this.batchBuffers!.cap;
    if (samples <= cap.samples && ids <= cap.ids) return;
    const roomy = {
      samples: samples > cap.samples ? Math.max(samples, 2 * cap.samples) : cap.samples,
      ids: ids > cap.ids ? Math.max(ids, 2 * cap.ids) : cap.ids,
    };
    const candidates = [roomy, { samples: Math.max(samples, cap.samples), ids: Math.max(ids, cap.ids) }, { samples, ids }];
    this.allocate(candidates.find((c) => !fitProblem(this.layout, this.outputs, c, this.device.limits)) ?? { samples, ids });
  }

  private async runSlice(batch: PreparedBatch, results: Record<string, Float32Array>, start: number): Promise<void> {
    const ids = idsInSlice(batch, 0, batch.size).reduce((a, b) => a + b, 0);
    const { device } = this;
    const { offsets, bytes } = outputOffsets(this.outputs, batch.size);
    device.pushErrorScope("out-of-memory");
    device.pushErrorScope("validation");
    let staging: GpuBuffer;
    try {
      this.ensureCapacity(batch.size, ids);
      staging = this.submit(batch, ids, offsets);
    } catch (cause) {
      await Promise.allSettled([device.popErrorScope(), device.popErrorScope()]);
      throw cause;
    }
    const mapped = bytes > 0 ? staging.mapAsync(MAP_READ_MODE, 0, bytes) : Promise.resolve();
    const [validation, memory, map] = await this.watch.untilLost(Promise.allSettled([device.popErrorScope(), device.popErrorScope(), mapped]));
    const gpuError = [validation, memory].map((r) => (r.status === "fulfilled" ? r.value : null)).find((e) => e);
    if (gpuError || map.status === "rejected") {
      if (map.status === "fulfilled" && bytes > 0) staging.unmap();
      if (map.status === "rejected") await this.watch.settle(100);
      this.watch.check();
      const name = this.manifest.model.name;
      if (gpuError) throw new RmcError(error(C.gpuError, `model \`${name}\`: the GPU reported an error running the batch: ${gpuError.message}`));
      throw new RmcError(
        error(C.gpuError, `model \`${name}\`: reading the outputs back failed: ${((map as PromiseRejectedResult).reason as Error).message}`),
      );
    }
    if (bytes > 0) this.readOutputs(staging, offsets, bytes, batch.size, results, start);
  }

  /** Writes the inputs and params, encodes every step and the output copies, submits once; returns the staging buffer. */
  private submit(batch: PreparedBatch, ids: number, offsets: number[]): GpuBuffer {
    const { device } = this;
    const buffers = this.batchBuffers!;
    this.writeInputs(batch, buffers);
    device.queue.writeBuffer(this.plan.params, 0, Uint32Array.of(batch.size, ids, 0, 0));
    const encoder = device.createCommandEncoder({ label: this.manifest.model.name });
    const pass = encoder.beginComputePass({ label: this.manifest.model.name });
    for (const [i, step] of this.plan.steps.entries()) {
      const [x, y, z] = step.dispatch.map((size) => evaluateSize(size, batch.size, ids)) as [number, number, number];
      if (x === 0 || y === 0 || z === 0) continue;
      pass.setPipeline(this.plan.pipelines.get(step.shader)!.pipeline);
      pass.setBindGroup(0, this.groups[i]!);
      pass.setBindGroup(1, this.plan.paramsGroup);
      pass.dispatchWorkgroups(x, y, z);
    }
    pass.end();
    this.outputs.forEach((output, k) => {
      const source = buffers.buffers.get(this.layout.outputs.find((o) => o.name === output.name)!.buffer)!;
      if (output.width > 0) encoder.copyBufferToBuffer(source, 0, buffers.staging, offsets[k]!, 4 * output.width * batch.size);
    });
    device.queue.submit([encoder.finish()]);
    return buffers.staging;
  }

  /** Writes a slice's inputs: dense rows, and per bags input its offsets (prefix sums of the lengths), ids and weights. */
  private writeInputs(batch: PreparedBatch, buffers: BatchBuffers): void {
    const write = (name: string, data: Float32Array | Int32Array): void => {
      if (data.length > 0) this.device.queue.writeBuffer(buffers.buffers.get(name)!, 0, data);
    };
    batch.inputs.forEach((input, i) => {
      const entry = this.layout.inputs.find((e) => e.name === this.manifest.model.inputs[i]!.name)!;
      if (input.kind === "dense" && entry.kind === "dense") write(entry.buffer, asFloat32(input.data));
      if (input.kind !== "bags" || entry.kind !== "bags") return;
      write(entry.offsets, bagOffsets(input, batch.size));
      write(entry.ids, input.ids);
      if (entry.weights !== undefined && input.weights) write(entry.weights, asFloat32(input.weights));
    });
  }

  private readOutputs(
    staging: GpuBuffer,
    offsets: number[],
    bytes: number,
    samples: number,
    results: Record<string, Float32Array>,
    start: number,
  ): void {
    try {
      const mapped = staging.getMappedRange(0, bytes);
      this.outputs.forEach((output, k) => {
        results[output.name]!.set(new Float32Array(mapped, offsets[k]!, output.width * samples), start * output.width);
      });
    } finally {
      staging.unmap();
    }
  }

  /** Destroys the buffers and the device. */
  async close(): Promise<void> {
    this.watch.close();
    this.batchBuffers?.destroy();
    for (const buffer of this.plan.weights.values()) buffer.destroy();
    this.plan.params.destroy();
    this.device.destroy();
  }
}

const asFloat32 = (data: ArrayLike<number>): Float32Array => (data instanceof Float32Array ? data : Float32Array.from(data));
