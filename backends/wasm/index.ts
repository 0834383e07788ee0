// The WebAssembly backend: final IR + weights → dist/ with model.wasm (and a
// shared-memory twin for worker threads), weights.bin, manifest.json and, on
// request, model.wat and final.ir. Pipeline: schedule (ops, epilogue folding)
// → layout (weights) → plan (workspace) → codegen, then -O3 and validation.

import type { Graph } from "../../src/ir/types.js";
import { printGraph } from "../../src/ir/print.js";
import type { WeightStore } from "../../src/weights/store.js";
import { ARTIFACT_FORMAT, type Manifest, type WasmLayout } from "../../src/runtime/manifest.js";
import { ArtifactWriter } from "../artifact.js";
import { compiledPrecisions, precisionsByKey, signature } from "../compiled.js";
import type { Backend, CompileOptions, CompileResult } from "../backend.js";
import { WEIGHTS_OFFSET, layoutWeights, writeShard, writeWeightsBlob } from "./layout.js";
import { shardEntries, shardFile } from "../shards.js";
import { withTableParts } from "../../src/weights/parts.js";
import { planMemory } from "./plan.js";
import { resolveAlias, schedule } from "../schedule.js";
import { generateModule, hostImports } from "./codegen.js";
import { RmcError } from "../../src/diagnostics/index.js";
import { WASM_TARGET } from "../../src/target/index.js";

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
    const sched = schedule(graph);
    const layout = layoutWeights(graph, sched.steps);
    const plan = planMemory(graph, sched);
    const profile = opts.features.includes("profile");
    const single = generateModule(graph, sched, layout, plan, { shared: false, optimize: true, profile });
    const threaded = generateModule(graph, sched, layout, plan, { shared: true, optimize: true, profile });
    const out = new ArtifactWriter(opts.outDir);
    try {
      out.write("model.wasm", single.binary);
      out.write("model-threads.wasm", threaded.binary);
      writeWeightsBlob(out.path("weights.bin"), layout, weights);
      // Each part of a split table streams into a file of its own, loaded into its address range on first use.
      for (const shard of layout.shards) writeShard(out.path(shardFile(shard.name)), shard, weights);
      if (opts.emitText) {
        out.write("model.wat", single.text);
        out.write("final.ir", printGraph(graph));
      }
      const names = [
        "model.wasm",
        "model-threads.wasm",
        "weights.bin",
        ...layout.shards.map((s) => shardFile(s.name)),
        ...(opts.emitText ? ["model.wat", "final.ir"] : []),
      ];
      for (const n of names) out.seal(n);
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
        imports: hostImports(sched),
        activationBytesPerSample: plan.activationBytes,
      };
      const manifest: Manifest = {
        format: ARTIFACT_FORMAT,
        compiler: { name: "rmc", version: opts.compilerVersion },
        target: "wasm",
        model: signature(graph),
        precision: precisionsByKey(graph, WASM_TARGET.precisions),
        files: out.files(),
        ir: graph,
        wasm,
        ...(layout.shards.length ? { shards: shardEntries(graph, (name) => ({ offset: layout.weights.get(name)!.offset })) } : {}),
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
