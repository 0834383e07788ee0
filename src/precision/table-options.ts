// What the precision search weighs for each table: the whole table at one
// precision, or its K hottest rows (by id frequency in the calibration data)
// at one precision and the rest at a lower one, for a few K. Whole-table
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
import type { TableChoice } from "./incremental.js";

/** Hot-row counts the search tries (each at most a quarter of the table). */
export const SPLIT_ROWS = [16, 64, 256, 1024, 4096, 16384, 65536];

/** Lookups in the calibration data the least frequent hot row must have. */
export const MIN_HOT_LOOKUPS = 8;

/** (hot, cold) precision pairs a split may take. */
export const SPLIT_PAIRS: readonly (readonly [string, string])[] = [
  ["fp32", "int8"],
  ["fp32", "int4"],
  ["fp32", "int2"],
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

/** How often each row of a table is looked up, and the hottest rank among each sample's ids. */
export interface TableFrequency {
  /** Row ids, most frequent first (ties: the smaller id). */
  order: Int32Array;
  /** Lookups of each row in the calibration data. */
  counts: Float64Array;
  /** Per search sample (in batch order): the largest rank (0 = hottest) of its ids, -1 for an empty bag. */
  maxRank: Int32Array;
}

/**
 * Frequencies of every whole table that one embedding_bag feature reads (tables
 * read by several features are left out: no split is weighed for them). Counts
 * over all `batches`; `maxRank` over the first `searchBatches` of them.
 */
export function tableFrequencies(graph: Graph, batches: readonly Batch[], searchBatches: number): Map<string, TableFrequency> {
  const decls = new Map(graph.weights.map((w) => [w.name, w]));
  const readers = new Map<string, { input: string; feature: number }[]>();
  for (const n of graph.nodes) {
    if (n.op !== "embedding_bag") continue;
    const ws = weightInputs(n);
    for (const t of nodeTables(n, decls))
      if (t.layout === "whole")
        readers.set(ws[t.first]!, [...(readers.get(ws[t.first]!) ?? []), { input: refName(n.inputs[0]!), feature: t.feature }]);
  }
  const out = new Map<string, TableFrequency>();
  for (const [name, rs] of readers) {
    if (rs.length !== 1) continue;
    const { input, feature } = rs[0]!;
    const rows = decls.get(name)!.shape[0]!;
    const counts = new Float64Array(rows);
    const each = (fn: (batch: number, sample: number, id: number) => void, upTo: number) =>
      batches.slice(0, upTo).forEach((batch, bi) => {
        const bags = batch.inputs[input];
        if (!bags || !isBags(bags)) return;
        const offsets = bagOffsets(bags);
        for (let s = 0; s < bags.batch; s++)
          for (let p = offsets[feature * bags.batch + s]!; p < offsets[feature * bags.batch + s + 1]!; p++) fn(bi, s, bags.values[p]!);
      });
    each((_, __, id) => void (id >= 0 && id < rows && counts[id]++), batches.length);
    const order = Int32Array.from({ length: rows }, (_, i) => i).sort((a, b) => counts[b]! - counts[a]! || a - b);
    const rank = new Int32Array(rows);
    order.forEach((id, r) => (rank[id] = r));
    const starts: number[] = [];
    let n = 0;
    for (const b of batches.slice(0, searchBatches)) (starts.push(n), (n += b.size));
    const maxRank = new Int32Array(n).fill(-1);
    each((bi, s, id) => {
      const at = starts[bi]! + s;
      maxRank[at] = Math.max(maxRank[at]!, id >= 0 && id < rows ? rank[id]! : rows);
    }, searchBatches);
    out.set(name, { order, counts, maxRank });
  }
  return out;
}

/** Per-sample NE shares (by output) of the model with a table at one precision. */
export type PerSample = Record<string, Float64Array>;

/**
 * The split options of a table: for each K and (hot, cold) pair whose whole-table
 * shares were measured, NE estimated per sample (the worst output), over `base`.
 * `rows`: the whole table's, when `freq` counts only its touched rows.
 */
export function splitOptions(
  freq: TableFrequency,
  dim: number,
  shares: ReadonlyMap<string, PerSample>,
  baseDelta: number,
  value: (bytes: number, cost: number) => number,
  cost: (precision: string) => number,
  rows = freq.order.length,
): TableOption[] {
  const total = freq.counts.reduce((s, c) => s + c, 0);
  const out: TableOption[] = [];
  for (const k of SPLIT_ROWS) {
    // Hot rows seen fewer than MIN_HOT_LOOKUPS times are hot by chance in this sample, not on the data to come.
    if (k * 4 > rows || k > freq.order.length || freq.counts[freq.order[k - 1]!]! < MIN_HOT_LOOKUPS) break;
    const hot = Array.from(freq.order.subarray(0, k)).sort((a, b) => a - b);
    let hotLookups = 0;
    for (let r = 0; r < k; r++) hotLookups += freq.counts[freq.order[r]!]!;
    const share = total > 0 ? hotLookups / total : 0;
    for (const [hp, cp] of SPLIT_PAIRS) {
      const h = shares.get(hp);
      const c = shares.get(cp);
      if (!h || !c) continue;
      let worst = 0;
      for (const name of Object.keys(c)) {
        const hs = h[name]!;
        const cs = c[name]!;
        let sum = 0;
        for (let s = 0; s < cs.length; s++) sum += freq.maxRank[s]! < k ? hs[s]! : cs[s]!;
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
