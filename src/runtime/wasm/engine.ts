// Runtime, Wasm engine (for `wasm` artifacts): a loaded model's machinery
// — the compiled code, its memory with the weights in place, the workspaces
// (workspace.ts) and, for several threads, the worker pool (pool.ts) — and the
// one thing it does: run a checked batch. A batch is cut into contiguous
// slices of samples, one per thread; the main thread runs the first slice
// itself while workers run the others, each in its own workspace.

import { RmcError, error } from "../../diagnostics/index.js";
import type { Manifest, WasmManifest, WasmVariant } from "../manifest.js";
import { RUNTIME_CODES as C } from "../codes.js";
import type { ArtifactFiles } from "../host/files.js";
import { idsInSlice, type PreparedBatch } from "../inputs.js";
import { hostImports } from "../math.js";
import { MAX_PAGES, PAGE_BYTES, wasmApi, type WasmMemory, type WasmModule } from "../host/platform.js";
import { WorkerPool } from "./pool.js";
import { codeLayoutProblem } from "../check-wasm.js";
import { Workspaces, fittingPlan } from "./workspace.js";
import { ShardSet, type ShardPreload } from "../shards.js";
import type { StagingSink, StagingSlot } from "../staging.js";
import { setOwn } from "../names.js";

/** Below this many samples per thread, splitting a batch costs more than it saves. */
const MIN_SAMPLES_PER_THREAD = 32;

type Forward = (ws: number, cap: number, batch: number) => void;

/** How to start an engine. */
export interface EngineOptions {
  threads: number;
  batchCapacity: number;
  workerUrl: URL;
  /** Which weight shards to read at load (the rest on first use). */
  preload: ShardPreload;
  /** Where the shard files are read from (default: the artifact itself). */
  shardFiles?: ArtifactFiles;
  /** The code variant to run (variants.ts `chooseVariant`). */
  variant: WasmVariant;
}

/** Reads the code and weights, sets up memory and workers. */
export async function startEngine(files: ArtifactFiles, manifest: WasmManifest, options: EngineOptions): Promise<Engine> {
  const layout = manifest.wasm;
  const { inputs, outputs } = manifest.model;
  const shared = options.threads > 1;
  const { variant } = options;
  const codeFile = shared ? variant.threadsModule : variant.module;
  const module = await compileCode(await files.readChecked(codeFile, manifest.files[codeFile]!), files.where(codeFile), variant.features);
  // The runtime writes and reads where the manifest says, the code where it was compiled to: they must be the same places.
  const mismatch = codeLayoutProblem(module, layout, manifest.shards, inputs);
  if (mismatch)
    throw new RmcError(
      error(
        C.codeLayout,
        `${files.where(codeFile)}: ${mismatch}`,
        undefined,
        "the manifest was edited, or its files come from different compiles: recompile",
      ),
    );
  const plan = fittingPlan(layout, inputs, options.threads, [
    { cap: options.batchCapacity, ids: [] },
    { cap: 16, ids: [] },
  ]);
  let memory: WasmMemory;
  try {
    memory = new (wasmApi().Memory)({ initial: Math.max(1, Math.ceil(plan.end / PAGE_BYTES)), maximum: MAX_PAGES, shared });
  } catch (cause) {
    throw new RmcError(error(C.memoryLimit, `cannot allocate ${plan.end} bytes of Wasm memory: ${(cause as Error).message}`));
  }
  const weights = layout.weights;
  await files.readCheckedInto(weights.file, manifest.files[weights.file]!, new Uint8Array(memory.buffer, weights.offset, weights.bytes));
  // A shard's address range stays untouched (zero pages the OS has not committed) until it is loaded.
  const shards = new ShardSet(manifest.shards ?? [], inputs, (s) =>
    (options.shardFiles ?? files).readCheckedInto(
      s.file,
      manifest.files[s.file]!,
      new Uint8Array(memory.buffer, s.offset!, manifest.files[s.file]!.bytes),
    ),
  );
  await shards.preload(options.preload);
  const forward = await instantiate(module, memory, layout.imports, files.where(codeFile));
  const workspaces = new Workspaces(memory, layout, inputs, outputs, plan);
  const pool = shared ? await WorkerPool.start(options.workerUrl, options.threads - 1, { module, memory, imports: layout.imports }) : undefined;
  return new Engine(manifest, workspaces, forward, pool, shards, variant.name);
}

