// The precision search measures the numerics the artifact may run: the
// incremental evaluator in the interpreter's fused multiply-add mode equals a
// full fma-mode interpretation bit for bit, the search's fma figures equal an
// independent computation, and a plan within budget unfused but over it fused
// is backed off, latest change first, saying why.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseModel } from "../../src/frontend/index.js";
import { runPipeline } from "../../src/pipeline/index.js";
import { createPassRegistry } from "../../passes/index.js";
import { initWeights } from "../../src/weights/init.js";
import { calibrateOutputs } from "../../src/interp/output-calibration.js";
import { dataSchema } from "../../src/data/schema.js";
import { InputSampler, rawToBatch } from "../../src/data/synth.js";
import { Rng } from "../../src/util/rng.js";
import type { Batch } from "../../src/data/batch.js";
import type { Graph } from "../../src/ir/types.js";
import { interpret } from "../../src/interp/interpreter.js";
import { IncrementalEvaluator, type TableChoice } from "../../src/precision/incremental.js";
import { ExpectedNE } from "../../src/precision/evaluate.js";
import { applyAssignment, precisionUnits } from "../../src/precision/units.js";
import { MARGIN_SE, calibrateLayers, searchPrecision } from "../../src/precision/search.js";
import { planSummary } from "../../src/precision/report.js";
import { PLAN_FORMAT } from "../../src/precision/plan.js";
import { WASM_TARGET } from "../../src/target/index.js";

const src = readFileSync(join(import.meta.dirname, "../../examples/dlrm_kaggle_small.rmdl"), "utf8");
const written = parseModel(src, "examples/dlrm_kaggle_small.rmdl").graph!;
const graph = runPipeline(written, "canonicalize,infer-shapes,dce", createPassRegistry(), { out: () => {} });
const weights = calibrateOutputs(graph, written, initWeights(written, { seed: 3, dist: "trained" }), { seed: 3 }).store;
const schema = dataSchema(written);
const draw = (seed: number, n: number): Batch[] => {
  const rng = new Rng(seed);
  return Array.from({ length: n / 256 }, () => rawToBatch(schema, new InputSampler(schema).sample(rng, 256)));
};
const opts = { budget: 0.05, target: "wasm", cost: WASM_TARGET.cost, act: "dynamic" as const, calibMethod: "percentile" as const, smooth: 0.5 };
const fused = (g: Graph, batches: readonly Batch[]) => batches.map((b) => interpret(g, weights, b, { fma: true }).outputs);

describe("the incremental evaluator in fma mode", () => {
  it("equals a full fma-mode interpretation bit for bit after each change, and differs from the unfused one", () => {
    const batches = draw(4, 512);
    const tables = precisionUnits(graph).filter((u) => u.kind === "table");
    const layers = precisionUnits(graph).filter((u) => u.kind !== "table");
    const cal = calibrateLayers(graph, weights, batches, { alpha: 0.5, statics: false, method: "percentile" });
    const choices = new Map<string, TableChoice>(tables.map((u) => [u.id, { precision: "fp32" }]));
    const fma = new IncrementalEvaluator(graph, weights, batches, choices, "l2", { fma: true });
    const plain = new IncrementalEvaluator(graph, weights, batches, choices, "l2");
    const precision = new Map(layers.map((u) => [u.id, "fp32"]));
    const steps: [string, string][] = [
      ["top.0", "int8"],
      ["emb.0.weight", "int4"],
      ["emb.5.weight", "int2"],
    ];
    let differs = false;
    for (const [unit, p] of steps) {
      const table = choices.has(unit);
      if (table) choices.set(unit, { precision: p });
      else precision.set(unit, p);
      const g = applyAssignment(graph, { precision: new Map(precision), ...cal, rowRange: "l2" });
      const change = table ? { tables: new Map([[unit, { precision: p }]]) } : { graph: g };
      fma.commit(fma.trial(change));
      plain.commit(plain.trial(change));
      const full = applyAssignment(graph, {
        precision: new Map([...precision, ...[...choices].map(([t, c]) => [t, c.precision] as const)]),
        ...cal,
        rowRange: "l2",
      });
      const want = fused(full, batches);
      fma.current.outputs.forEach((o, i) => expect(Array.from(o.ctr!)).toEqual(Array.from(want[i]!.ctr!)));
      differs ||= plain.current.outputs.some((o, i) => o.ctr!.some((v, k) => v !== want[i]!.ctr![k]));
    }
    expect(differs).toBe(true);
  });
});

