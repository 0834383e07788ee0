// The data of split tables. split-tables (passes/split-tables.ts) replaces a
// table's declaration by part declarations but cannot change the weight
// store, so a part's tensor is a view of its table's tensor, made from what
// the part declares it holds (src/ir/tables.ts): a row range, a column range,
// a list of hot rows, or a range of the cold rows. A view of a table that
// PyTorch prequantized hands on that table's row bytes (except a column
// view). Views are cached per table tensor, so a precision search that
// interprets a split graph thousands of times quantizes each part once.

import type { Graph, WeightDecl } from "../ir/types.js";
import { partOf, type TablePart } from "../ir/tables.js";
import { numElements, type Tensor, type WeightStore } from "./store.js";
import type { PrequantizedRows } from "./prequantized.js";

/** Maps a part's row to its table's row (ids ascending within a part). */
function rowMap(part: TablePart, hotOfTable: readonly number[] | undefined): (row: number) => number {
  if (part.kind === "rows") return (r) => part.start + r;
  if (part.kind === "hot") return (r) => part.hot![r]!;
  if (part.kind === "cold") {
    // Cold row c is table row c + j, with j the hot rows before it: the largest j with hot[j-1] - (j-1) <= c.
    const hot = hotOfTable ?? [];
    const shifted = hot.map((h, i) => h - i);
    return (r) => {
      const c = part.start + r;
      let lo = 0;
      let hi = shifted.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (shifted[mid]! <= c) lo = mid + 1;
        else hi = mid;
      }
      return c + lo;
    };
  }
  return (r) => r;
}

/** A part of a table, read through the table's tensor. */
class PartView implements Tensor {
  readonly dtype;
  readonly shape: readonly number[];
  protected readonly toTable: (row: number) => number;
  private readonly full: Float32Array | undefined;

  constructor(
    protected readonly table: Tensor,
    private readonly part: TablePart,
    hotOfTable: readonly number[] | undefined,
  ) {
    this.dtype = table.dtype;
    this.shape = part.decl.shape;
    this.toTable = rowMap(part, hotOfTable);
    this.full = part.kind === "cols" ? new Float32Array(table.shape[1]!) : undefined;
  }

  readRow(i: number, out: Float32Array, offset = 0): void {
    if (!this.full) return this.table.readRow(this.toTable(i), out, offset);
    this.table.readRow(i, this.full, 0);
    out.set(this.full.subarray(this.part.start, this.part.end), offset);
  }

  toFloat32(): Float32Array {
    const dim = this.shape[1]!;
    const out = new Float32Array(numElements(this.shape));
    for (let i = 0; i < this.shape[0]!; i++) this.readRow(i, out, i * dim);
    return out;
  }
}

/** A row view of a prequantized table: its rows' stored bytes, too. */
class PrequantizedPartView extends PartView implements PrequantizedRows {
  readonly format;
  constructor(table: Tensor & PrequantizedRows, part: TablePart, hot: readonly number[] | undefined) {
    super(table, part, hot);
    this.format = table.format;
  }
  readRowBytes(i: number, out: Uint8Array, offset: number): void {
    (this.table as Tensor & PrequantizedRows).readRowBytes(this.toTable(i), out, offset);
  }
}

const views = new WeakMap<Tensor, Map<string, Tensor>>();

/** The tensor of part `decl` of `table` (whose hot rows, if it has a hot part, are `hot`). */
export function partTensor(table: Tensor, decl: WeightDecl, hot: readonly number[] | undefined): Tensor {
  const part = partOf(decl);
  if (typeof part === "string") throw new Error(`internal: ${part}`);
  const key = JSON.stringify([decl.shape, decl.attrs.rows, decl.attrs.cols, decl.attrs.hot, decl.attrs.cold, part.kind === "cold" ? hot : null]);
  let byKey = views.get(table);
  if (!byKey) views.set(table, (byKey = new Map()));
  let view = byKey.get(key);
  if (!view) {
    const p = table as Partial<PrequantizedRows>;
    const stored = part.kind !== "cols" && typeof p.format === "string" && typeof p.readRowBytes === "function";
    view = stored ? new PrequantizedPartView(table as Tensor & PrequantizedRows, part, hot) : new PartView(table, part, hot);
    byKey.set(key, view);
  }
  return view;
}

/** The hot rows of every split table that has a hot part, by table name. */
export function hotRowsByTable(graph: Graph): Map<string, readonly number[]> {
  const out = new Map<string, readonly number[]>();
  for (const w of graph.weights)
    if (Array.isArray(w.attrs.hot) && typeof w.attrs.part_of === "string") out.set(w.attrs.part_of, w.attrs.hot as number[]);
  return out;
}

/**
 * `store` plus a view for every part declaration of `graph` whose name it
 * lacks (a store that already holds a part's own tensor keeps it). The same
 * store when the graph has no parts.
 */
export function withTableParts(graph: Graph, store: WeightStore): WeightStore {
  const parts = graph.weights.filter((w) => typeof w.attrs.part_of === "string" && !store.has(w.name));
  if (parts.length === 0) return store;
  const hot = hotRowsByTable(graph);
  const out = new Map(store);
  for (const decl of parts) {
    const table = store.get(decl.attrs.part_of as string);
    if (table) out.set(decl.name, partTensor(table, decl, hot.get(decl.attrs.part_of as string)));
  }
  return out;
}
