// Wasm kernel: int8a7 dense layer (docs/numerics.md, src/quant/dense.ts
// `int8a7Linear`): int8 weights, 7-bit activation codes. First every sample's
// row is quantized once into a scratch record (u8 codes, padded with 0 to a
// multiple of 4, then the row's scale s): s = max|x|/127 (zero point 0) or
// max|x|/63 (zero point 64), q = clamp(rne(x · (1/s)), 0..127 or ±63) + zero,
// NaN → the zero point. Then a register-tiled loop over panels of 8 outputs
// in `panels-i8q` form (layout.ts: per group of 4 inputs, outputs 0-3 then
// 4-7, each output's 4 weights adjacent), one i32 splat of 4 codes per row:
// - relaxed modules: `i32x4.relaxed_dot_i8x16_i7x16_add_s`, 8 outputs × 4
//   inputs in two instructions; the codes are in 0..127, where every engine
//   gives the exact sum;
// - SIMD128 modules: the same integers by widening: weights sign-extended to
//   i16 as they load, the codes zero-extended, `i32x4.dot_i16x8_s` giving
//   each output two partial sums that the epilogue adds pairwise.
// Integer sums are exact, so both forms give the same acc bit for bit. The
// zero point is taken back out by adding −64·Σ_k w[o,k] (stored per output).
// Epilogue: f32(acc) · (s · scale) + bias, then relu, as the int8 kernel.

import type { Expr, FunctionBuilder, Local, WasmModule } from "../module.js";
import { I8Q_GROUP_BYTES, PANEL } from "../layout.js";
import { ROUNDER, ROUNDER_BITS, rowMaxAbs, storeFloats } from "./gemm-int8.js";

export interface I7GemmSpec {
  inF: number;
  outF: number;
  /** Address of the k-group panels (layout.ts `panels-i8q`). */
  weights: number;
  /** Address of the per-output f32 scales, padded to whole panels. */
  scales: number;
  /** Address of the per-output i32 corrections −64·Σ_k w[o,k], padded to whole panels. */
  corr: number;
  bias: number | undefined;
  act: "none" | "relu";
  /** The zero point of the codes: 0 for a non-negative input, else 64 (src/ir/attrs.ts a7ZeroOf). */
  zero: 0 | 64;
}

const align16 = (n: number): number => Math.ceil(n / 16) * 16;
/** Groups of 4 inputs (the last zero-padded). */
const groupsOf = (inF: number): number => Math.ceil(inF / 4);
/** Byte offset of the row scale s within a sample's scratch record. */
const scaleAt = (inF: number): number => align16(groupsOf(inF) * 4);

/** Bytes per sample of the scratch an int8a7 layer needs: its u8 codes (padded to 4, then 16), then its scale. */
export const i7ScratchBytes = (inF: number): number => scaleAt(inF) + 16;

/** Samples per register tile: relaxed 4 rows × 2 accumulators; widened 2 rows × 4 (each output's sums in two lanes). */
const rowsPerTile = (relaxed: boolean): number => (relaxed ? 4 : 2);

/** Emits `name(x, y, scratch, batch)`: x [batch, inF] f32, y [batch, outF] f32, scratch batch × i7ScratchBytes(inF). */
export function emitI7Gemm(w: WasmModule, name: string, spec: I7GemmSpec): void {
  w.func(name, ["i32", "i32", "i32", "i32"], (f) => {
    const [x, y, scratch, batch] = f.params as [Local, Local, Local, Local];
    const full = Math.floor(spec.outF / PANEL);
    const rest = spec.outF % PANEL;
    const b = f.local("i32");
    const p = f.local("i32");
    const body: Expr[] = [f.forRange(b, w.i32(0), () => batch.get(), 1, quantizeRow(w, f, spec, x, scratch, b))];
    const panel = (at: () => Expr, valid: number): Expr =>
      f.rowTiles(
        () => batch.get(),
        rowsPerTile(w.relaxed),
        (r, rows) => rowTile(w, f, spec, y, scratch, r, at, rows, valid),
      );
    if (full > 0) body.push(f.forRange(p, w.i32(0), () => w.i32(full), 1, [panel(() => p.get(), PANEL)]));
    if (rest > 0) body.push(panel(() => w.i32(full), rest));
    return body;
  });
}

