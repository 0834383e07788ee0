// The accuracy-aware precision search behind `--precision auto`. It measures
// each table's and layer's NE sensitivity alone (that unit lowered, the rest
// as pinned), then lowers units greedily in order of the best saving (bytes,
// plus the target's own speed estimate) per unit of NE loss, re-measuring the
// whole model after every change and keeping a change only while the NE delta
// against the fp32 model stays within the budget — with a margin of MARGIN_SE
// standard errors of that estimate, because the budget is meant to hold on
// data the search never saw, where the same plan's delta differs by about that
// much. User pins always win; the result is always a valid plan (at worst:
// the pins alone).

import type { Graph, Node } from "../ir/types.js";
import { valueInputs, weightInputs } from "../ir/types.js";
import { smoothingFactors } from "../quant/dense.js";
import type { RowRange } from "../quant/rowwise.js";
import type { Batch } from "../data/batch.js";
import type { WeightStore } from "../weights/store.js";
import { interpret } from "../interp/interpreter.js";
import { RangeCollector, activationScale, type CalibrationMethod } from "../quant/calibrate.js";
import type { CostKind, CostModel } from "../target/target.js";
import { type Decision, type PinOrigin, decide, pinDecision } from "./decision.js";
import { ExpectedNE, measureNE, type NeByOutput } from "./evaluate.js";
import { BITS, applyAssignment, precisionUnits, type Unit, type UnitKind } from "./units.js";

/**
 * Standard errors of the expected-NE estimate kept below the budget: the estimate is a mean over the
 * calibration samples, so unseen data gives a delta within ±2 of them about 95% of the time.
 */
export const MARGIN_SE = 2;

/** A target rates a cross layer's precision as it rates a dense layer's. */
const costKind = (k: UnitKind): CostKind => (k === "table" ? "table" : "linear");

export type { Decision } from "./decision.js";
export { decide } from "./decision.js";

export interface SearchOptions {
  /** NE may rise by at most this much, in percent of the fp32 model's NE. */
  budget: number;
  /** The target, named in the reasons. */
  target: string;
  /** The target's speed estimate: a precision it rates slower than fp32 for a unit is never taken there. */
  cost: CostModel;
  /** int8 activations: calibrated static scales, or dynamic per row. */
  act: "dynamic" | "static";
  calibMethod: CalibrationMethod;
  /** SmoothQuant α for int8 layers (0: no smoothing). */
  smooth: number;
  /** How int4/int2 tables choose their rows' ranges (default minmax). */
  rowRange?: RowRange;
  /** Which pins came from the command line (for the reasons in the plan). */
  pins?: ReadonlyMap<string, PinOrigin>;
  /** Progress of the two phases (sensitivities, greedy), for the CLI's progress line. */
  onProgress?: (phase: string, done: number, total: number) => void;
}

export interface SearchResult {
  graph: Graph;
  decisions: Decision[];
  /** NE on the calibration labels of the fp32 model and of the result, when the data has labels (for reports). */
  baseline?: NeByOutput;
  final?: NeByOutput;
  /** Expected NE change of the result against the fp32 model (see ExpectedNE), in percent. */
  finalDelta: number;
  /** The standard error of finalDelta (the spread of per-sample KL over √n, same units). */
  finalError: number;
  evaluations: number;
  /** Changes undone because the plan was over the budget on the held-back calibration rows. */
  undone: number;
  /** Calibration rows held back from the choosing to check its result (0: too few batches to hold any back). */
  heldRows: number;
}

const pct = (x: number): string => `${x >= 0 ? "+" : ""}${x.toFixed(4)}%`;
const kib = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;

/** What calibration gives the int8 layers: smoothing factors (when α > 0) and static activation scales (when asked). */
export interface LayerCalibration {
  smooth: Map<string, number[]>;
  actScale?: Map<string, number>;
}

/**
 * Calibrates every linear layer on the fp32 model's values: per-input-channel
 * maxima give SmoothQuant-style factors (α = `alpha`; 0 = none), and the
 * smoothed inputs give static activation scales by `method` when `statics`.
 */
