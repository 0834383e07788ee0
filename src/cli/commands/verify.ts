// `rmc verify`: the retraining gate. Given an artifact compiled with a
// precision plan and the retrained model's weights and data, it measures the
// NE of the plan on the new model against the new fp32 model — with the
// interpreter and, for a Wasm artifact, with each variant of its code the
// engine may pick (verify-variants.ts) — and exits 0 within budget, 1 outside
// (for CI). With --repair it raises the precision of as few tables and layers
// as it can to get back within budget, prints what it changed, and recompiles
// the artifact with the repaired plan.

import { RmcError } from "../../diagnostics/index.js";
import type { Graph } from "../../ir/types.js";
import type { Batch } from "../../data/batch.js";
import { dataSchema } from "../../data/schema.js";
import { readBatches } from "../../data/tsv.js";
import { COLUMNS_FLAG, columnsOf, dataFlag, dataSources } from "../data.js";
import { ExpectedNE } from "../../precision/evaluate.js";
import { applyDecisions, type PrecisionPlan } from "../../precision/plan.js";
import { calibrateLayers, type Decision } from "../../precision/search.js";
import type { WeightStore } from "../../weights/store.js";
import type { CalibrationMethod } from "../../quant/calibrate.js";
import type { Command } from "../command.js";
import { numberFlag, requireFlag } from "../args.js";
import { WEIGHT_FLAGS, loadWeights } from "../model.js";
import { fp32Of, manifestPlan, readManifest } from "../artifact.js";
import { compileModel } from "../../driver/index.js";
import { reportPlan } from "../precision.js";
import { provenanceOf } from "../explain.js";
import { colorsOf } from "../color.js";
import { EXIT } from "../exit.js";
import { JSON_FLAG, printJson, wantsJson } from "../json.js";
import { phasedProgress, type ProgressSink } from "../progress.js";
import { formatVariant, interpreted, measureArtifact, measureVariants } from "./verify-variants.js";

const pct = (x: number): string => `${x >= 0 ? "+" : ""}${x.toFixed(4)}%`;

/** The plan's graph on new weights: same precisions; smoothing and static scales recalibrated on the new data. */
function planGraph(fp32: Graph, decisions: readonly Decision[], plan: PrecisionPlan | undefined, weights: WeightStore, batches: Batch[]): Graph {
  const int8 = decisions.some((d) => d.kind === "linear" && d.precision === "int8");
  const range = plan?.rowRange ?? "minmax";
  if (!int8) return applyDecisions(fp32, decisions, {}, true, range);
  const cal = calibrateLayers(fp32, weights, batches, {
    alpha: plan?.smoothAlpha ?? 0,
    statics: plan?.act === "static",
    method: (plan?.calibMethod ?? "percentile") as CalibrationMethod,
  });
  return applyDecisions(
    fp32,
    decisions,
    { smooth: Object.fromEntries(cal.smooth), ...(cal.actScale ? { actScales: Object.fromEntries(cal.actScale) } : {}) },
    true,
    range,
  );
}

/** Raises lowered units one at a time, largest NE gain first, until the model is within budget. */
function repair(
  fp32: Graph,
  decisions: Decision[],
  plan: PrecisionPlan | undefined,
  weights: WeightStore,
  batches: Batch[],
  ev: ExpectedNE,
  budget: number,
  say: (s: string) => void,
  onProgress: ProgressSink,
  gate: (g: Graph, unfused: number) => number,
): { decisions: Decision[]; delta: number; raised: Raised[] } {
  let current = decisions.map((d) => ({ ...d }));
  const first = planGraph(fp32, current, plan, weights, batches);
  let delta = gate(first, ev.delta(first));
  const raised: Raised[] = [];
  for (let round = 1; delta > budget; round++) {
    let best: { i: number; delta: number } | undefined;
    const lowered = current.flatMap((d, i) => ((d.precision === "fp32" && !d.split) || d.source === "pin" ? [] : [i]));
    lowered.forEach((i, k) => {
      onProgress(`round ${round}`, k, lowered.length);
      const trial = current.map((x, j) => (j === i ? { ...x, precision: "fp32", split: undefined } : x));
      const dd = ev.delta(planGraph(fp32, trial, plan, weights, batches));
      if (!best || dd < best.delta) best = { i, delta: dd };
    });
    if (!best) break;
    // Trials are ranked as the interpreter computes them; the one taken is held to the gate's figure.
    const taken = current.map((x, j) => (j === best!.i ? { ...x, precision: "fp32", split: undefined } : x));
    best.delta = gate(planGraph(fp32, taken, plan, weights, batches), best.delta);
    const d = current[best.i]!;
    raised.push({ unit: d.unit, line: d.line, from: d.precision, to: "fp32", neDeltaBefore: delta, neDeltaAfter: best.delta });
    say(`raised ${d.unit} (line ${d.line}) ${d.precision} → fp32: model NE ${pct(delta)} → ${pct(best.delta)}\n`);
    current = current.map((x, j) =>
      j === best!.i
        ? {
            ...x,
            precision: "fp32",
            split: undefined,
            bytesAfter: x.bytesBefore,
            source: "repair" as const,
            why: `raised by rmc verify --repair (was ${x.precision})`,
          }
        : x,
    );
    delta = best.delta;
  }
  return { decisions: current, delta, raised };
}

