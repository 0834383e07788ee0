// The WebGPU backend: final IR + weights → dist/ with one .wgsl compute shader
// per kernel, weights.bin, manifest.json (target "wgsl": buffers, steps,
// limits) and, on request, final.ir. Pipeline: checks (ops, precisions,
// WebGPU's binding limit) → schedule (shared with the Wasm backend: relu
// folding, flatten aliases) → lower (shaders, buffers, dispatch plan) → files.

import { RmcError, error } from "../../src/diagnostics/index.js";
import type { Graph } from "../../src/ir/types.js";
import { weightInputs } from "../../src/ir/types.js";
import { layerPrecision, precisionOf } from "../../src/ir/attrs.js";
import { printGraph } from "../../src/ir/print.js";
import { withTableParts } from "../../src/weights/parts.js";
import type { WeightStore } from "../../src/weights/store.js";
import { ARTIFACT_FORMAT, type Manifest } from "../../src/runtime/manifest.js";
import { ArtifactWriter, portableGraph } from "../artifact.js";
import { compiledPrecisions, precisionsByKey, signature } from "../compiled.js";
import { shardEntries } from "../shards.js";
import type { Backend, CompileOptions, CompileResult } from "../backend.js";
import { schedule } from "../schedule.js";
import { lower } from "./lower.js";
import { wgslLayout } from "./layout.js";
import { WGSL_CODES, overLimit, placeBuffers, tableBytes, writeWeightsFile } from "./weights.js";
import type { TableFormat } from "./kernels/embedding.js";
import { WEBGPU_DEFAULTS, WGSL_TARGET } from "../../src/target/index.js";
import { stageGraph } from "../staging.js";
import { writeStore, type RowCodec } from "../store.js";
import { rowBytes, type RowFormat } from "../../src/quant/rowwise.js";
import { rowRangeOf } from "../../src/ir/attrs.js";
import { tableChunks } from "./weights.js";

/** Store rows in the layout the WGSL kernels read: tightly packed (fp32, or FBGEMM's row formats), whole rows only. */
const WGSL_ROWS: RowCodec = {
  rowBytes: (decl, precision) => (precision === "fp32" ? decl.shape[1]! * 4 : rowBytes(precision as RowFormat, decl.shape[1]!)),
  *rows(decl, precision, tensor) {
    const rb = WGSL_ROWS.rowBytes(decl, precision);
    let left = decl.shape[0]! * rb;
    // tableChunks pads the table to a whole word at its end: the store holds rows only.
    for (const chunk of tableChunks(tensor, precision as TableFormat, decl.shape[0]!, decl.shape[1]!, rowRangeOf(decl))) {
      const take = Math.min(left, chunk.length);
      if (take > 0) yield chunk.subarray(0, take);
      left -= take;
    }
  },
};

/** Unsupported ops and precisions: one error listing every place. */
function checkGraph(graph: Graph): void {
  const ops = WGSL_TARGET.ops;
  const problems = graph.nodes
    .filter((n) => !ops.includes(n.op))
    .map((n) =>
      error(
        WGSL_CODES.unsupportedOp,
        `the wgsl backend cannot compile \`${n.op}\` (node %${n.id})`,
        n.span,
        n.op === "mlp" || n.op === "cross" ? "add `canonicalize` to the pipeline (the default pipeline has it)" : `it compiles ${ops.join(", ")}`,
      ),
    );
  if (problems.length === 0)
    for (const c of compiledPrecisions(graph, WGSL_TARGET.precisions))
      if (!c.allowed.includes(c.precision))
        problems.push(
          error(
            WGSL_CODES.precision,
            `the wgsl backend cannot compile ${c.what} at ${c.precision}`,
            c.span,
            `it takes ${c.allowed.join(", ")} there`,
          ),
        );
  if (problems.length > 0) throw new RmcError(problems);
}

