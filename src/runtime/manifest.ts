// The artifact format (dist/manifest.json): what a compiled model promises its
// loader. Backends write it, the runtime reads and checks it. Everything a
// loader needs — files and their checksums, the model's signature, the memory
// layout and calling convention of the code — is here, so the runtime never
// has to look at the IR to run a model.

import type { Graph } from "../ir/types.js";
import type { StoreManifest } from "../store/format.js";

/** One staging table in Wasm memory: the rows a call's ids name, copied in by the runtime before the call. */
export interface StagingArea {
  /** The logical table (manifest.ir names its parts). */
  table: string;
  /** Absolute address of row 0 and the rows it holds. */
  offset: number;
  rows: number;
  rowBytes: number;
}

/** Bumped on any change a loader must know about; loaders reject other versions (2: weight shards of split tables). */
export const ARTIFACT_FORMAT = 2;

/** What to do with an id outside a table's rows. */
export type IdPolicy = "error" | "clamp" | "modulo";

/** One input of the model's signature. */
export type InputSignature =
  | { name: string; kind: "dense"; width: number }
  | {
      name: string;
      kind: "bags";
      count: number;
      weighted: boolean;
      /** Per bag feature: the rows of the table that reads it (ids must be below) and the policy for ids that are not. */
      features: { rows: number; ids: IdPolicy }[];
    };

export interface OutputSignature {
  name: string;
  width: number;
}

/** A file of the artifact, relative to the artifact's folder. */
export interface FileEntry {
  sha256: string;
  bytes: number;
}

/**
 * Memory layout and calling convention of a Wasm artifact.
 *
 * Linear memory: `[0, weights.offset)` unused; the weights blob (weights.bin)
 * at `weights.offset`; then one *workspace* per thread starting at
 * `workspaceBase` or later (16-byte aligned). A workspace for batch capacity
 * `cap` holds, from its base `ws`:
 *   - a header of `headerBytes`: for bags input i (in signature order), at
 *     `ws + 8*i`, the absolute addresses of its ids (i32) and, when weighted,
 *     its per-id weights (f32); the runtime writes them before each call;
 *   - buffers at `ws + headerBytes + offset * cap` for every `buffers` entry
 *     (`offset` is in bytes per unit of capacity; each is 16-byte aligned);
 *   - after `ws + headerBytes + perSample * cap`: the ids and weights of each
 *     bags input, placed by the runtime wherever it likes (the header says where).
 * Dense inputs and outputs are row-major `[B, width]` f32; bags lengths are
 * i32 `[count * B]` key-major (all samples of feature 0 first), ids are i32
 * row ids already checked against the table's rows.
 * Call: `forward(ws, cap, batch)` with `batch <= cap`.
 */
export interface WasmLayout {
  /** The single-threaded module (its memory is imported, not shared). */
  module: string;
  /** The same code importing a shared memory, for worker threads. */
  threadsModule: string;
  weights: { file: string; offset: number; bytes: number };
  workspaceBase: number;
  headerBytes: number;
  /** Workspace bytes per unit of batch capacity, header and ids excluded. */
  perSample: number;
  /** Where each input's data and each output go, in bytes per unit of capacity. */
  buffers: {
    inputs: ({ name: string; kind: "dense"; offset: number } | { name: string; kind: "bags"; lengthsOffset: number; headerSlot: number })[];
    outputs: { name: string; offset: number }[];
  };
  /** Wasm features the code uses beyond the MVP, e.g. "simd128". */
  features: string[];
  /**
   * Every variant of the code, fastest first, each with the Wasm features it
   * needs: the runtime runs the first one the engine validates
   * (runtime/wasm/variants.ts). `module`/`threadsModule`/`features` above are
   * the portable one (the last). Absent in artifacts with one variant.
   */
  variants?: WasmVariant[];
  /** Imports besides `env.memory`: host math helpers by name. */
  imports: string[];
  /** Planned peak of activation memory per sample, in bytes (for reports). */
  activationBytesPerSample: number;
  /** Staging tables: where each table placed outside memory is read from per call (its rows, filled by the runtime), by logical table name. */
  staging?: StagingArea[];
}

/** One variant of an artifact's code: its modules (single-threaded and shared-memory twin) and the Wasm features they need. */
export interface WasmVariant {
  /** "relaxed-simd" or "simd128". */
  name: string;
  module: string;
  threadsModule: string;
  features: string[];
}

/** The custom section of both Wasm modules of an artifact that records the layout their code was compiled for. */
export const LAYOUT_SECTION = "rmc.layout";

