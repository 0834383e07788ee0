// Wasm kernel: embedding bags. For each table and sample, pools the table rows
// its bag names (KJT ids; `offsets` are the prefix sums of the lengths, made
// by `forward`) with sum, mean or max, optionally weighting each row, four
// dimensions per f32x4. Rows are f32, f16 (widened exactly in registers) or
// FBGEMM's row-wise int8/int4/int2 (unpacked, then q·scale + bias as an f32
// multiply and add: exactly the dequantization of src/quant/rowwise.ts).
// Pooling order and rounding follow the reference interpreter: rows added in
// bag order from zero, a weighted row is w·row first, mean divides at the end,
// max starts from the first row, an empty bag gives zeros.
// Split tables (split-tables): a column part is pooled as a narrower table
// into its columns of the output; a table split by rows routes each id to the
// range holding it, and one with a hot part first looks the id up: in a rank
// bitmap of the table's rows (a bit test and a popcount), or, where that would
// be bigger, in the hot part's ascending id list (SIMD counts over blocks of
// ids, without branches; a binary search for long lists), then takes the row
// from the hot part or from the cold ranges. Rows are still pooled in bag
// order, so results are those of the unsplit table. Tables of one shape share
// one pooling function.

import type { Graph, Node } from "../../../src/ir/types.js";
import { nodeTables } from "../../../src/ir/tables.js";
import type { Expr, FunctionBuilder, Local, WasmModule } from "../module.js";
import {
  HOT_BLOCK,
  RANK_GROUP,
  RANK_GROUP_BYTES,
  type TableFormat,
  type WeightLayout,
  hotIdBytes,
  hotIdsKey,
  hotPivotsAt,
  hotSearchForm,
} from "../layout.js";
import { f16x4ToF32, unpackLanes } from "./widen.js";

/** Hot lists up to this many blocks (HOT_BLOCK ids each) are searched with SIMD counts; longer ones by binary search. */
const MAX_HOT_BLOCKS = 32;

/** An address or index: a constant, or (in a kernel shared by tables of one shape) a parameter. */
export type Addr = number | Local;

const valueOf = (w: WasmModule, a: Addr): Expr => (typeof a === "number" ? w.i32(a) : a.get());

/** Where a table's rows are: their address, stride and format. */
export interface RowSource {
  /** Address of the table's rows. */
  address: Addr;
  /** Bytes from one row to the next. */
  rowBytes: number;
  format: TableFormat;
}

/** Rows [start, end) of a table (or of its cold rows) held at `address`. */
export interface RowRange extends RowSource {
  start: number;
  end: number;
}

export interface BagTable extends RowSource {
  /** Bag feature this table reads. */
  feature: Addr;
  /** Byte offset of its output columns within an output row, when a parameter (else from slot and cols). */
  outAt?: Local;
  /** The output slot (logical table) it pools into; default: its position in `tables`. */
  slot?: number;
  /** A column part: the columns [start, end) of its slot it holds (default: all `dim`). */
  cols?: [number, number];
  /** A table split by rows: the ranges holding its rows (or, with `hot`, its cold rows); `address`, `rowBytes` and `format` are then unused. */
  ranges?: RowRange[];
  /**
   * A hot part: its `count` table row ids at `ids`, as a rank bitmap or as an ascending list of `idBytes`
   * each (u16 or i32; layout.ts hotIdsBytes, hotSearchForm), and its rows.
   */
  hot?: { ids: Addr; count: number; form: "rank" | "list"; idBytes: 2 | 4; rows: RowSource; shared?: HotParams };
}

/** A searched hot list's length, block count and pivots address, as parameters of a shared function. */
interface HotParams {
  count: Local;
  blocks: Local;
  pivots: Local;
}

/** Whether a hot list is searched by SIMD counts (else by binary search). */
const simdSearch = (count: number): boolean => Math.ceil(count / HOT_BLOCK) <= MAX_HOT_BLOCKS;
/** A shared function's hot parameters: those of a SIMD-searched list (a rank bitmap and a binary search need none). */
const sharesHotParams = (hot: NonNullable<BagTable["hot"]>): boolean => hot.form === "list" && simdSearch(hot.count);
/** Vectors of pivots a SIMD search reads. */
const pivotVectors = (count: number, idBytes: number): number => Math.ceil(Math.ceil(count / HOT_BLOCK) / (16 / idBytes));