/** One unit a repair raised, with the model's NE delta before and after (`rmc verify --json`). */
interface Raised {
  unit: string;
  line: number;
  from: string;
  to: string;
  neDeltaBefore: number;
  neDeltaAfter: number;
}

export const verify: Command = {
  spec: {
    name: "verify",
    usage: "rmc verify DIST/ --weights NEW.safetensors --data NEW.tsv [--repair [-o DIST2/]]",
    summary: "check a compiled plan against a retrained model (exit 1 if over the NE budget); --repair fixes it",
    positionals: { min: 1, max: 1 },
    flags: {
      weights: WEIGHT_FLAGS.weights!,
      "weights-map": WEIGHT_FLAGS["weights-map"]!,
      data: dataFlag("samples from the retrained model's world (labels not needed)"),
      columns: COLUMNS_FLAG,
      rows: { type: "string", value: "N", doc: "samples to measure on", default: "20000" },
      "ne-budget": { type: "string", value: "PCT", doc: "budget in percent (default: the plan's)" },
      repair: { type: "boolean", doc: "raise precisions until within budget and recompile" },
      output: { type: "string", short: "o", value: "DIR", doc: "with --repair: write the repaired artifact here (default: replace DIST/)" },
      report: { type: "string", value: "FILE", doc: "with --repair: write the repaired plan's precision report (Markdown)" },
      "plan-out": { type: "string", value: "FILE", doc: "with --repair: write the repaired plan as JSON (reusable with rmc compile --plan)" },
      ...JSON_FLAG,
    },
    details:
      "The NE change is the expected one with the new fp32 model's predictions as truth (mean KL over the samples,\n" +
      "relative to its log loss): no label noise, so the gate does not flip on luck. It is computed with the\n" +
      "reference interpreter; a Wasm artifact's plan is also compiled on the new weights and each code variant\n" +
      "measured: the SIMD128 code and the relaxed-SIMD one run for real where this engine validates them (against\n" +
      "the interpreter, fused multiply-adds for the relaxed one); one it cannot run is measured with the\n" +
      "interpreter's fused multiply-add mode instead. Within budget means every one of them is.",
  },
  async run(args, io) {
    const cmd = "verify";
    const dir = args.positionals[0]!;
    const manifest = readManifest(dir);
    const plan = manifestPlan(manifest);
    const fp32 = fp32Of(manifest.ir);
    requireFlag(args, "weights", cmd);
    const weights = loadWeights(fp32, args, io, cmd);
    const limit = numberFlag(args, "rows", cmd, { integer: true, min: 1 })!;
    const batches: Batch[] = [];
    for await (const b of readBatches(dataSources(args, "data", cmd), dataSchema(fp32), { batchSize: 1024, limit, ...columnsOf(args, cmd) }))
      batches.push(b);
    const budget = numberFlag(args, "ne-budget", cmd, { min: 0 }) ?? plan?.budget ?? 0.05;
    const decisions = plan?.decisions ?? [];
    const ev = new ExpectedNE(fp32, weights, batches);
    const graph0 = planGraph(fp32, decisions, plan, weights, batches);
    const unfused = interpreted(graph0, weights, batches);
    const delta = ev.deltaOf(unfused);
    const deltaError = ev.lastError;
    const variants = await measureVariants(manifest.target, graph0, weights, batches, plan, ev, budget, unfused);
    const ok = delta <= budget && (variants ?? []).every((v) => v.withinBudget);
    // --repair's figure for a plan: the interpreter's or, for a Wasm artifact, the worse of it and its fma mode's (the relaxed variant's).
    const gate = (g: Graph, unfusedDelta: number): number =>
      variants ? Math.max(unfusedDelta, ev.deltaOf(interpreted(g, weights, batches, true))) : unfusedDelta;
    const json = wantsJson(args);
    const human = json ? { ...io, out: () => {} } : io;
    const c = colorsOf(io, "out");
    const samples = batches.reduce((s, b) => s + b.size, 0);
    const result = {
      model: manifest.model.name,
      mode: plan?.mode ?? "fp32",
      neDelta: delta,
      neDeltaError: deltaError,
      budget,
      samples,
      withinBudget: ok,
      ...(variants ? { variants } : {}),
    };
    human.out(
      `${manifest.model.name}: plan ${plan?.mode ?? "fp32"} on the new weights: expected NE ${pct(delta)} ± ${pct(deltaError)} vs the new fp32 model (budget ${pct(budget)}, ${samples} samples): ${ok ? c.green("within budget") : c.red("OUTSIDE the budget")}\n`,
    );
    for (const v of variants ?? []) human.out(formatVariant(v));
    if (!args.flags.repair)
      for (const f of ["report", "plan-out", "output"])
        if (args.flags[f] !== undefined) throw new RmcError(`rmc verify: --${f} needs --repair`, "E0906");
    if (ok || !args.flags.repair) {
      if (json) printJson(io, "verify", ok, result);
      return ok ? EXIT.ok : EXIT.failed;
    }
    const bar = phasedProgress("verify --repair", "trials");
    const fixed = (() => {
      try {
        return repair(fp32, decisions, plan, weights, batches, ev, budget, human.out, bar.sink, gate);
      } finally {
        bar.finish();
      }
    })();
    const repaired: PrecisionPlan = { ...(plan as PrecisionPlan), mode: "repair", budget, decisions: fixed.decisions, neDelta: fixed.delta };
    reportPlan(repaired, args, human);
    const graph = planGraph(fp32, fixed.decisions, plan, weights, batches);
    const out = typeof args.flags.output === "string" ? args.flags.output : dir;
    // The graph is the artifact's own IR with the repaired precisions: no front-end passes, but the same target
    // and its passes (fusions, memory plan), as `rmc compile --plan` would run them.
    const history = provenanceOf(manifest);
    await compileModel({
      model: graph,
      weights,
      target: manifest.target,
      outDir: out,
      passes: [],
      plan: repaired,
      ...(history ? { provenance: history } : {}),
    });
    human.out(`repaired artifact written to ${out}\n`);
    const after = variants ? await measureArtifact(out, graph, weights, batches, ev, budget, interpreted(graph, weights, batches)) : undefined;
    for (const v of after ?? []) human.out(formatVariant(v));
    const within = fixed.delta <= budget && (after ?? []).every((v) => v.withinBudget);
    const worse = (after ?? []).filter((v) => !v.withinBudget);
    const over =
      fixed.delta <= budget && worse.length > 0
        ? `after the repair the ${worse.map((v) => `${v.name} code is at ${pct(v.neDelta)}`).join(", the ")}, over the budget`
        : `even with every lowered table and layer back at fp32 the model is at ${pct(fixed.delta)}, over the budget`;
    if (!json && !within) throw new RmcError(over, "E1910");
    if (json)
      printJson(io, "verify", within, {
        ...result,
        repair: { raised: fixed.raised, neDelta: fixed.delta, withinBudget: within, output: out, ...(after ? { variants: after } : {}) },
      });
    // One JSON object on stdout, so the failure is told on stderr rather than thrown (which would print a second).
    if (!within) io.err(`rmc verify: error E1910: ${over}\n`);
    return within ? EXIT.ok : EXIT.failed;
  },
};
