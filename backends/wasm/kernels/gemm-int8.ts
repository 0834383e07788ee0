// Wasm kernel: int8 dense layer (docs/numerics.md, src/quant/dense.ts
// `int8Linear`). First every sample's activation row is quantized once into
// a scratch record (i16 values, inputs padded to an even count, then the
// row's scale s): s static or max|x|/127, q = clamp(rne(x · (1/s)), ±127)
// with NaN → 0. Then a register-tiled loop like the f32 GEMM: per pair of
// inputs, the pair of activations is splat as one i32 and multiplied with the
// int8 weights (sign-extended to i16 as they load) by `i32x4.dot_i16x8_s`
// into i32x4 accumulators (exact, so the order is free). Epilogue:
// f32(acc) · (s · scale) + bias, then relu — the spec's f32 steps exactly.
// Folded quantization (fold-quant): a layer may read codes another layer
// wrote (no quantize step; s is its static scale), and a layer may write,
// instead of f32 outputs, the codes the next layer would make of them, in the
// next layer's scratch-record form — the f32 outputs never reach memory.

import type { Expr, FunctionBuilder, Local, WasmModule } from "../module.js";
import { I8_PAIR_BYTES, PANEL } from "../layout.js";

/** Samples per register tile: 4 rows × 2 vectors of accumulators + weights (2) + activations (1) = 11 registers. */
export const INT8_ROWS = 4;

export interface Int8GemmSpec {
  inF: number;
  outF: number;
  /** Address of the k-pair panels (layout.ts `panels-i8`). */
  weights: number;
  /** Address of the per-output f32 scales, padded to whole panels. */
  scales: number;
  bias: number | undefined;
  act: "none" | "relu";
  /** The static activation scale (an f32), or undefined for a dynamic scale per row. */
  actScale: number | undefined;
  /** Address of a smoothed layer's per-input multipliers (f32, padded to 4): the row is x·m before it is quantized. */
  actMul?: number;
  /** The input is int8 codes in scratch-record form (int8ScratchBytes(inF) per sample), made for this layer with its static scale. */
  codesIn?: boolean;
  /** Write the codes of the output instead (records of int8ScratchBytes(outF)): static scale `scale`, multipliers at `mul` (f32, padded to 4). */
  codesOut?: { scale: number; mul?: number };
}

/** 1.5·2^23: adding it to |v| <= 2^22 rounds v to an integer (ties to even) held in the low mantissa bits. */
export const ROUNDER = 12582912;
/** The bit pattern of ROUNDER as an f32. */
export const ROUNDER_BITS = 0x4b400000;
/** 2^-119: from here up m/127 is a normal f32 and 1/(m/127) is finite. */
const FAST_MIN_BITS = 0x04000000;
/** +infinity's bits; a NaN's (sign cleared) are above. */
const F32_INF_BITS = 0x7f800000;

const align16 = (n: number): number => Math.ceil(n / 16) * 16;
const pairsOf = (inF: number): number => Math.ceil(inF / 2);
/** Byte offset of the row scale s within a sample's scratch record. */
const scaleAt = (inF: number): number => align16(pairsOf(inF) * 4);

/** Bytes per sample of the scratch an int8 layer needs: the quantized row (i16, even length), then its scale. */
export const int8ScratchBytes = (inF: number): number => scaleAt(inF) + 16;

/**
 * Emits `name(x, y, scratch, batch)`: x [batch, inF] f32 (or codes records,
 * `codesIn`: then scratch is unused), y [batch, outF] f32 (or codes records,
 * `codesOut`), scratch batch × int8ScratchBytes(inF).
 */