/** Quantizes x row `b` into its scratch record: 16 codes per step (four f32x4 narrowed to one u8x16), the rest one by one. */
function quantizeRow(w: WasmModule, f: FunctionBuilder, spec: I7GemmSpec, x: Local, q: Local, b: Local): Expr[] {
  const { inF, zero } = spec;
  const xp = f.local("i32");
  const qp = f.local("i32");
  const s = f.local("f32");
  const inv = f.local("f32");
  const i = f.local("i32");
  const m = rowMaxAbs(w, f, xp, inF);
  const out: Expr[] = [xp.set(w.add(x.get(), w.mul(b.get(), w.i32(inF * 4)))), qp.set(w.add(q.get(), w.mul(b.get(), w.i32(i7ScratchBytes(inF)))))];
  out.push(...m.body);
  // m == 0 → 1; a NaN m fails the comparison and gives NaN, as the spec says.
  out.push(s.set(w.select(w.eqF32(m.value(), w.f32(0)), w.f32(1), w.divF32(m.value(), w.f32(zero === 0 ? 127 : 63)))));
  out.push(inv.set(w.divF32(w.f32(1), s.get())), w.storeF32(qp.get(), s.get(), scaleAt(inF)));
  const [lo, hi] = zero === 0 ? [0, 127] : [-63, 63];
  // v = x·inv; NaN lanes → 0 (v == v is false only for NaN); clamp; 1.5·2^23 rounds half to even (gemm-int8.ts); + zero.
  const t = f.local("v128");
  const c = [0, 1, 2, 3].map(() => f.local("v128"));
  const code4 = (h: number): Expr[] => [
    t.set(w.mulX4(w.load(w.add(xp.get(), w.shl(i.get(), w.i32(6))), h * 16), w.splat(inv.get()))),
    t.set(w.and(t.get(), w.eqX4(t.get(), t.get()))),
    c[h]!.set(
      w.addI32x4(
        w.subI32x4(w.addX4(w.pminX4(w.pmaxX4(t.get(), w.splat(w.f32(lo))), w.splat(w.f32(hi))), w.splat(w.f32(ROUNDER))), w.i32x4(ROUNDER_BITS)),
        w.i32x4(zero),
      ),
    ),
  ];
  const sixteens = Math.floor(inF / 16);
  if (sixteens > 0)
    out.push(
      f.forRange(i, w.i32(0), () => w.i32(sixteens), 1, [
        ...[0, 1, 2, 3].flatMap(code4),
        w.store(
          w.add(qp.get(), w.shl(i.get(), w.i32(4))),
          w.narrowU8x16(w.narrowI32x4(c[0]!.get(), c[1]!.get()), w.narrowI32x4(c[2]!.get(), c[3]!.get())),
        ),
      ]),
    );
  // The tail one by one with the scalar ops that compute the same values (never reading past the row), then 0s to a whole group.
  for (let k = sixteens * 16; k < groupsOf(inF) * 4; k++) {
    const v = () => w.mulF32(w.loadF32(xp.get(), k * 4), inv.get());
    const code = k < inF ? w.add(w.truncSatF32(w.nearestF32(w.minF32(w.maxF32(v(), w.f32(lo)), w.f32(hi)))), w.i32(zero)) : w.i32(0);
    out.push(w.storeI8(qp.get(), code, k));
  }
  return out;
}