/**
 * What the code's `rmc.layout` section holds (UTF-8 JSON): every field of the
 * manifest's `wasm` layout (and the shards' addresses) that the code bakes in
 * as constants — where it reads weights, the workspace header and buffers,
 * what it imports — so a loader checks manifest.json against the code it is
 * about to run instead of trusting it.
 */
export interface CodeLayout {
  weights: { offset: number; bytes: number };
  workspaceBase: number;
  headerBytes: number;
  perSample: number;
  buffers: WasmLayout["buffers"];
  imports: string[];
  shards: { name: string; offset: number }[];
  staging: StagingArea[];
  /** Each bags input's table rows and id policies: the host maps ids into those rows, and the code gathers them unchecked. */
  bags: { name: string; rows: number[]; ids: IdPolicy[] }[];
}

/** The code's share of a Wasm layout, in a fixed key order (the compiler writes it, the runtime compares it). */
export function codeLayout(wasm: WasmLayout, shards: readonly ShardEntry[] | undefined, inputs: readonly InputSignature[]): CodeLayout {
  return {
    weights: { offset: wasm.weights.offset, bytes: wasm.weights.bytes },
    workspaceBase: wasm.workspaceBase,
    headerBytes: wasm.headerBytes,
    perSample: wasm.perSample,
    buffers: {
      inputs: wasm.buffers.inputs.map((b) =>
        b.kind === "dense"
          ? { name: b.name, kind: b.kind, offset: b.offset }
          : { name: b.name, kind: b.kind, lengthsOffset: b.lengthsOffset, headerSlot: b.headerSlot },
      ),
      outputs: wasm.buffers.outputs.map((b) => ({ name: b.name, offset: b.offset })),
    },
    imports: [...wasm.imports],
    shards: (shards ?? []).map((s) => ({ name: s.name, offset: s.offset! })),
    staging: (wasm.staging ?? []).map((a) => ({ table: a.table, offset: a.offset, rows: a.rows, rowBytes: a.rowBytes })),
    bags: inputs.flatMap((i) =>
      i.kind === "bags" ? [{ name: i.name, rows: i.features.map((f) => f.rows), ids: i.features.map((f) => f.ids) }] : [],
    ),
  };
}

/**
 * How a batch-dependent quantity is computed from the batch size B and, for
 * bags inputs, the total number of ids N: ceil((perSample·B + perId·N + fixed) / div).
 */
export interface SizeExpr {
  perSample: number;
  perId?: number;
  fixed: number;
  div?: number;
}

/** A GPU buffer of a WebGPU artifact. */
export type WgslBuffer =
  /** Weights, uploaded once: `bytes` bytes of `file` from `offset` (a multiple of 4). */
  | { name: string; kind: "weights"; file: string; offset: number; bytes: number }
  /** A staging table of a table placed outside memory: `rows` rows of `rowBytes`, written by the runtime before each call. */
  | { name: string; kind: "staging"; table: string; rows: number; rowBytes: number; bytes: number }
  /** Data written or read per call (inputs, activations, outputs, scratch): its size in bytes for a batch. */
  | { name: string; kind: "batch"; size: SizeExpr };

/** One compute dispatch: a shader, its storage buffers in binding order (@group(0)), and its workgroup counts. */
export interface WgslStep {
  shader: string;
  /** Buffer names bound to @group(0) @binding(0..n-1), all `var<storage>` (read or read_write). */
  bindings: string[];
  /** Workgroup counts (x, y, z) for a batch. */
  dispatch: [SizeExpr, SizeExpr, SizeExpr];
  /** The IR node(s) this step computes (for error messages and dumps). */
  nodes: string[];
  /**
   * How the shader declares each binding, parallel to `bindings`: `read`
   * (`var<storage, read>`, a "read-only-storage" layout entry) or `read_write`
   * (`var<storage, read_write>`, "storage"), for runtimes that build explicit
   * bind group layouts. Absent: read the shader (or use layout "auto").
   */
  access?: ("read" | "read_write")[];
  /**
   * Faster variants of `shader` that need an optional WGSL language feature
   * (e.g. int8 GEMMs on `dot4I8Packed`, "packed_4x8_integer_dot_product"):
   * the runtime runs the first whose feature the implementation offers
   * (`navigator.gpu.wgslLanguageFeatures`), else `shader`, which needs none.
   * Same bindings, access, dispatch and results (integer paths are exact).
   */
  alternatives?: { languageFeature: string; shader: string }[];
}

