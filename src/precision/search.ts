// The precision search behind `--precision auto` (docs/precision-search.md),
// on the incremental evaluator: 1. layers, each lower precision alone, then
// greedily by saving per NE; 2. tables: each whole precision measured alone,
// hot/cold splits estimated from those per sample (table-options.ts), every
// option on one sequence, best saving (bytes and the target's speed estimate)
// per NE first; a binary search over its prefixes, each measured, then the
// steps after it one at a time. Changes are kept while the NE delta plus
// MARGIN_SE standard errors fits the budget; a held-back quarter of the
// calibration batches checks the result, undoing, while it is over, the change
// the search's own rows rate dearest in NE per byte saved (a layer change
// undone: the tables are chosen again without it). Pins and
// explicit splits win; the result is always a valid plan, at worst the pins
// alone (also under a time limit).

import type { Graph } from "../ir/types.js";
import type { Batch } from "../data/batch.js";
import type { WeightStore } from "../weights/store.js";
import type { CostKind } from "../target/target.js";
import { applyHotColdSplits, type HotColdSplit } from "../ir/table-parts.js";
import { type Decision, decide, pinDecision } from "./decision.js";
import { ExpectedNE } from "./evaluate.js";
import { BITS, applyAssignment, precisionUnits, type Unit, type UnitKind } from "./units.js";
import { calibrateLayers } from "./calibrate-layers.js";
import { IncrementalEvaluator, type Change, type EvalState, type TableChoice } from "./incremental.js";
import { FmaCheck } from "./fma-check.js";
import {
  type PerSample,
  type TableOption,
  choiceBytes,
  kib,
  pct,
  splitOptions,
  stepSequence,
  tableDecision,
  tableFrequencies,
} from "./table-options.js";

import type { Checkpoint, SearchOptions, SearchProgress, SearchResult } from "./search-types.js";

export type { Checkpoint, SearchOptions, SearchProgress, SearchResult } from "./search-types.js";
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

const label = (c: TableChoice): string => (c.hot ? `hot ${c.hot.length} rows ${c.precision} / cold ${c.cold}` : c.precision);

