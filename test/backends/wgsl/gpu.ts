// Test plumbing for the WGSL backend: one WebGPU device per test file (Dawn
// from the `webgpu` package, on Mesa's llvmpipe through OpenGL ES), and a
// minimal executor of compiled artifacts that follows the manifest contract
// (src/runtime/manifest.ts): weights uploaded once, per-call buffers sized
// by their size expressions, params and inputs written, every step encoded
// in one compute pass, one submit, outputs read back. No adapter is a test
// failure unless RMC_SKIP_WEBGPU=1 (developer machines without a GPU stack).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { create, globals } from "webgpu";
import type { Batch } from "../../../src/data/batch.js";
import { isBags } from "../../../src/data/batch.js";
import type { Manifest, SizeExpr, WgslLayout } from "../../../src/runtime/manifest.js";

/** The device of this test file and the language features the implementation offers. */
export interface GpuContext {
  /** Dawn's instance: it must outlive the device (collecting it while work is in flight aborts the process). */
  gpu: GPU;
  device: GPUDevice;
  features: ReadonlySet<string>;
}

let context: Promise<GpuContext | undefined> | undefined;

async function open(): Promise<GpuContext | undefined> {
  // Dawn's classes and flag objects as globals, as in a browser (kept if the runtime already set them).
  for (const [name, value] of Object.entries(globals)) if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  const gpu = create(["backend=opengles"]);
  const adapter = await gpu.requestAdapter({ featureLevel: "compatibility" });
  if (!adapter) {
    if (process.env.RMC_SKIP_WEBGPU === "1") {
      console.warn("RMC_SKIP_WEBGPU=1: no WebGPU adapter, the WGSL tests of this file are skipped");
      return undefined;
    }
    throw new Error(
      "no WebGPU adapter (Dawn on OpenGL ES needs Mesa's EGL/llvmpipe; set EGL_PLATFORM=surfaceless). Set RMC_SKIP_WEBGPU=1 to skip these tests on a machine without one.",
    );
  }
  const device = await adapter.requestDevice();
  return { gpu, device, features: new Set(gpu.wgslLanguageFeatures) };
}

/** The file's device, opened once; undefined only when skipping is allowed. */
export function gpuContext(): Promise<GpuContext | undefined> {
  context ??= open();
  return context;
}

const U = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 };

const evaluate = (s: SizeExpr, b: number, n: number): number => Math.ceil((s.perSample * b + (s.perId ?? 0) * n + s.fixed) / (s.div ?? 1));

/** Which variant of a step runs: the base shader, or the first alternative the implementation offers. */
export type Variant = "base" | "best";

/** A loaded artifact on the test device. */
export class GpuArtifact {
  private constructor(
    private readonly ctx: GpuContext,
    readonly manifest: Manifest,
    private readonly layout: WgslLayout,
    private readonly weights: Map<string, GPUBuffer>,
    private readonly pipelines: GPUComputePipeline[],
    /** The shader each step runs (after choosing a variant). */
    readonly shaders: string[],
  ) {}

