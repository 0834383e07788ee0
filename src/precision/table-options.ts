// What the precision search weighs for each table: the whole table at one
// precision, or K of its rows at one precision and the rest at a lower one,
// for a few K: the rows that gain most, by lookups in the calibration data
// times the squared error the lower precision's rounding gives them. Whole-table
// options are measured; a split's NE is estimated from the same measurements
// per sample: a sample whose bag holds only hot ids sees the hot precision's
// rows, any other the cold one's, so its share of the NE change is that
// precision's (exact for one id per bag with the other tables as they were).
// The options of every table then form one sequence of steps, best saving
// per unit of NE first: per table the lower convex hull of (saving, NE),
// merged across tables — the greedy order of a multiple-choice knapsack.

import type { Graph } from "../ir/types.js";
import { refName, weightInputs } from "../ir/types.js";
import { nodeTables } from "../ir/tables.js";
import { bagOffsets, isBags, type Batch } from "../data/batch.js";
import { storedRowBytes } from "../ir/table-parts.js";
import type { WeightStore } from "../weights/store.js";
import { roundTripRow, type RowFormat, type RowRange } from "../quant/rowwise.js";
import type { TableChoice } from "./incremental.js";
import type { Unit } from "./units.js";
import { type Decision, decide } from "./decision.js";

/** Hot-row counts the search tries (each at most a quarter of the table, and no more than the rows seen MIN_HOT_LOOKUPS times). */
export const SPLIT_ROWS = [16, 32, 64, 128, 256, 512, 1024, 4096, 16384, 65536];

/** Lookups in the calibration data a row needs to count towards the hot-row cap (fewer: hot by chance in this sample). */
export const MIN_HOT_LOOKUPS = 4;

/** (hot, cold) precision pairs a split may take. */
export const SPLIT_PAIRS: readonly (readonly [string, string])[] = [
  ["fp32", "int8"],
  ["fp32", "int4"],
  ["fp32", "int2"],
  ["fp16", "int4"],
  ["int8", "int4"],
  ["int8", "int2"],
  ["int4", "int2"],
];

/** One way to store a table, with what it saves and costs. */
export interface TableOption {
  choice: TableChoice;
  /** Stored bytes (a split's include its hot-row index). */
  bytes: number;
  /** NE change alone over the search's starting point, percent. */
  alone: number;
  /** Measured on the calibration rows, or estimated from per-sample losses (splits). */
  measured: boolean;
  /** The target's lookup cost relative to fp32 (a split's weighted by the lookups its hot part serves). */
  cost: number;
  /** Share of the calibration lookups that a split's hot rows serve. */
  hotShare?: number;
  /** Saving (bytes and speed, as shares of the model's) over fp32: what the search maximises. */
  value: number;
}

/** Bytes of a table split with `k` hot rows: both parts and the hot-row index (the smaller of a rank bitmap and the id list). */
export function splitBytes(rows: number, dim: number, k: number, hot: string, cold: string): number {
  return k * storedRowBytes(hot, dim) + (rows - k) * storedRowBytes(cold, dim) + Math.min(12 * Math.ceil(rows / 64), 4 * k);
}

/** The rows a split at one cold precision makes hot first, and what each search sample sees of them. */
export interface HotOrder {
  /** Ids of the rows the calibration data looks up, largest lookups × squared rounding error at the cold precision first (ties: the smaller id). */
  order: Int32Array;
  /** Per sensitivity sample (the first search samples, in batch order): the largest rank in `order` of its ids (an unseen id ranks last), -1 for an empty bag. */
  maxRank: Int32Array;
}

/** How often each row of a table is looked up in the calibration data, and which rows gain most from being hot, per cold precision. */
export interface TableFrequency {
  /** Lookups of each row in the search samples. */
  counts: Float64Array;
  /** Rows with at least MIN_HOT_LOOKUPS lookups: the most a split makes hot. */
  frequent: number;
  /** By cold precision (int8, int4, int2). */
  byCold: Map<string, HotOrder>;
}

/** The cold precisions a split may take. */
const COLD = [...new Set(SPLIT_PAIRS.map(([, c]) => c))];