export function calibrateLayers(
  graph: Graph,
  weights: WeightStore,
  batches: readonly Batch[],
  opts: { alpha: number; statics: boolean; method: CalibrationMethod },
): LayerCalibration {
  const layers = graph.nodes.filter((n) => n.op === "linear");
  const fp32 = applyAssignment(graph, { precision: new Map(precisionUnits(graph).map((u) => [u.id, "fp32"])) });
  const inputs = (each: (n: Node, x: Float32Array, width: number) => void) => {
    for (const batch of batches) {
      const { values } = interpret(fp32, weights, batch, { keep: "all" });
      for (const n of layers) {
        const x = values!.get(valueInputs(n)[0]!)!;
        each(n, x, weights.get(weightInputs(n)[0]!)!.shape[1]!);
      }
    }
  };
  const smooth = new Map<string, number[]>();
  if (opts.alpha > 0) {
    const maxima = new Map(layers.map((n) => [n.id, new Float64Array(weights.get(weightInputs(n)[0]!)!.shape[1]!)]));
    inputs((n, x, width) => {
      const m = maxima.get(n.id)!;
      for (let i = 0; i < x.length; i++) m[i % width] = Math.max(m[i % width]!, Math.abs(x[i]!));
    });
    for (const n of layers) {
      const w = weights.get(weightInputs(n)[0]!)!;
      const [out, inF] = w.shape as [number, number];
      smooth.set(n.id, Array.from(smoothingFactors(maxima.get(n.id)!, w.toFloat32(), out, inF, opts.alpha)));
    }
  }
  if (!opts.statics) return { smooth };
  const collectors = new Map(layers.map((n) => [n.id, new RangeCollector()]));
  inputs((n, x, width) => {
    const s = smooth.get(n.id);
    collectors.get(n.id)!.add(s ? x.map((v, i) => Math.fround(v * Math.fround(1 / s[i % width]!))) : x);
  });
  return { smooth, actScale: new Map(layers.map((n) => [n.id, activationScale(collectors.get(n.id)!.range(opts.method))])) };
}