export interface EmbeddingSpec {
  tables: BagTable[];
  dim: number;
  pool: "sum" | "mean" | "max";
  weighted: boolean;
  /** Floats per output sample (tables·dim stacked, or dim). */
  outWidth: number;
}

/** The tables of an embedding_bag node as the kernel reads them from the weight layout, and their (shared) dimension. */
export function bagTables(graph: Graph, node: Node, layout: WeightLayout): { tables: BagTable[]; dim: number } {
  const decls = new Map(graph.weights.map((x) => [x.name, x]));
  const source = (name: string): RowSource => {
    const placed = layout.weights.get(name)!;
    if (placed.form.kind !== "table") throw new Error(`internal: ${name} is not laid out as a table`);
    return { address: placed.offset, rowBytes: placed.form.rowBytes, format: placed.form.format };
  };
  const tables: BagTable[] = [];
  const logical = nodeTables(node, decls);
  logical.forEach((t, slot) => {
    const names = t.parts.map((p) => p.decl.name);
    if (t.layout === "whole") tables.push({ ...source(names[0]!), feature: t.feature, slot });
    else if (t.layout === "cols") t.parts.forEach((p) => tables.push({ ...source(p.decl.name), feature: t.feature, slot, cols: [p.start, p.end] }));
    else {
      const body = t.layout === "hot" ? t.parts.slice(1) : t.parts;
      const ranges = body.map((p) => ({ ...source(p.decl.name), start: p.start, end: p.end }));
      const hotIds = t.layout === "hot" ? layout.weights.get(hotIdsKey(names[0]!))! : undefined;
      const tableRows = hotIds?.form.kind === "ids" ? hotIds.form.tableRows : 0;
      const count = t.parts[0]!.end;
      const hot = hotIds
        ? { ids: hotIds.offset, count, form: hotSearchForm(count, tableRows), idBytes: hotIdBytes(tableRows), rows: source(names[0]!) }
        : undefined;
      tables.push({ ...ranges[0]!, feature: t.feature, slot, ranges, ...(hot ? { hot } : {}) });
    }
  });
  return { tables, dim: logical[0]?.dim ?? 0 };
}

/**
 * Emits `name(offsets, ids, weights, out, batch)`. Tables of the same shape
 * (formats, strides, columns, row ranges, hot list length) share one function,
 * `name_shapeK(offsets, ids, weights, out, batch, feature, outAt, addresses...)`,
 * called once per table with its constants: the same loop with its addresses as
 * parameters, so a model with many alike tables (26 hot/cold splits) carries
 * the pooling code once per shape instead of once per table.
 */
export function emitEmbeddingBag(w: WasmModule, name: string, spec: EmbeddingSpec): void {
  const byShape = new Map<string, number[]>();
  spec.tables.forEach((t, ti) => {
    const key = shapeKey(t);
    byShape.set(key, [...(byShape.get(key) ?? []), ti]);
  });
  const helpers = new Map<number, { name: string; args: (t: BagTable, ti: number) => number[] }>();
  let k = 0;
  for (const members of byShape.values()) {
    if (members.length < 2) continue;
    const model = spec.tables[members[0]!]!;
    const helper = `${name}_shape${k++}`;
    const slots = addressesOf(model).length;
    w.func(
      helper,
      Array.from({ length: 7 + slots }, () => "i32" as const),
      (f) => {
        const [offsets, ids, weights, out, batch, feature, outAt, ...addrs] = f.params as Local[];
        return [
          poolTable(w, f, spec, withAddresses(model, feature!, outAt!, addrs), members[0]!, {
            offsets: offsets!,
            ids: ids!,
            weights: weights!,
            out: out!,
            batch: batch!,
          }),
        ];
      },
    );
    for (const ti of members) helpers.set(ti, { name: helper, args: (t, i) => [t.feature as number, outOffset(spec, t, i), ...addressesOf(t)] });
  }
  w.func(name, ["i32", "i32", "i32", "i32", "i32"], (f) => {
    const [offsets, ids, weights, out, batch] = f.params as [Local, Local, Local, Local, Local];
    return spec.tables.map((t, ti) => {
      const h = helpers.get(ti);
      if (!h) return poolTable(w, f, spec, t, ti, { offsets, ids, weights, out, batch });
      return w.call(h.name, [offsets.get(), ids.get(), weights.get(), out.get(), batch.get(), ...h.args(t, ti).map((v) => w.i32(v))]);
    });
  });
}