/**
 * Layout and dispatch plan of a WebGPU artifact. Every shader also reads
 * `@group(1) @binding(0) var<uniform> params: Params` with
 * `struct Params { batch: u32, ids: u32, pad0: u32, pad1: u32 }`, which the
 * runtime writes before each call (ids = total ids over all bags inputs).
 * Bags inputs are uploaded KJT-style as three buffers: `offsets`
 * (u32[count·B + 1], prefix sums of the lengths, computed by the runtime),
 * `ids` (u32[N]) and, when weighted, `weights` (f32[N]). Dense inputs and
 * outputs are f32 [B, width] row-major. A call writes the inputs and params,
 * encodes every step in order in one command buffer, submits it once, and reads
 * the outputs back.
 */
export interface WgslLayout {
  /** Shader files (also for inspection), by shader name; entry point `main`. */
  shaders: { name: string; file: string }[];
  buffers: WgslBuffer[];
  steps: WgslStep[];
  inputs: ({ name: string; kind: "dense"; buffer: string } | { name: string; kind: "bags"; offsets: string; ids: string; weights?: string })[];
  outputs: { name: string; buffer: string }[];
  /** WGSL language features the shaders use (e.g. "packed_4x8_integer_dot_product"); the runtime checks them. Features only `alternatives` use are not listed: they are optional. */
  languageFeatures: string[];
  /** Device limits the plan needs, checked at load (the optional ones: absent means the WebGPU default suffices). */
  limits: {
    maxStorageBufferBindingSize: number;
    maxStorageBuffersPerShaderStage: number;
    maxComputeWorkgroupSizeX: number;
    maxComputeInvocationsPerWorkgroup?: number;
    maxComputeWorkgroupStorageSize?: number;
    maxComputeWorkgroupsPerDimension?: number;
  };
  /**
   * The largest batch one call can run on any WebGPU device: beyond it a
   * workgroup count would pass the default maxComputeWorkgroupsPerDimension
   * (65535) or a batch buffer the default maxStorageBufferBindingSize
   * (128 MiB). A runtime splits larger batches into slices of at most this
   * many samples (ids permitting: the ids and weights buffers hold 4 bytes
   * per id of a slice). Absent: no bound known.
   */
  maxBatch?: number;
}

/** What a shard holds of its table (the part's attributes in the IR, src/ir/tables.ts). */
export type ShardHolds =
  /** Table rows [start, end). */
  | { rows: [number, number] }
  /** Dimensions [start, end) of every row. */
  | { cols: [number, number] }
  /** These table rows (ascending): the hot part of a hot/cold split. */
  | { hot: number[] }
  /** Cold rows [start, end): rows of the table without its hot ones, numbered in order. */
  | { cold: [number, number] };

/**
 * One weight shard: a part of a table that split-tables split, in a file of
 * its own (listed in `files` with its size and sha256) that the runtime reads
 * only when a request first needs one of its rows. `file` is relative to the
 * artifact folder; a deployment may serve shards from other hosts by making
 * that path resolve there (docs/artifact.md).
 */
export interface ShardEntry {
  /** The part's weight name in the IR (`emb.2.weight.p0`). */
  name: string;
  file: string;
  /** The table it is part of, as declared (`emb.2.weight`), its rows and what the shard holds of it. */
  table: string;
  rows: number;
  holds: ShardHolds;
  /** The bag features whose ids look rows up in it. */
  reads: { input: string; feature: number }[];
  /** Wasm: where in linear memory its bytes go. */
  offset?: number;
  /** WebGPU: the weights buffer it fills. */
  buffer?: string;
}

export interface Manifest {
  format: number;
  compiler: { name: "rmc"; version: string };
  target: "wasm" | "wgsl";
  model: { name: string; inputs: InputSignature[]; outputs: OutputSignature[] };
  /** The precision each node and table ended up with, by IR id or weight name. */
  precision: Record<string, string>;
  /** Every other file of the artifact with its checksum. */
  files: Record<string, FileEntry>;
  /** The IR after the pipeline, as compiled. */
  ir: Graph;
  /** Present for target "wasm". */
  wasm?: WasmLayout;
  /** Present for target "wgsl". */
  wgsl?: WgslLayout;
  /** Shards of split tables, loaded on first use (absent: none; every weight is in the main weights file). */
  shards?: ShardEntry[];
  /** Rows of tables placed outside memory, and their version (src/store/format.ts; absent: every table is in memory). */
  store?: StoreManifest;
  /** The precision plan the model was compiled with (decisions, budget, NE on the calibration data), when one was chosen. */
  plan?: unknown;
}

/** A checked manifest of a Wasm artifact: its layout is present. */
export type WasmManifest = Manifest & { target: "wasm"; wasm: WasmLayout };

/** A checked manifest of a WebGPU artifact: its layout is present. */
export type WgslManifest = Manifest & { target: "wgsl"; wgsl: WgslLayout };

/** What `parseManifest` returns: a manifest whose target's layout is there and well-formed. */
export type CheckedManifest = WasmManifest | WgslManifest;