/**
 * Frequencies of every whole table that one embedding_bag feature reads (tables
 * read by several features are left out: no split is weighed for them), over
 * the first `searchBatches` batches (the held-back ones judge the choice).
 * A row's gain from being hot is its lookups times the squared error the cold
 * precision's rounding puts into it (its expected share of the pooled
 * output's error): two rows looked up equally often can differ thirtyfold.
 * `maxRank` covers the first `senseBatches` (the rows the per-sample shares
 * are measured on); the counts cover all the search rows.
 */
export function tableFrequencies(
  graph: Graph,
  weights: WeightStore,
  batches: readonly Batch[],
  searchBatches: number,
  rowRange: RowRange,
  senseBatches = searchBatches,
): Map<string, TableFrequency> {
  const decls = new Map(graph.weights.map((w) => [w.name, w]));
  const readers = new Map<string, { input: string; feature: number }[]>();
  for (const n of graph.nodes) {
    if (n.op !== "embedding_bag") continue;
    const ws = weightInputs(n);
    for (const t of nodeTables(n, decls))
      if (t.layout === "whole")
        readers.set(ws[t.first]!, [...(readers.get(ws[t.first]!) ?? []), { input: refName(n.inputs[0]!), feature: t.feature }]);
  }
  const search = batches.slice(0, searchBatches);
  const senseSamples = search.slice(0, senseBatches).reduce((n, b) => n + b.size, 0);
  const out = new Map<string, TableFrequency>();
  for (const [name, rs] of readers) {
    const tensor = weights.get(name);
    if (rs.length !== 1 || !tensor) continue;
    const { input, feature } = rs[0]!;
    const [rows, dim] = decls.get(name)!.shape as [number, number];
    const each = (fn: (sample: number, id: number) => void, upTo = search.length) => {
      let at = 0;
      for (const batch of search.slice(0, upTo)) {
        const bags = batch.inputs[input];
        if (bags && isBags(bags)) {
          const offsets = bagOffsets(bags);
          for (let s = 0; s < bags.batch; s++)
            for (let p = offsets[feature * bags.batch + s]!; p < offsets[feature * bags.batch + s + 1]!; p++) fn(at + s, bags.values[p]!);
        }
        at += batch.size;
      }
      return at;
    };
    const counts = new Float64Array(rows);
    each((_, id) => void (id >= 0 && id < rows && counts[id]++));
    const seen = Int32Array.from({ length: rows }, (_, i) => i).filter((i) => counts[i]! > 0);
    const byCold = new Map<string, HotOrder>();
    const row = new Float32Array(dim);
    const trip = new Float32Array(dim);
    for (const cold of COLD) {
      const gain = new Float64Array(rows);
      for (const id of seen) {
        tensor.readRow(id, row);
        trip.set(row);
        roundTripRow(cold as RowFormat, trip, undefined, rowRange);
        let e = 0;
        for (let k = 0; k < dim; k++) e += (trip[k]! - row[k]!) ** 2;
        gain[id] = counts[id]! * e;
      }
      const order = seen.slice().sort((a, b) => gain[b]! - gain[a]! || a - b);
      const rank = new Map<number, number>();
      order.forEach((id, r) => rank.set(id, r));
      const maxRank = new Int32Array(senseSamples).fill(-1);
      each((s, id) => (maxRank[s] = Math.max(maxRank[s]!, rank.get(id) ?? rows)), senseBatches);
      byCold.set(cold, { order, maxRank });
    }
    out.set(name, { counts, frequent: seen.filter((i) => counts[i]! >= MIN_HOT_LOOKUPS).length, byCold });
  }
  return out;
}

/** Per-sample NE shares (by output) of the model with a table at one precision. */
export type PerSample = Record<string, Float64Array>;

/**
 * The split options of a table: for each K and (hot, cold) pair whose whole-table
 * shares were measured, the K rows that gain most at that cold precision made
 * hot, NE estimated per sample (the worst output), over `base`.
 * `rows`: the whole table's, when `freq` counts only its touched rows.
 */