export function emitInt8Gemm(w: WasmModule, name: string, spec: Int8GemmSpec): void {
  if (spec.codesIn && spec.actScale === undefined) throw new Error(`internal: ${name} reads codes but has no static scale`);
  w.func(name, ["i32", "i32", "i32", "i32"], (f) => {
    const [x, y, scratch, batch] = f.params as [Local, Local, Local, Local];
    const q = spec.codesIn ? x : scratch;
    const full = Math.floor(spec.outF / PANEL);
    const rest = spec.outF % PANEL;
    const b = f.local("i32");
    const p = f.local("i32");
    const body: Expr[] = spec.codesIn ? [] : [f.forRange(b, w.i32(0), () => batch.get(), 1, quantizeRow(w, f, spec, x, q, b))];
    if (full > 0) body.push(f.forRange(p, w.i32(0), () => w.i32(full), 1, [panel(w, f, spec, y, q, batch, () => p.get(), PANEL)]));
    if (rest > 0) body.push(panel(w, f, spec, y, q, batch, () => w.i32(full), rest));
    return body;
  });
}

/** Quantizes x row `b` into its scratch record. */
function quantizeRow(w: WasmModule, f: FunctionBuilder, spec: Int8GemmSpec, x: Local, q: Local, b: Local): Expr[] {
  const { inF } = spec;
  const xp = f.local("i32");
  const qp = f.local("i32");
  const s = f.local("f32");
  const inv = f.local("f32");
  const i = f.local("i32");
  const out: Expr[] = [xp.set(w.add(x.get(), w.mul(b.get(), w.i32(inF * 4)))), qp.set(w.add(q.get(), w.mul(b.get(), w.i32(int8ScratchBytes(inF)))))];
  let fast: Expr | undefined;
  if (spec.actScale === undefined) {
    const m = rowMaxAbs(w, f, xp, inF, spec.actMul);
    out.push(...m.body);
    // A finite m that keeps s = m/127 normal (or m = 0: s = 1) bounds every |x·inv| by
    // 127·(1 + 3·2^-24) < 127.5 and leaves no NaN, so the NaN mask and the clamp below change nothing:
    // such rows (all but those with NaN, infinities or a tiny m) skip them, 8 of 21 operations per 8 values.
    fast = w.orI32(w.eqz(m.bits()), w.ltU(w.sub(m.bits(), w.i32(FAST_MIN_BITS)), w.i32(F32_INF_BITS - FAST_MIN_BITS)));
    // m == 0 → 1; a NaN m fails the comparison and gives NaN / 127 = NaN, as the spec says.
    out.push(s.set(w.select(w.eqF32(m.value(), w.f32(0)), w.f32(1), w.divF32(m.value(), w.f32(127)))));
  } else out.push(s.set(w.f32(spec.actScale)));
  out.push(inv.set(w.divF32(w.f32(1), s.get())), w.storeF32(qp.get(), s.get(), scaleAt(inF)));
  // Eight values per step, two f32x4 narrowed to one i16x8 store. v = x·inv; NaN lanes → 0 (v == v is
  // false only for NaN); clamp to ±127 (pmin/pmax are single instructions and no NaN is left); then
  // adding 1.5·2^23 rounds to the nearest integer, ties to even (the f32 spacing there is 1), and leaves
  // it in the low mantissa bits: bits - bits(1.5·2^23) is rne(v) — f32x4.nearest + trunc_sat, cheaper.
  const v = [f.local("v128"), f.local("v128")];
  const quant4 = (t: Local): Expr =>
    w.subI32x4(w.addX4(w.pminX4(w.pmaxX4(t.get(), w.splat(w.f32(-127))), w.splat(w.f32(127))), w.splat(w.f32(ROUNDER))), w.i32x4(ROUNDER_BITS));
  const groups = Math.floor(inF / 8);
  // A smoothed layer multiplies each value by its channel's multiplier first (rounded to f32, as the spec says).
  const mulAt = (half: number) => w.load(w.add(w.i32(spec.actMul ?? 0), w.shl(i.get(), w.i32(5))), half * 16);
  const xAt = (half: number) =>
    spec.actMul === undefined
      ? w.load(w.add(xp.get(), w.shl(i.get(), w.i32(5))), half * 16)
      : w.mulX4(w.load(w.add(xp.get(), w.shl(i.get(), w.i32(5))), half * 16), mulAt(half));
  const round4 = (t: Local): Expr => w.subI32x4(w.addX4(t.get(), w.splat(w.f32(ROUNDER))), w.i32x4(ROUNDER_BITS));
  const loop = (checked: boolean): Expr =>
    f.forRange(i, w.i32(0), () => w.i32(groups), 1, [
      ...[0, 1].flatMap((h) => [
        v[h]!.set(w.mulX4(xAt(h), w.splat(inv.get()))),
        ...(checked ? [v[h]!.set(w.and(v[h]!.get(), w.eqX4(v[h]!.get(), v[h]!.get())))] : []),
      ]),
      w.store(
        w.add(qp.get(), w.shl(i.get(), w.i32(4))),
        checked ? w.narrowI32x4(quant4(v[0]!), quant4(v[1]!)) : w.narrowI32x4(round4(v[0]!), round4(v[1]!)),
      ),
    ]);
  if (groups > 0) out.push(fast === undefined ? loop(true) : w.if(fast, loop(false), loop(true)));
  // The tail one by one (never reading past the row), with the scalar ops that compute the same values.
  for (let k = groups * 8; k < inF; k++)
    out.push(
      w.storeI16(
        qp.get(),
        w.truncSatF32(w.minF32(w.maxF32(w.nearestF32(w.mulF32(scaledAt(w, xp, k, spec.actMul), inv.get())), w.f32(-127)), w.f32(127))),
        k * 2,
      ),
    );
  return out;
}

