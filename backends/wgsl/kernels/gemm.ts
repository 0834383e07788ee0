// WGSL backend kernel: the tiled GEMM of linear and cross layers with fp32,
// fp16 or bf16 weights. A workgroup of 8×8 invocations computes a tile of 32
// samples × 32 outputs (4×4 per invocation, strided by 8 so workgroup-memory
// reads do not collide), staging 32×16 inputs and 16×32 weights per step of k
// in workgroup memory. Each output sums k in order from 0, as the interpreter
// does, each product rounded before it is added (`rn`: no fused multiply-add);
// the epilogue adds the bias, applies a DCNv2 cross (x0·t + xl) and relu.

import { type Binding, type Rendered, PARAMS, F16_TO_F32, RELU, declareBindings, shader } from "../render.js";
import { SIGMOID, TANH } from "./elementwise.js";

/** Activations a GEMM epilogue applies (fuse-epilogue's `act`). */
export type GemmAct = "none" | "relu" | "sigmoid" | "tanh";

/** The WGSL function an epilogue activation needs, if any. */
export const actFunction = (act: GemmAct): string | undefined =>
  act === "relu" ? RELU : act === "sigmoid" ? SIGMOID : act === "tanh" ? TANH : undefined;

/** The epilogue line applying `act` to `v`, if any. */
export const actLine = (act: GemmAct): string | undefined => (act === "none" ? undefined : `v = ${act === "tanh" ? "tanh_rmc" : act}(v);`);

/** Samples and outputs per workgroup tile, and k per staging step. */
export const GEMM_TILE = { samples: 32, outputs: 32, k: 16 } as const;

/** Element type of weights as stored in the u32 words of the weights buffer. */
export type WeightElement = "f32" | "f16" | "bf16";

export interface GemmSpec {
  inF: number;
  outF: number;
  element: WeightElement;
  /** Word offset of W in the weights buffer, stored k-major ([in][out] elements; 16-bit elements two per word, low half first). */
  wAt: number;
  /** Word offset of the bias (f32, already rounded to the layer's precision), if any. */
  biasAt?: number;
  act: GemmAct;
  /** DCNv2 epilogue y = x0·t + xl; `xl` is the GEMM's own input when absent (full-rank cross layers). */
  cross?: { x0: string; xl?: string };
  buffers: { x: string; w: string; y: string };
}

/** The weight load for one element type: W[k][o] as f32. */
function loadWeight(spec: GemmSpec): string {
  const at = `${spec.wAt}u`;
  if (spec.element === "f32") return `fn weight(k: u32, o: u32) -> f32 { return bitcast<f32>(w[${at} + k * ${spec.outF}u + o]); }`;
  const half = `let e = k * ${spec.outF}u + o;
  let h = (w[${at} + (e >> 1u)] >> ((e & 1u) * 16u)) & 0xffffu;`;
  return spec.element === "f16"
    ? `fn weight(k: u32, o: u32) -> f32 {\n  ${half}\n  return f16_to_f32(h);\n}`
    : `fn weight(k: u32, o: u32) -> f32 {\n  ${half}\n  return bitcast<f32>(h << 16u);\n}`;
}

function epilogue(spec: GemmSpec): string {
  const lines = ["var v = acc[i * 4u + j];"];
  if (spec.biasAt !== undefined) lines.push(`v = v + bitcast<f32>(w[${spec.biasAt}u + o]);`);
  if (spec.cross) lines.push(`v = rn(x0[b * ${spec.outF}u + o] * v) + ${spec.cross.xl ? "xl" : "x"}[b * ${spec.outF}u + o];`);
  const act = actLine(spec.act);
  if (act) lines.push(act);
  lines.push(`y[b * ${spec.outF}u + o] = v;`);
  return lines.map((l) => `        ${l}`).join("\n");
}

/** Renders one float GEMM step; dispatch: (ceil(out/32), ceil(B/32), 1). */
export function renderGemm(spec: GemmSpec, head: string): Rendered {
  const { samples: TB, outputs: TO, k: TK } = GEMM_TILE;
  const bindings: Binding[] = [
    { buffer: spec.buffers.x, ident: "x", access: "read", elem: "f32" },
    { buffer: spec.buffers.w, ident: "w", access: "read", elem: "u32" },
    { buffer: spec.buffers.y, ident: "y", access: "read_write", elem: "f32" },
  ];
  if (spec.cross) {
    bindings.push({ buffer: spec.cross.x0, ident: "x0", access: "read", elem: "f32" });
    if (spec.cross.xl) bindings.push({ buffer: spec.cross.xl, ident: "xl", access: "read", elem: "f32" });
  }
  const IN = spec.inF;
  const body = `var<workgroup> xs: array<f32, ${TB * TK}>; // [sample][k]
var<workgroup> ws: array<f32, ${TK * TO}>; // [k][output]

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let o0 = wg.x * ${TO}u;
  let b0 = wg.y * ${TB}u;
  var acc: array<f32, 16>;
  for (var k0 = 0u; k0 < ${IN}u; k0 = k0 + ${TK}u) {
    for (var e = li; e < ${TB * TK}u; e = e + 64u) {
      let b = b0 + e / ${TK}u;
      let k = k0 + e % ${TK}u;
      var v = 0.0;
      if (b < params.batch && k < ${IN}u) { v = x[b * ${IN}u + k]; }
      xs[e] = v;
    }
    for (var e = li; e < ${TK * TO}u; e = e + 64u) {
      let k = k0 + e / ${TO}u;
      let o = o0 + e % ${TO}u;
      var v = 0.0;
      if (k < ${IN}u && o < ${spec.outF}u) { v = weight(k, o); }
      ws[e] = v;
    }
    workgroupBarrier();
    let kn = min(${TK}u, ${IN}u - k0);
    for (var kk = 0u; kk < kn; kk = kk + 1u) {
      for (var i = 0u; i < 4u; i = i + 1u) {
        let xv = xs[(lid.y + 8u * i) * ${TK}u + kk];
        for (var j = 0u; j < 4u; j = j + 1u) {
          acc[i * 4u + j] = acc[i * 4u + j] + rn(xv * ws[kk * ${TO}u + lid.x + 8u * j]);
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i = i + 1u) {
    for (var j = 0u; j < 4u; j = j + 1u) {
      let b = b0 + lid.y + 8u * i;
      let o = o0 + lid.x + 8u * j;
      if (b < params.batch && o < ${spec.outF}u) {
${epilogue(spec)}
      }
    }
  }
}`;
  const wgsl = shader(head, PARAMS, declareBindings(bindings), spec.element === "f16" && F16_TO_F32, actFunction(spec.act), loadWeight(spec), body);
  return { wgsl, bindings };
}
