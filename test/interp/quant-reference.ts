// The low-precision numerics spec (docs/numerics.md) written out a second
// time, plainly, for the interpreter and backend tests: it shares no code with
// src/quant or src/weights/dtypes (its fp16 and rounding helpers come from the
// quant tests' own independent reference, test/quant/reference.ts).

import { half, halfValue, rne } from "../quant/reference.js";

export { half, halfValue, rne };

const f32 = Math.fround;
const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/** A table row after quantize + dequantize at `bits` (8: f32 scale/bias; 4, 2: fp16 scale/bias). */
export function roundTrip(bits: 8 | 4 | 2, row: number[]): number[] {
  const top = 2 ** bits - 1;
  let mn = Math.min(...row);
  const mx = Math.max(...row);
  let scale: number;
  let inv: number;
  if (bits === 8) {
    const range = f32(mx - mn);
    scale = f32(range / 255);
    inv = f32(255 / f32(range + f32(1e-8)));
  } else {
    mn = half(mn);
    const range = f32(mx - mn);
    scale = half(range === 0 ? 1 : f32(range / top));
    if (scale === 0 || !Number.isFinite(f32(1 / scale))) scale = 1;
    inv = f32(1 / scale);
  }
  return row.map((x) => f32(f32(clamp(rne(f32(f32(x - mn) * inv)), 0, top) * scale) + mn));
}

/** Per-channel int8 weights of `w [out, in]` by the spec's clip search (errors in double, ties to the larger threshold). */
export function int8WeightsRef(w: number[], out: number, inF: number): { q: number[]; scales: number[] } {
  const q: number[] = [];
  const scales: number[] = [];
  for (let o = 0; o < out; o++) {
    const row = w.slice(o * inF, (o + 1) * inF);
    const a = Math.max(...row.map(Math.abs));
    let best = { err: Infinity, q: row.map(() => 0), s: 1 };
    for (let j = 0; j <= 50; j++) {
      const t = f32(a * f32((100 - j) / 100));
      const s = t > 0 ? f32(t / 127) : 1;
      const inv = f32(1 / s);
      const qs = row.map((x) => clamp(rne(f32(x * inv)), -127, 127));
      const err = row.reduce((e, x, k) => e + (x - qs[k]! * s) ** 2, 0);
      if (err < best.err) best = { err, q: qs, s };
    }
    q.push(...best.q);
    scales.push(best.s);
  }
  return { q, scales };
}

/** y = int8 linear of rows `x` (each `inF` long), per the spec; `actScale` undefined = dynamic. */
export function int8LinearRef(
  x: number[][],
  w: { q: number[]; scales: number[] },
  bias: number[] | undefined,
  actScale: number | undefined,
): number[][] {
  const out = w.scales.length;
  return x.map((row) => {
    const inF = row.length;
    let s = actScale;
    if (s === undefined) {
      const m = row.some(Number.isNaN) ? NaN : Math.max(0, ...row.map(Math.abs));
      s = Number.isNaN(m) ? NaN : m > 0 ? f32(m / 127) : 1;
    }
    const inv = f32(1 / s);
    const qx = row.map((v) => (Number.isNaN(f32(v * inv)) ? 0 : clamp(rne(f32(v * inv)), -127, 127)));
    return Array.from({ length: out }, (_, o) => {
      let acc = 0;
      for (let k = 0; k < inF; k++) acc += qx[k]! * w.q[o * inF + k]!;
      const y = f32(f32(acc) * f32(s! * w.scales[o]!));
      return bias ? f32(y + bias[o]!) : y;
    });
  });
}