/** One tile: `rows` samples from row r, the `valid` columns of panel p. */
function rowTile(
  w: WasmModule,
  f: FunctionBuilder,
  spec: I7GemmSpec,
  y: Local,
  q: Local,
  r: () => Expr,
  p: () => Expr,
  rows: number,
  valid: number,
): Expr {
  const vecs = valid > 4 ? 2 : 1;
  const groups = groupsOf(spec.inF);
  const record = i7ScratchBytes(spec.inF);
  const relaxed = w.relaxed;
  // Relaxed: one accumulator per 4 outputs. Widened: per 2 outputs, each output's sum split over two lanes.
  const perRow = relaxed ? vecs : vecs * 2;
  const acc = Array.from({ length: rows * perRow }, () => f.local("v128"));
  const wv = Array.from({ length: perRow }, () => f.local("v128"));
  const xs = f.local("v128");
  const qp = f.local("i32");
  const wp = f.local("i32");
  const k = f.local("i32");
  const corrAt = (v: number): Expr => w.load(w.add(w.i32(spec.corr), w.mul(p(), w.i32(PANEL * 4))), v * 16);
  const step: Expr[] = wv.map((v, j) => v.set(relaxed ? w.load(wp.get(), j * 16) : w.loadI8x8(wp.get(), j * 8)));
  for (let i = 0; i < rows; i++) {
    step.push(xs.set(relaxed ? w.loadSplat(qp.get(), i * record) : w.extendLowU8(w.loadSplat(qp.get(), i * record))));
    for (let j = 0; j < perRow; j++) {
      const a = acc[i * perRow + j]!;
      step.push(a.set(relaxed ? w.relaxedDotI8I7Add(wv[j]!.get(), xs.get(), a.get()) : w.addI32x4(a.get(), w.dotI16x8(wv[j]!.get(), xs.get()))));
    }
  }
  step.push(qp.set(w.add(qp.get(), w.i32(4))), wp.set(w.add(wp.get(), w.i32(I8Q_GROUP_BYTES))));
  const out: Expr[] = [
    // The relaxed form starts from the zero point's correction; the widened form adds it after the pairwise sums.
    ...acc.map((a, n) => a.set(relaxed && spec.zero === 64 ? corrAt(n % perRow) : w.zero())),
    qp.set(w.add(q.get(), w.mul(r(), w.i32(record)))),
    wp.set(w.add(w.i32(spec.weights), w.mul(p(), w.i32(groups * I8Q_GROUP_BYTES)))),
    f.forRange(k, w.i32(0), () => w.i32(groups), 1, step),
  ];
  const sp = f.local("i32");
  out.push(sp.set(w.add(q.get(), w.mul(r(), w.i32(record)))));
  const values: Local[] = [];
  for (let i = 0; i < rows; i++)
    for (let v = 0; v < vecs; v++) {
      let sum: Expr;
      if (relaxed) sum = acc[i * perRow + v]!.get();
      else {
        const [a, b] = [acc[i * perRow + 2 * v]!, acc[i * perRow + 2 * v + 1]!];
        sum = w.addI32x4(w.shuffle32(a.get(), b.get(), [0, 2, 4, 6]), w.shuffle32(a.get(), b.get(), [1, 3, 5, 7]));
        if (spec.zero === 64) sum = w.addI32x4(sum, corrAt(v));
      }
      const s = w.splat(w.loadF32(sp.get(), i * record + scaleAt(spec.inF)));
      const scale = w.mulX4(s, w.load(w.add(w.i32(spec.scales), w.mul(p(), w.i32(PANEL * 4))), v * 16));
      let val = w.mulX4(w.convertI32x4(sum), scale);
      if (spec.bias !== undefined) val = w.addX4(val, w.load(w.add(w.i32(spec.bias), w.mul(p(), w.i32(PANEL * 4))), v * 16));
      if (spec.act === "relu") val = w.maxX4(val, w.zero());
      const tmp = f.local("v128");
      out.push(tmp.set(val));
      values.push(tmp);
    }
  out.push(...storeFloats(w, f, spec, values, y, r, p, rows, valid));
  return w.block(out);
}
