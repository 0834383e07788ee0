// A second, deliberately plain implementation of the numerics spec
// (.rmc-tmp/NUMERICS-SPEC.md, docs/numerics.md), written for the tests only:
// it shares no code with src/quant or src/weights/dtypes. fp16 rounding is a
// nearest-value search over a table of every finite binary16 value, packing
// is arithmetic on byte values, and rounding is floor-based.

const f32 = Math.fround;

/** Round half to even, from floor and the fractional part. */
export function rne(x: number): number {
  const fl = Math.floor(x);
  const frac = x - fl;
  if (frac < 0.5) return fl;
  if (frac > 0.5) return fl + 1;
  return fl % 2 === 0 ? fl : fl + 1;
}

/** The value of a binary16 bit pattern, decoded from the IEEE formula. */
export function halfValue(bits: number): number {
  const sign = bits >= 0x8000 ? -1 : 1;
  const exp = Math.floor(bits / 1024) % 32;
  const mant = bits % 1024;
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (exp === 0 ? mant * Math.pow(2, -24) : (1024 + mant) * Math.pow(2, exp - 25));
}

/** Every finite non-negative binary16 value, ascending (bit patterns 0x0000..0x7bff are monotonic). */
const HALVES = Array.from({ length: 0x7c00 }, (_, b) => halfValue(b));

/** Bit pattern of the binary16 nearest to f32(x): ties go to the even pattern, past 65520 to infinity. */
export function halfBits(x: number): number {
  const v = f32(x);
  if (Number.isNaN(v)) return 0x7e00;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a >= 65520) return sign | 0x7c00; // 65504 + half an ulp (16) ties to the even pattern 0x7c00 = infinity
  let lo = 0;
  let hi = HALVES.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (HALVES[mid]! <= a) lo = mid;
    else hi = mid;
  }
  const dLo = a - HALVES[lo]!;
  const dHi = HALVES[hi]! - a;
  const pick = dLo < dHi ? lo : dHi < dLo ? hi : lo % 2 === 0 ? lo : hi;
  return sign | pick;
}

/** f16(x) as a number. */
export const half = (x: number): number => halfValue(halfBits(x));

/** The minimum with -0 below +0 (and NaN poisoning), as the spec's `min(row)`. */
function rowMin(row: ArrayLike<number>): number {
  let m = Infinity;
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    if (Number.isNaN(v)) return NaN;
    if (v < m || (v === 0 && m === 0 && Object.is(v, -0))) m = v;
  }
  return m;
}

function rowMax(row: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    if (Number.isNaN(v)) return NaN;
    if (v > m) m = v;
  }
  return m;
}

const clampTo = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** Quantizes one row at 8, 4 or 2 bits into the FBGEMM fused layout, straight from the spec. */
export function refQuantize(bits: 8 | 4 | 2, row: ArrayLike<number>): Uint8Array {
  const dim = row.length;
  if (bits === 8) {
    const out = new Uint8Array(dim + 8);
    const mn = f32(rowMin(row));
    const range = f32(rowMax(row) - mn);
    const inv = f32(255 / f32(range + f32(1e-8)));
    for (let i = 0; i < dim; i++) {
      const v = rne(f32(f32(row[i]! - mn) * inv));
      out[i] = Number.isNaN(v) ? 0 : clampTo(v, 0, 255);
    }
    const tail = new DataView(out.buffer, dim);
    tail.setFloat32(0, f32(range / 255), true);
    tail.setFloat32(4, mn, true);
    return out;
  }
  const per = 8 / bits;
  const levels = Math.pow(2, bits) - 1;
  const packed = Math.ceil(dim / per);
  const out = new Uint8Array(packed + 4);
  const mn = half(rowMin(row));
  const range = f32(rowMax(row) - mn);
  let scale = half(range === 0 ? 1 : f32(range / levels));
  if (scale === 0 || !Number.isFinite(f32(1 / scale))) scale = 1;
  const inv = f32(1 / scale);
  for (let b = 0; b < packed; b++) {
    let byte = 0;
    for (let j = 0; j < per && b * per + j < dim; j++) {
      const v = rne(f32(f32(row[b * per + j]! - mn) * inv));
      byte += (Number.isNaN(v) ? 0 : clampTo(v, 0, levels)) * Math.pow(2, j * bits);
    }
    out[b] = byte;
  }
  const tail = new DataView(out.buffer, packed);
  tail.setUint16(0, halfBits(scale), true);
  tail.setUint16(2, halfBits(mn), true);
  return out;
}

