// The precision search's evaluator: the model's outputs on every calibration
// batch under a choice of precisions, kept from one candidate to the next. A
// table is whole at one precision or split hot/cold (its K hottest rows at
// one precision, the rest at another), which it reads as one table whose rows
// are stored at their part's precision — what the split graph's lookups give.
// A change recomputes only what lies downstream of the node it touches, from
// the activations above it cached per batch:
//  - a table change re-pools only that table's columns of the pooled output;
//  - the dot interaction recomputes only the entries that read a changed vector;
//  - an int8 layer whose input changed in a few columns updates its integer
//    accumulators in those columns (exact: integer sums do not depend on
//    order), and recomputes only the rows whose activation scale moved;
//  - anything else downstream runs the interpreter's own kernels.
// Every value is the one the reference interpreter computes, so the outputs
// equal a full interpretation of the same plan bit for bit
// (test/precision/incremental.test.ts).

import type { Graph, Node, WeightDecl } from "../ir/types.js";
import { isValueRef, refName } from "../ir/types.js";
import type { Batch } from "../data/batch.js";
import { DenseTensor, numElements, type Tensor, type WeightStore } from "../weights/store.js";
import { withTableParts } from "../weights/parts.js";
import { interpret } from "../interp/interpreter.js";
import { embeddingBagKernel } from "../interp/embedding.js";
import { interactKernel } from "../interp/kernels.js";
import { type KernelArgs, sampleWidth } from "../interp/operands.js";
import { int8Weights, runnableLayerPrecision, tableAt } from "../interp/precision.js";
import { activateInPlace } from "../interp/math.js";
import { dynamicScale, quantizeActivations, smoothMultipliers } from "../quant/dense.js";
import type { RowRange } from "../quant/rowwise.js";
import { actOf, smoothOf, staticActScale } from "../ir/attrs.js";
import { nodeTables } from "../ir/tables.js";
import type { BatchOutputs } from "./evaluate.js";

/** How one table (or part) is stored: whole at `precision`, or its `hot` rows at `precision` and the rest at `cold`. */
export interface TableChoice {
  precision: string;
  /** Hot row ids, ascending (with `cold`). */
  hot?: readonly number[];
  cold?: string;
}

/** A change to evaluate: new choices for some tables, and/or a graph with other layer precisions (same nodes, same tables). */
export interface Change {
  tables?: ReadonlyMap<string, TableChoice>;
  graph?: Graph;
}

/** An int8 layer's integer state per batch: its input codes, each row's activation scale, its int32 accumulators. */
interface Int8State {
  q: Int32Array;
  s: Float64Array;
  acc: Float64Array;
}

/** Columns of a value that changed in a trial: a sorted list, or every column. */
type Changed = Int32Array | "all";

/** The evaluator's state, or a trial's: values of every node per batch, int8 states, outputs. */
export interface EvalState {
  graph: Graph;
  tables: Map<string, TableChoice>;
  values: Map<string, Float32Array>[];
  int8: Map<string, Int8State>[];
  outputs: BatchOutputs;
}

const NBIT = new Set(["int4", "int2"]);

export class IncrementalEvaluator {
  private readonly store: WeightStore;
  private readonly decls: Map<string, WeightDecl>;
  private readonly tensors = new Map<string, Tensor>();
  private readonly hotKeys = new WeakMap<readonly number[], number>();
  private nextKey = 0;
  private state: EvalState;
  /** Node evaluations (one per node per batch) that the caches spared, and those run (for reports and tests). */
  readonly counts = { reused: 0, partial: 0, full: 0 };

  /** The outputs of `graph` (its layer precisions) with `tables` (every table or part an embedding_bag reads), fully evaluated. */
  constructor(
    graph: Graph,
    weights: WeightStore,
    private readonly batches: readonly Batch[],
    tables: ReadonlyMap<string, TableChoice>,
    private readonly rowRange: RowRange,
  ) {
    this.store = withTableParts(graph, weights);
    this.decls = new Map(graph.weights.map((w) => [w.name, w]));
    const empty = { graph, tables: new Map(tables), values: [], int8: [], outputs: [] };
    this.state = this.run(empty, { graph }, true);
  }