/** Byte offset of a table's first output column within an output row. */
const outOffset = (spec: EmbeddingSpec, t: BagTable, ti: number): number => ((t.slot ?? ti) * spec.dim + (t.cols?.[0] ?? 0)) * 4;

/** Everything about a table's code except its feature, output slot and addresses (and the last range's end, which no code reads). */
function shapeKey(t: BagTable): string {
  const src = (r: RowSource) => [r.format, r.rowBytes];
  return JSON.stringify([
    src(t),
    t.cols ? t.cols[1] - t.cols[0] : null,
    t.ranges?.map((r, i) => [...src(r), r.start, i < t.ranges!.length - 1 ? r.end : null]) ?? null,
    t.hot
      ? [
          ...(t.hot.form === "rank"
            ? ["rank"]
            : [simdSearch(t.hot.count) ? `simd${pivotVectors(t.hot.count, t.hot.idBytes)}` : t.hot.count, t.hot.idBytes]),
          ...src(t.hot.rows),
        ]
      : null,
  ]);
}

/** A table's addresses (and a SIMD-searched hot list's length, blocks and pivots address), in the order a shared function takes them. */
function addressesOf(t: BagTable): number[] {
  const all: Addr[] = t.ranges ? t.ranges.map((r) => r.address) : [t.address];
  if (t.hot) {
    all.push(t.hot.ids, t.hot.rows.address);
    const blocks = Math.ceil(t.hot.count / HOT_BLOCK);
    if (sharesHotParams(t.hot)) all.push(t.hot.count, blocks, (t.hot.ids as number) + hotPivotsAt(t.hot.count, t.hot.idBytes));
  }
  return all as number[];
}

/** The table with its feature, output offset and addresses replaced by a shared function's parameters. */
function withAddresses(t: BagTable, feature: Local, outAt: Local, addrs: Local[]): BagTable {
  let n = 0;
  const next = () => addrs[n++]!;
  const ranges = t.ranges?.map((r) => ({ ...r, address: next() }));
  const address = ranges ? ranges[0]!.address : next();
  const hot = t.hot
    ? {
        ...t.hot,
        ids: next(),
        rows: { ...t.hot.rows, address: next() },
        ...(sharesHotParams(t.hot) ? { shared: { count: next(), blocks: next(), pivots: next() } } : {}),
      }
    : undefined;
  return { ...t, feature, outAt, address, ...(ranges ? { ranges } : {}), ...(hot ? { hot } : {}) };
}

interface Params {
  offsets: Local;
  ids: Local;
  weights: Local;
  out: Local;
  batch: Local;
}

function poolTable(w: WasmModule, f: FunctionBuilder, spec: EmbeddingSpec, t: BagTable, ti: number, a: Params): Expr {
  const [c0, c1] = t.cols ?? [0, spec.dim];
  const dim = c1 - c0;
  const vecs = Math.ceil(dim / 4);
  const b = f.local("i32");
  const at = f.local("i32"); // address of offsets[feature*B + b]
  const p = f.local("i32");
  const end = f.local("i32");
  const row = f.local("i32");
  const acc = Array.from({ length: vecs }, () => f.local("v128"));
  const val = f.local("v128");
  const half = f.local("v128");
  const max = spec.pool === "max";
  const ctx: RowContext = { w, f, spec, dim, vecs, row, acc, val, half, a, p };
  const id = () => w.loadI32(w.add(a.ids.get(), w.shl(p.get(), w.i32(2))));
  const perId = t.ranges ? routedRow(ctx, t, id) : accumulateRow(ctx, t, id());

  const perSample: Expr[] = [
    at.set(w.add(a.offsets.get(), w.shl(w.add(w.mul(valueOf(w, t.feature), a.batch.get()), b.get()), w.i32(2)))),
    end.set(w.loadI32(at.get(), 4)),
    ...acc.map((x) => x.set(max ? w.splat(w.f32(-Infinity)) : w.zero())),
    f.forRange(p, w.loadI32(at.get()), () => end.get(), 1, perId),
  ];
  const count = () => w.sub(end.get(), w.loadI32(at.get()));
  if (spec.pool === "mean")
    perSample.push(w.if(w.gt(count(), w.i32(0)), w.block(acc.map((x) => x.set(w.divX4(x.get(), w.splat(w.f32FromI32(count()))))))));
  if (max) perSample.push(w.if(w.eqz(count()), w.block(acc.map((x) => x.set(w.zero())))));
  // Store: out + (b*outWidth + slot*dim + c0)*4, whole vectors then the valid lanes of the last.
  const dst = f.local("i32");
  const row0 = w.add(a.out.get(), w.mul(b.get(), w.i32(spec.outWidth * 4)));
  perSample.push(dst.set(t.outAt ? w.add(row0, t.outAt.get()) : row0));
  for (let v = 0; v < vecs; v++) {
    const offset = (t.outAt ? 0 : ((t.slot ?? ti) * spec.dim + c0) * 4) + v * 16;
    const lanes = Math.min(4, dim - v * 4);
    if (lanes === 4) perSample.push(w.store(dst.get(), acc[v]!.get(), offset));
    else for (let l = 0; l < lanes; l++) perSample.push(w.storeLane(dst.get(), acc[v]!.get(), l, offset + l * 4));
  }
  return f.forRange(b, w.i32(0), () => a.batch.get(), 1, perSample);
}