export function splitOptions(
  freq: TableFrequency,
  dim: number,
  shares: ReadonlyMap<string, PerSample>,
  baseDelta: number,
  value: (bytes: number, cost: number) => number,
  cost: (precision: string) => number,
  rows = freq.counts.length,
): TableOption[] {
  const total = freq.counts.reduce((s, c) => s + c, 0);
  const out: TableOption[] = [];
  for (const k of SPLIT_ROWS) {
    if (k * 4 > rows || k > freq.frequent) break;
    for (const [hp, cp] of SPLIT_PAIRS) {
      const h = shares.get(hp);
      const c = shares.get(cp);
      const { order, maxRank } = freq.byCold.get(cp)!;
      if (!h || !c || order.length < k) continue;
      const hot = Array.from(order.subarray(0, k)).sort((a, b) => a - b);
      let hotLookups = 0;
      for (const id of hot) hotLookups += freq.counts[id]!;
      const share = total > 0 ? hotLookups / total : 0;
      let worst = 0;
      for (const name of Object.keys(c)) {
        const hs = h[name]!;
        const cs = c[name]!;
        let sum = 0;
        for (let s = 0; s < cs.length; s++) sum += maxRank[s]! < k ? hs[s]! : cs[s]!;
        worst = Math.max(worst, sum);
      }
      const bytes = splitBytes(rows, dim, k, hp, cp);
      const lookupCost = share * cost(hp) + (1 - share) * cost(cp);
      out.push({
        choice: { precision: hp, hot, cold: cp },
        bytes,
        alone: worst - baseDelta,
        measured: false,
        cost: lookupCost,
        hotShare: share,
        value: value(bytes, lookupCost),
      });
    }
  }
  return out;
}

/** One step of the search's sequence: a unit from one option to another. */
export interface Step {
  unit: string;
  from: TableOption;
  to: TableOption;
  /** Saving gained per unit of NE spent. */
  slope: number;
}

/** Per table, the lower convex hull of its options over (value, NE) from `start`; all tables' hull steps, steepest first. */
export function stepSequence(tables: readonly { unit: string; start: TableOption; options: readonly TableOption[] }[]): Step[] {
  const steps: (Step & { order: number })[] = [];
  tables.forEach(({ unit, start, options }, ti) => {
    const pts = [start, ...options.filter((o) => o.value > start.value)].sort((a, b) => a.value - b.value || a.alone - b.alone);
    // Dominated: another option saves at least as much for no more NE.
    const kept: TableOption[] = [];
    let best = Infinity;
    for (let i = pts.length - 1; i >= 0; i--) {
      if (pts[i] !== start && pts[i]!.alone >= best) continue;
      kept.unshift(pts[i]!);
      best = Math.min(best, pts[i]!.alone);
    }
    const hull: TableOption[] = [];
    for (const p of kept) {
      while (hull.length >= 2) {
        const [a, b] = [hull[hull.length - 2]!, hull[hull.length - 1]!];
        // b is above the segment a→p: not on the lower hull.
        if ((b.alone - a.alone) * (p.value - a.value) >= (p.alone - a.alone) * (b.value - a.value)) hull.pop();
        else break;
      }
      hull.push(p);
    }
    let last = Infinity;
    for (let i = 1; i < hull.length; i++) {
      const [a, b] = [hull[i - 1]!, hull[i]!];
      // Never steeper than the step before it, so a table's steps keep their order in the merged sequence.
      last = Math.min(last, (b.value - a.value) / Math.max(b.alone - a.alone, 1e-7));
      steps.push({ unit, from: a, to: b, slope: last, order: ti * 1000 + i });
    }
  });
  return steps.sort((a, b) => b.slope - a.slope || a.order - b.order).map(({ order: _, ...s }) => s);
}

/** An NE delta (percent) and a size, as reasons print them. */
export const pct = (x: number): string => `${x >= 0 ? "+" : ""}${x.toFixed(4)}%`;
export const kib = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;

/** Bytes of a table at a choice. */
export const choiceBytes = (u: Unit, c: TableChoice): number =>
  c.hot ? splitBytes(u.shape[0], u.shape[1], c.hot.length, c.precision, c.cold!) : u.bytes(c.precision);

/** The decision for a table the search lowered by `step`, with its reason. */
export function tableDecision(u: Unit, step: Step, d: number, how: string, weighed: number): Decision {
  const c = step.to.choice;
  const saved = u.bytes("fp32") - step.to.bytes;
  const est = step.to.measured ? "measured" : "estimated from the per-sample losses of its parts' precisions";
  const what = c.hot
    ? `hot/cold: the ${c.hot.length} rows with the most lookups × ${c.cold} rounding error (${(100 * (step.to.hotShare ?? 0)).toFixed(1)}% of calibration lookups) at ${c.precision}, the other ${u.shape[0] - c.hot.length} at ${c.cold}`
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
