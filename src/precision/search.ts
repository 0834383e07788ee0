// The precision search behind `--precision auto` (docs/precision-search.md),
// on the incremental evaluator: 1. layers, each lower precision alone, then
// greedily by saving per NE; 2. tables: each whole precision measured alone,
// hot/cold splits estimated from those per sample (table-options.ts), every
// option on one sequence, best saving (bytes and the target's speed estimate)
// per NE first; a binary search over its prefixes, each measured, then the
// steps after it one at a time. Changes are kept while the NE delta plus
// MARGIN_SE standard errors fits the budget; a held-back quarter of the
// calibration batches checks the result, undoing the latest changes while it
// is over. Pins and explicit splits win; the result is always a valid plan,
// at worst the pins alone (also under a time limit).

import type { Graph } from "../ir/types.js";
import type { RowRange } from "../quant/rowwise.js";
import type { Batch } from "../data/batch.js";
import type { WeightStore } from "../weights/store.js";
import type { CalibrationMethod } from "../quant/calibrate.js";
import type { CostKind, CostModel } from "../target/target.js";
import { applyHotColdSplits, type HotColdSplit } from "../ir/table-parts.js";
import { type Decision, type PinOrigin, decide, pinDecision } from "./decision.js";
import { ExpectedNE, type NeByOutput } from "./evaluate.js";
import { BITS, applyAssignment, precisionUnits, type Unit, type UnitKind } from "./units.js";
import { calibrateLayers } from "./calibrate-layers.js";
import { IncrementalEvaluator, type EvalState, type TableChoice } from "./incremental.js";
import { type PerSample, type Step, type TableOption, splitBytes, splitOptions, stepSequence, tableFrequencies } from "./table-options.js";

export { calibrateLayers, type LayerCalibration } from "./calibrate-layers.js";
export type { Decision } from "./decision.js";
export { decide } from "./decision.js";

/**
 * Standard errors of the expected-NE estimate kept below the budget: the estimate is a mean over the
 * calibration samples, so unseen data gives a delta within ±2 of them about 95% of the time.
 */
export const MARGIN_SE = 2;

/**
 * Search rows each unit's lower precisions are measured alone on, at most (the
 * first batches): those sensitivities only order the choices, and every plan
 * the search keeps is measured on all the search rows. At full size an
 * evaluation of 75,000 rows costs tens of seconds of fp32 MLP.
 */
export const SENSE_ROWS = 8192;

/** A table under this share of the model's bytes is only measured at int8: its lower precisions save next to nothing. */
export const NEGLIGIBLE_SHARE = 0.001;

/** Steps the greedy pass after the binary search tries at most. */
const REFINE_TRIES = 24;

/** A target rates a cross layer's precision as it rates a dense layer's. */
const costKind = (k: UnitKind): CostKind => (k === "table" ? "table" : "linear");

/** Where the search is (evaluations so far of about `total`), the plan so far's NE delta (%) and bytes, time taken and left. */
export interface SearchProgress {
  step: "layers" | "tables" | "plan" | "greedy" | "held-back";
  candidate: string;
  evaluations: number;
  total: number;
  neDelta: number;
  bytes: number;
  elapsedMs: number;
  etaMs: number;
}

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
  /** Weigh hot/cold splits of tables (default true). */
  splits?: boolean;
  /** The largest part a target buffer holds: cold parts over it are split by rows. */
  maxPartBytes?: number;
  /** Stop choosing after this many milliseconds and return the best plan found so far (0 or absent: no limit). */
  timeLimitMs?: number;
  /** Called after every evaluation. */
  progress?: (p: SearchProgress) => void;
  /** Called with each better plan as it is found (e.g. to write it, so an interrupt leaves it behind). */
  checkpoint?: (c: Checkpoint) => void;
  /** The graph whose tables' row counts bytes, splits and costs are counted with, when `graph` holds only their touched rows (touched-rows.ts). */
  sizes?: Graph;
  /** Rows the sensitivities are measured on, at most (default SENSE_ROWS). */
  senseRows?: number;
}

