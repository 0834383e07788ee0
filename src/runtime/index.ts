// Runtime entry point (`rmc/runtime`): load a compiled artifact (dist/) and
// predict with it, in Node or a browser. `load` reads and checks manifest.json
// and every file it uses (host/: files, threads, Node-only access), then sets
// up the engine its target needs — Wasm memory, weights and threads
// (wasm/engine.ts), or a WebGPU device, pipelines and buffers
// (webgpu/engine.ts, imported only for `wgsl` artifacts); `predict` checks a
// batch against the signature and runs it. Calls to `predict` on one model run
// one at a time, in call order.

import { RmcError, error } from "../diagnostics/index.js";
import type { InputSignature, Manifest, OutputSignature, WasmVariant } from "./manifest.js";
import { parseManifest } from "./check.js";
import { RUNTIME_CODES as C } from "./codes.js";
import { startEngine } from "./wasm/engine.js";
import { chooseVariant } from "./wasm/variants.js";
import { MANIFEST_FILE } from "./host/files.js";
import { prepareBatch, type DenseOrBags, type PreparedBatch } from "./inputs.js";
import { openArtifact } from "./host/open.js";
import { coreCount, threadsSupported, workerScriptAvailable } from "./host/threads.js";
import { samplesToBatch, type SampleObject } from "./samples.js";
import type { Gpu } from "./webgpu/api.js";
import type { GpuInfo } from "./webgpu/device.js";
import type { ShardPreload, ShardSet } from "./shards.js";
import { Stager, type StagingSink, type StagingSlot, type StagingStats } from "./staging.js";
import type { ArtifactFiles } from "./host/files.js";
import { setOwn } from "./names.js";

/** The outputs of consecutive pieces of a batch, joined in order. */
function joinOutputs(outputs: readonly OutputSignature[], pieces: Record<string, Float32Array>[], size: number): Record<string, Float32Array> {
  const joined: Record<string, Float32Array> = {};
  for (const o of outputs) {
    const all = new Float32Array(size * o.width);
    let at = 0;
    for (const p of pieces) {
      all.set(p[o.name]!, at);
      at += p[o.name]!.length;
    }
    setOwn(joined, o.name, all);
  }
  return joined;
}

// What callers need beside `load`: request and signature types, the artifact
// format version, the host math shared with the compiler, the error codes.
export type { BagsInput, DenseOrBags } from "./inputs.js";
export type { SampleObject, SampleValue } from "./samples.js";
export type { IdPolicy, InputSignature, Manifest, OutputSignature, WasmLayout, WgslLayout } from "./manifest.js";
export type { Gpu } from "./webgpu/api.js";
export type { GpuInfo } from "./webgpu/device.js";
export { ARTIFACT_FORMAT } from "./manifest.js";
export { HOST_MATH, sigmoid, tanh } from "./math.js";
export { RUNTIME_CODES } from "./codes.js";
export type { ShardPreload } from "./shards.js";
export type { StagingStats } from "./staging.js";

/** How to load a model. */
export interface LoadOptions {
  /** Compute threads for predict (default: the machine's cores); 1 = no workers. Wasm only: a WebGPU model accepts only 1. */
  threads?: number;
  /** Samples per thread (Wasm) or per call (WebGPU) the buffers are first sized for; grows when a larger batch comes (default 512). */
  batchCapacity?: number;
  /**
   * WebGPU artifacts: the `navigator.gpu`-like object to run on (default: the
   * browser's `navigator.gpu`; in Node, the `webgpu` package).
   */
  gpu?: Gpu;
  /** How to get files from URLs (default globalThis.fetch). */
  fetch?: typeof fetch;
  /**
   * Weight shards of split tables to read at load: "none" (default: each
   * shard is read, and checked, when a request first looks up one of its
   * rows), "hot" (all but the cold parts of hot/cold splits, which stay out of
   * memory until a request needs them) or "all".
   */
  preload?: ShardPreload;
  /**
   * Where the weight shards are, when not beside manifest.json: a folder (Node)
   * or a URL, e.g. another host. Shard files keep their names there and are
   * still checked against the sizes and sha256 that manifest.json lists.
   */
  shards?: string | URL;
  /**
   * Wasm artifacts: the Wasm features the code may use, e.g. `["simd128"]` to
   * run the portable variant on an engine that has relaxed SIMD too. Default:
   * every feature this engine validates, so the fastest variant it accepts
   * runs (`Model.variant` says which).
   */
  features?: readonly string[];
  /** Where the worker script is (default: wasm/worker.js beside this module); for bundlers and tests. */
  workerUrl?: URL;
  /** Tables placed outside memory: bytes of rows the store's cache keeps, as a number or `"512MiB"` (default 256 MiB). */
  cache?: number | string;
  /** Tables placed in a Redis Cluster: its nodes, `host:port` (a list, or one comma-separated string). */
  redis?: string | readonly string[];
  /** Tables placed outside memory: how long one call's store reads may take, in milliseconds (default 2000). */
  storeTimeoutMs?: number;
}