/**
 * max_k |x[k]| over one row, NaN propagating. Computed on bit patterns: with
 * the sign bit cleared, non-negative floats order like their bits as signed
 * integers, and every NaN sorts above infinity, so an integer max (one cheap
 * instruction, where f32x4.max's NaN rules cost several on a dependency
 * chain) gives max|x| — or a NaN when there is one.
 */
/** x[k] as the layer quantizes it: times its multiplier for a smoothed layer. */
const scaledAt = (w: WasmModule, xp: Local, k: number, actMul: number | undefined): Expr =>
  actMul === undefined ? w.loadF32(xp.get(), k * 4) : w.mulF32(w.loadF32(xp.get(), k * 4), w.loadF32(w.i32(actMul), k * 4));

export function rowMaxAbs(
  w: WasmModule,
  f: FunctionBuilder,
  xp: Local,
  inF: number,
  actMul?: number,
): { body: Expr[]; value: () => Expr; bits: () => Expr } {
  const mv = f.local("v128");
  const m = f.local("i32");
  const i = f.local("i32");
  const vecs = Math.floor(inF / 4);
  const body: Expr[] = [mv.set(w.zero())];
  if (vecs > 0)
    body.push(
      f.forRange(i, w.i32(0), () => w.i32(vecs), 1, [
        mv.set(
          w.maxI32x4(
            mv.get(),
            w.and(
              actMul === undefined
                ? w.load(w.add(xp.get(), w.shl(i.get(), w.i32(4))))
                : w.mulX4(w.load(w.add(xp.get(), w.shl(i.get(), w.i32(4)))), w.load(w.add(w.i32(actMul), w.shl(i.get(), w.i32(4))))),
              w.i32x4(0x7fffffff),
            ),
          ),
        ),
      ]),
    );
  const max = (a: Expr, b: () => Expr, aAgain: () => Expr): Expr => w.select(w.gt(a, b()), aAgain(), b());
  body.push(m.set(w.laneI32(mv.get(), 0)));
  for (let l = 1; l < 4; l++)
    body.push(
      m.set(
        max(
          w.laneI32(mv.get(), l),
          () => m.get(),
          () => w.laneI32(mv.get(), l),
        ),
      ),
    );
  for (let k = vecs * 4; k < inF; k++) {
    const bits = () => w.andI32(actMul === undefined ? w.loadI32(xp.get(), k * 4) : w.f32Bits(scaledAt(w, xp, k, actMul)), w.i32(0x7fffffff));
    body.push(m.set(max(bits(), () => m.get(), bits)));
  }
  return { body, value: () => w.f32FromBits(m.get()), bits: () => m.get() };
}