/** A plan the search has found so far: within the budget on the rows it chooses on (not yet checked on the held-back ones). */
export interface Checkpoint {
  decisions: Decision[];
  neDelta: number;
  neDeltaError: number;
  smooth: ReadonlyMap<string, number[]>;
  actScale?: ReadonlyMap<string, number>;
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
  /** The choosing stopped at the time limit. */
  timedOut: boolean;
  /** Wall time of the search, ms, and the CPU time it took (user + system). */
  ms: number;
  cpuMs: number;
}

const pct = (x: number): string => `${x >= 0 ? "+" : ""}${x.toFixed(4)}%`;
const kib = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;
const label = (c: TableChoice): string => (c.hot ? `hot ${c.hot.length} rows ${c.precision} / cold ${c.cold}` : c.precision);

/** One change the search kept, to undo it if the held-back rows say so. */
interface Taken {
  unit: Unit;
  from: string | TableChoice;
  to: string | TableChoice;
  before: Decision | undefined;
}

export function searchPrecision(graph: Graph, weights: WeightStore, batches: readonly Batch[], opts: SearchOptions): SearchResult {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const units = precisionUnits(opts.sizes ?? graph);
  const byId = new Map(units.map((u) => [u.id, u]));
  const cost = opts.cost;
  const rowRange = opts.rowRange ?? "minmax";
  const tables = units.filter((u) => u.kind === "table");
  const layers = units.filter((u) => u.kind !== "table");
  // A quarter of the calibration batches (with 4 or more) is held back: the choices are made on the rest,
  // whose estimate that very choosing makes optimistic, and a plan over the budget on the held-back rows is backed off.
  const held = batches.length >= 4 ? Math.floor(batches.length / 4) : 0;
  const searchRows = batches.slice(0, batches.length - held);
  const heldBack = batches.slice(batches.length - held);
  const fp32Tables = new Map<string, TableChoice>(tables.map((u) => [u.id, { precision: "fp32" }]));
  const fp32 = applyAssignment(graph, { precision: new Map(units.map((u) => [u.id, "fp32"])) });
  const evS = new IncrementalEvaluator(fp32, weights, searchRows, fp32Tables, rowRange);
  let senseBatches = 0;
  for (let n = 0; senseBatches < searchRows.length && n < (opts.senseRows ?? SENSE_ROWS); senseBatches++) n += searchRows[senseBatches]!.size;
  const sense = searchRows.slice(0, senseBatches);
  const evA = sense.length < searchRows.length ? new IncrementalEvaluator(fp32, weights, sense, fp32Tables, rowRange) : evS;
  // Calibration reads the search rows' fp32 values from the evaluator (no reference kept: the search's later states replace
  // them, and at full size they are hundreds of MB) and interprets the held-back rows batch by batch, whose evaluator is made
  // only when the held-back check starts.
  const cal = calibrateLayers(
    graph,
    weights,
    batches,
    { alpha: opts.smooth, statics: opts.act === "static", method: opts.calibMethod },
    evS.current.values,
  );
  const layerGraph = (precision: ReadonlyMap<string, string>): Graph => applyAssignment(fp32, { precision: new Map(precision), ...cal, rowRange });
  const ne = new ExpectedNE(evS.current.outputs, weights, searchRows);
  const neA = evA === evS ? ne : new ExpectedNE(evA.current.outputs, weights, sense);
  const evaluations = (): number => ne.evaluations + (neA === ne ? 0 : neA.evaluations);
  const fits = (d: number): boolean => d + MARGIN_SE * ne.lastError <= opts.budget;

  // The state: layer precisions, table choices, decisions, and what was kept in order.
  const layerP = new Map(layers.map((u) => [u.id, u.pinned ?? "fp32"]));
  const tableC = new Map<string, TableChoice>(tables.map((u) => [u.id, { precision: u.pinned ?? "fp32" }]));
  const bytesOf = (u: Unit): number => (u.kind === "table" ? choiceBytes(u, tableC.get(u.id)!) : u.bytes(layerP.get(u.id)!));
  const decisions = new Map<string, Decision>();
  for (const u of units) if (u.pinned) decisions.set(u.id, pinDecision(u, opts.pins));
  const taken: Taken[] = [];
  const rejected = new Map<string, string>();
  const slower = new Set<string>();

  // Time, progress and checkpoints.
  const deadline = opts.timeLimitMs ? t0 + opts.timeLimitMs : Infinity;
  let timedOut = false;
  const expired = (): boolean => (timedOut ||= performance.now() > deadline);
  let total = 1;
  let current = 0;
  const report = (step: SearchProgress["step"], candidate: string): void => {
    if (!opts.progress) return;
    const elapsedMs = performance.now() - t0;
    const bytes = units.reduce((s, u) => s + bytesOf(u), 0);
    const etaMs = (elapsedMs / Math.max(1, evaluations())) * Math.max(0, total - evaluations());
    opts.progress({ step, candidate, evaluations: evaluations(), total, neDelta: current, bytes, elapsedMs, etaMs });
  };
  const checkpoint = (): void =>
    opts.checkpoint?.({
      decisions: finalDecisions(),
      neDelta: current,
      neDeltaError: ne.lastError,
      smooth: cal.smooth,
      ...(cal.actScale ? { actScale: cal.actScale } : {}),
    });
  const finalDecisions = (): Decision[] => {
    // Each kept change's place in the order the search took them (the report lists the plan so).
    const order = new Map(taken.map((t, i) => [t.unit.id, i + 1] as const));
    return units.map((u) => {
      const d = decisions.get(u.id);
      if (d) return d.source === "search" && order.has(u.id) ? { ...d, step: order.get(u.id)! } : d;
      const why =
        rejected.get(u.id) ?? (slower.has(u.id) ? `lower precisions are not faster on ${opts.target}` : "no lower precision fits the budget");
      return decide(u, "fp32", "search", why);
    });
  };
  const measure = (s: EvalState): number => ne.deltaOf(s.outputs);
  // The sensitivity rows' evaluator brought to the plan so far; its NE delta there, what each unit alone is measured against.
  const senseAt = (): number => {
    if (evA === evS) return current;
    evA.commit(evA.trial({ graph: layerGraph(layerP), tables: tableC }));
    return neA.deltaOf(evA.current.outputs);
  };

  // The pins.
  // (No state is kept in a variable: a state holds every activation, and later ones replace it.)
  evS.commit(evS.trial({ graph: layerGraph(layerP), tables: tableC }));
  current = measure(evS.current);
  const pinsDelta = senseAt();
  const totalBytes = units.reduce((s, u) => s + u.bytes("fp32"), 0);
  const totalWork = units.reduce((s, u) => s + u.work, 0);
  const valueOf = (u: Unit, bytes: number, c: number): number => (u.bytes("fp32") - bytes) / totalBytes + ((1 - c) * u.work) / totalWork;
  const relCost = (u: Unit, p: string): number => cost(costKind(u.kind), p, u.shape) / cost(costKind(u.kind), "fp32", u.shape);
  const free = tables.filter((u) => !u.pinned);
  total = layers.length * 2 + free.length * 3 + 12 + REFINE_TRIES;

  // 1. Layers: alone, then greedily.
  const layerCands: { unit: Unit; p: string; alone: number; score: number }[] = [];
  for (const u of layers) {
    if (u.pinned) continue;
    for (const p of [...u.options].sort((a, b) => BITS[a]! - BITS[b]!)) {
      if (p === "fp32") continue;
      if (relCost(u, p) > 1) {
        slower.add(u.id);
        continue;
      }
      if (expired()) break;
      const alone = neA.deltaOf(evA.trial({ graph: layerGraph(new Map(layerP).set(u.id, p)) }).outputs) - pinsDelta;
      report("layers", `${u.id} ${p}`);
      layerCands.push({ unit: u, p, alone, score: valueOf(u, u.bytes(p), relCost(u, p)) / Math.max(alone, 1e-4) });
    }
  }
  layerCands.sort((a, b) => b.score - a.score || BITS[a.p]! - BITS[b.p]!);
  for (const c of layerCands) {
    const now = layerP.get(c.unit.id)!;
    if (BITS[now]! <= BITS[c.p]! || relCost(c.unit, c.p) > relCost(c.unit, now) || expired()) continue;
    if (c.alone > opts.budget) {
      if (!rejected.has(c.unit.id)) rejected.set(c.unit.id, `${c.p} alone costs ${pct(c.alone)} NE, over the ${pct(opts.budget)} budget`);
      continue;
    }
    const trial = evS.trial({ graph: layerGraph(new Map(layerP).set(c.unit.id, c.p)) });
    const d = measure(trial);
    report("layers", `${c.unit.id} ${c.p}`);
    if (!fits(d)) {
      if (!rejected.has(c.unit.id))
        rejected.set(
          c.unit.id,
          `${c.p} (alone ${pct(c.alone)}) would bring the model to ${pct(d)} ± ${pct(ne.lastError)}, over the budget with a ${MARGIN_SE}-standard-error margin`,
        );
      continue;
    }
    evS.commit(trial);
    current = d;
    taken.push({ unit: c.unit, from: now, to: c.p, before: decisions.get(c.unit.id) });
    layerP.set(c.unit.id, c.p);
    decisions.set(c.unit.id, {
      ...decide(
        c.unit,
        c.p,
        "search",
        `saves ${kib(c.unit.bytes("fp32") - c.unit.bytes(c.p))}; NE ${pct(c.alone)} alone, model at ${pct(d)} after it`,
      ),
      neDeltaAlone: c.alone,
      neDeltaCumulative: d,
    });
    checkpoint();
  }

  // 2. Tables: whole-table options measured alone, splits estimated from them per sample.
  const baseDelta = senseAt();
  const baseShares = neA.perSample(evA.current.outputs);
  const freqs = opts.splits === false ? new Map() : tableFrequencies(graph, batches, sense.length);
  const perTable: { unit: string; start: TableOption; options: TableOption[] }[] = [];
  for (const u of free) {
    const start: TableOption = { choice: tableC.get(u.id)!, bytes: u.bytes("fp32"), alone: 0, measured: true, cost: 1, value: 0 };
    const options: TableOption[] = [];
    const shares = new Map<string, PerSample>([["fp32", baseShares]]);
    let int8Alone: number | undefined;
    for (const p of ["int8", "int4", "int2", "fp16"]) {
      if (!u.options.includes(p) || relCost(u, p) > 1 || (p !== "int8" && u.bytes("fp32") < NEGLIGIBLE_SHARE * totalBytes)) continue;
      // fp16 saves less than int8: only worth measuring for a table that int8 already hurts too much; below a precision over the budget, lower ones are worse.
      if (p === "fp16" && (int8Alone === undefined || int8Alone <= opts.budget)) continue;
      if (p !== "fp16" && options.some((o) => o.alone > opts.budget)) continue;
      if (expired()) break;
      const s = evA.trial({ tables: new Map([[u.id, { precision: p }]]) });
      const alone = neA.deltaOf(s.outputs) - baseDelta;
      report("tables", `${u.id} ${p}`);
      if (p === "int8") int8Alone = alone;
      if (freqs.has(u.id)) shares.set(p, neA.perSample(s.outputs));
      options.push({
        choice: { precision: p },
        bytes: u.bytes(p),
        alone,
        measured: true,
        cost: relCost(u, p),
        value: valueOf(u, u.bytes(p), relCost(u, p)),
      });
    }
    const freq = freqs.get(u.id);
    if (freq)
      options.push(
        ...splitOptions(
          freq,
          u.shape[1],
          shares,
          baseDelta,
          (b, c) => valueOf(u, b, c),
          (p) => relCost(u, p),
          u.shape[0],
        ),
      );
    perTable.push({ unit: u.id, start, options });
  }
  const weighed = new Map(perTable.map((t) => [t.unit, t.options.length]));
  const steps = stepSequence(perTable);

  // The binary search over prefixes of the sequence, each measured exactly; then one step at a time.
  const choicesAt = (n: number): Map<string, TableChoice> => {
    const m = new Map<string, TableChoice>();
    for (const s of steps.slice(0, n)) m.set(s.unit, s.to.choice);
    return m;
  };
  const keep = (n: number, trial: EvalState, d: number, how: string): void => {
    evS.commit(trial);
    current = d;
    // Each table's last step in the prefix, in sequence order (so the held-back check undoes the latest first).
    const last = new Map<string, number>();
    steps.slice(0, n).forEach((s, i) => last.set(s.unit, i));
    for (const [id, i] of [...last].sort((a, b) => a[1] - b[1])) {
      const step = steps[i]!;
      if (tableC.get(id) === step.to.choice) continue;
      const u = byId.get(id)!;
      taken.push({ unit: u, from: tableC.get(id)!, to: step.to.choice, before: decisions.get(id) });
      tableC.set(id, step.to.choice);
      decisions.set(id, tableDecision(u, step, d, how, weighed.get(id) ?? 0));
    }
    checkpoint();
  };
  const startOf = new Map(perTable.map((t) => [t.unit, t.start.choice]));
  let lo = 0;
  let hi = steps.length;
  // Prefixes whose estimate (the sum of their steps' NE alone) is far over the budget are not tried.
  let sum = current;
  for (let i = 0; i < steps.length; i++) {
    sum += steps[i]!.to.alone - steps[i]!.from.alone;
    if (sum > 3 * opts.budget) {
      hi = i;
      break;
    }
  }
  total = evaluations() + Math.ceil(Math.log2(hi + 2)) + REFINE_TRIES + 2;
  while (lo < hi && !expired()) {
    const mid = Math.ceil((lo + hi) / 2);
    const at = choicesAt(mid);
    const trial = evS.trial({ tables: new Map(free.map((u) => [u.id, at.get(u.id) ?? startOf.get(u.id)!])) });
    const d = measure(trial);
    report("plan", `the first ${mid} of ${steps.length} steps`);
    if (fits(d)) {
      keep(mid, trial, d, `the first ${mid} of ${steps.length} steps in order of saving per NE fit the budget`);
      lo = mid;
    } else hi = mid - 1;
  }
  // The steps after it, one at a time (a table whose step fails takes none of its later, costlier ones).
  const stopped = new Set<string>();
  let tries = 0;
  for (let i = lo; i < steps.length && tries < REFINE_TRIES && !expired(); i++) {
    const s = steps[i]!;
    if (stopped.has(s.unit) || tableC.get(s.unit) !== s.from.choice) continue;
    // Not worth measuring: its estimate alone is over what is left of the budget twice over.
    if (s.to.alone - s.from.alone > 2 * (opts.budget - current)) continue;
    tries++;
    const trial = evS.trial({ tables: new Map([[s.unit, s.to.choice]]) });
    const d = measure(trial);
    report("greedy", `${s.unit} ${label(s.to.choice)}`);
    if (fits(d)) {
      const u = byId.get(s.unit)!;
      evS.commit(trial);
      current = d;
      taken.push({ unit: u, from: tableC.get(s.unit)!, to: s.to.choice, before: decisions.get(s.unit) });
      tableC.set(s.unit, s.to.choice);
      decisions.set(s.unit, tableDecision(u, s, d, "taken one step at a time after them", weighed.get(s.unit) ?? 0));
      checkpoint();
    } else {
      stopped.add(s.unit);
      if (!decisions.has(s.unit))
        rejected.set(
          s.unit,
          `${label(s.to.choice)} (alone ${pct(s.to.alone)}) would bring the model to ${pct(d)} ± ${pct(ne.lastError)}, over the budget with a ${MARGIN_SE}-standard-error margin`,
        );
    }
  }
  if (timedOut)
    for (const u of free) if (!decisions.has(u.id) && !rejected.has(u.id)) rejected.set(u.id, "not reached before the search's time limit");

  // 3. The held-back rows: undo the latest changes while the plan is over the budget (with the margin) on them.
  let undone = 0;
  const rows = heldBack.reduce((n, b) => n + b.size, 0);
  let check: ExpectedNE | undefined;
  const evH = held > 0 ? new IncrementalEvaluator(fp32, weights, heldBack, fp32Tables, rowRange) : undefined;
  if (evH) {
    check = new ExpectedNE(evH.current.outputs, weights, heldBack);
    evH.commit(evH.trial({ graph: layerGraph(layerP), tables: tableC }));
    for (
      let d = check.deltaOf(evH.current.outputs);
      d + MARGIN_SE * check.lastError > opts.budget && taken.length > 0;
      d = check.deltaOf(evH.current.outputs)
    ) {
      const t = taken.pop()!;
      report("held-back", `undo ${t.unit.id}`);
      if (typeof t.from === "string") layerP.set(t.unit.id, t.from);
      else tableC.set(t.unit.id, t.from);
      evH.commit(evH.trial(typeof t.from === "string" ? { graph: layerGraph(layerP) } : { tables: new Map([[t.unit.id, t.from]]) }));
      const why = `${typeof t.to === "string" ? t.to : label(t.to)} undone: on the ${rows} held-back calibration rows the model was at ${pct(d)} ± ${pct(check.lastError)}, over the budget with a ${MARGIN_SE}-standard-error margin`;
      const was = typeof t.from === "string" ? t.from : t.from.hot ? "split" : t.from.precision;
      if (t.before && was !== "fp32") decisions.set(t.unit.id, { ...t.before, why: `${t.before.why}; ${why}` });
      else {
        decisions.delete(t.unit.id);
        rejected.set(t.unit.id, why);
      }
      undone++;
    }
    evS.commit(evS.trial({ graph: layerGraph(layerP), tables: tableC }));
  }

  // The result, and its figures over every calibration row (the evaluators' outputs are the interpreter's).
  const splits = new Map<string, HotColdSplit>();
  const precision = new Map(layerP);
  for (const [id, c] of tableC)
    if (c.hot) splits.set(id, { hot: c.hot, hotPrecision: c.precision, coldPrecision: c.cold!, rowRange });
    else precision.set(id, c.precision);
  const result = applyHotColdSplits(
    applyAssignment(graph, { precision, ...cal, rowRange }),
    splits,
    ...(opts.maxPartBytes ? [opts.maxPartBytes] : []),
  );
  const all = evH ? new ExpectedNE([...ne.referenceOutputs, ...check!.referenceOutputs], weights, batches) : ne;
  const outputs = [...evS.current.outputs, ...(evH?.current.outputs ?? [])];
  const finalDelta = all.deltaOf(outputs);
  const baseline = all.labelledNE(all.referenceOutputs);
  return {
    graph: result,
    decisions: finalDecisions(),
    ...(baseline ? { baseline, final: all.labelledNE(outputs)! } : {}),
    finalDelta,
    finalError: all.lastError,
    evaluations: evaluations(),
    undone,
    heldRows: rows,
    timedOut,
    ms: performance.now() - t0,
    cpuMs: cpuMs(process.cpuUsage(cpu0)),
  };
}

