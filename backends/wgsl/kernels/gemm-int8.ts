// WGSL backend kernels of int8 linear layers (docs/numerics.md), in two steps.
// `quantize`: one workgroup per sample scales the row by the smoothing
// multipliers, finds max|x| (dynamic scale) by a tree reduction, and writes
// the int8 codes four to a u32 word, then the row's scale. `gemm`: a tiled
// int32 GEMM over those words and the per-channel int8 weights (same tiling
// as the float GEMM: 32 samples × 32 outputs per workgroup, 8 words = 32 k per
// step), with `dot4I8Packed` where the implementation has the WGSL language
// feature and byte unpacking otherwise; then y = f32(acc)·f32(s·sw) + b.
// Divisions use the correctly rounded div_rn, so the codes and the int32
// sums are exactly the interpreter's.

import { type Binding, type Rendered, DIV_RN, I32_TO_F32, PARAMS, WG, declareBindings, f32Lit, shader } from "../render.js";
import { GEMM_TILE, type GemmAct, actFunction, actLine } from "./gemm.js";

/** The WGSL language feature of the fast variant. */
export const DOT4_FEATURE = "packed_4x8_integer_dot_product";
/** Words of int8 codes staged per k step of the int8 GEMM. */
const TKW = 8;

/** u32 words per sample of the quantized-activation scratch: the codes, then the scale's bits. */
export const quantWords = (inF: number): number => Math.ceil(inF / 4) + 1;

export interface QuantizeSpec {
  inF: number;
  /** Word offset of the smoothing multipliers 1/s (f32) in the weights buffer, for smoothed layers. */
  mulAt?: number;
  /** A static activation scale (f32), or undefined for a dynamic scale per row. */
  staticScale?: number;
  buffers: { x: string; w: string; q: string };
}

/** Renders the activation quantizer; dispatch: (B, 1, 1). */
export function renderQuantize(spec: QuantizeSpec, head: string): Rendered {
  const IN = spec.inF;
  const KW = Math.ceil(IN / 4);
  const bindings: Binding[] = [{ buffer: spec.buffers.x, ident: "x", access: "read", elem: "f32" }];
  if (spec.mulAt !== undefined) bindings.push({ buffer: spec.buffers.w, ident: "w", access: "read", elem: "u32" });
  bindings.push({ buffer: spec.buffers.q, ident: "q", access: "read_write", elem: "u32" });
  const input = spec.mulAt !== undefined ? `rn(x[b * ${IN}u + k] * bitcast<f32>(w[${spec.mulAt}u + k]))` : `x[b * ${IN}u + k]`;
  const scale =
    spec.staticScale !== undefined
      ? `  let sc = ${f32Lit(spec.staticScale)};\n  let inv = ${f32Lit(Math.fround(1 / spec.staticScale))};`
      : `  var m = 0.0;
  for (var k = li; k < ${IN}u; k = k + ${WG}u) { m = max(m, abs(xin(b, k))); }
  red[li] = m;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (li < s) { red[li] = max(red[li], red[li + s]); }
    workgroupBarrier();
  }
  let mx = red[0];
  let sc = select(1.0, div_rn(mx, 127.0), mx > 0.0);
  let inv = div_rn(1.0, sc);`;
  const body = `${spec.staticScale === undefined ? `var<workgroup> red: array<f32, ${WG}>;\n\n` : ""}fn xin(b: u32, k: u32) -> f32 { return ${input}; }

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let b = wg.x;
  if (b >= params.batch) { return; }
${scale}
  for (var wd = li; wd < ${KW}u; wd = wd + ${WG}u) {
    var word = 0u;
    for (var j = 0u; j < 4u; j = j + 1u) {
      let k = wd * 4u + j;
      if (k < ${IN}u) {
        var v = round(rn(xin(b, k) * inv));
        if (v != v) { v = 0.0; }
        let c = i32(clamp(v, -127.0, 127.0));
        word = word | ((bitcast<u32>(c) & 0xffu) << (8u * j));
      }
    }
    q[b * ${KW + 1}u + wd] = word;
  }
  if (li == 0u) { q[b * ${KW + 1}u + ${KW}u] = bitcast<u32>(sc); }
}`;
  return { wgsl: shader(head, PARAMS, declareBindings(bindings), spec.staticScale === undefined && DIV_RN, body), bindings };
}

export interface Int8GemmSpec {
  inF: number;
  outF: number;
  /** Word offsets in the weights buffer: codes [ceil(in/4)][out] words, scales [out] f32 (s·sw when `static`, else sw), bias [out]. */
  wAt: number;
  scalesAt: number;
  biasAt?: number;
  /** Scales already hold f32(s·sw[o]) (static activation scale); else s comes from the quantizer's row. */
  static: boolean;
  act: GemmAct;
  buffers: { q: string; w: string; y: string };
}