/** Every table and dense weight that alone passes the binding limit, reported together before anything is packed. */
function checkBindingLimit(graph: Graph, limit: number): void {
  const decls = new Map(graph.weights.map((w) => [w.name, w]));
  const over: Parameters<typeof overLimit>[0] = [];
  const seen = new Set<string>();
  for (const n of graph.nodes)
    for (const name of weightInputs(n)) {
      const decl = decls.get(name);
      if (!decl || seen.has(name)) continue;
      seen.add(name);
      const table = n.op === "embedding_bag";
      const elements = decl.shape.reduce((a, b) => a * b, 1);
      const p = table ? precisionOf(decl, n) : layerPrecision(graph, n);
      const bytes = table ? tableBytes(p as TableFormat, decl.shape[0]!, decl.shape[1]!) : elements * (p === "int8" ? 1 : p === "fp32" ? 4 : 2);
      if (bytes > limit) over.push({ decl, bytes, table });
    }
  if (over.length > 0) throw overLimit(over, limit);
}

/**
 * Compiles `graph` into an artifact folder for a device with `limits` (the
 * backend uses WebGPU's defaults; tests pass smaller ones to exercise the
 * splitting of tables across buffers).
 */
export async function compileWgsl(
  graph: Graph,
  store: WeightStore,
  opts: CompileOptions,
  limits: { maxStorageBufferBindingSize: number; maxComputeWorkgroupsPerDimension: number } = WEBGPU_DEFAULTS,
): Promise<CompileResult> {
  checkGraph(graph);
  const limit = limits.maxStorageBufferBindingSize;
  // Tables placed outside memory are read through staging buffers the runtime fills (backends/staging.ts).
  const { graph: kernels, staged } = stageGraph(graph, opts.stagingRows);
  checkBindingLimit(kernels, limit);
  // Parts of split tables are views of their tables' tensors, read row by row as their shards are written.
  const weights = withTableParts(graph, store);
  const lowered = lower(kernels, schedule(kernels, "wgsl"), weights, limit);
  const placed = placeBuffers(lowered.weights);
  const out = new ArtifactWriter(opts.outDir);
  try {
    const names: string[] = [];
    const write = (name: string, data: string | Uint8Array) => {
      out.write(name, data);
      names.push(name);
    };
    for (const s of lowered.steps) {
      write(`${s.name}.wgsl`, s.rendered.wgsl);
      for (const alt of s.rendered.alternatives ?? []) write(`${s.name}.${alt.languageFeature}.wgsl`, alt.wgsl);
    }
    const inBlob = lowered.weights.filter((w) => !w.file && !w.staging);
    if (inBlob.length > 0) {
      writeWeightsFile(out.path("weights.bin"), inBlob, placed.offsets, placed.bytes);
      names.push("weights.bin");
    }
    // Each part of a split table streams into a shard file of its own, uploaded on first use.
    for (const w of lowered.weights.filter((x) => x.file)) {
      writeWeightsFile(out.path(w.file!), [w], placed.offsets, w.bytes);
      names.push(w.file!);
    }
    if (opts.emitText) write("final.ir", printGraph(portableGraph(graph)));
    for (const n of names) out.seal(n);
    const storeSection = staged.length ? writeStore(out, staged, weights, WGSL_ROWS, staged[0]!.stagingRows) : undefined;
    const manifest: Manifest = {
      format: ARTIFACT_FORMAT,
      compiler: { name: "rmc", version: opts.compilerVersion },
      target: "wgsl",
      model: signature(graph),
      precision: precisionsByKey(graph, WGSL_TARGET.precisions),
      files: out.files(),
      ir: portableGraph(graph),
      wgsl: wgslLayout(lowered, placed.offsets, limits),
      ...(lowered.weights.some((w) => w.file) ? { shards: shardEntries(kernels, (name) => ({ buffer: `part.${name}` })) } : {}),
      ...(storeSection ? { store: storeSection } : {}),
      ...(opts.manifestExtras ?? {}),
    };
    const files = Object.entries(manifest.files).map(([name, e]) => ({ name, bytes: e.bytes }));
    out.commit(manifest);
    return {
      files,
      activationBytesPerSample: lowered.batch.pooledBytesPerSample(),
      weightsBytes: placed.bytes + lowered.weights.reduce((n, w) => n + (w.file ? w.bytes : 0), 0),
    };
  } catch (e) {
    out.abort();
    throw e;
  }
}

export const wgslBackend: Backend & { webgpu: typeof WEBGPU_DEFAULTS } = {
  ...WGSL_TARGET,
  webgpu: WEBGPU_DEFAULTS,
  compile: (graph: Graph, weights: WeightStore, opts: CompileOptions): Promise<CompileResult> => compileWgsl(graph, weights, opts),
};
