// Runtime, WebGPU engine: the slice of the WebGPU API the engine calls, typed
// locally (the project compiles without the DOM library, and a `navigator.gpu`
// from a browser or from Dawn's `webgpu` package in Node both fit these
// shapes). Only the members used are declared; the numeric flags are the
// standard's.

/** `GPUBufferUsage` flags (the standard's values, so no global is needed). */
export const BUFFER_USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
/** `GPUMapMode.READ`. */
export const MAP_READ_MODE = 0x1;
/** `GPUShaderStage.COMPUTE`. */
export const COMPUTE_STAGE = 0x4;

/** The entry object, `navigator.gpu`. */
export interface Gpu {
  requestAdapter(options?: { featureLevel?: string; powerPreference?: string }): Promise<GpuAdapter | null>;
  /** Set-like in browsers and Dawn; read with `has` or by iterating. */
  readonly wgslLanguageFeatures?: Iterable<string> & { has?(name: string): boolean };
}

/** Limits by name (`GPUSupportedLimits`). */
export type GpuLimits = Readonly<Record<string, number>>;

/** A physical GPU (or a software one) offered by the implementation. */
export interface GpuAdapter {
  readonly limits: GpuLimits;
  readonly features: Iterable<string>;
  readonly info?: { vendor?: string; architecture?: string; device?: string; description?: string };
  requestDevice(descriptor?: { requiredLimits?: Record<string, number>; requiredFeatures?: string[]; label?: string }): Promise<GpuDevice>;
}

/** What an error scope or an uncaptured-error event carries. */
export interface GpuError {
  readonly message: string;
}

/** Why a device was lost (`destroyed`, or unknown: a driver reset, a crash). */
export interface GpuDeviceLostInfo {
  readonly reason: string;
  readonly message: string;
}

/** A logical device: creates buffers, shaders and pipelines, and owns the queue. */
export interface GpuDevice {
  readonly limits: GpuLimits;
  readonly queue: GpuQueue;
  readonly lost: Promise<GpuDeviceLostInfo>;
  createBuffer(descriptor: { size: number; usage: number; label?: string; mappedAtCreation?: boolean }): GpuBuffer;
  createShaderModule(descriptor: { code: string; label?: string }): GpuShaderModule;
  createBindGroupLayout(descriptor: { entries: GpuBindGroupLayoutEntry[]; label?: string }): GpuBindGroupLayout;
  createPipelineLayout(descriptor: { bindGroupLayouts: GpuBindGroupLayout[]; label?: string }): GpuPipelineLayout;
  createComputePipeline(descriptor: GpuComputePipelineDescriptor): GpuComputePipeline;
  createComputePipelineAsync?(descriptor: GpuComputePipelineDescriptor): Promise<GpuComputePipeline>;
  createBindGroup(descriptor: {
    layout: GpuBindGroupLayout;
    entries: { binding: number; resource: { buffer: GpuBuffer; offset?: number; size?: number } }[];
    label?: string;
  }): GpuBindGroup;
  createCommandEncoder(descriptor?: { label?: string }): GpuCommandEncoder;
  pushErrorScope(filter: "validation" | "out-of-memory" | "internal"): void;
  popErrorScope(): Promise<GpuError | null>;
  addEventListener?(type: "uncapturederror", listener: (event: { error: GpuError }) => void): void;
  onuncapturederror?: ((event: { error: GpuError }) => void) | null;
  destroy(): void;
}

/** One binding of a bind group layout (buffers only: all the engine binds). */
export interface GpuBindGroupLayoutEntry {
  binding: number;
  visibility: number;
  buffer: { type: "uniform" | "storage" | "read-only-storage" };
}

/** How to make a compute pipeline: its layout and its shader's entry point. */
export interface GpuComputePipelineDescriptor {
  layout: GpuPipelineLayout;
  compute: { module: GpuShaderModule; entryPoint: string };
  label?: string;
}

/** The device's queue: buffer writes and command submission. */
export interface GpuQueue {
  writeBuffer(buffer: GpuBuffer, bufferOffset: number, data: ArrayBufferView | ArrayBuffer, dataOffset?: number, size?: number): void;
  submit(commandBuffers: GpuCommandBuffer[]): void;
  onSubmittedWorkDone?(): Promise<void>;
}

/** A GPU buffer; MAP_READ ones are mapped to read results back. */
export interface GpuBuffer {
  readonly size: number;
  mapAsync(mode: number, offset?: number, size?: number): Promise<void>;
  getMappedRange(offset?: number, size?: number): ArrayBuffer;
  unmap(): void;
  destroy(): void;
}

/** One message of a shader's compilation, with its 1-based line and column. */
export interface GpuCompilationMessage {
  readonly message: string;
  readonly type: "error" | "warning" | "info";
  readonly lineNum: number;
  readonly linePos: number;
  readonly length?: number;
}

/** A compiled WGSL module. */
export interface GpuShaderModule {
  getCompilationInfo(): Promise<{ readonly messages: readonly GpuCompilationMessage[] }>;
}

/** Opaque handles the engine only passes back to the API. */
export type GpuBindGroupLayout = object;
export type GpuPipelineLayout = object;
export type GpuBindGroup = object;
export type GpuCommandBuffer = object;

/** A compute pipeline (one per shader). */
export interface GpuComputePipeline {
  getBindGroupLayout(index: number): GpuBindGroupLayout;
}

/** Records a command buffer: compute passes and buffer copies. */
export interface GpuCommandEncoder {
  beginComputePass(descriptor?: { label?: string }): GpuComputePassEncoder;
  copyBufferToBuffer(source: GpuBuffer, sourceOffset: number, destination: GpuBuffer, destinationOffset: number, size: number): void;
  finish(): GpuCommandBuffer;
}

/** Records dispatches inside a compute pass. */
export interface GpuComputePassEncoder {
  setPipeline(pipeline: GpuComputePipeline): void;
  setBindGroup(index: number, group: GpuBindGroup): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}
