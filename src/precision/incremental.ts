// The precision search's evaluator: the model's outputs on every calibration
// batch under a choice of precisions (a table whole, or hot/cold: read as one
// table whose rows are at their part's precision), kept between candidates. A
// change recomputes only what lies downstream of it, from the activations
// cached per batch: a table's columns of the pooled output, the dot
// interaction's entries that read it, an int8 layer's int32 sums by the codes
// that changed (exact in any order; rows whose scale moved are recomputed),
// and the interpreter's kernels for the rest. The outputs equal a full
// interpretation bit for bit (test/precision/incremental.test.ts), in either
// of the interpreter's modes (fused multiply-add or not: the fast paths are
// integer sums and gathers, the same in both; fma-check.test.ts).

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
import { activationCode, quantizeActivations, smoothMultipliers } from "../quant/dense.js";
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

/** An int8 layer's state per batch: its (smoothed) input, each row's largest |input| and where, scale, codes and int32 accumulators. */
interface Int8State {
  xs: Float32Array;
  m: Float64Array;
  arg: Int32Array;
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
    /** Run the kernels in the interpreter's fused multiply-add mode (the relaxed-SIMD variant's numerics; InterpretOptions.fma). */
    private readonly fma = false,
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
    this.batches.forEach((batch, i) => {
      const old = from.values[i];
      const reuse = new Map<string, Float32Array>();
      if (old) for (const [id, v] of old) if (!dirty.has(id)) reuse.set(id, v);
      const changed = new Map<string, Changed>();
      const int8 = new Map(from.int8[i] ?? []);
      const ctx = { old, changed, int8, changedTables, tables, full, own, made };
      const alloc = (n: number): Float32Array => {
        const b = this.buffer(Float32Array, n);
        made.push(b);
        return b;
      };
      const r = interpret(graph, this.store, batch, {
        keep: "all",
        reuse,
        fma: this.fma,
        override: (a) => this.node(a, ctx),
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

  /**
   * An int8 layer, as int8Linear computes it, keeping its state; with `cols`, only those input columns changed:
   * a row's largest |input| is then only looked for again when it was in one of them, and when the row's scale
   * held, only those columns' codes can differ and the integer sums take their difference exactly.
   */
  private int8(a: KernelArgs, ctx: NodeContext, cols: Int32Array | undefined): void {
    const [wb, bb] = a.weights;
    const [out, inF] = wb!.tensor.shape as [number, number];
    const smooth = smoothOf(a.node);
    const w = int8Weights(wb!.tensor, smooth);
    const wT = transposed(w.q, out, inF);
    const mul = smooth ? smoothMultipliers(smooth) : undefined;
    const bias = bb?.dense();
    const fixed = staticActScale(a.node);
    const x = a.values[0] as Float32Array;
    // With more than a third of the inputs changed, updating the sums costs about what computing them does.
    const prev = cols && cols.length * 3 <= inF ? ctx.int8.get(a.node.id) : undefined;
    const st: Int8State = {
      xs: this.buffer(Float32Array, a.batch * inF, prev?.xs),
      m: this.buffer(Float64Array, a.batch, prev?.m),
      arg: this.buffer(Int32Array, a.batch, prev?.arg),
      q: this.buffer(Int32Array, a.batch * inF, prev?.q),
      s: this.buffer(Float64Array, a.batch, prev?.s),
      acc: this.buffer(Float64Array, a.batch * out, prev?.acc),
    };
    const { xs, q, acc } = st;
    const inChanged = new Uint8Array(inF);
    if (cols) for (const k of cols) inChanged[k] = 1;
    for (let b = 0; b < a.batch; b++) {
      const qb = b * inF;
      const ab = b * out;
      let incremental = prev !== undefined;
      if (prev) {
        let m = st.m[b]!;
        let arg = st.arg[b]!;
        for (let c = 0; c < cols!.length; c++) {
          const k = cols![c]!;
          const v = mul ? Math.fround(x[qb + k]! * mul[k]!) : x[qb + k]!;
          xs[qb + k] = v;
          const av = Math.abs(v);
          if (av > m) {
            m = av;
            arg = k;
          } else if (Number.isNaN(v)) m = NaN;
        }
        st.m[b] = m;
        st.arg[b] = arg;
        // The largest |input| was in a changed column and may have shrunk, or something is NaN: look again.
        if (inChanged[arg] === 1 || Number.isNaN(m)) maxAbs(xs, qb, inF, st, b);
      } else {
        for (let k = 0; k < inF; k++) xs[qb + k] = mul ? Math.fround(x[qb + k]! * mul[k]!) : x[qb + k]!;
        maxAbs(xs, qb, inF, st, b);
      }
      const m = st.m[b]!;
      // dynamicScale's rule, from the row's largest |input|.
      const s = fixed ?? (Number.isNaN(m) ? NaN : m > 0 ? Math.fround(m / 127) : 1);
      if (incremental && s !== st.s[b]) incremental = false;
      if (incremental) {
        const inv = Math.fround(1 / s);
        for (let c = 0; c < cols!.length; c++) {
          const k = cols![c]!;
          const code = activationCode(xs[qb + k]!, inv);
          const dq = code - q[qb + k]!;
          if (dq === 0) continue;
          q[qb + k] = code;
          const wk = k * out;
          for (let o = 0; o < out; o++) acc[ab + o] += dq * wT[wk + o]!;
        }
      } else {
        st.s[b] = s;
        const qx = q.subarray(qb, qb + inF);
        quantizeActivations(xs, qb, inF, s, qx);
        rowDots(qx, w.q, out, inF, acc, ab);
      }
      for (let o = 0; o < out; o++) {
        let v = Math.fround(Math.fround(acc[ab + o]!) * Math.fround(s * w.scales[o]!));
        if (bias) v = Math.fround(v + bias[o]!);
        a.out[ab + o] = v;
      }
    }
    activateInPlace(actOf(a.node), a.out);
    ctx.int8.set(a.node.id, st);
    ctx.made.push(...Object.values(st));
  }

  /** A buffer of `n` elements holding a copy of `from` (if given), or zeros: one a discarded trial left behind when there is one. */
  private buffer<T extends Buffer>(kind: { new (n: number): T }, n: number, from?: T): T {
    const b = this.pool.get(`${kind.name}:${n}`)?.pop() as T | undefined;
    if (!b) return from ? (from.slice() as T) : new kind(n);
    if (from) b.set(from);
    else b.fill(0);
    return b;
  }
}

type Buffer = Float32Array | Float64Array | Int32Array;

/** acc[at + o] = Σ_k qx[k]·w[o, k] (integers: exact in any order), four outputs at a time so each code is loaded once for them. */
function rowDots(qx: Int32Array, w: Int8Array, out: number, inF: number, acc: Float64Array, at: number): void {
  let o = 0;
  for (; o + 4 <= out; o += 4) {
    const [b0, b1, b2, b3] = [o * inF, (o + 1) * inF, (o + 2) * inF, (o + 3) * inF];
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let k = 0; k < inF; k++) {
      const v = qx[k]!;
      s0 += v * w[b0 + k]!;
      s1 += v * w[b1 + k]!;
      s2 += v * w[b2 + k]!;
      s3 += v * w[b3 + k]!;
    }
    acc[at + o] = s0;
    acc[at + o + 1] = s1;
    acc[at + o + 2] = s2;
    acc[at + o + 3] = s3;
  }
  for (; o < out; o++) {
    let sum = 0;
    for (let k = 0; k < inF; k++) sum += qx[k]! * w[o * inF + k]!;
    acc[at + o] = sum;
  }
}

/** The largest |x| of a row and where (the first) into `st.m[b]`, `st.arg[b]`; NaN if any is (as Math.max propagates it). */
function maxAbs(x: Float32Array, from: number, n: number, st: Int8State, b: number): void {
  let m = 0;
  let arg = 0;
  for (let k = 0; k < n; k++) {
    const v = Math.abs(x[from + k]!);
    if (v > m) {
      m = v;
      arg = k;
    } else if (Number.isNaN(v)) {
      m = NaN;
      arg = k;
      break;
    }
  }
  st.m[b] = m;
  st.arg[b] = arg;
}

/** Weights `[out, in]` as `[in, out]`, so a changed input column's weights are contiguous (cached per array). */
const transposedCache = new WeakMap<Int8Array, Int8Array>();
function transposed(q: Int8Array, out: number, inF: number): Int8Array {
  let t = transposedCache.get(q);
  if (!t) {
    t = new Int8Array(q.length);
    for (let o = 0; o < out; o++) for (let k = 0; k < inF; k++) t[k * out + o] = q[o * inF + k]!;
    transposedCache.set(q, t);
  }
  return t;
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
  /** Buffers this run made. */
  made: Buffer[];
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
