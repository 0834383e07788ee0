// plan-memory against the Wasm backend and runtime: the peak it reports is
// the workspace the compiled artifact declares and the runtime allocates for
// a batch capacity; the backend compiles with the plan written in the IR
// (same layout as its own liveness plan) and rejects a plan in which two
// buffers in use at once share bytes, or a buffer is too small (E1808).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { produce } from "immer";
import { describe, expect, it } from "vitest";
import { parseModel } from "../../src/frontend/index.js";
import { interpret } from "../../src/interp/interpreter.js";
import { runPipelineWithReport } from "../../src/pipeline/index.js";
import { compilerRegistry } from "../../src/driver/index.js";
import { initWeights } from "../../src/weights/init.js";
import { dataSchema } from "../../src/data/schema.js";
import { InputSampler, rawToBatch } from "../../src/data/synth.js";
import { Rng } from "../../src/util/rng.js";
import { RmcError } from "../../src/diagnostics/index.js";
import type { Graph } from "../../src/ir/types.js";
import type { Manifest } from "../../src/runtime/manifest.js";
import { idCapsFor, planWorkspaces } from "../../src/runtime/wasm/workspace.js";
import type { MemoryPlanSummary } from "../../backends/wasm/plan-memory.js";
import { compileTo, maxRelError, runArtifact } from "../backends/wasm/helpers.js";
import { FUSIBLE } from "./fusible.js";

const FUSED = "canonicalize,infer-shapes,dce,fuse-epilogue,fuse-bags,fuse-interaction,fold-quant";

function planned(src: string, file: string, pipeline = `${FUSED},plan-memory`): { source: Graph; graph: Graph; summary: MemoryPlanSummary } {
  const { graph: source } = parseModel(src, file);
  const report = runPipelineWithReport(source!, pipeline, compilerRegistry());
  return { source: source!, graph: report.graph, summary: report.outputs["memory-plan"] as MemoryPlanSummary };
}

const ends = (g: Graph): number[] =>
  g.nodes.flatMap((n) => [n.attrs.buffer, n.attrs.scratch].filter(Array.isArray).map((b) => (b as number[])[0]! + (b as number[])[1]!));
const manifestOf = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest;

describe("plan-memory", () => {
  const small = readFileSync(join(import.meta.dirname, "../../examples/dlrm_kaggle_small.rmdl"), "utf8");

  it.each([
    ["fusible", FUSIBLE],
    ["dlrm_kaggle_small", small],
  ])("%s: the reported peak is the workspace the artifact declares and the runtime allocates", async (name, src) => {
    const { source, graph, summary } = planned(src, `${name}.rmdl`);
    // The buffers in the IR reach exactly the reported bytes per sample, and reuse saved something.
    expect(Math.max(...ends(graph))).toBe(summary.perSampleBytes);
    expect(summary.activationBytes).toBeLessThan(summary.unsharedBytes);
    const weights = initWeights(source, { seed: 2, dist: "trained" });
    const dir = await compileTo(graph, weights);
    const wasm = manifestOf(dir).wasm!;
    expect([wasm.perSample, wasm.headerBytes, wasm.activationBytesPerSample]).toEqual([
      summary.perSampleBytes,
      summary.headerBytes,
      summary.activationBytes,
    ]);
    // The runtime's workspace for a capacity of 64: header, then perSample bytes per sample, then the ids it places itself.
    const inputs = manifestOf(dir).model.inputs;
    const ws = planWorkspaces(wasm, inputs, 1, 64, idCapsFor(inputs, 64));
    expect(Math.min(...ws.idsAt)).toBe(Math.ceil((summary.headerBytes + summary.perSampleBytes * 64) / 16) * 16);
    // And the model computes with that plan what the interpreter computes.
    const schema = dataSchema(source);
    const batch = rawToBatch(schema, new InputSampler(schema, { idsPerBag: [0, 4] }).sample(new Rng(3), 64));
    const want = interpret(graph, weights, batch).outputs;
    const got = await runArtifact(dir, batch);
    for (const o of graph.outputs) expect(maxRelError(got[o.name]!, want[o.name]!)).toBe(0);
  });

  it("the plan in the IR is the backend's own liveness plan (same workspace with or without the pass)", async () => {
    const withPlan = planned(FUSIBLE, "fusible.rmdl");
    const without = planned(FUSIBLE, "fusible.rmdl", FUSED);
    const weights = initWeights(withPlan.source, { seed: 2, dist: "trained" });
    const a = manifestOf(await compileTo(withPlan.graph, weights)).wasm!;
    const b = manifestOf(await compileTo(without.graph, weights)).wasm!;
    expect(a.perSample).toBe(b.perSample);
    expect(a.buffers).toEqual(b.buffers);
  });

  it("a hand-broken plan (two live buffers overlapping, a buffer too small) is rejected with E1808", async () => {
    const { source, graph } = planned(FUSIBLE, "fusible.rmdl");
    const weights = initWeights(source, { seed: 2, dist: "trained" });
    // top.1 reads top.0: putting its result on top.0's bytes clobbers its own input.
    const overlap = produce(graph, (g) => {
      const from = g.nodes.find((n) => n.id === "top.0")!.attrs.buffer as number[];
      g.nodes.find((n) => n.id === "top.1")!.attrs.buffer = [...from];
    });
    const small = produce(graph, (g) => {
      g.nodes.find((n) => n.id === "top.0")!.attrs.buffer = [(g.nodes.find((n) => n.id === "top.0")!.attrs.buffer as number[])[0]!, 16];
    });
    for (const [bad, what] of [
      [overlap, "share bytes while both are in use"],
      [small, "must be 16-byte aligned and hold"],
    ] as const) {
      const err = await compileTo(bad, weights).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RmcError);
      const d = (err as RmcError).diagnostics[0]!;
      expect(d.code).toBe("E1808");
      expect(d.message).toContain(what);
      expect(d.span?.file).toBe("fusible.rmdl");
    }
  });
});
