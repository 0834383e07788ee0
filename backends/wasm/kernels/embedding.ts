// Wasm kernel: embedding bags. For each table and sample, pools the table rows
// its bag names (KJT ids; `offsets` are the prefix sums of the lengths, made
// by `forward`) with sum, mean or max, optionally weighting each row, four
// dimensions per f32x4. Rows are f32 or f16 (widened exactly in registers).
// Pooling order and rounding follow the reference interpreter: rows added in
// bag order from zero, a weighted row is w·row first, mean divides at the end,
// max starts from the first row, an empty bag gives zeros.

import type { Expr, FunctionBuilder, Local, WasmModule } from "../module.js";

export interface BagTable {
  /** Address of the table's rows. */
  address: number;
  /** Elements per row in memory (dim rounded up to a multiple of 4). */
  stride: number;
  f16: boolean;
  /** Bag feature this table reads. */
  feature: number;
}

export interface EmbeddingSpec {
  tables: BagTable[];
  dim: number;
  pool: "sum" | "mean" | "max";
  weighted: boolean;
  /** Floats per output sample (tables·dim stacked, or dim). */
  outWidth: number;
}

/** 2^112: scales an f16 bit pattern shifted into f32 position back to its value (normal and subnormal alike). */
const F16_SCALE = 2 ** 112;

/** Widens four f16 values (u16 lanes already zero-extended into i32x4, in `h`) to f32x4 exactly, inf and NaN included. */
export function f16x4ToF32(w: WasmModule, f: FunctionBuilder, h: Local): { setup: Expr; value: Expr } {
  const em = f.local("v128");
  const set = em.set(w.and(h.get(), w.i32x4(0x7fff)));
  const normal = w.mulX4(w.shlI32x4(em.get(), 13), w.splat(w.f32(F16_SCALE)));
  const special = w.or(w.shlI32x4(em.get(), 13), w.i32x4(0x7f800000));
  const magnitude = w.bitselect(special, normal, w.gtI32x4(em.get(), w.i32x4(0x7bff)));
  return { setup: set, value: w.or(magnitude, w.shlI32x4(w.and(h.get(), w.i32x4(0x8000)), 16)) };
}

/** Emits `name(offsets, ids, weights, out, batch)`. */
export function emitEmbeddingBag(w: WasmModule, name: string, spec: EmbeddingSpec): void {
  w.func(name, ["i32", "i32", "i32", "i32", "i32"], (f) => {
    const [offsets, ids, weights, out, batch] = f.params as [Local, Local, Local, Local, Local];
    return spec.tables.map((t, ti) => poolTable(w, f, spec, t, ti, { offsets, ids, weights, out, batch }));
  });
}

interface Params {
  offsets: Local;
  ids: Local;
  weights: Local;
  out: Local;
  batch: Local;
}

function poolTable(w: WasmModule, f: FunctionBuilder, spec: EmbeddingSpec, t: BagTable, ti: number, a: Params): Expr {
  const vecs = Math.ceil(spec.dim / 4);
  const b = f.local("i32");
  const at = f.local("i32"); // address of offsets[feature*B + b]
  const p = f.local("i32");
  const end = f.local("i32");
  const row = f.local("i32");
  const acc = Array.from({ length: vecs }, () => f.local("v128"));
  const val = f.local("v128");
  const half = f.local("v128");
  const max = spec.pool === "max";
  const rowBytes = t.stride * (t.f16 ? 2 : 4);

  const perId: Expr[] = [row.set(w.add(w.i32(t.address), w.mul(w.loadI32(w.add(a.ids.get(), w.shl(p.get(), w.i32(2)))), w.i32(rowBytes))))];
  for (let v = 0; v < vecs; v++) {
    if (t.f16) {
      perId.push(half.set(w.loadU16x4(row.get(), v * 8)));
      const widen = f16x4ToF32(w, f, half);
      perId.push(widen.setup, val.set(widen.value));
    } else perId.push(val.set(w.load(row.get(), v * 16)));
    if (spec.weighted) perId.push(val.set(w.mulX4(w.splat(w.loadF32(w.add(a.weights.get(), w.shl(p.get(), w.i32(2))))), val.get())));
    perId.push(acc[v]!.set(max ? w.maxX4(acc[v]!.get(), val.get()) : w.addX4(acc[v]!.get(), val.get())));
  }

  const perSample: Expr[] = [
    at.set(w.add(a.offsets.get(), w.shl(w.add(w.mul(w.i32(t.feature), a.batch.get()), b.get()), w.i32(2)))),
    end.set(w.loadI32(at.get(), 4)),
    ...acc.map((x) => x.set(max ? w.splat(w.f32(-Infinity)) : w.zero())),
    f.forRange(p, w.loadI32(at.get()), () => end.get(), 1, perId),
  ];
  const count = () => w.sub(end.get(), w.loadI32(at.get()));
  if (spec.pool === "mean") perSample.push(w.if(w.gt(count(), w.i32(0)), w.block(acc.map((x) => x.set(w.divX4(x.get(), w.splat(w.f32FromI32(count()))))))));
  if (max) perSample.push(w.if(w.eqz(count()), w.block(acc.map((x) => x.set(w.zero())))));
  // Store: out + (b*outWidth + ti*dim)*4, whole vectors then the valid lanes of the last.
  const dst = f.local("i32");
  perSample.push(dst.set(w.add(a.out.get(), w.mul(b.get(), w.i32(spec.outWidth * 4)))));
  for (let v = 0; v < vecs; v++) {
    const offset = (ti * spec.dim + v * 4) * 4;
    const lanes = Math.min(4, spec.dim - v * 4);
    if (lanes === 4) perSample.push(w.store(dst.get(), acc[v]!.get(), offset));
    else for (let l = 0; l < lanes; l++) perSample.push(w.storeLane(dst.get(), acc[v]!.get(), l, offset + l * 4));
  }
  return f.forRange(b, w.i32(0), () => a.batch.get(), 1, perSample);
}
