// The precision search at full size: `--precision auto` runs searchPrecision
// through here. Row-wise quantization is per row, so what a choice does to
// the model's outputs on the calibration data depends only on the rows that
// data reads. Each table is cut down to its touched rows (a compact copy in
// memory, ids remapped in the batches, in ascending order so frequency ranks
// and their ties stay as they were), the search runs on that, counting bytes,
// splits and the target's costs with the full tables' row counts, and the
// plan's hot rows are mapped back to table ids. The result is the plan the
// search gives on the whole tables (test/precision/touched-rows.test.ts),
// without holding or quantizing 2 GiB of tables that the data never reads.

import { produce } from "immer";
import type { Graph } from "../ir/types.js";
import { refName, weightInputs } from "../ir/types.js";
import { nodeTables } from "../ir/tables.js";
import { applyHotColdSplits, type HotColdSplit } from "../ir/table-parts.js";
import { bagOffsets, isBags, type Bags, type Batch } from "../data/batch.js";
import { DenseTensor, type Tensor, type WeightStore } from "../weights/store.js";
import { isPrequantized } from "../weights/prequantized.js";
import { applyAssignment } from "./units.js";
import type { Decision } from "./decision.js";
import { searchPrecision, type SearchOptions, type SearchResult } from "./search.js";

/** One table cut down to its touched rows: `ids` (ascending) are the table rows the compact rows 0.. hold. */
interface Restricted {
  ids: Int32Array;
  /** Table row -> compact row, for the rows in `ids`. */
  index: Map<number, number>;
}

/** Where the batches read each table: (input, feature) pairs, for tables only a whole-layout embedding_bag reads. */
function readers(graph: Graph, weights: WeightStore): Map<string, { input: string; feature: number }[]> {
  const decls = new Map(graph.weights.map((w) => [w.name, w]));
  const out = new Map<string, { input: string; feature: number }[]>();
  const skip = new Set<string>();
  const owner = new Map<string, string>();
  for (const n of graph.nodes) {
    if (n.op !== "embedding_bag") continue;
    const ws = weightInputs(n);
    for (const t of nodeTables(n, decls)) {
      const name = ws[t.first]!;
      const input = refName(n.inputs[0]!);
      const key = `${input}#${t.feature}`;
      const tensor = weights.get(name);
      // Parts, prequantized rows, or a feature two tables read: left whole (the search reads them as they are).
      if (t.layout !== "whole" || !tensor || isPrequantized(tensor) || (owner.has(key) && owner.get(key) !== name)) skip.add(name);
      if (owner.has(key) && owner.get(key) !== name) skip.add(owner.get(key)!);
      owner.set(key, name);
      out.set(name, [...(out.get(name) ?? []), { input, feature: t.feature }]);
    }
  }
  for (const n of graph.nodes) for (const r of n.inputs) if (r.startsWith("@") && n.op !== "embedding_bag") skip.add(refName(r));
  for (const s of skip) out.delete(s);
  return out;
}

/** Each (feature, sample) bag's value positions of one feature in a batch's bags. */
function eachId(bags: Bags, feature: number, fn: (position: number) => void): void {
  const offsets = bagOffsets(bags);
  for (let p = offsets[feature * bags.batch]!; p < offsets[(feature + 1) * bags.batch]!; p++) fn(p);
}

/** The id a table reads under its `ids` policy (as the interpreter applies it), or -1 when out of range. */
function policyId(id: number, policy: unknown, rows: number): number {
  if (policy === "clamp") return id < 0 ? 0 : id >= rows ? rows - 1 : id;
  if (policy === "modulo") return ((id % rows) + rows) % rows;
  return id >= 0 && id < rows ? id : -1;
}

/** The touched rows of every table that can be cut down (one whose ids are all in range, read by one kind of bag only). */
export function touchedRows(graph: Graph, weights: WeightStore, batches: readonly Batch[]): Map<string, Restricted> {
  const decls = new Map(graph.weights.map((w) => [w.name, w]));
  const out = new Map<string, Restricted>();
  for (const [name, rs] of readers(graph, weights)) {
    const decl = decls.get(name)!;
    const rows = decl.shape[0]!;
    const seen = new Set<number>();
    let bad = false;
    for (const b of batches)
      for (const { input, feature } of rs) {
        const bags = b.inputs[input];
        if (!bags || !isBags(bags)) continue;
        eachId(bags, feature, (p) => {
          const id = policyId(bags.values[p]!, decl.attrs.ids, rows);
          if (id < 0) bad = true;
          else seen.add(id);
        });
      }
    // An id out of range: the search on the whole table reports it where the data says.
    if (bad || seen.size === rows) continue;
    const ids = Int32Array.from(seen).sort();
    out.set(name, { ids, index: new Map(Array.from(ids, (id, i) => [id, i] as const)) });
  }
  return out;
}