/** All rows of one panel: INT8_ROWS-row tiles, then single rows. */
function panel(w: WasmModule, f: FunctionBuilder, spec: Int8GemmSpec, y: Local, q: Local, batch: Local, p: () => Expr, valid: number): Expr {
  return f.rowTiles(
    () => batch.get(),
    INT8_ROWS,
    (r, rows) => rowTile(w, f, spec, y, q, r, p, rows, valid),
  );
}

/** One tile: `rows` samples from row r, the `valid` columns of panel p. */
function rowTile(
  w: WasmModule,
  f: FunctionBuilder,
  spec: Int8GemmSpec,
  y: Local,
  q: Local,
  r: () => Expr,
  p: () => Expr,
  rows: number,
  valid: number,
): Expr {
  const vecs = valid > 4 ? 2 : 1;
  const pairs = pairsOf(spec.inF);
  const record = int8ScratchBytes(spec.inF);
  const acc = Array.from({ length: rows * vecs }, () => f.local("v128"));
  const wv = Array.from({ length: vecs }, () => f.local("v128"));
  const xs = f.local("v128");
  const qp = f.local("i32");
  const wp = f.local("i32");
  const k = f.local("i32");
  // Per k-pair: the weights of outputs 0-3 and 4-7, sign-extended to i16 by the loads themselves
  // (cheaper than one load and two extends); per row, its two activations splat as one i32.
  const step = wv.map((v, half) => v.set(w.loadI8x8(wp.get(), half * 8)));
  for (let i = 0; i < rows; i++) {
    step.push(xs.set(w.loadSplat(qp.get(), i * record)));
    for (let v = 0; v < vecs; v++) step.push(acc[i * vecs + v]!.set(w.addI32x4(acc[i * vecs + v]!.get(), w.dotI16x8(wv[v]!.get(), xs.get()))));
  }
  step.push(qp.set(w.add(qp.get(), w.i32(4))), wp.set(w.add(wp.get(), w.i32(I8_PAIR_BYTES))));
  // (Unrolling two k-pairs per trip measured slower under V8: more live registers.)
  const out: Expr[] = [
    ...acc.map((a) => a.set(w.zero())),
    qp.set(w.add(q.get(), w.mul(r(), w.i32(record)))),
    wp.set(w.add(w.i32(spec.weights), w.mul(p(), w.i32(pairs * I8_PAIR_BYTES)))),
    f.forRange(k, w.i32(0), () => w.i32(pairs), 1, step),
  ];
  // Epilogue: f32(acc) · (s · scale) (+ bias), relu, then stored as f32 or as codes.
  const sp = f.local("i32");
  out.push(sp.set(w.add(q.get(), w.mul(r(), w.i32(record)))));
  const values: Local[] = [];
  for (let i = 0; i < rows; i++)
    for (let v = 0; v < vecs; v++) {
      // A static scale is a constant; otherwise the row's scale sits at the end of its record.
      const s = spec.codesIn ? w.splat(w.f32(spec.actScale!)) : w.splat(w.loadF32(sp.get(), i * record + scaleAt(spec.inF)));
      const scale = w.mulX4(s, w.load(w.add(w.i32(spec.scales), w.mul(p(), w.i32(PANEL * 4))), v * 16));
      let val = w.mulX4(w.convertI32x4(acc[i * vecs + v]!.get()), scale);
      if (spec.bias !== undefined) val = w.addX4(val, w.load(w.add(w.i32(spec.bias), w.mul(p(), w.i32(PANEL * 4))), v * 16));
      if (spec.act === "relu") val = w.maxX4(val, w.zero());
      const tmp = f.local("v128");
      out.push(tmp.set(val));
      values.push(tmp);
    }
  out.push(
    ...(spec.codesOut ? storeCodes(w, f, spec, spec.codesOut, values, y, r, p, rows, valid) : storeFloats(w, f, spec, values, y, r, p, rows, valid)),
  );
  return w.block(out);
}

