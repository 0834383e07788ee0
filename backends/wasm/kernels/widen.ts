// Exact widening of stored narrow values to f32x4 in registers, shared by the
// GEMM (fp16/bf16 weight panels) and the embedding bags (fp16 rows, and the
// fp16 scale and bias of int4/int2 rows) — plus the unpacking of 8/4/2-bit
// row values into i32x4 lanes. Every conversion is exact, so the kernels see
// the same f32 values as the interpreter (src/quant, src/weights/dtypes).

import type { Expr, FunctionBuilder, Local, WasmModule } from "../module.js";

/** 2^112: scales an f16 bit pattern shifted into f32 position back to its value (normal and subnormal alike). */
const F16_SCALE = 2 ** 112;

/** Widens four f16 values (u16 lanes already zero-extended into i32x4, in `h`) to f32x4 exactly, inf and NaN included. */
export function f16x4ToF32(w: WasmModule, f: FunctionBuilder, h: Local): { setup: Expr; value: Expr } {
  const em = f.local("v128");
  const set = em.set(w.and(h.get(), w.i32x4(0x7fff)));
  const normal = w.mulX4(w.shlI32x4(em.get(), 13), w.splat(w.f32(F16_SCALE)));
  const special = w.or(w.shlI32x4(em.get(), 13), w.i32x4(0x7f800000));
  // The mask is a comparison's (all ones or all zeros per lane): relaxed_laneselect picks exactly as bitselect, in one blend on x86-64.
  const pick = w.relaxed ? w.relaxedLaneselectI32x4 : w.bitselect;
  const magnitude = pick(special, normal, w.gtI32x4(em.get(), w.i32x4(0x7bff)));
  return { setup: set, value: w.or(magnitude, w.shlI32x4(w.and(h.get(), w.i32x4(0x8000)), 16)) };
}

/** bf16 is the top half of an f32: four u16 lanes zero-extended into i32x4, shifted up. */
export const bf16x4ToF32 = (w: WasmModule, h: Expr): Expr => w.shlI32x4(h, 16);

/**
 * Four `bits`-bit values (4 or 2) of a 32-bit word of packed values (`word`:
 * the word splat into i32x4), starting at bit `from`, as i32x4 lanes: lane j
 * = (word >> (from + j·bits)) & mask. Wasm has no per-lane shift: a wrapping
 * multiply by 2^(32 - bits - from - j·bits) moves value j to the top of its
 * lane, and one logical shift brings all four down.
 */
export function unpackLanes(w: WasmModule, word: Expr, from: number, bits: 4 | 2): Expr {
  const up = [0, 1, 2, 3].map((j) => 2 ** (32 - bits - from - j * bits)) as [number, number, number, number];
  return w.shrUI32x4(w.mulI32x4(word, w.i32x4Lanes(up)), 32 - bits);
}