export function searchPrecision(graph: Graph, weights: WeightStore, batches: readonly Batch[], opts: SearchOptions): SearchResult {
  const units = precisionUnits(graph);
  const cost = opts.cost;
  const cal = calibrateLayers(graph, weights, batches, { alpha: opts.smooth, statics: opts.act === "static", method: opts.calibMethod });
  const assign = (precision: Map<string, string>): Graph => applyAssignment(graph, { precision, ...cal, rowRange: opts.rowRange ?? "minmax" });
  const fp32 = assign(new Map(units.map((u) => [u.id, "fp32"])));
  // A quarter of the calibration batches (with 4 or more) is held back: the greedy choices are made on the
  // rest, whose estimate that very choosing makes optimistic, and a plan over the budget on the held-back
  // rows is backed off below.
  const held = batches.length >= 4 ? Math.floor(batches.length / 4) : 0;
  const searchRows = batches.slice(0, batches.length - held);
  const ev = new ExpectedNE(fp32, weights, searchRows);
  const delta = (precision: Map<string, string>): number => ev.delta(assign(precision));
  /** Within budget with the margin: the estimate plus MARGIN_SE of its standard errors. */
  const fits = (d: number): boolean => d + MARGIN_SE * ev.lastError <= opts.budget;

  const current = new Map(units.map((u) => [u.id, u.pinned ?? "fp32"]));
  const pinsDelta = delta(current);
  const totalBytes = units.reduce((s, u) => s + u.bytes("fp32"), 0);
  const totalWork = units.reduce((s, u) => s + u.work, 0);
  const decisions = new Map<string, Decision>();
  for (const u of units) if (u.pinned) decisions.set(u.id, pinDecision(u, opts.pins));

  // Sensitivity of each (unit, precision) alone, relative to the pins-only model.
  const candidates: { unit: Unit; p: string; alone: number; score: number }[] = [];
  const slower = new Map<string, string>();
  const free = units.filter((u) => !u.pinned);
  for (const [i, u] of free.entries()) {
    opts.onProgress?.("sensitivity of each unit", i, free.length);
    let int8Alone: number | undefined;
    for (const p of [...u.options].sort((a, b) => BITS[a]! - BITS[b]!)) {
      if (p === "fp32") continue;
      // fp16 saves less than int8; it is only worth measuring for a table that int8 already hurts too much.
      if (u.kind === "table" && p === "fp16" && int8Alone !== undefined && int8Alone <= opts.budget) continue;
      if (cost(costKind(u.kind), p, u.shape) > cost(costKind(u.kind), "fp32", u.shape)) {
        slower.set(u.id, p);
        continue;
      }
      const alone = delta(new Map([...current, [u.id, p]])) - pinsDelta;
      if (p === "int8") int8Alone = alone;
      const saving =
        (u.bytes("fp32") - u.bytes(p)) / totalBytes +
        ((cost(costKind(u.kind), "fp32", u.shape) - cost(costKind(u.kind), p, u.shape)) * u.work) / totalWork;
      candidates.push({ unit: u, p, alone, score: saving / Math.max(alone, 1e-4) });
    }
  }
  candidates.sort((a, b) => b.score - a.score || BITS[a.p]! - BITS[b.p]!);

  // Greedy: take the best remaining change while the whole model stays within budget.
  const rejected = new Map<string, string>();
  const taken: { unit: Unit; from: string; to: string; before: Decision | undefined }[] = [];
  for (const [i, c] of candidates.entries()) {
    opts.onProgress?.("greedy lowering", i, candidates.length);
    const now = current.get(c.unit.id)!;
    if (BITS[now]! <= BITS[c.p]! || cost(costKind(c.unit.kind), c.p, c.unit.shape) > cost(costKind(c.unit.kind), now, c.unit.shape)) continue;
    if (c.alone > opts.budget) {
      if (!rejected.has(c.unit.id)) rejected.set(c.unit.id, `${c.p} alone costs ${pct(c.alone)} NE, over the ${pct(opts.budget)} budget`);
      continue;
    }
    const trial = new Map(current).set(c.unit.id, c.p);
    const d = delta(trial);
    if (!fits(d)) {
      if (!rejected.has(c.unit.id))
        rejected.set(
          c.unit.id,
          `${c.p} (alone ${pct(c.alone)}) would bring the model to ${pct(d)} ± ${pct(ev.lastError)}, over the budget with a ${MARGIN_SE}-standard-error margin`,
        );
      continue;
    }
    taken.push({ unit: c.unit, from: now, to: c.p, before: decisions.get(c.unit.id) });
    current.set(c.unit.id, c.p);
    const saved = c.unit.bytes("fp32") - c.unit.bytes(c.p);
    decisions.set(c.unit.id, {
      ...decide(c.unit, c.p, "search", `saves ${kib(saved)}; NE ${pct(c.alone)} alone, model at ${pct(d)} after it`),
      neDeltaAlone: c.alone,
      neDeltaCumulative: d,
      step: taken.length,
    });
  }
  // The held-back rows: undo the latest changes while the plan is over the budget (with the margin) on them.
  let undone = 0;
  const heldBack = batches.slice(batches.length - held);
  const rows = heldBack.reduce((n, b) => n + b.size, 0);
  if (held > 0) {
    const check = new ExpectedNE(fp32, weights, heldBack);
    for (let d = check.delta(assign(current)); d + MARGIN_SE * check.lastError > opts.budget && taken.length > 0; d = check.delta(assign(current))) {
      const t = taken.pop()!;
      current.set(t.unit.id, t.from);
      const why = `${t.to} undone: on the ${rows} held-back calibration rows the model was at ${pct(d)} ± ${pct(check.lastError)}, over the budget with a ${MARGIN_SE}-standard-error margin`;
      if (t.before && t.from !== "fp32") decisions.set(t.unit.id, { ...t.before, why: `${t.before.why}; ${why}` });
      else {
        decisions.delete(t.unit.id);
        rejected.set(t.unit.id, why);
      }
      undone++;
    }
  }
  for (const u of units)
    if (!decisions.has(u.id))
      decisions.set(
        u.id,
        decide(
          u,
          "fp32",
          "search",
          rejected.get(u.id) ?? (slower.has(u.id) ? `lower precisions are not faster on ${opts.target}` : "no lower precision fits the budget"),
        ),
      );

  const result = assign(current);
  // The reported estimate is over every calibration row.
  const all = held > 0 ? new ExpectedNE(fp32, weights, batches) : ev;
  const finalDelta = all.delta(result);
  const finalError = all.lastError;
  const labelled = batches.some((b) => b.labels && Object.keys(b.labels).length > 0);
  const ne = labelled ? { baseline: measureNE(fp32, weights, batches), final: measureNE(result, weights, batches) } : {};
  return {
    graph: result,
    decisions: units.map((u) => decisions.get(u.id)!),
    ...ne,
    finalDelta,
    finalError,
    evaluations: ev.evaluations,
    undone,
    heldRows: rows,
  };
}