/** Stores a tile's f32 results (`values[i·vecs + v]`) at y + r*outF*4 + p*PANEL*4. */
export function storeFloats(
  w: WasmModule,
  f: FunctionBuilder,
  spec: { outF: number },
  values: Local[],
  y: Local,
  r: () => Expr,
  p: () => Expr,
  rows: number,
  valid: number,
): Expr[] {
  const vecs = valid > 4 ? 2 : 1;
  const yp = f.local("i32");
  const out: Expr[] = [yp.set(w.add(w.add(y.get(), w.mul(r(), w.i32(spec.outF * 4))), w.mul(p(), w.i32(PANEL * 4))))];
  for (let i = 0; i < rows; i++)
    for (let v = 0; v < vecs; v++) {
      const at = i * spec.outF * 4 + v * 16;
      const lanes = Math.min(4, valid - v * 4);
      if (lanes === 4) out.push(w.store(yp.get(), values[i * vecs + v]!.get(), at));
      else for (let l = 0; l < lanes; l++) out.push(w.storeLane(yp.get(), values[i * vecs + v]!.get(), l, at + l * 4));
    }
  return out;
}

/**
 * Stores a tile's results as the next layer's int8 codes, exactly as its
 * quantizer would make them from the f32 values (times its multipliers, times
 * 1/s, NaN → 0, clamped, rounded half to even), into records of
 * int8ScratchBytes(outF) bytes: the i16 code of output o at byte 2·o.
 */
function storeCodes(
  w: WasmModule,
  f: FunctionBuilder,
  spec: Int8GemmSpec,
  to: NonNullable<Int8GemmSpec["codesOut"]>,
  values: Local[],
  y: Local,
  r: () => Expr,
  p: () => Expr,
  rows: number,
  valid: number,
): Expr[] {
  const vecs = valid > 4 ? 2 : 1;
  const record = int8ScratchBytes(spec.outF);
  const inv = Math.fround(1 / to.scale);
  const yp = f.local("i32");
  const out: Expr[] = [yp.set(w.add(w.add(y.get(), w.mul(r(), w.i32(record))), w.mul(p(), w.i32(PANEL * 2))))];
  // Into `c`: NaN lanes → 0 (v == v is false only for NaN), clamp, then 1.5·2^23 rounds half to even (see quantizeRow).
  const codesOf = (c: Local, val: Expr, v: number): Expr[] => {
    const scaled = to.mul === undefined ? val : w.mulX4(val, w.load(w.add(w.i32(to.mul), w.mul(p(), w.i32(PANEL * 4))), v * 16));
    return [
      c.set(w.mulX4(scaled, w.splat(w.f32(inv)))),
      c.set(w.and(c.get(), w.eqX4(c.get(), c.get()))),
      c.set(
        w.subI32x4(w.addX4(w.pminX4(w.pmaxX4(c.get(), w.splat(w.f32(-127))), w.splat(w.f32(127))), w.splat(w.f32(ROUNDER))), w.i32x4(ROUNDER_BITS)),
      ),
    ];
  };
  for (let i = 0; i < rows; i++) {
    const codes = Array.from({ length: vecs }, () => f.local("v128"));
    codes.forEach((c, v) => out.push(...codesOf(c, values[i * vecs + v]!.get(), v)));
    if (valid === PANEL) {
      out.push(w.store(yp.get(), w.narrowI32x4(codes[0]!.get(), codes[1]!.get()), i * record));
      continue;
    }
    for (let o = 0; o < valid; o++) out.push(w.storeI16(yp.get(), w.laneI32(codes[o >> 2]!.get(), o & 3), i * record + o * 2));
  }
  return out;
}