/** Dot product of four signed bytes, by unpacking (no language feature needed). */
const DOT4_UNPACKED = `fn dot4(a: u32, b: u32) -> i32 {
  let x = bitcast<i32>(a);
  let y = bitcast<i32>(b);
  return extractBits(x, 0u, 8u) * extractBits(y, 0u, 8u) + extractBits(x, 8u, 8u) * extractBits(y, 8u, 8u)
    + extractBits(x, 16u, 8u) * extractBits(y, 16u, 8u) + extractBits(x, 24u, 8u) * extractBits(y, 24u, 8u);
}`;
const DOT4_PACKED = `fn dot4(a: u32, b: u32) -> i32 { return dot4I8Packed(a, b); }`;

/** Renders the int8 GEMM (unpacking) with a `dot4I8Packed` alternative; dispatch: (ceil(out/32), ceil(B/32), 1). */
export function renderInt8Gemm(spec: Int8GemmSpec, head: string): Rendered {
  const { samples: TB, outputs: TO } = GEMM_TILE;
  const KW = Math.ceil(spec.inF / 4);
  const OUT = spec.outF;
  const bindings: Binding[] = [
    { buffer: spec.buffers.q, ident: "q", access: "read", elem: "u32" },
    { buffer: spec.buffers.w, ident: "w", access: "read", elem: "u32" },
    { buffer: spec.buffers.y, ident: "y", access: "read_write", elem: "f32" },
  ];
  const scale = spec.static
    ? `bitcast<f32>(w[${spec.scalesAt}u + o])`
    : `bitcast<f32>(q[b * ${KW + 1}u + ${KW}u]) * bitcast<f32>(w[${spec.scalesAt}u + o])`;
  const body = `var<workgroup> xs: array<u32, ${TB * TKW}>; // [sample][word]
var<workgroup> ws: array<u32, ${TKW * TO}>; // [word][output]

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let o0 = wg.x * ${TO}u;
  let b0 = wg.y * ${TB}u;
  var acc: array<i32, 16>;
  for (var k0 = 0u; k0 < ${KW}u; k0 = k0 + ${TKW}u) {
    for (var e = li; e < ${TB * TKW}u; e = e + 64u) {
      let b = b0 + e / ${TKW}u;
      let k = k0 + e % ${TKW}u;
      var v = 0u;
      if (b < params.batch && k < ${KW}u) { v = q[b * ${KW + 1}u + k]; }
      xs[e] = v;
    }
    for (var e = li; e < ${TKW * TO}u; e = e + 64u) {
      let k = k0 + e / ${TO}u;
      let o = o0 + e % ${TO}u;
      var v = 0u;
      if (k < ${KW}u && o < ${OUT}u) { v = w[${spec.wAt}u + k * ${OUT}u + o]; }
      ws[e] = v;
    }
    workgroupBarrier();
    let kn = min(${TKW}u, ${KW}u - k0);
    for (var kk = 0u; kk < kn; kk = kk + 1u) {
      for (var i = 0u; i < 4u; i = i + 1u) {
        let xv = xs[(lid.y + 8u * i) * ${TKW}u + kk];
        for (var j = 0u; j < 4u; j = j + 1u) {
          acc[i * 4u + j] = acc[i * 4u + j] + dot4(xv, ws[kk * ${TO}u + lid.x + 8u * j]);
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i = i + 1u) {
    for (var j = 0u; j < 4u; j = j + 1u) {
      let b = b0 + lid.y + 8u * i;
      let o = o0 + lid.x + 8u * j;
      if (b < params.batch && o < ${OUT}u) {
        var v = rn(i32_to_f32(acc[i * 4u + j]) * (${scale}));${spec.biasAt !== undefined ? `\n        v = v + bitcast<f32>(w[${spec.biasAt}u + o]);` : ""}${actLine(spec.act) ? `\n        ${actLine(spec.act)}` : ""}
        y[b * ${OUT}u + o] = v;
      }
    }
  }
}`;
  const decls = [PARAMS, declareBindings(bindings), I32_TO_F32, actFunction(spec.act)];
  return {
    wgsl: shader(head, ...decls, DOT4_UNPACKED, body),
    bindings,
    alternatives: [{ languageFeature: DOT4_FEATURE, wgsl: shader(head, `requires ${DOT4_FEATURE};`, ...decls, DOT4_PACKED, body) }],
  };
}