/** What adding one row into the accumulators needs. */
interface RowContext {
  w: WasmModule;
  f: FunctionBuilder;
  spec: EmbeddingSpec;
  /** Values per row (a column part's width). */
  dim: number;
  vecs: number;
  row: Local;
  acc: Local[];
  val: Local;
  half: Local;
  a: Params;
  p: Local;
}

/** Adds row `index` of `src` (weighted when the bags are) into the accumulators. */
function accumulateRow(c: RowContext, src: RowSource, index: Expr): Expr[] {
  const { w, f, spec, row, acc, val, half, a, p } = c;
  const max = spec.pool === "max";
  const rs = rowScale(f, src.format, c.dim);
  const out: Expr[] = [row.set(w.add(valueOf(w, src.address), w.mul(index, w.i32(src.rowBytes))))];
  out.push(...rowSetup(w, f, c.dim, src.format, row, rs));
  for (let v = 0; v < c.vecs; v++) {
    const { setup, value } = rowValues(w, f, src.format, row, v, half, rs);
    out.push(...setup, val.set(value));
    if (spec.weighted) out.push(val.set(w.mulX4(w.splat(w.loadF32(w.add(a.weights.get(), w.shl(p.get(), w.i32(2))))), val.get())));
    out.push(acc[v]!.set(max ? w.maxX4(acc[v]!.get(), val.get()) : w.addX4(acc[v]!.get(), val.get())));
  }
  return out;
}

/** Row `r` from the range holding it: `if (r < end0) ... else if (r < end1) ... else last` (ranges cover every valid row). */
function fromRanges(c: RowContext, ranges: RowRange[], r: Local): Expr[] {
  const { w } = c;
  const take = (x: RowRange): Expr[] => accumulateRow(c, x, w.sub(r.get(), w.i32(x.start)));
  let chain = w.block(take(ranges[ranges.length - 1]!));
  for (let i = ranges.length - 2; i >= 0; i--) chain = w.if(w.lt(r.get(), w.i32(ranges[i]!.end)), w.block(take(ranges[i]!)), chain);
  return [chain];
}