/** One change the search kept, to undo it if the held-back rows say so. */
interface Taken {
  unit: Unit;
  from: string | TableChoice;
  to: string | TableChoice;
  before: Decision | undefined;
  /** Its NE cost as the search's own rows rate it (alone, over what the unit had before). */
  alone: number;
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
  /** Each unit's current choice's NE alone, as the search measured or estimated it. */
  const est = new Map<string, number>();
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
  let handed = Infinity;
  const checkpoint = (): void => {
    const ds = finalDecisions();
    handed = ds.reduce((n, d) => n + d.bytesAfter, 0);
    opts.checkpoint?.({
      decisions: ds,
      neDelta: current,
      neDeltaError: ne.lastError,
      smooth: cal.smooth,
      ...(cal.actScale ? { actScale: cal.actScale } : {}),
    });
  };
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
    if (opts.forbid?.has(u.id)) {
      rejected.set(u.id, opts.forbid.get(u.id)!);
      continue;
    }
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
    taken.push({ unit: c.unit, from: now, to: c.p, before: decisions.get(c.unit.id), alone: c.alone - (est.get(c.unit.id) ?? 0) });
    est.set(c.unit.id, c.alone);
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
  const freqs = opts.splits === false ? new Map() : tableFrequencies(graph, weights, batches, searchRows.length, rowRange, sense.length);
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
    // Each table's last step in the prefix, in sequence order (the order the plan lists its steps in).
    const last = new Map<string, number>();
    steps.slice(0, n).forEach((s, i) => last.set(s.unit, i));
    for (const [id, i] of [...last].sort((a, b) => a[1] - b[1])) {
      const step = steps[i]!;
      if (tableC.get(id) === step.to.choice) continue;
      const u = byId.get(id)!;
      taken.push({ unit: u, from: tableC.get(id)!, to: step.to.choice, before: decisions.get(id), alone: step.to.alone - (est.get(id) ?? 0) });
      est.set(id, step.to.alone);
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
      taken.push({ unit: u, from: tableC.get(s.unit)!, to: s.to.choice, before: decisions.get(s.unit), alone: s.to.alone - (est.get(s.unit) ?? 0) });
      est.set(s.unit, s.to.alone);
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

  // 3. The held-back rows: while the plan is over the budget (with the margin) on them, undo the kept
  // change (each unit's latest) that costs the most NE per byte it saves as the rows the search chose on
  // rate it; the held-back rows only judge, so their noise does not pick what is undone. The layer
  // change taken first may be what is over: undoing latest-first undid every table change before it;
  // undoing it runs the search again without it. A target that may fuse multiply-adds has the plan judged
  // so too (fma-check.ts), on the same rows: over either way, a change is undone.
  let undone = 0;
  let fmaUndone = 0;
  const rows = heldBack.reduce((n, b) => n + b.size, 0);
  let check: ExpectedNE | undefined;
  const evH = held > 0 ? new IncrementalEvaluator(fp32, weights, heldBack, fp32Tables, rowRange) : undefined;
  const plan = { graph: layerGraph(layerP), tables: tableC };
  const fma = opts.fma ? new FmaCheck(weights, searchRows, heldBack, rowRange, ne.referenceOutputs, evH?.current.outputs, plan) : undefined;
  if (evH || fma) {
    if (evH) {
      check = new ExpectedNE(evH.current.outputs, weights, heldBack);
      evH.commit(evH.trial(plan));
    }
    const back = (t: Taken): number => (typeof t.from === "string" ? t.unit.bytes(t.from) : choiceBytes(t.unit, t.from)) - bytesOf(t.unit);
    const dearness = (t: Taken): number => t.alone / Math.max(1, back(t));
    for (;;) {
      const d = check ? check.deltaOf(evH!.current.outputs) : 0;
      const heldOver = check !== undefined && d + MARGIN_SE * check.lastError > opts.budget;
      const fused = heldOver ? undefined : fma?.verdict();
      const fmaOver = fused !== undefined && fused.delta + MARGIN_SE * fused.error > opts.budget;
      if ((!heldOver && !fmaOver) || taken.length === 0) break;
      const latest = [...new Map(taken.map((t) => [t.unit.id, t] as const)).values()];
      const t = latest.sort((a, b) => dearness(b) - dearness(a))[0]!;
      const where = heldOver
        ? `on the ${rows} held-back calibration rows the model was at ${pct(d)} ± ${pct(check!.lastError)}`
        : `with fused multiply-adds (the relaxed-SIMD variant's numerics), on the ${fma!.rows} ${fma!.heldBack ? "held-back " : ""}calibration rows the model was at ${pct(fused!.delta)} ± ${pct(fused!.error)}`;
      const why = `${typeof t.to === "string" ? t.to : label(t.to)} undone: ${where}, over the budget with a ${MARGIN_SE}-standard-error margin, and of the changes kept it cost the most NE per byte saved (${pct(t.alone)} for ${kib(Math.max(0, back(t)))})`;
      // A layer change (taken before every table) over on the held-back rows: the tables are chosen again without it.
      if (typeof t.from === "string" && !expired()) {
        const left = opts.timeLimitMs ? { timeLimitMs: Math.max(1, opts.timeLimitMs - (performance.now() - t0)) } : {};
        const forbid = new Map([...(opts.forbid ?? []), [t.unit.id, `${why}; the tables were chosen again without it`]]);
        // Its checkpoints are handed on only once smaller than the last one handed on (each better, as before).
        const pass = opts.checkpoint;
        const onward = pass
          ? {
              checkpoint: (c: Checkpoint) => {
                const b = c.decisions.reduce((n, x) => n + x.bytesAfter, 0);
                if (b < handed) ((handed = b), pass(c));
              },
            }
          : {};
        const again = searchPrecision(graph, weights, batches, { ...opts, ...left, ...onward, forbid });
        const cpu = cpuMs(process.cpuUsage(cpu0));
        return { ...again, evaluations: again.evaluations + evaluations(), undone: again.undone + 1, ms: performance.now() - t0, cpuMs: cpu };
      }
      taken.splice(taken.lastIndexOf(t), 1);
      est.set(t.unit.id, (est.get(t.unit.id) ?? 0) - t.alone);
      report("held-back", `undo ${t.unit.id}`);
      if (typeof t.from === "string") layerP.set(t.unit.id, t.from);
      else tableC.set(t.unit.id, t.from);
      const change: Change = typeof t.from === "string" ? { graph: layerGraph(layerP) } : { tables: new Map([[t.unit.id, t.from]]) };
      evH?.commit(evH.trial(change));
      fma?.apply(change);
      const was = typeof t.from === "string" ? t.from : t.from.hot ? "split" : t.from.precision;
      if (t.before && was !== "fp32") decisions.set(t.unit.id, { ...t.before, why: `${t.before.why}; ${why}` });
      else {
        decisions.delete(t.unit.id);
        rejected.set(t.unit.id, why);
      }
      undone++;
      if (fmaOver) fmaUndone++;
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
  const finalError = all.lastError;
  const fusedAll = fma?.overall(all);
  const baseline = all.labelledNE(all.referenceOutputs);
  return {
    graph: result,
    decisions: finalDecisions(),
    ...(baseline ? { baseline, final: all.labelledNE(outputs)! } : {}),
    finalDelta,
    finalError,
    ...(fusedAll ? { fma: { ...fusedAll, undone: fmaUndone } } : {}),
    evaluations: evaluations(),
    undone,
    heldRows: rows,
    timedOut,
    ms: performance.now() - t0,
    cpuMs: cpuMs(process.cpuUsage(cpu0)),
  };
}

const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;