describe("the search with fma", () => {
  it("reports the plan's NE with every multiply-add fused, as an independent fma-mode interpretation gives it", () => {
    const batches = draw(2, 1024); // four batches: one held back
    const r = searchPrecision(graph, weights, batches, { ...opts, fma: true });
    expect(r.heldRows).toBe(256);
    const all = new ExpectedNE(graph, weights, batches);
    expect(r.fma!.delta).toBe(all.deltaOf(fused(r.graph, batches)));
    expect(r.fma!.error).toBe(all.lastError);
    expect(r.fma!.delta).not.toBe(r.finalDelta); // the two numerics differ, if only just
    const held = new ExpectedNE(graph, weights, batches.slice(3));
    expect(held.deltaOf(fused(r.graph, batches.slice(3))) + MARGIN_SE * held.lastError).toBeLessThanOrEqual(opts.budget);
    // Without fma the search says nothing about it.
    expect(searchPrecision(graph, weights, batches.slice(0, 1), opts).fma).toBeUndefined();
  });

  it("backs off a plan within the budget unfused but over it fused, the dearest change per byte first, and says why", () => {
    const batches = draw(1, 768); // three batches: nothing held back, so the fma check is on the rows chosen on
    const r0 = searchPrecision(graph, weights, batches, opts);
    const ref = new ExpectedNE(graph, weights, batches);
    const unfused = r0.finalDelta + MARGIN_SE * r0.finalError;
    const fd = ref.deltaOf(fused(r0.graph, batches));
    const fusedFig = fd + MARGIN_SE * ref.lastError;
    // A budget between the two: the unfused search makes the same plan, which fused multiply-adds put over it.
    expect(fusedFig).toBeGreaterThan(unfused);
    const budget = (unfused + fusedFig) / 2;
    expect(searchPrecision(graph, weights, batches, { ...opts, budget }).decisions).toEqual(r0.decisions);
    const r = searchPrecision(graph, weights, batches, { ...opts, budget, fma: true });
    expect(r.fma!.undone).toBeGreaterThan(0);
    expect(r.fma!.delta + MARGIN_SE * r.fma!.error).toBeLessThanOrEqual(budget);
    expect(ref.deltaOf(fused(r.graph, batches))).toBe(r.fma!.delta);
    // The change undone (the dearest in NE per byte saved, as the held-back check picks) says why, and it is no longer as the unfused plan had it.
    const undone = r.decisions.filter((d) => /undone: with fused multiply-adds/.test(d.why));
    expect(undone.length).toBeGreaterThan(0);
    for (const d of undone) {
      expect(d.why).toMatch(
        /undone: with fused multiply-adds \(the relaxed-SIMD variant's numerics\), on the 768 calibration rows the model was at \+\d/,
      );
      const before = r0.decisions.find((x) => x.unit === d.unit)!;
      expect([d.precision, d.split?.cold, d.split?.hot.length]).not.toEqual([before.precision, before.split?.cold, before.split?.hot.length]);
    }
    const summary = planSummary({
      format: PLAN_FORMAT,
      model: "m",
      mode: "auto",
      target: "wasm",
      act: "dynamic",
      calibMethod: "percentile",
      decisions: r.decisions,
      neDelta: r.finalDelta,
      fma: { neDelta: r.fma!.delta, neDeltaError: r.fma!.error, undone: r.fma!.undone },
    });
    expect(summary).toContain(`with fused multiply-adds (the relaxed-SIMD variant) +${r.fma!.delta.toFixed(4)}%`);
    expect(summary).toContain(`which undid ${r.fma!.undone} change`);
  });
});