  get current(): EvalState {
    return this.state;
  }

  /** The choice a table has now. */
  choice(table: string): TableChoice {
    return this.state.tables.get(table)!;
  }

  /** The outputs with `change` made, from the cached state (which stays as it is until `commit`). */
  trial(change: Change): EvalState {
    return this.run(this.state, change, false);
  }

  commit(trial: EvalState): void {
    this.state = trial;
  }

  /** Evaluates `change` on top of `from`: `full` recomputes everything (the first evaluation). */
  private run(from: EvalState, change: Change, full: boolean): EvalState {
    const graph = change.graph ?? from.graph;
    const tables = new Map(from.tables);
    const changedTables = new Set<string>();
    for (const [name, c] of change.tables ?? []) {
      if (!full && sameChoice(tables.get(name)!, c)) continue;
      tables.set(name, c);
      changedTables.add(name);
    }
    const own = new Set<string>();
    const dirty = full ? new Set(graph.nodes.map((n) => n.id)) : this.dirtyNodes(from.graph, graph, changedTables, own);
    const state: EvalState = { graph, tables, values: [], int8: [], outputs: [] };
    const outputs: Record<string, Float32Array>[] = [];
    this.batches.forEach((batch, i) => {
      const old = from.values[i];
      const reuse = new Map<string, Float32Array>();
      if (old) for (const [id, v] of old) if (!dirty.has(id)) reuse.set(id, v);
      const changed = new Map<string, Changed>();
      const int8 = new Map(from.int8[i] ?? []);
      const ctx = { old, changed, int8, changedTables, tables, full, own };
      const r = interpret(graph, this.store, batch, { keep: "all", reuse, override: (a) => this.node(a, ctx) });
      this.counts.reused += reuse.size;
      state.values.push(r.values!);
      state.int8.push(int8);
      outputs.push(r.outputs);
    });
    state.outputs = outputs;
    return state;
  }

  /** Nodes whose inputs, attributes or tables changed, and everything downstream of them. */
  private dirtyNodes(before: Graph, after: Graph, tables: ReadonlySet<string>, own: Set<string>): Set<string> {
    const dirty = new Set<string>();
    after.nodes.forEach((n, i) => {
      const was = before.nodes[i];
      const attrs = !was || (was !== n && JSON.stringify(was.attrs) !== JSON.stringify(n.attrs));
      if (attrs) own.add(n.id);
      const reads = n.inputs.some((r) => (isValueRef(r) ? dirty.has(refName(r)) : tables.has(refName(r))));
      if (attrs || reads) dirty.add(n.id);
    });
    return dirty;
  }

  /** A node's fast path, or false for the interpreter's kernel; records which columns of its output changed. */
  private node(a: KernelArgs, ctx: NodeContext): boolean {
    const id = a.node.id;
    const cached = ctx.full || ctx.own.has(id) ? undefined : ctx.old?.get(id);
    const inputs = a.node.inputs.filter(isValueRef).map((r) => (ctx.changed.get(refName(r)) ?? new Int32Array(0)) as Changed);
    let done = false;
    let out: Changed = "all";
    if (a.node.op === "embedding_bag") {
      out = this.embed(a, ctx, cached);
      done = true;
    } else if (a.node.op === "interact" && a.attrs.op === "dot" && cached && !inputs.includes("all")) {
      out = interactPartial(a, cached, inputs as Int32Array[]);
      done = true;
    } else if (isInt8Linear(a)) {
      this.int8(a, ctx, cached && inputs[0] !== "all" ? (inputs[0] as Int32Array) : undefined);
      done = true;
    }
    if (done && out !== "all") this.counts.partial++;
    else this.counts.full++;
    ctx.changed.set(id, out);
    return done;
  }