const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;

/** Bytes of a table at a choice. */
const choiceBytes = (u: Unit, c: TableChoice): number =>
  c.hot ? splitBytes(u.shape[0], u.shape[1], c.hot.length, c.precision, c.cold!) : u.bytes(c.precision);

/** The decision for a table the search lowered by `step`, with its reason. */
function tableDecision(u: Unit, step: Step, d: number, how: string, weighed: number): Decision {
  const c = step.to.choice;
  const saved = u.bytes("fp32") - step.to.bytes;
  const est = step.to.measured ? "measured" : "estimated from the per-sample losses of its parts' precisions";
  const what = c.hot
    ? `hot/cold: the ${c.hot.length} most frequent rows (${(100 * (step.to.hotShare ?? 0)).toFixed(1)}% of calibration lookups) at ${c.precision}, the other ${u.shape[0] - c.hot.length} at ${c.cold}`
    : `whole table at ${c.precision}`;
  const why = `${what}: saves ${kib(saved)}; NE ${pct(step.to.alone)} alone (${est}), model at ${pct(d)} after it; best of ${weighed + 1} options by saving per NE (${how})`;
  return {
    ...decide(u, c.precision, "search", why),
    bytesAfter: step.to.bytes,
    neDeltaAlone: step.to.alone,
    neDeltaCumulative: d,
    ...(c.hot ? { split: { hot: [...c.hot], cold: c.cold!, lookups: step.to.hotShare ?? 0 } } : {}),
  };
}