/** The search on the touched rows of each table: the same plan as searchPrecision on the whole tables, in far less memory and time. */
export function searchTouched(graph: Graph, weights: WeightStore, batches: readonly Batch[], opts: SearchOptions): SearchResult {
  const cut = touchedRows(graph, weights, batches);
  if (cut.size === 0) return searchPrecision(graph, weights, batches, opts);
  const small = produce(graph, (g) => {
    for (const w of g.weights) if (cut.has(w.name)) w.shape[0] = cut.get(w.name)!.ids.length;
  });
  const store = new Map<string, Tensor>(weights);
  for (const [name, r] of cut) {
    const t = weights.get(name)!;
    const dim = t.shape[1]!;
    const data = new Float32Array(r.ids.length * dim);
    r.ids.forEach((id, i) => t.readRow(id, data, i * dim));
    store.set(name, new DenseTensor([r.ids.length, dim], data));
  }
  const rs = readers(graph, weights);
  const remapped = batches.map((b) => remapBatch(b, graph, cut, rs));
  const back = (ds: Decision[]): Decision[] =>
    ds.map((d) => (d.split && cut.has(d.unit) ? { ...d, split: { ...d.split, hot: d.split.hot.map((h) => cut.get(d.unit)!.ids[h]!) } } : d));
  const r = searchPrecision(small, store, remapped, {
    ...opts,
    sizes: graph,
    ...(opts.checkpoint ? { checkpoint: (c) => opts.checkpoint!({ ...c, decisions: back(c.decisions) }) } : {}),
  });
  const decisions = back(r.decisions);
  return { ...r, decisions, graph: planGraph(graph, r, decisions, opts) };
}

/** A batch with each cut table's ids (after its id policy) replaced by their compact rows. */
function remapBatch(b: Batch, graph: Graph, cut: Map<string, Restricted>, rs: Map<string, { input: string; feature: number }[]>): Batch {
  const decls = new Map(graph.weights.map((w) => [w.name, w]));
  const inputs = { ...b.inputs };
  for (const [name, r] of cut)
    for (const { input, feature } of rs.get(name)!) {
      const bags = inputs[input];
      if (!bags || !isBags(bags)) continue;
      const values = bags === b.inputs[input] ? bags.values.slice() : bags.values;
      const rows = decls.get(name)!.shape[0]!;
      eachId(bags, feature, (p) => (values[p] = r.index.get(policyId(values[p]!, decls.get(name)!.attrs.ids, rows))!));
      inputs[input] = { ...bags, values };
    }
  return { ...b, inputs };
}

/** The whole graph with the search's plan: its layers' precisions and calibration as the search wrote them, its tables' choices. */
function planGraph(graph: Graph, r: SearchResult, decisions: readonly Decision[], opts: SearchOptions): Graph {
  const layers = new Map(r.graph.nodes.map((n) => [n.id, n]));
  const precision = new Map<string, string>();
  const splits = new Map<string, HotColdSplit>();
  const rowRange = opts.rowRange ?? "minmax";
  for (const d of decisions)
    if (d.kind !== "table") continue;
    else if (d.split) splits.set(d.unit, { hot: d.split.hot, hotPrecision: d.precision, coldPrecision: d.split.cold, rowRange });
    else precision.set(d.unit, d.precision);
  const tables = applyAssignment(graph, { precision, rowRange });
  // Layer attributes (precision, smoothing, static scales) are the search's own: its graph has the same nodes.
  const withLayers = produce(tables, (g) => {
    for (const n of g.nodes) if (n.op === "linear" || n.op === "cross_layer") n.attrs = structuredClone(layers.get(n.id)!.attrs) as typeof n.attrs;
  });
  return applyHotColdSplits(withLayers, splits, ...(opts.maxPartBytes ? [opts.maxPartBytes] : []));
}
