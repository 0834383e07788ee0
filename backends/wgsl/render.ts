// WGSL backend, rendering helpers shared by the kernels (backends/wgsl/kernels):
// the header that ties a shader to its IR nodes and source lines, binding
// declarations in step order, the `Params` uniform every shader reads, exact
// literals, and a small library of WGSL functions (fp16 decoding, correctly
// rounded division, FBGEMM dequantization) that keep integer paths exact.

import type { Node, Span } from "../../src/ir/types.js";
import { bareFile } from "../artifact.js";

/** Invocations per workgroup of every 1-D kernel (within WebGPU's compatibility-mode limit of 128). */
export const WG = 64;

/** One storage binding of a step: the buffer it names and how the shader declares it. */
export interface Binding {
  buffer: string;
  /** The identifier the shader uses. */
  ident: string;
  access: "read" | "read_write";
  elem: "f32" | "u32";
}

/** A rendered kernel: its WGSL, its bindings in @binding order, and optional variants needing a language feature. */
export interface Rendered {
  wgsl: string;
  bindings: Binding[];
  alternatives?: { languageFeature: string; wgsl: string }[];
}

/** `@group(0)` declarations, one per binding, numbered in order. */
export function declareBindings(bindings: readonly Binding[]): string {
  return bindings.map((b, i) => `@group(0) @binding(${i}) var<storage, ${b.access}> ${b.ident}: array<${b.elem}>;`).join("\n");
}

/**
 * The per-call uniform of the artifact contract (src/runtime/manifest.ts),
 * and `rn`, every shader's rounding barrier. WGSL lets an implementation fuse
 * a multiply and an add into one rounding (SPIR-V and D3D do unless told
 * not to, and WGSL has no `precise`), which moves a sum by an ulp and, at a
 * rounding tie of an int8 quantizer downstream, a code by one. `rn(a * b)`
 * ORs the product's bits with `pad0`, a uniform the runtime always writes as
 * 0 but no compiler can know is 0, so the product is rounded to f32 before
 * anything adds to it: each product and sum rounds once, as the interpreter
 * rounds it. It costs one OR.
 */
export const PARAMS = `struct Params { batch: u32, ids: u32, pad0: u32, pad1: u32 }
@group(1) @binding(0) var<uniform> params: Params;

fn rn(v: f32) -> f32 { return bitcast<f32>(bitcast<u32>(v) | params.pad0); }`;

/** A node's source line, by the model file's name only (bareFile). */
const where = (s: Span): string => (s.line > 0 ? `${bareFile(s.file)}:${s.line}` : bareFile(s.file));

/** The header comment: what the shader computes and which IR nodes (with source lines) it came from. */
export function header(shader: string, summary: string, nodes: readonly Node[]): string {
  const lines = nodes.map((n) => `//   %${n.id} = ${n.op}(...) at ${where(n.span)}`);
  return [`// rmc shader ${shader}: ${summary}`, "// computes IR node(s):", ...lines].join("\n");
}

/** An f32 constant written by its bits, so the shader sees exactly the value the compiler computed. */
export function f32Lit(x: number): string {
  const bits = new Uint32Array(new Float32Array([x]).buffer)[0]!;
  return `bitcast<f32>(0x${bits.toString(16).padStart(8, "0")}u)`;
}

/** A u32 constant array (for per-table metadata), indexed at run time. */
export function u32Array(name: string, values: readonly number[]): string {
  return `const ${name} = array<u32, ${values.length}>(${values.map((v) => `${v >>> 0}u`).join(", ")});`;
}

/** Joins shader parts with blank lines, dropping empty ones. */
export const shader = (...parts: (string | false | undefined)[]): string => parts.filter((p): p is string => !!p).join("\n\n") + "\n";

/**
 * relu as the interpreter defines it: NaN stays NaN (where the GPU keeps
 * NaNs at all), -0 and -inf give +0.
 */
export const RELU = `fn relu(v: f32) -> f32 { return select(v, 0.0, v <= 0.0); }`;