  /** Compiles every shader (compile errors name file:line and the step's nodes) and uploads the weights. */
  static async load(dir: string, ctx: GpuContext, variant: Variant = "best"): Promise<GpuArtifact> {
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest;
    const layout = manifest.wgsl!;
    const { device } = ctx;
    const files = new Map(layout.shaders.map((s) => [s.name, s.file]));
    const shaders = layout.steps.map(
      (s) => (variant === "best" ? s.alternatives?.find((a) => ctx.features.has(a.languageFeature))?.shader : undefined) ?? s.shader,
    );
    device.pushErrorScope("validation");
    const pipelines: GPUComputePipeline[] = [];
    for (const [i, name] of shaders.entries()) {
      const file = files.get(name)!;
      const module = device.createShaderModule({ code: readFileSync(join(dir, file), "utf8"), label: file });
      const errors = (await module.getCompilationInfo()).messages.filter((m) => m.type === "error");
      if (errors.length > 0)
        throw new Error(
          errors
            .map((m) => `${file}:${m.lineNum}:${m.linePos}: ${m.message} (step ${i}, nodes ${layout.steps[i]!.nodes.map((n) => `%${n}`).join(", ")})`)
            .join("\n"),
        );
      pipelines.push(device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" }, label: file }));
    }
    const weights = new Map<string, GPUBuffer>();
    const blobs = new Map<string, Uint8Array>();
    for (const b of layout.buffers) {
      if (b.kind !== "weights") continue;
      if (!blobs.has(b.file)) blobs.set(b.file, new Uint8Array(readFileSync(join(dir, b.file))));
      const buffer = device.createBuffer({ size: Math.max(4, b.bytes), usage: U.STORAGE | U.COPY_DST, label: b.name });
      device.queue.writeBuffer(buffer, 0, blobs.get(b.file)!, b.offset, b.bytes);
      weights.set(b.name, buffer);
    }
    const problem = await device.popErrorScope();
    if (problem) throw new Error(`loading ${dir}: ${problem.message}`);
    return new GpuArtifact(ctx, manifest, layout, weights, pipelines, shaders);
  }

  /** Runs one batch; outputs by name. */
  async run(batch: Batch): Promise<Record<string, Float32Array>> {
    const { device } = this.ctx;
    const B = batch.size;
    const N = Object.values(batch.inputs).reduce((n, v) => n + (isBags(v) ? v.values.length : 0), 0);
    device.pushErrorScope("validation");
    const buffers = new Map(this.weights);
    const temp: GPUBuffer[] = [];
    const make = (size: number, usage: number, label: string) => {
      const b = device.createBuffer({ size: Math.max(4, Math.ceil(size / 4) * 4), usage, label });
      temp.push(b);
      return b;
    };
    for (const b of this.layout.buffers)
      if (b.kind === "batch") buffers.set(b.name, make(evaluate(b.size, B, N), U.STORAGE | U.COPY_DST | U.COPY_SRC, b.name));
    for (const input of this.layout.inputs) {
      const v = batch.inputs[input.name]!;
      if (input.kind === "dense" && !isBags(v)) device.queue.writeBuffer(buffers.get(input.buffer)!, 0, v);
      else if (input.kind === "bags" && isBags(v)) {
        const offsets = new Uint32Array(v.lengths.length + 1);
        v.lengths.forEach((n, i) => (offsets[i + 1] = offsets[i]! + n));
        device.queue.writeBuffer(buffers.get(input.offsets)!, 0, offsets);
        if (v.values.length > 0) device.queue.writeBuffer(buffers.get(input.ids)!, 0, new Uint32Array(v.values));
        if (input.weights && v.weights && v.weights.length > 0) device.queue.writeBuffer(buffers.get(input.weights)!, 0, v.weights);
      }
    }
    const params = make(16, U.UNIFORM | U.COPY_DST, "params");
    device.queue.writeBuffer(params, 0, new Uint32Array([B, N, 0, 0]));
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    this.layout.steps.forEach((step, i) => {
      const pipeline = this.pipelines[i]!;
      pass.setPipeline(pipeline);
      pass.setBindGroup(
        0,
        device.createBindGroup({
          layout: pipeline.getBindGroupLayout(0),
          entries: step.bindings.map((name, binding) => ({ binding, resource: { buffer: buffers.get(name)! } })),
        }),
      );
      pass.setBindGroup(
        1,
        device.createBindGroup({ layout: pipeline.getBindGroupLayout(1), entries: [{ binding: 0, resource: { buffer: params } }] }),
      );
      const [x, y, z] = step.dispatch.map((d) => evaluate(d, B, N)) as [number, number, number];
      if (x > 0 && y > 0 && z > 0) pass.dispatchWorkgroups(x, y, z);
    });
    pass.end();
    const reads = this.layout.outputs.map((o) => {
      const width = this.manifest.model.outputs.find((m) => m.name === o.name)!.width;
      const bytes = B * width * 4;
      const read = make(bytes, U.MAP_READ | U.COPY_DST, `read ${o.name}`);
      encoder.copyBufferToBuffer(buffers.get(o.buffer)!, 0, read, 0, Math.ceil(bytes / 4) * 4);
      return { name: o.name, read, bytes };
    });
    device.queue.submit([encoder.finish()]);
    const problem = await device.popErrorScope();
    if (problem) throw new Error(`running a batch of ${B}: ${problem.message}`);
    const out: Record<string, Float32Array> = {};
    for (const r of reads) {
      await r.read.mapAsync(1);
      out[r.name] = new Float32Array(r.read.getMappedRange().slice(0, r.bytes));
      r.read.unmap();
    }
    for (const b of temp) b.destroy();
    return out;
  }

  /** Frees the weights buffers. */
  destroy(): void {
    for (const b of this.weights.values()) b.destroy();
  }
}
