// Half-precision floats, bit for bit: binary16 (fp16) and bfloat16 to and
// from f32. Widening is exact; narrowing rounds half to even, as hardware and
// PyTorch do. Quantization (fp16/bf16 layers, the fp16 scales of n-bit rows),
// the safetensors reader and the backends' packers all convert through here.

let table: Float32Array | undefined;

/** Exact f32 value of an IEEE binary16 bit pattern. */
export function f16ToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Exact f32 value of a bfloat16 bit pattern (the top half of an f32). */
export function bf16ToF32(bits: number): number {
  scratchU32[0] = (bits & 0xffff) << 16;
  return scratchF32[0]!;
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** f32 bit pattern of a number (after rounding it to f32). */
export function f32Bits(x: number): number {
  scratchF32[0] = x;
  return scratchU32[0]!;
}

/** Nearest binary16 bit pattern to `x` (round half to even; overflow gives infinity; NaN stays NaN). */
export function f32ToF16(x: number): number {
  const bits = f32Bits(x);
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal in f16 (or zero): shift the full significand down and round.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    return sign | roundShift(m, shift);
  }
  // A carry out of the mantissa bumps the exponent, and from 30 to 31 gives infinity: both right.
  return sign | (((e << 10) | (mant >>> 13)) + roundUp(mant & 0x1fff, 0x1000, mant >>> 13));
}

/** Nearest bfloat16 bit pattern to `x` (round half to even; NaN stays a quiet NaN). */
export function f32ToBf16(x: number): number {
  const bits = f32Bits(x);
  if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) return ((bits >>> 16) | 0x40) & 0xffff;
  const upper = bits >>> 16;
  return (upper + roundUp(bits & 0xffff, 0x8000, upper)) & 0xffff;
}

/** 1 when a remainder rounds the kept part up under round-half-to-even. */
const roundUp = (rem: number, half: number, kept: number): number => (rem > half || (rem === half && kept & 1) ? 1 : 0);

function roundShift(m: number, shift: number): number {
  const kept = m >>> shift;
  return kept + roundUp(m & ((1 << shift) - 1), 1 << (shift - 1), kept);
}

/** Every f16 bit pattern's f32 value: f16 rows are decoded row by row on hot paths, through this 64 K-entry table. */
export function f16Table(): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) table[i] = f16ToF32(i);
  }
  return table;
}
