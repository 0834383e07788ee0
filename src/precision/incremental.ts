// The precision search's evaluator: the model's outputs on every calibration
// batch under a choice of precisions (a table whole, or hot/cold: read as one
// table whose rows are at their part's precision), kept between candidates. A
// change recomputes only what lies downstream of it, from the activations
// cached per batch: a table's columns of the pooled output, the dot
// interaction's entries that read it, an int8 layer's int32 sums by the codes
// that changed (int8-layer.ts), fp32 layers in SIMD (simd-kernels.ts), and the
// interpreter's kernels for the rest. The outputs equal a full interpretation
// bit for bit (test/precision/incremental.test.ts), in either of the
// interpreter's modes: in fused multiply-add mode the fp32 layers and the dot
// interaction take the interpreter's kernels (the fast paths that remain are
// integer sums and gathers, the same in both; fma-check.test.ts).

import type { Graph, Node, WeightDecl } from "../ir/types.js";
import { isValueRef, refName } from "../ir/types.js";
import { type Bags, type Batch, bagOffsets } from "../data/batch.js";
import { DenseTensor, numElements, type Tensor, type WeightStore } from "../weights/store.js";
import { withTableParts } from "../weights/parts.js";
import { interpret } from "../interp/interpreter.js";
import { embeddingBagKernel } from "../interp/embedding.js";
import { interactKernel } from "../interp/kernels.js";
import { type BoundWeight, type KernelArgs, sampleWidth } from "../interp/operands.js";
import { int8Weights, roundedWeights, runnableLayerPrecision, tableAt } from "../interp/precision.js";
import { activateInPlace } from "../interp/math.js";
import { smoothMultipliers } from "../quant/dense.js";
import type { RowRange } from "../quant/rowwise.js";
import { a7ZeroOf, actOf, smoothOf, staticActScale } from "../ir/attrs.js";
import { nodeTables } from "../ir/tables.js";
import type { BatchOutputs } from "./evaluate.js";
import { type Int8Layer, type Int8State, MAX_INT8_INPUTS, int8LayerUpdate } from "./int8-layer.js";
import { SimdLinear, SimdSums, simdAvailable } from "./simd-kernels.js";
import { type DotPairs, dotPairs, dotPairsInto, linearF32 } from "./fast-kernels.js";

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
  /** Per node: its int8 layer's weights as the update reads them; its tables. */
  private readonly layers = new WeakMap<Node, Int8Layer>();
  private readonly nodeTables = new WeakMap<Node, ReturnType<typeof nodeTables>>();
  private readonly offsets = new WeakMap<Bags, Int32Array>();
  /** The interpreter's weight bindings, by graph (this.store's weights). */
  private readonly bound = new WeakMap<Graph, Map<string, BoundWeight>>();
  /** Whether int8 layers are updated, and fp32 layers multiply-add, in WebAssembly SIMD (else: the interpreter's int8 kernels, fp32 in JavaScript; the same numbers). */
  private readonly simd: boolean;
  private readonly fma: boolean;
  /** The dot interaction's pairs that read the changed vectors, and the output columns they change, by node and vectors. */
  private readonly pairs = new Map<string, { pairs: DotPairs; cols: Int32Array }>();
  private state: EvalState;
  /** Int8 buffers of trials that were not committed, for the next trial to reuse (by type and length). */
  private readonly pool = new Map<string, Buffer[]>();
  /** The last trial and the buffers it made (recycled when it is not committed). */
  private pending: { state: EvalState; made: Buffer[] } | undefined;
  /** Node evaluations (one per node per batch) that the caches spared, and those run (for reports and tests). */
  readonly counts = { reused: 0, partial: 0, full: 0 };

  /** The outputs of `graph` (its layer precisions) with `tables` (every table or part an embedding_bag reads), fully evaluated. */
  constructor(
    graph: Graph,
    weights: WeightStore,
    private readonly batches: readonly Batch[],
    tables: ReadonlyMap<string, TableChoice>,
    private readonly rowRange: RowRange,
    /** simd: false runs the fast paths in JavaScript; fma: the interpreter's fused multiply-add mode (the relaxed-SIMD variant's numerics; InterpretOptions.fma). */
    opts: { simd?: boolean; fma?: boolean } = {},
  ) {
    this.simd = opts.simd !== false && simdAvailable();
    this.fma = opts.fma === true;
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
    if (this.pending?.state === trial) this.pending = undefined;
  }

  /** Evaluates `change` on top of `from`: `full` recomputes everything (the first evaluation). */
  private run(from: EvalState, change: Change, full: boolean): EvalState {
    // The previous trial was not committed: its int8 buffers are free.
    if (this.pending)
      for (const b of this.pending.made) {
        const key = `${b.constructor.name}:${b.length}`;
        const pool = this.pool.get(key);
        if (pool) pool.push(b);
        else this.pool.set(key, [b]);
      }
    this.pending = undefined;
    const made: Buffer[] = [];
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
    const embeds: NodeContext["embeds"] = new Map();
    this.batches.forEach((batch, i) => {
      const old = from.values[i];
      const reuse = new Map<string, Float32Array>();
      if (old) for (const [id, v] of old) if (!dirty.has(id)) reuse.set(id, v);
      const changed = new Map<string, Changed>();
      const int8 = new Map(from.int8[i] ?? []);
      const ctx = { old, changed, int8, changedTables, tables, full, own, made, embeds };
      const alloc = (n: number): Float32Array => {
        const b = this.buffer(Float32Array, n, undefined, false);
        made.push(b);
        return b;
      };
      const r = interpret(graph, this.store, batch, {
        keep: "all",
        reuse,
        fma: this.fma,
        override: (a) => this.node(a, ctx),
        bound: this.bound,
        ...(full ? {} : { alloc }),
      });
      this.counts.reused += reuse.size;
      state.values.push(r.values!);
      state.int8.push(int8);
      outputs.push(r.outputs);
    });
    state.outputs = outputs;
    this.pending = full ? undefined : { state, made };
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

  /**
   * A node's fast path, or false for the interpreter's kernel; records which columns of its output changed.
   * `a.out` comes unfilled (recycled): each path writes every element of it, and the interpreter's kernels get it zeroed.
   */
  private node(a: KernelArgs, ctx: NodeContext): boolean {
    const id = a.node.id;
    const usable = !ctx.full && !ctx.own.has(id);
    const cached = usable ? ctx.old?.get(id) : undefined;
    const inputs = a.node.inputs.filter(isValueRef).map((r) => (ctx.changed.get(refName(r)) ?? NONE) as Changed);
    const op = a.node.op;
    const path = linearPath(a);
    let done = true;
    let out: Changed = "all";
    if (op === "embedding_bag") out = this.embed(a, ctx, cached);
    else if (op === "interact" && a.attrs.op === "dot" && cached && !a.fma && !inputs.includes("all"))
      out = this.interactPartial(a, cached, inputs as Int32Array[]);
    else if (path && (path === "int8" || path === "int8a7") && this.simd) this.int8(a, ctx, inputs[0]!, usable, path);
    else if (path && path !== "int8" && path !== "int8a7") {
      this.linear(a, path);
      activateInPlace(actOf(a.node), a.out);
    } else if (op === "relu" || op === "sigmoid" || op === "tanh") {
      a.out.set(a.values[0] as Float32Array);
      activateInPlace(op, a.out);
    } else {
      a.out.fill(0);
      done = false;
    }
    if (done && out !== "all") this.counts.partial++;
    else this.counts.full++;
    ctx.changed.set(id, out);
    return done;
  }

  /** An fp32 (or fp16/bf16-weight) linear layer before its activation: in WebAssembly SIMD when it has 8 outputs or more, else in JavaScript. */
  private linear(a: KernelArgs, p: "fp32" | "fp16" | "bf16"): void {
    const [w, b] = a.weights;
    const [out, inF] = w!.tensor.shape as [number, number];
    const at = (t: BoundWeight): Float32Array => (p === "fp32" ? t.dense() : roundedWeights(t.tensor, p));
    if (!this.simd || out < 8) return linearF32(a.values[0] as Float32Array, a.batch, inF, at(w!), b ? at(b) : undefined, out, a.out);
    const keys = p === "fp32" ? [w!.tensor, b?.tensor] : [at(w!), b && at(b)];
    SimdLinear.of(keys[0]!, keys[1], at(w!), b ? at(b) : undefined, inF, out).run(a.values[0] as Float32Array, a.batch, a.out);
  }

  /** The dot interaction from its cached output, recomputing only the entries that read a vector whose columns changed. */
  private interactPartial(a: KernelArgs, cached: Float32Array, inputs: readonly Int32Array[]): Changed {
    const tail = typeof a.attrs.tail === "number" ? a.attrs.tail : 0;
    const d = sampleWidth(a.types[0]!);
    const vectors = new Set<number>();
    const src: Float32Array[] = [];
    const stride: number[] = [];
    const within: number[] = [];
    a.types.forEach((t, i) => {
      const n = sampleWidth(t) / d;
      if (i >= a.types.length - tail) {
        if (inputs[i]!.length > 0) vectors.add(-1);
        return;
      }
      for (const col of inputs[i]!) vectors.add(src.length + Math.floor(col / d));
      for (let k = 0; k < n; k++) [src.push(a.values[i] as Float32Array), stride.push(n * d), within.push(k * d)];
    });
    if (vectors.has(-1)) {
      a.out.fill(0);
      interactKernel(a);
      return "all";
    }
    const key = `${a.node.id}|${[...vectors].sort((x, y) => x - y).join(",")}`;
    let p = this.pairs.get(key);
    if (!p) {
      const pairs = dotPairs(src.length, d, a.attrs.self === true, vectors);
      const cols = vectors.has(0) ? Int32Array.from({ length: d }, (_, k) => k) : new Int32Array(0);
      this.pairs.set(key, (p = { pairs, cols: Int32Array.from([...cols, ...pairs.pos]).sort() }));
    }
    a.out.set(cached);
    const outW = sampleWidth(a.outType);
    if (vectors.has(0)) for (let b = 0; b < a.batch; b++) for (let k = 0; k < d; k++) a.out[b * outW + k] = src[0]![b * d + k]!;
    dotPairsInto(src, Int32Array.from(stride), Int32Array.from(within), a.batch, d, p.pairs, a.out, outW);
    return p.cols;
  }

  /** embedding_bag with the chosen tables; with a cached output, only the changed tables' columns. */
  private embed(a: KernelArgs, ctx: NodeContext, cached: Float32Array | undefined): Changed {
    let tables = this.nodeTables.get(a.node);
    if (!tables) this.nodeTables.set(a.node, (tables = nodeTables(a.node, this.decls)));
    // The tables at their choices, which tables changed and their columns: the same for every batch of a run.
    let at = ctx.embeds.get(a.node.id);
    if (!at) {
      const weights = a.weights.map((w) => (w.decl.role === "table" ? { ...w, tensor: this.tensorOf(w.decl, ctx.tables.get(w.name)!) } : w));
      const only = new Set<number>();
      tables.forEach((t, i) => {
        if (weights.slice(t.first, t.first + t.parts.length).some((w) => ctx.changedTables.has(w.name))) only.add(i);
      });
      const cols: number[] = [];
      for (const t of [...only].sort((x, y) => x - y)) for (let k = 0; k < tables[t]!.dim; k++) cols.push(t * tables[t]!.dim + k);
      ctx.embeds.set(a.node.id, (at = { weights, only, cols: cols.length === sampleWidth(a.outType) ? "all" : Int32Array.from(cols) }));
    }
    const { weights, only } = at;
    const args = { ...a, weights };
    const bags = a.values[0] as Bags;
    let offsets = this.offsets.get(bags);
    if (!offsets) this.offsets.set(bags, (offsets = bagOffsets(bags)));
    if (!cached) {
      a.out.fill(0);
      embeddingBagKernel(args, undefined, offsets);
      return "all";
    }
    a.out.set(cached);
    embeddingBagKernel(args, only, offsets);
    return at.cols;
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

  /**
   * An int8 layer, as int8Linear computes it, keeping its state; `cols`: the input columns that changed since
   * the cached state, which the update starts from (with none cached, or the layer's own attributes changed, a fresh one).
   */
  private int8(a: KernelArgs, ctx: NodeContext, cols: Changed, usable: boolean, p: "int8" | "int8a7"): void {
    const L = this.int8Layer(a, p);
    const prev = usable ? ctx.int8.get(a.node.id) : undefined;
    const st: Int8State = {
      m: this.buffer(Float64Array, a.batch, prev?.m),
      arg: this.buffer(Int32Array, a.batch, prev?.arg),
      s: this.buffer(Float64Array, a.batch, prev?.s),
      q: this.buffer(Int8Array, a.batch * L.inF, prev?.q),
      acc: this.buffer(Int32Array, a.batch * L.out, prev?.acc),
    };
    int8LayerUpdate(L, a.values[0] as Float32Array, a.batch, st, !prev, cols, a.out);
    activateInPlace(actOf(a.node), a.out);
    ctx.int8.set(a.node.id, st);
    ctx.made.push(st.m, st.arg, st.s, st.q, st.acc);
  }

  /** An int8 (or int8a7) layer's weights as the update reads them (per node: the same node object has the same weights and attributes). */
  private int8Layer(a: KernelArgs, p: "int8" | "int8a7"): Int8Layer {
    const zero = p === "int8a7" ? a7ZeroOf(a.node, a.nonNegative) : undefined;
    const lo = zero === undefined ? -127 : zero === 0 ? 0 : -63;
    let L = this.layers.get(a.node);
    if (L && L.lo === lo) return L;
    const [wb, bb] = a.weights;
    const [out, inF] = wb!.tensor.shape as [number, number];
    const smooth = p === "int8" ? smoothOf(a.node) : undefined;
    const w = int8Weights(wb!.tensor, smooth);
    const [fixed, div, hi] = p === "int8" ? [staticActScale(a.node), 127, 127] : [undefined, zero === 0 ? 127 : 63, zero === 0 ? 127 : 63];
    const mul = smooth ? smoothMultipliers(smooth) : undefined;
    L = { inF, out, scales: w.scales, bias: bb?.dense(), mul, fixed, div, lo, hi, sums: SimdSums.of(w.q, inF, out) };
    this.layers.set(a.node, L);
    return L;
  }

  /** A buffer of `n` elements holding a copy of `from` (if given), or zeros (or, not `zero`, anything): one a discarded trial left behind when there is one. */
  private buffer<T extends Buffer>(kind: { new (n: number): T }, n: number, from?: T, zero = true): T {
    const b = this.pool.get(`${kind.name}:${n}`)?.pop() as T | undefined;
    if (!b) return from ? (from.slice() as T) : new kind(n);
    if (from) b.set(from);
    else if (zero) b.fill(0);
    return b;
  }
}

type Buffer = Float32Array | Float64Array | Int32Array | Int8Array;

interface NodeContext {
  old: Map<string, Float32Array> | undefined;
  changed: Map<string, Changed>;
  int8: Map<string, Int8State>;
  changedTables: ReadonlySet<string>;
  tables: ReadonlyMap<string, TableChoice>;
  full: boolean;
  /** Nodes whose own attributes changed (their caches do not apply). */
  own: ReadonlySet<string>;
  /** Buffers this run made. */
  made: Buffer[];
  /** Per embedding_bag of this run: its tables' tensors at their choices, the tables that changed, and their columns. */
  embeds: Map<string, { weights: BoundWeight[]; only: ReadonlySet<number>; cols: Changed }>;
}

const NONE = new Int32Array(0);

const sameChoice = (a: TableChoice, b: TableChoice): boolean => a.precision === b.precision && a.cold === b.cold && a.hot === b.hot;

/**
 * The precision of a linear layer a fast path computes exactly as the interpreter does (f32 input, not codes; no output codes):
 * int8 / int8a7 (inputs few enough for int32 sums), or fp32 / fp16 / bf16 weights (not in fma mode).
 */
function linearPath(a: KernelArgs): "int8" | "int8a7" | "fp32" | "fp16" | "bf16" | undefined {
  const t = a.types[0]!;
  if (a.node.op !== "linear" || a.attrs.out_scale !== undefined || t.kind !== "tensor" || t.dtype !== "f32") return undefined;
  if (a.weights[0]!.tensor.shape.some((d) => d < 1)) return undefined; // the SIMD loops run at least once
  const p = runnableLayerPrecision(a.node, a.weights[0]!.decl);
  if (p === "int8" || p === "int8a7") return a.weights[0]!.tensor.shape[1]! <= MAX_INT8_INPUTS ? p : undefined;
  return (p === "fp32" || p === "fp16" || p === "bf16") && !a.fma ? p : undefined;
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