async function compileCode(bytes: Uint8Array, where: string, features: readonly string[]): Promise<WasmModule> {
  try {
    return await wasmApi().compile(bytes);
  } catch (cause) {
    const needs = features.length ? ` (it needs the Wasm features ${features.join(", ")})` : "";
    throw new RmcError(error(C.instantiate, `${where}: this host cannot compile the code${needs}: ${(cause as Error).message}`));
  }
}

async function instantiate(module: WasmModule, memory: WasmMemory, imports: readonly string[], where: string): Promise<Forward> {
  let exports: Record<string, unknown>;
  try {
    exports = (await wasmApi().instantiate(module, { env: { memory, ...hostImports(imports) } })).exports;
  } catch (cause) {
    throw new RmcError(error(C.instantiate, `${where}: cannot instantiate the code: ${(cause as Error).message}`));
  }
  if (typeof exports.forward !== "function") throw new RmcError(error(C.instantiate, `${where}: the code exports no \`forward\` function`));
  return exports.forward as Forward;
}

/** Contiguous, nearly equal slices [start, end) of `size` samples. */
export function splitBatch(size: number, parts: number): [number, number][] {
  return Array.from({ length: parts }, (_, t) => [Math.floor((size * t) / parts), Math.floor((size * (t + 1)) / parts)]);
}

/** A model ready to run batches. */
export class Engine {
  constructor(
    private readonly manifest: Manifest,
    private readonly workspaces: Workspaces,
    private readonly forward: Forward,
    private pool: WorkerPool | undefined,
    readonly shards: ShardSet,
    /** The name of the code variant running ("relaxed-simd", "simd128"). */
    readonly variant: string,
  ) {}

  /** The staging areas of store-placed tables, as the code reads them. */
  get stagingSlots(): StagingSlot[] {
    return (this.manifest as WasmManifest).wasm.staging ?? [];
  }

  /** Copies staged rows into their area of the model's memory (the buffer may have grown: take it fresh). */
  readonly stageInto: StagingSink = (slot, bytes) => {
    const area = (this.manifest as WasmManifest).wasm.staging![slot]!;
    new Uint8Array(this.workspaces.memory.buffer, area.offset, bytes.length).set(bytes);
  };

  /** Threads a big batch is spread over (1 once a dead worker could not be replaced). */
  get threads(): number {
    return this.pool ? this.workspaces.plan.bases.length : 1;
  }

  /** Runs a checked batch; outputs by name, `[B * width]`. */
  async run(batch: PreparedBatch): Promise<Record<string, Float32Array>> {
    const results: Record<string, Float32Array> = {};
    for (const output of this.manifest.model.outputs) setOwn(results, output.name, new Float32Array(batch.size * output.width));
    if (batch.size === 0) return results;
    const loading = this.shards.ensure(batch);
    if (loading) await loading;
    const slices = splitBatch(batch.size, Math.min(this.threads, Math.max(1, Math.floor(batch.size / MIN_SAMPLES_PER_THREAD))));
    const ids = slices.map(([start, end]) => idsInSlice(batch, start, end));
    this.workspaces.ensure(
      Math.max(...slices.map(([start, end]) => end - start)),
      ids[0]!.map((_, i) => Math.max(...ids.map((n) => n[i]!))),
    );
    slices.forEach(([start, end], t) => this.workspaces.writeSlice(t, batch, start, end));
    const { cap, bases } = this.workspaces.plan;
    const jobs = slices.slice(1).map(([start, end], i) => ({ ws: bases[i + 1]!, cap, batch: end - start }));
    const workers = jobs.length ? this.pool!.run(jobs) : Promise.resolve();
    let trap: Error | undefined;
    try {
      this.forward(bases[0]!, cap, slices[0]![1]);
    } catch (cause) {
      trap = cause as Error;
    }
    const failure = await workers.then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    if (trap)
      throw new RmcError(
        error(
          C.trap,
          `the model's code trapped: ${trap.name}: ${trap.message}`,
          undefined,
          "this is a bug in the compiled code; please report it with the artifact",
        ),
      );
    if (failure) {
      if (failure instanceof RmcError && failure.diagnostics[0]?.code === C.worker) await this.replaceWorkers();
      throw failure;
    }
    slices.forEach(([start, end], t) => this.workspaces.readSlice(t, results, start, end));
    return results;
  }

  /**
   * After a worker dies its batch fails (the caller hears why) and a new
   * thread takes its place; if none can start, the model keeps working on the
   * main thread alone.
   */
  private async replaceWorkers(): Promise<void> {
    try {
      await this.pool?.replaceDead();
    } catch {
      await this.dropPool();
    }
  }

  private async dropPool(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }

  /** Terminates the workers. */
  async close(): Promise<void> {
    await this.dropPool();
  }
}
