// WGSL backend kernel: relu, sigmoid and tanh on their own (a relu after a
// linear or cross layer is folded into its GEMM instead). sigmoid is
// 1/(1 + exp(-x)); tanh uses an odd Taylor polynomial near zero, where the
// exp form would cancel, and (1 - e)/(1 + e) with e = exp(-2|x|) elsewhere,
// so both stay within a few ulp of the interpreter's double-precision values.

import { type Binding, type Rendered, PARAMS, RELU, WG, declareBindings, f32Lit, shader } from "../render.js";

export type ElementwiseOp = "relu" | "sigmoid" | "tanh";

// tanh x = x·Σ c_n x^(2n) for |x| < 0.55: the terms shrink by about 0.12 each, so nine reach f32 precision.
const TANH_TAYLOR = [1, -1 / 3, 2 / 15, -17 / 315, 62 / 2835, -1382 / 155925, 21844 / 6081075, -929569 / 638512875, 6404582 / 10854718875];

/** tanh as WGSL `tanh_rmc` (odd Taylor polynomial near 0, the exp form elsewhere). */
export const TANH = `fn tanh_rmc(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.55) {
    let z = x * x;
    var s = ${f32Lit(TANH_TAYLOR[TANH_TAYLOR.length - 1]!)};
${TANH_TAYLOR.slice(0, -1)
  .reverse()
  .map((c) => `    s = s * z + ${f32Lit(c)};`)
  .join("\n")}
    return x * s;
  }
  let e = exp(-2.0 * a);
  let t = (1.0 - e) / (1.0 + e);
  return select(t, -t, x < 0.0);
}`;

/** sigmoid as WGSL `sigmoid`. */
export const SIGMOID = `fn sigmoid(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }`;

/** Renders one elementwise step over [B, width]; dispatch: (ceil(width/64), B, 1). */
export function renderElementwise(op: ElementwiseOp, width: number, buffers: { x: string; y: string }, head: string): Rendered {
  const bindings: Binding[] = [
    { buffer: buffers.x, ident: "x", access: "read", elem: "f32" },
    { buffer: buffers.y, ident: "y", access: "read_write", elem: "f32" },
  ];
  const fn = op === "relu" ? RELU : op === "sigmoid" ? SIGMOID : TANH;
  const call = op === "tanh" ? "tanh_rmc" : op;
  const body = `@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x >= ${width}u || gid.y >= params.batch) { return; }
  let i = gid.y * ${width}u + gid.x;
  y[i] = ${call}(x[i]);
}`;
  return { wgsl: shader(head, PARAMS, declareBindings(bindings), fn, body), bindings };
}