/** A loaded model. */
export interface Model {
  readonly manifest: Manifest;
  /** What runs it: "wasm" (CPU, WebAssembly) or "wgsl" (GPU, WebGPU). */
  readonly target: "wasm" | "wgsl";
  /** For WebGPU models: the adapter and the optional language features in use. */
  readonly gpu?: GpuInfo;
  readonly inputs: InputSignature[];
  readonly outputs: OutputSignature[];
  /** Wasm models: the variant of the code that runs ("relaxed-simd" or "simd128"; see LoadOptions.features). */
  readonly variant?: string;
  /** Threads a large batch is spread over (1 when workers are not available). */
  readonly threads: number;
  /** Names of the weight shards in memory so far (split tables' parts; see LoadOptions.preload). */
  residentShards(): string[];
  /** Tables placed outside memory: what their store did so far (rows staged, cache hits, blocks and bytes read, time); undefined when every table is in memory. */
  storeStats(): StagingStats | undefined;
  /** Runs a batch (typed inputs by name, or an array of sample objects); outputs by name, `[B * width]`. */
  predict(batch: Record<string, DenseOrBags> | readonly SampleObject[]): Promise<Record<string, Float32Array>>;
  /** Terminates the workers (Wasm) or destroys the GPU buffers and device (WebGPU); the model cannot predict afterwards. */
  close(): Promise<void>;
}

const DEFAULT_BATCH_CAPACITY = 512;

/** Loads the artifact in `dir` (a folder path in Node, or a URL), checking its manifest and checksums. */
export async function load(dir: string | URL, opts: LoadOptions = {}): Promise<Model> {
  checkCount("threads", opts.threads);
  checkCount("batchCapacity", opts.batchCapacity);
  const preload = opts.preload ?? "none";
  if (!["none", "hot", "all"].includes(preload))
    throw new RmcError(error(C.badOption, `load option \`preload\` must be "none", "hot" or "all", not ${JSON.stringify(preload)}`));
  const files = await openArtifact(dir, opts.fetch);
  const manifest = parseManifest(await files.readManifest(), files.where(MANIFEST_FILE));
  const shardFiles = opts.shards === undefined ? undefined : await openArtifact(opts.shards, opts.fetch);
  const batchCapacity = opts.batchCapacity ?? DEFAULT_BATCH_CAPACITY;
  if (manifest.target === "wgsl") {
    if (opts.threads !== undefined && opts.threads > 1)
      throw new RmcError(
        error(
          C.badOption,
          `load option \`threads\` is ${opts.threads}, but \`${manifest.model.name}\` is a WebGPU artifact: it runs on the GPU, with no CPU threads (pass 1 or leave it out)`,
        ),
      );
    const { startWebGpuEngine } = await import("./webgpu/engine.js");
    const engine = await startWebGpuEngine(files, manifest, {
      batchCapacity,
      preload,
      ...(shardFiles ? { shardFiles } : {}),
      ...(opts.gpu ? { gpu: opts.gpu } : {}),
    });
    return new LoadedModel(manifest, engine, await openStaging(manifest, files, engine, opts), engine.gpu);
  }
  const workerUrl = opts.workerUrl ?? new URL("./wasm/worker.js", import.meta.url);
  if (opts.features !== undefined && !(Array.isArray(opts.features) && opts.features.every((f) => typeof f === "string")))
    throw new RmcError(error(C.badOption, `load option \`features\` must be a list of Wasm feature names such as ["simd128"]`));
  const variant = chooseVariant(manifest.wasm, opts.features);
  const threads = await chooseThreads(variant, opts, workerUrl);
  const engine = await startEngine(files, manifest, { threads, batchCapacity, workerUrl, preload, variant, ...(shardFiles ? { shardFiles } : {}) });
  return new LoadedModel(manifest, engine, await openStaging(manifest, files, engine, opts), undefined, engine.variant);
}

const DEFAULT_CACHE_BYTES = 256 * 2 ** 20;