  /** embedding_bag with the chosen tables; with a cached output, only the changed tables' columns. */
  private embed(a: KernelArgs, ctx: NodeContext, cached: Float32Array | undefined): Changed {
    const tables = nodeTables(a.node, this.decls);
    const weights = a.weights.map((w) => (w.decl.role === "table" ? { ...w, tensor: this.tensorOf(w.decl, ctx.tables.get(w.name)!) } : w));
    const args = { ...a, weights };
    if (!cached) {
      embeddingBagKernel(args);
      return "all";
    }
    const only = new Set<number>();
    tables.forEach((t, i) => {
      if (weights.slice(t.first, t.first + t.parts.length).some((w) => ctx.changedTables.has(w.name))) only.add(i);
    });
    a.out.set(cached);
    embeddingBagKernel(args, only);
    const outW = sampleWidth(a.outType);
    const cols: number[] = [];
    for (const t of [...only].sort((x, y) => x - y)) for (let k = 0; k < tables[t]!.dim; k++) cols.push(t * tables[t]!.dim + k);
    return cols.length === outW ? "all" : Int32Array.from(cols);
  }

  /** A table read at a choice: the stored tensor at one precision, or its hot rows at one and the rest at another. */
  private tensorOf(decl: WeightDecl, c: TableChoice): Tensor {
    const raw = this.store.get(decl.name)!;
    const at = (p: string): Tensor =>
      tableAt(raw, p, NBIT.has(p) && this.rowRange === "l2" ? { ...decl, attrs: { ...decl.attrs, row_range: "l2" } } : decl);
    if (!c.hot) return at(c.precision);
    let key = this.hotKeys.get(c.hot);
    if (key === undefined) this.hotKeys.set(c.hot, (key = this.nextKey++));
    const name = `${decl.name}|${c.precision}|${c.cold}|${key}`;
    let t = this.tensors.get(name);
    if (!t) this.tensors.set(name, (t = mixedTable(at(c.precision), at(c.cold!), c.hot)));
    return t;
  }

  /** An int8 layer, as int8Linear computes it, keeping its codes, scales and accumulators; with `cols`, only those input columns changed. */
  private int8(a: KernelArgs, ctx: NodeContext, cols: Int32Array | undefined): void {
    const [wb, bb] = a.weights;
    const [out, inF] = wb!.tensor.shape as [number, number];
    const smooth = smoothOf(a.node);
    const w = int8Weights(wb!.tensor, smooth);
    const mul = smooth ? smoothMultipliers(smooth) : undefined;
    const bias = bb?.dense();
    const fixed = staticActScale(a.node);
    const x = a.values[0] as Float32Array;
    const prev = cols ? ctx.int8.get(a.node.id) : undefined;
    const st: Int8State = prev
      ? { q: prev.q.slice(), s: prev.s.slice(), acc: prev.acc.slice() }
      : { q: new Int32Array(a.batch * inF), s: new Float64Array(a.batch), acc: new Float64Array(a.batch * out) };
    const row = new Float32Array(inF);
    const one = new Int32Array(1);
    for (let b = 0; b < a.batch; b++) {
      for (let k = 0; k < inF; k++) row[k] = mul ? Math.fround(x[b * inF + k]! * mul[k]!) : x[b * inF + k]!;
      const s = fixed ?? dynamicScale(row, 0, inF);
      const qRow = st.q.subarray(b * inF, (b + 1) * inF);
      if (prev && s === st.s[b]) {
        // The scale held: only the changed columns' codes can differ, and an integer sum takes their difference exactly.
        for (const k of cols!) {
          quantizeActivations(row, k, 1, s, one);
          const dq = one[0]! - qRow[k]!;
          if (dq === 0) continue;
          qRow[k] = one[0]!;
          for (let o = 0; o < out; o++) st.acc[b * out + o] += dq * w.q[o * inF + k]!;
        }
      } else {
        st.s[b] = s;
        quantizeActivations(row, 0, inF, s, qRow);
        for (let o = 0; o < out; o++) {
          let acc = 0;
          const base = o * inF;
          for (let k = 0; k < inF; k++) acc += qRow[k]! * w.q[base + k]!;
          st.acc[b * out + o] = acc;
        }
      }
      for (let o = 0; o < out; o++) {
        let v = Math.fround(Math.fround(st.acc[b * out + o]!) * Math.fround(s * w.scales[o]!));
        if (bias) v = Math.fround(v + bias[o]!);
        a.out[b * out + o] = v;
      }
    }
    activateInPlace(actOf(a.node), a.out);
    ctx.int8.set(a.node.id, st);
  }
}