/** One id of a split table: from its hot part if the id is hot, else from the range of rows (or cold rows) holding it. */
function routedRow(c: RowContext, t: BagTable, id: () => Expr): Expr[] {
  const { w, f } = c;
  const r = f.local("i32");
  if (!t.hot) return [r.set(id()), ...fromRanges(c, t.ranges!, r)];
  const key = f.local("i32");
  const k = f.local("i32");
  if (t.hot.form === "rank") return rankRouted(c, t, t.hot, id, key, k, r);
  const { ids, count, idBytes, rows, shared } = t.hot;
  const narrow = idBytes === 2;
  const hotAt = (index: Expr) =>
    narrow ? w.loadU16(w.add(valueOf(w, ids), w.shl(index, w.i32(1)))) : w.loadI32(w.add(valueOf(w, ids), w.shl(index, w.i32(2))));
  // k = number of hot ids below key (layout.ts hotIdsBytes: blocks of HOT_BLOCK ids, then each block's
  // last id). Counted with SIMD compares, no branches (ids are random, a branch per step of a binary
  // search is mispredicted half the time): b = blocks whose last id is below key; all their ids are;
  // then the ids below key in block min(b, blocks-1). Long lists keep the binary search.
  const blocks = Math.ceil(count / HOT_BLOCK);
  // The list's length, blocks and pivots address: constants, or a shared function's parameters.
  const countOf = () => (shared ? shared.count.get() : w.i32(count));
  const search: Expr[] = [key.set(id())];
  if (simdSearch(count)) {
    const keys = f.local("v128");
    const b = f.local("i32");
    // Ids below key among a vector's lanes (4 i32 or 8 u16).
    const lanes = 16 / idBytes;
    const below = (at: Expr, offset: number) =>
      w.popcnt(narrow ? w.bitmaskI16x8(w.ltU16x8(w.load(at, offset), keys.get())) : w.bitmaskI32x4(w.ltI32x4(w.load(at, offset), keys.get())));
    const sum = (terms: Expr[]) => terms.reduce((x, y) => w.add(x, y));
    const pivots = () => (shared ? shared.pivots.get() : w.i32((ids as number) + hotPivotsAt(count, idBytes)));
    search.push(
      keys.set(narrow ? w.splatI16(key.get()) : w.splatI32(key.get())),
      b.set(sum(Array.from({ length: pivotVectors(count, idBytes) }, (_, v) => below(pivots(), v * 16)))),
    );
    const blocksOf = () => (shared ? shared.blocks.get() : w.i32(blocks));
    const block = () => w.shl(w.select(w.lt(b.get(), blocksOf()), b.get(), w.sub(blocksOf(), w.i32(1))), w.i32(Math.log2(HOT_BLOCK)));
    search.push(
      k.set(
        w.add(
          block(),
          sum(Array.from({ length: HOT_BLOCK / lanes }, (_, v) => below(w.add(valueOf(w, ids), w.shl(block(), w.i32(Math.log2(idBytes)))), v * 16))),
        ),
      ),
    );
  } else {
    // Add each power of two (largest first) while the id before that position is still below key.
    search.push(k.set(w.i32(0)));
    for (let step = 2 ** Math.floor(Math.log2(count)); step >= 1; step /= 2)
      search.push(
        w.if(
          w.lt(w.i32(count - step), k.get()),
          w.nop(),
          w.if(w.lt(hotAt(w.add(k.get(), w.i32(step - 1))), key.get()), k.set(w.add(k.get(), w.i32(step)))),
        ),
      );
  }
  const done = f.label("hot");
  const hot = w.if(
    w.lt(k.get(), countOf()),
    w.if(w.eqz(w.sub(hotAt(k.get()), key.get())), w.block([...accumulateRow(c, rows, k.get()), w.br(done)])),
  );
  // Not hot: it is cold row key - k.
  return [w.block([...search, hot, r.set(w.sub(key.get(), k.get())), ...fromRanges(c, t.ranges!, r)], done)];
}

/**
 * routedRow with a rank bitmap (layout.ts hotIdsBytes): key's group of 64
 * rows holds a bit per row (set: hot) and the count of hot rows before it, so
 * k = that count + the set bits below key's, and the bit says hot or cold —
 * one load and a popcount, where a list search takes a chain of dependent
 * vector steps before the branch can resolve.
 */
function rankRouted(c: RowContext, t: BagTable, hot: NonNullable<BagTable["hot"]>, id: () => Expr, key: Local, k: Local, r: Local): Expr[] {
  const { w, f } = c;
  const group = f.local("i32");
  const bits = f.local("i64");
  const bit = f.local("i64");
  const done = f.label("hot");
  const search = [
    key.set(id()),
    group.set(w.add(valueOf(w, hot.ids), w.mul(w.shrU(key.get(), w.i32(Math.log2(RANK_GROUP))), w.i32(RANK_GROUP_BYTES)))),
    bits.set(w.loadI64(group.get(), 0, 1)),
    bit.set(w.i64FromU32(w.andI32(key.get(), w.i32(RANK_GROUP - 1)))),
    k.set(w.add(w.loadI32(group.get(), 8, 1), w.wrapI64(w.popcntI64(w.andI64(bits.get(), w.subI64(w.shlI64(w.i64(1), bit.get()), w.i64(1))))))),
  ];
  const isHot = w.andI32(w.wrapI64(w.shrUI64(bits.get(), bit.get())), w.i32(1));
  const take = w.if(isHot, w.block([...accumulateRow(c, hot.rows, k.get()), w.br(done)]));
  // Not hot: it is cold row key - k.
  return [w.block([...search, take, r.set(w.sub(key.get(), k.get())), ...fromRanges(c, t.ranges!, r)], done)];
}

