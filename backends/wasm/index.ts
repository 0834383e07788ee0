// The WebAssembly backend: final IR + weights → dist/ with model.wasm (and a
// shared-memory twin for worker threads), its relaxed-SIMD variant
// model-relaxed.wasm (and twin), weights.bin, manifest.json and, on
// request, model.wat and final.ir. Pipeline: schedule (ops, epilogue folding)
// → layout (weights) → plan (workspace) → codegen, then -O3 and validation.

import type { Graph } from "../../src/ir/types.js";
import { printGraph } from "../../src/ir/print.js";
import type { WeightStore } from "../../src/weights/store.js";
import { ARTIFACT_FORMAT, type Manifest, type WasmLayout } from "../../src/runtime/manifest.js";
import { ArtifactWriter, portableGraph } from "../artifact.js";
import { compiledPrecisions, precisionsByKey, signature } from "../compiled.js";
import type { Backend, CompileOptions, CompileResult } from "../backend.js";
import { WEIGHTS_OFFSET, layoutWeights, packTable, tableForm, writeShard, writeWeightsBlob } from "./layout.js";
import { shardEntries, shardFile } from "../shards.js";
import { withTableParts } from "../../src/weights/parts.js";
import { planMemory } from "./plan.js";
import { resolveAlias, schedule } from "../schedule.js";
import { generateModule, hostImports } from "./codegen.js";
import { RmcError } from "../../src/diagnostics/index.js";
import { WASM_TARGET } from "../../src/target/index.js";
import { stageGraph } from "../staging.js";
import { withLayoutSection } from "./section.js";
import { writeStore, type RowCodec } from "../store.js";

/** Store rows in the layout the Wasm kernels read (fp32/fp16 padded to vectors, n-bit packed). */
const WASM_ROWS: RowCodec = {
  rowBytes: (decl, precision) => tableForm(decl, precision).rowBytes,
  rows: (decl, precision, tensor) => packTable(tensor, tableForm(decl, precision)),
};

/**
 * The code variants every artifact carries, fastest first (the manifest's
 * `wasm.variants`): relaxed SIMD (f32x4.relaxed_madd in the f32 GEMM and the
 * dot interaction, the i8·i7 dot in int8a7 layers) and the portable SIMD128
 * code. The runtime runs the first the engine validates.
 */
const VARIANTS = [
  {
    name: "relaxed-simd",
    module: "model-relaxed.wasm",
    threadsModule: "model-relaxed-threads.wasm",
    features: ["simd128", "relaxed-simd"],
    relaxed: true,
  },
  { name: "simd128", module: "model.wasm", threadsModule: "model-threads.wasm", features: ["simd128"], relaxed: false },
];

/** Rejects precisions the kernels do not implement, naming each place. */
function checkPrecisions(graph: Graph): void {
  const bad = compiledPrecisions(graph, WASM_TARGET.precisions).filter((c) => !c.allowed.includes(c.precision));
  if (bad.length > 0)
    throw new RmcError(
      bad.map((b) => ({
        code: "E1806",
        severity: "error" as const,
        message: `the wasm backend cannot compile ${b.what} at ${b.precision}`,
        span: b.span,
        hint: `it takes ${b.allowed.join(", ")} there`,
      })),
    );
}