interface NodeContext {
  old: Map<string, Float32Array> | undefined;
  changed: Map<string, Changed>;
  int8: Map<string, Int8State>;
  changedTables: ReadonlySet<string>;
  tables: ReadonlyMap<string, TableChoice>;
  full: boolean;
  /** Nodes whose own attributes changed (their caches do not apply). */
  own: ReadonlySet<string>;
}

const sameChoice = (a: TableChoice, b: TableChoice): boolean => a.precision === b.precision && a.cold === b.cold && a.hot === b.hot;

/** A linear layer the int8 fast path computes exactly as the interpreter does: int8 weights, f32 input (not codes), no output codes. */
function isInt8Linear(a: KernelArgs): boolean {
  if (a.node.op !== "linear" || a.attrs.out_scale !== undefined) return false;
  const t = a.types[0]!;
  return t.kind === "tensor" && t.dtype === "f32" && runnableLayerPrecision(a.node, a.weights[0]!.decl) === "int8";
}

/** The dot interaction from its cached output, recomputing only the entries that read a vector whose columns changed. */
function interactPartial(a: KernelArgs, cached: Float32Array, inputs: readonly Int32Array[]): Changed {
  const tail = typeof a.attrs.tail === "number" ? a.attrs.tail : 0;
  const d = sampleWidth(a.types[0]!);
  const vectors = new Set<number>();
  let first = 0;
  a.types.forEach((t, i) => {
    if (i < a.types.length - tail) for (const col of inputs[i]!) vectors.add(first + Math.floor(col / d));
    else if (inputs[i]!.length > 0) vectors.add(-1);
    first += sampleWidth(t) / d;
  });
  if (vectors.has(-1)) {
    interactKernel(a);
    return "all";
  }
  a.out.set(cached);
  interactKernel(a, vectors);
  const cols: number[] = [];
  if (vectors.has(0)) for (let k = 0; k < d; k++) cols.push(k);
  const self = a.attrs.self === true;
  let pos = d;
  const n = a.types.slice(0, a.types.length - tail).reduce((s, t) => s + sampleWidth(t) / d, 0);
  for (let i = self ? 0 : 1; i < n; i++) for (let j = 0; j <= (self ? i : i - 1); j++, pos++) if (vectors.has(i) || vectors.has(j)) cols.push(pos);
  return Int32Array.from(cols);
}

/** A table whose `hot` rows read from `hot` and the others from `cold` (in memory for tables the interpreter caches whole). */
function mixedTable(hot: Tensor, cold: Tensor, ids: readonly number[]): Tensor {
  const [, dim] = cold.shape as [number, number];
  if (numElements(cold.shape) <= 1 << 22) {
    const data = cold.toFloat32().slice();
    for (const id of ids) hot.readRow(id, data, id * dim);
    return new DenseTensor(cold.shape, data);
  }
  const isHot = new Set(ids);
  return {
    dtype: cold.dtype,
    shape: cold.shape,
    readRow: (i, out, offset = 0) => (isHot.has(i) ? hot : cold).readRow(i, out, offset),
    toFloat32() {
      const out = new Float32Array(numElements(cold.shape));
      for (let i = 0; i < cold.shape[0]!; i++) this.readRow(i, out, i * dim);
      return out;
    },
  };
}