/** An IEEE binary16 bit pattern widened to f32 exactly, subnormals included (no reliance on unpack2x16float's handling). */
export const F16_TO_F32 = `fn f16_to_f32(h: u32) -> f32 {
  let s = (h & 0x8000u) << 16u;
  let e = (h >> 10u) & 0x1fu;
  let m = h & 0x3ffu;
  if (e == 0u) {
    let v = f32(m) * bitcast<f32>(0x33800000u); // m · 2^-24, exact
    return select(v, -v, s != 0u);
  }
  if (e == 31u) { return bitcast<f32>(s | 0x7f800000u | (m << 13u)); }
  return bitcast<f32>(s | ((e + 112u) << 23u) | (m << 13u));
}`;

/**
 * a / b rounded to nearest, ties to even, as the interpreter's f32 division.
 * WGSL's division may be off by 2.5 ulp, which would move an int8 code or a
 * mean across a rounding boundary; this long division of the 24-bit
 * significands is exact. Zeros, subnormals, infinities, NaN and results
 * outside the normal range fall back to the native division.
 */
export const DIV_RN = `fn div_rn(a: f32, b: f32) -> f32 {
  let ab = bitcast<u32>(a);
  let bb = bitcast<u32>(b);
  let ea = i32((ab >> 23u) & 0xffu);
  let eb = i32((bb >> 23u) & 0xffu);
  if (ea == 0 || ea == 255 || eb == 0 || eb == 255) { return a / b; }
  let mb = (bb & 0x7fffffu) | 0x800000u;
  var r = (ab & 0x7fffffu) | 0x800000u;
  var e = ea - eb + 127;
  if (r < mb) { r = r << 1u; e = e - 1; }
  var q = 0u;
  for (var i = 0u; i < 24u; i = i + 1u) {
    q = q << 1u;
    if (r >= mb) { r = r - mb; q = q | 1u; }
    r = r << 1u;
  }
  if (r > mb || (r == mb && (q & 1u) == 1u)) { q = q + 1u; }
  if (q == 0x1000000u) { q = 0x800000u; e = e + 1; }
  if (e <= 0 || e >= 255) { return a / b; }
  return bitcast<f32>(((ab ^ bb) & 0x80000000u) | (u32(e) << 23u) | (q & 0x7fffffu));
}`;

/**
 * FBGEMM dequantization f32(f32(q·scale) + bias) with exactly the two
 * roundings of docs/numerics.md on any GPU. A float q·scale + bias may be
 * fused into one rounding (seen on llvmpipe even for q·hi + q·lo + bias,
 * which the compiler factors and then fuses), so the product is formed in
 * integers — the 24-bit significand times q < 256 fits a u32 — and rounded to
 * nearest even by hand; only the bias is added in floating point. Zero,
 * subnormal, infinite and overflowing cases take the float path.
 */
export const DEQUANT = `fn mul_q(q: u32, scale: f32) -> f32 {
  let bits = bitcast<u32>(scale);
  let e = (bits >> 23u) & 0xffu;
  if (q == 0u || e == 0u || e == 255u) { return f32(q) * scale; }
  let p = ((bits & 0x7fffffu) | 0x800000u) * q;
  let shift = 8u - countLeadingZeros(p);
  var r = p >> shift;
  let rest = p & ((1u << shift) - 1u);
  let half = select(0u, 1u << ((shift + 31u) & 31u), shift > 0u);
  if (rest > half || (rest == half && half > 0u && (r & 1u) == 1u)) { r = r + 1u; }
  var ex = e + shift;
  if (r == 0x1000000u) { r = 0x800000u; ex = ex + 1u; }
  if (ex >= 255u) { return f32(q) * scale; }
  return bitcast<f32>((bits & 0x80000000u) | (ex << 23u) | (r & 0x7fffffu));
}

fn dequant(q: u32, scale: f32, bias: f32) -> f32 { return mul_q(q, scale) + bias; }`;

/** An i32 converted to the nearest f32 (ties to even) for any magnitude: two exact parts, one rounding addition. */
export const I32_TO_F32 = `fn i32_to_f32(a: i32) -> f32 { return f32(a >> 12u) * 4096.0 + f32(a & 4095); }`;
