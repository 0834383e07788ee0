// Peer: the reference interpreter (plain TypeScript, Float32Array and
// Math.fround), reading the DSL model and the safetensors weights. It defines
// what every other peer must compute; here it is also timed, as the floor.

import { readFileSync } from "node:fs";
import { parseModel } from "../../src/frontend/index.js";
import { runPipeline, DEFAULT_PIPELINE } from "../../src/pipeline/index.js";
import { createPassRegistry } from "../../passes/index.js";
import { interpret } from "../../src/interp/interpreter.js";
import { loadWeights } from "../../src/weights/bind.js";
import type { Batch } from "../../src/data/batch.js";
import type { Graph } from "../../src/ir/types.js";
import type { WeightStore } from "../../src/weights/store.js";
import { type Peer, type PeerFiles, type PeerModel } from "./peer.js";

/** The canonical graph of a DSL file (the default pipeline: canonicalize, infer-shapes, dce). */
export function canonicalGraph(rmdl: string): Graph {
  const parsed = parseModel(readFileSync(rmdl, "utf8"), rmdl);
  if (!parsed.graph) throw new Error(`${rmdl}: does not parse`);
  return runPipeline(parsed.graph, DEFAULT_PIPELINE, createPassRegistry(), { out: () => {} });
}

/** The canonical graph with a precision plan file applied (what `rmc compile --plan` compiles). */
export function plannedGraph(rmdl: string, planFile: string, weights: WeightStore): Graph {
  return runPipeline(
    canonicalGraph(rmdl),
    `assign-precision{mode=plan,plan=${JSON.stringify(planFile)}}`,
    createPassRegistry(),
    { out: () => {} },
    { weights },
  );
}

/** The weights of a safetensors file, bound to the graph's names (as `rmc run` binds them). */
export function weightStore(graph: Graph, file: string): WeightStore {
  return loadWeights(graph, file).store;
}

/**
 * The interpreter on the model with the auto plan applied (files.rmcAutoPlan):
 * what rmc's auto artifact and the plan's ONNX export must compute. One
 * planned graph and weight store per set of files, built on first use.
 */
export function planReference(): NonNullable<Peer["reference"]> {
  const ready = new Map<string, (batch: Batch) => Float32Array>();
  return {
    label: "the interpreter running the same precision plan",
    async outputs(files: PeerFiles, batch: Batch) {
      if (!files.rmcAutoPlan) throw new Error("no precision plan to check against");
      const key = JSON.stringify([files.rmdl, files.rmcAutoPlan, files.weights]);
      let run = ready.get(key);
      if (!run) {
        const weights = weightStore(canonicalGraph(files.rmdl), files.weights);
        const planned = plannedGraph(files.rmdl, files.rmcAutoPlan, weights);
        ready.set(key, (run = (b) => interpret(planned, weights, b).outputs.ctr!));
      }
      return run(batch);
    },
  };
}

export const interpreter: Peer = {
  key: "interp",
  label: "JS interpreter",
  tolerance: 0,
  supports: (threads) => (threads === 1 ? true : "the interpreter runs on one thread"),
  async load(files): Promise<PeerModel> {
    const graph = canonicalGraph(files.rmdl);
    const weights = weightStore(graph, files.weights);
    return {
      detail: "rmc reference interpreter (TypeScript, Math.fround)",
      prepare: (batch: Batch) => batch,
      run: (batch) => interpret(graph, weights, batch as Batch).outputs.ctr!,
      close: () => {},
    };
  },
};