/** Registers holding the current row's dequantization scale and bias (splat), for the quantized formats. */
interface RowScale {
  scale: Local;
  bias: Local;
  /** int4/int2: the row's packed 32-bit words, each splat (loaded once per row). */
  words: Local[];
}

/** Registers for a quantized table's rows (undefined for f32/f16). */
function rowScale(f: FunctionBuilder, format: TableFormat, dim: number): RowScale | undefined {
  if (format === "fp32" || format === "fp16") return undefined;
  const words = format === "int8" ? 0 : Math.ceil(packedBytes(format, dim) / 4);
  return { scale: f.local("v128"), bias: f.local("v128"), words: Array.from({ length: words }, () => f.local("v128")) };
}

/** Bytes of packed values in a row of `dim` (before the scale and bias). */
const packedBytes = (format: TableFormat, dim: number): number =>
  format === "int8" ? dim : format === "int4" ? Math.ceil(dim / 2) : Math.ceil(dim / 4);

/**
 * Once per id: the row's scale and bias as splat registers (f32 for int8; for
 * int4/int2 both f16 halves of one 32-bit load widened together, then each
 * broadcast), and the packed words of int4/int2 rows.
 */
function rowSetup(w: WasmModule, f: FunctionBuilder, dim: number, format: TableFormat, row: Local, rs: RowScale | undefined): Expr[] {
  if (!rs) return [];
  const { scale, bias } = rs;
  const at = packedBytes(format, dim);
  // Rows are packed tightly (rowBytes is not a multiple of 4), so these loads may be unaligned.
  if (format === "int8") return [scale.set(w.splat(w.loadF32(row.get(), at, 1))), bias.set(w.splat(w.loadF32(row.get(), at + 4, 1)))];
  const halves = f.local("v128");
  const widened = f.local("v128");
  const widen = f16x4ToF32(w, f, halves);
  // The two halves zero-extended into lanes 0 (scale) and 1 (bias), reading exactly the row's last 4 bytes.
  const out = [
    halves.set(w.extendLowU16(w.load32Zero(row.get(), at))),
    widen.setup,
    widened.set(widen.value),
    scale.set(w.broadcastLane(widened.get(), 0)),
    bias.set(w.broadcastLane(widened.get(), 1)),
  ];
  // A word at byte 4i < packed ends at most 3 bytes later: inside the row, whose scale and bias follow.
  rs.words.forEach((word, i) => out.push(word.set(w.splatI32(w.loadI32(row.get(), i * 4, 1)))));
  return out;
}

/** Dimensions 4v..4v+3 of the row at `row` as f32x4 (lanes past `dim` are junk the caller never stores). */
function rowValues(
  w: WasmModule,
  f: FunctionBuilder,
  format: TableFormat,
  row: Local,
  v: number,
  half: Local,
  rs: RowScale | undefined,
): { setup: Expr[]; value: Expr } {
  if (format === "fp32") return { setup: [], value: w.load(row.get(), v * 16) };
  if (format === "fp16") {
    const widen = f16x4ToF32(w, f, half);
    return { setup: [half.set(w.loadU16x4(row.get(), v * 8)), widen.setup], value: widen.value };
  }
  let q: Expr;
  // int8 reads 8 bytes for 4 values: the 8 trailing scale/bias bytes keep that inside the row.
  if (format === "int8") q = w.extendLowU16(w.loadU8x8(row.get(), v * 4));
  else {
    const bits = format === "int4" ? 4 : 2;
    const bit = 4 * v * bits;
    q = unpackLanes(w, rs!.words[Math.floor(bit / 32)]!.get(), bit % 32, bits);
  }
  return { setup: [], value: w.addX4(w.mulX4(w.convertI32x4(q), rs!.scale.get()), rs!.bias.get()) };
}