export const wasmBackend: Backend = {
  ...WASM_TARGET,
  async compile(graph: Graph, store: WeightStore, opts: CompileOptions): Promise<CompileResult> {
    checkPrecisions(graph);
    // Parts of split tables are views of their tables' tensors, read row by row as their shards are written.
    const weights = withTableParts(graph, store);
    // Tables placed outside memory are read through staging tables the runtime fills (backends/staging.ts).
    const { graph: kernels, staged } = stageGraph(graph, opts.stagingRows);
    const time = <T>(stage: string, run: () => T): T => (opts.clock ? opts.clock.time(stage, run) : run());
    const sched = time("schedule", () => schedule(kernels));
    const layout = time("weight layout", () => layoutWeights(kernels, sched.steps));
    const plan = time("workspace plan", () => planMemory(kernels, sched));
    const profile = opts.features.includes("profile");
    // Four modules: the portable SIMD128 code and the relaxed-SIMD variant, each with its shared-memory twin for worker threads.
    const clock = opts.clock ? { clock: opts.clock } : {};
    const modules = VARIANTS.flatMap((v) => [
      { name: v.module, shared: false, relaxed: v.relaxed },
      { name: v.threadsModule, shared: true, relaxed: v.relaxed },
    ]).map((m) => ({ name: m.name, code: generateModule(kernels, sched, layout, plan, { ...m, optimize: true, profile, label: m.name, ...clock }) }));
    const single = modules.find((m) => m.name === "model.wasm")!.code;
    // The layout goes into manifest.json and, as the `rmc.layout` section, into both modules: the runtime checks one against the other.
    const bagsSlots = [...plan.bags.entries()];
    const wasm: WasmLayout = {
      module: "model.wasm",
      threadsModule: "model-threads.wasm",
      weights: { file: "weights.bin", offset: WEIGHTS_OFFSET, bytes: layout.blobBytes },
      workspaceBase: Math.ceil((WEIGHTS_OFFSET + layout.bytes) / 64) * 64,
      headerBytes: plan.headerBytes,
      perSample: plan.perSample,
      buffers: {
        inputs: graph.inputs.map((i) => {
          const bags = bagsSlots.find(([name]) => name === i.name)?.[1];
          return bags
            ? { name: i.name, kind: "bags" as const, lengthsOffset: bags.lengths.offset, headerSlot: bags.slot }
            : { name: i.name, kind: "dense" as const, offset: plan.values.get(i.name)!.offset };
        }),
        outputs: graph.outputs.map((o) => ({ name: o.name, offset: plan.values.get(resolveAlias(sched.aliases, o.value))!.offset })),
      },
      features: ["simd128"],
      variants: VARIANTS.map(({ name, module, threadsModule, features }) => ({ name, module, threadsModule, features })),
      imports: hostImports(sched),
      activationBytesPerSample: plan.activationBytes,
      ...(layout.staging.length
        ? {
            staging: layout.staging.map((w) => {
              const form = w.form as Extract<typeof w.form, { kind: "table" }>;
              return { table: staged.find((s) => s.staging === w.name)!.table, offset: w.offset, rows: form.rows, rowBytes: form.rowBytes };
            }),
          }
        : {}),
    };
    const shards = layout.shards.length ? shardEntries(kernels, (name) => ({ offset: layout.weights.get(name)!.offset })) : undefined;
    const out = new ArtifactWriter(opts.outDir);
    try {
      for (const m of modules) out.write(m.name, withLayoutSection(m.code.binary, wasm, shards, signature(graph).inputs));
      time("write weights.bin", () => writeWeightsBlob(out.path("weights.bin"), layout, weights));
      // Each part of a split table streams into a file of its own, loaded into its address range on first use.
      for (const shard of layout.shards) time(`write ${shardFile(shard.name)}`, () => writeShard(out.path(shardFile(shard.name)), shard, weights));
      if (opts.emitText) {
        out.write("model.wat", single.text);
        out.write("final.ir", printGraph(portableGraph(graph)));
      }
      const names = [
        ...modules.map((m) => m.name),
        "weights.bin",
        ...layout.shards.map((s) => shardFile(s.name)),
        ...(opts.emitText ? ["model.wat", "final.ir"] : []),
      ];
      time("checksums", () => names.forEach((n) => out.seal(n)));
      const storeSection = staged.length ? writeStore(out, staged, weights, WASM_ROWS, staged[0]!.stagingRows) : undefined;
      const manifest: Manifest = {
        format: ARTIFACT_FORMAT,
        compiler: { name: "rmc", version: opts.compilerVersion },
        target: "wasm",
        model: signature(graph),
        precision: precisionsByKey(graph, WASM_TARGET.precisions),
        files: out.files(),
        ir: portableGraph(graph),
        wasm,
        ...(shards ? { shards } : {}),
        ...(storeSection ? { store: storeSection } : {}),
        ...(opts.manifestExtras ?? {}),
      };
      const files = Object.entries(manifest.files).map(([name, e]) => ({ name, bytes: e.bytes }));
      out.commit(manifest);
      return { files, activationBytesPerSample: plan.activationBytes, weightsBytes: layout.bytes };
    } catch (e) {
      out.abort();
      throw e;
    }
  },
};