/** Dequantizes one row written by refQuantize (or by PyTorch). */
export function refDequantize(bits: 8 | 4 | 2, bytes: Uint8Array, dim: number): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bits === 8) {
    const scale = view.getFloat32(dim, true);
    const bias = view.getFloat32(dim + 4, true);
    return Array.from({ length: dim }, (_, i) => f32(f32(bytes[i]! * scale) + bias));
  }
  const per = 8 / bits;
  const packed = Math.ceil(dim / per);
  const scale = halfValue(view.getUint16(packed, true));
  const bias = halfValue(view.getUint16(packed + 2, true));
  return Array.from({ length: dim }, (_, i) => {
    const byte = bytes[Math.floor(i / per)]!;
    const q = Math.floor(byte / Math.pow(2, (i % per) * bits)) % Math.pow(2, bits);
    return f32(f32(q * scale) + bias);
  });
}

/** The spec's int8 weight quantizer for one row: clip search over c = 1.00 .. 0.50, ties to the larger t. */
export function refInt8WeightRow(w: ArrayLike<number>): { q: number[]; scale: number; c: number; err: number } {
  let a = 0;
  for (let k = 0; k < w.length; k++) a = Math.max(a, Math.abs(w[k]!));
  let best = { q: [] as number[], scale: 1, c: 1, err: Infinity };
  for (let j = 0; j <= 50; j++) {
    const c = (100 - j) / 100;
    const t = f32(a * f32(c));
    const scale = t > 0 ? f32(t / 127) : 1;
    const inv = f32(1 / scale);
    const q = Array.from(w, (v) => clampTo(rne(f32(v * inv)), -127, 127));
    let err = 0;
    for (let k = 0; k < w.length; k++) err += (w[k]! - q[k]! * scale) ** 2;
    if (err < best.err) best = { q, scale, c, err };
  }
  return best;
}

/**
 * The `l2` row range at 4 or 2 bits, straight from the spec: from the minmax
 * scale and bias, up to 4 least-squares refits of x ≈ s·q + b to the current
 * codes, each kept only while it strictly lowers the row's squared error.
 * Returns the row's bytes, written with the chosen scale and bias.
 */
export function refQuantizeL2(bits: 4 | 2, row: ArrayLike<number>): Uint8Array {
  const first = refQuantize(bits, row);
  const dim = row.length;
  const per = 8 / bits;
  const levels = Math.pow(2, bits) - 1;
  const packed = Math.ceil(dim / per);
  const tail = new DataView(first.buffer, packed);
  let scale = halfValue(tail.getUint16(0, true));
  let bias = halfValue(tail.getUint16(2, true));
  const xs = Array.from(row, (v) => f32(v));
  if (!xs.every(Number.isFinite)) return first;
  const codes = (b: number, s: number): number[] => xs.map((x) => clampTo(rne(f32(f32(x - b) * f32(1 / s))), 0, levels));
  const error = (b: number, s: number): number => codes(b, s).reduce((e, q, i) => e + (f32(f32(q * s) + b) - xs[i]!) ** 2, 0);
  let best = error(bias, scale);
  for (let round = 0; round < 4; round++) {
    const q = codes(bias, scale);
    const n = dim;
    const sq = q.reduce((a, v) => a + v, 0);
    const sqq = q.reduce((a, v) => a + v * v, 0);
    const sx = xs.reduce((a, v) => a + v, 0);
    const sqx = q.reduce((a, v, i) => a + v * xs[i]!, 0);
    const det = n * sqq - sq * sq;
    if (det === 0) break;
    const exact = (n * sqx - sq * sx) / det;
    const s = half(exact);
    const b = half((sx - exact * sq) / n);
    if (!(s > 0) || !Number.isFinite(f32(1 / s)) || !Number.isFinite(b)) break;
    const e = error(b, s);
    if (!(e < best)) break;
    [best, bias, scale] = [e, b, s];
  }
  const out = new Uint8Array(packed + 4);
  const q = codes(bias, scale);
  for (let i = 0; i < dim; i++) out[Math.floor(i / per)] += q[i]! * Math.pow(2, (i % per) * bits);
  const end = new DataView(out.buffer, packed);
  end.setUint16(0, halfBits(scale), true);
  end.setUint16(2, halfBits(bias), true);
  return out;
}