/** The stager of an artifact's store-placed tables (undefined when it has none), with the load options checked. */
async function openStaging(manifest: Manifest, files: ArtifactFiles, engine: ModelEngine, opts: LoadOptions): Promise<Stager | undefined> {
  const cacheBytes = opts.cache === undefined ? DEFAULT_CACHE_BYTES : byteSize(opts.cache);
  const redis =
    typeof opts.redis === "string"
      ? opts.redis
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : opts.redis;
  if (opts.storeTimeoutMs !== undefined && !(opts.storeTimeoutMs > 0))
    throw new RmcError(
      error(C.badOption, `load option \`storeTimeoutMs\` must be a positive number of milliseconds, not ${String(opts.storeTimeoutMs)}`),
    );
  return Stager.open(manifest, files, engine.stagingSlots, {
    cacheBytes,
    ...(redis ? { redis } : {}),
    ...(opts.storeTimeoutMs !== undefined ? { timeoutMs: opts.storeTimeoutMs } : {}),
  });
}

const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 };

/** `512MiB`, `1GB`, `4096` or a number: bytes. */
function byteSize(v: number | string): number {
  const m = typeof v === "number" ? undefined : /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v);
  const bytes = typeof v === "number" ? v : m && UNITS[(m[2] || "b").toLowerCase()] ? Number(m[1]) * UNITS[(m[2] || "b").toLowerCase()]! : NaN;
  if (!(Number.isFinite(bytes) && bytes >= 0))
    throw new RmcError(error(C.badOption, `load option \`cache\` must be a byte size such as 268435456 or "512MiB", not ${JSON.stringify(v)}`));
  return Math.floor(bytes);
}

function checkCount(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && value >= 1))
    throw new RmcError(error(C.badOption, `load option \`${name}\` must be a whole number ≥ 1, not ${String(value)}`));
}

/**
 * Threads asked for, or the cores by default; 1 when the artifact has no
 * threads module or the host cannot share memory with workers. A missing
 * worker script is an error only when threads were asked for explicitly.
 */
async function chooseThreads(variant: WasmVariant, opts: LoadOptions, workerUrl: URL): Promise<number> {
  const wanted = opts.threads ?? (await coreCount());
  if (wanted <= 1 || !variant.threadsModule || !threadsSupported()) return 1;
  if (opts.threads === undefined && !(await workerScriptAvailable(workerUrl))) return 1;
  return wanted;
}

/** What a model runs on: the Wasm engine or the WebGPU one. */
interface ModelEngine {
  readonly threads: number;
  readonly shards: ShardSet;
  /** Staging areas of store-placed tables, and how to fill one. */
  readonly stagingSlots: StagingSlot[];
  readonly stageInto: StagingSink;
  run(batch: PreparedBatch): Promise<Record<string, Float32Array>>;
  close(): Promise<void>;
}

class LoadedModel implements Model {
  readonly inputs: InputSignature[];
  readonly outputs: OutputSignature[];
  readonly target: "wasm" | "wgsl";
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    readonly manifest: Manifest,
    private readonly engine: ModelEngine,
    private readonly stager: Stager | undefined,
    readonly gpu?: GpuInfo,
    readonly variant?: string,
  ) {
    this.inputs = manifest.model.inputs;
    this.outputs = manifest.model.outputs;
    this.target = manifest.target;
  }

  get threads(): number {
    return this.engine.threads;
  }

  residentShards(): string[] {
    return this.engine.shards.resident;
  }

  storeStats(): StagingStats | undefined {
    return this.stager?.stats();
  }

  predict(batch: Record<string, DenseOrBags> | readonly SampleObject[]): Promise<Record<string, Float32Array>> {
    // One batch at a time: all calls share the same workspaces (or GPU buffers).
    const result = this.queue.then(() => this.run(batch));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async run(batch: Record<string, DenseOrBags> | readonly SampleObject[]): Promise<Record<string, Float32Array>> {
    if (this.closed) throw new RmcError(error(C.closed, `model \`${this.manifest.model.name}\` is closed: load it again to predict`));
    const typed: Record<string, DenseOrBags> = Array.isArray(batch)
      ? samplesToBatch(this.inputs, batch as readonly SampleObject[])
      : (batch as Record<string, DenseOrBags>);
    const prepared = prepareBatch(this.inputs, typed);
    if (!this.stager) return this.engine.run(prepared);
    // Each piece's rows are staged, then run, before the next piece overwrites the staging areas.
    const results: Record<string, Float32Array>[] = [];
    for (const piece of this.stager.pieces(prepared)) results.push(await this.engine.run(await this.stager.stage(piece, this.engine.stageInto)));
    return results.length === 1 ? results[0]! : joinOutputs(this.outputs, results, prepared.size);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    await this.engine.close();
    await this.stager?.close();
  }
}
