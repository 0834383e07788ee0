// WGSL backend kernels that move and combine feature vectors: the DLRM dot
// interaction (x, then the dot of every pair of feature vectors in the lower
// triangle, facebookresearch/dlrm's order, each dot summed in dimension
// order) and concat (also `interact op: cat`), which copies up to seven inputs
// into their columns of one output per step. One invocation per output
// element of a sample; the pair an element holds comes from a square root
// estimate corrected with integer arithmetic.

import { type Binding, type Rendered, PARAMS, WG, declareBindings, shader } from "../render.js";

/** Storage bindings left for inputs once the output is bound (WebGPU's default of 8 per stage). */
export const MAX_INPUT_BINDINGS = 7;

export interface DotSpec {
  dim: number;
  /** Operands in order; the first is x (one vector), the others hold `vectors` vectors of `dim` per sample. */
  inputs: { buffer: string; vectors: number }[];
  self: boolean;
  /** Floats per output row (the row stride). */
  outW: number;
  /** Columns the interaction writes, from 0 (default outW); a fused concat's tail fills the rest (fuse-interaction). */
  width?: number;
  out: string;
}

/** `fn feature(v, b, k)`: element k of feature vector v of sample b, whichever input holds it. */
function featureFn(spec: DotSpec): string {
  const D = spec.dim;
  let first = 0;
  const lines = spec.inputs.map((input, i) => {
    const read = `return in${i}[b * ${input.vectors * D}u + (v - ${first}u) * ${D}u + k];`;
    first += input.vectors;
    return i === spec.inputs.length - 1 ? `  ${read}` : `  if (v < ${first}u) { ${read} }`;
  });
  return `fn feature(v: u32, b: u32, k: u32) -> f32 {\n${lines.join("\n")}\n}`;
}

/** Renders the dot interaction; dispatch: (ceil(width/64), B, 1). */
export function renderDot(spec: DotSpec, head: string): Rendered {
  const bindings: Binding[] = spec.inputs.map((input, i) => ({
    buffer: input.buffer,
    ident: `in${i}`,
    access: "read" as const,
    elem: "f32" as const,
  }));
  bindings.push({ buffer: spec.out, ident: "out", access: "read_write", elem: "f32" });
  const D = spec.dim;
  // First pair index of triangle row i: i(i-1)/2 without the self term, i(i+1)/2 with it.
  const rowStart = spec.self
    ? "fn row_start(i: u32) -> u32 { return i * (i + 1u) / 2u; }"
    : "fn row_start(i: u32) -> u32 { return i * (i - 1u) / 2u; }";
  const estimate = spec.self ? "(sqrt(1.0 + 8.0 * f32(p)) - 1.0) * 0.5" : "(1.0 + sqrt(1.0 + 8.0 * f32(p))) * 0.5";
  const lowest = spec.self ? 0 : 1;
  const body = `@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  let b = gid.y;
  if (c >= ${spec.width ?? spec.outW}u || b >= params.batch) { return; }
  if (c < ${D}u) {
    out[b * ${spec.outW}u + c] = feature(0u, b, c);
    return;
  }
  let p = c - ${D}u;
  var i = max(u32(${estimate}), ${lowest}u);
  while (i > ${lowest}u && row_start(i) > p) { i = i - 1u; }
  while (row_start(i + 1u) <= p) { i = i + 1u; }
  let j = p - row_start(i);
  var acc = 0.0;
  for (var k = 0u; k < ${D}u; k = k + 1u) { acc = acc + rn(feature(i, b, k) * feature(j, b, k)); }
  out[b * ${spec.outW}u + c] = acc;
}`;
  return { wgsl: shader(head, PARAMS, declareBindings(bindings), rowStart, featureFn(spec), body), bindings };
}

export interface CopySpec {
  /** Up to MAX_INPUT_BINDINGS inputs, copied side by side starting at output column `col`. */
  inputs: { buffer: string; width: number }[];
  col: number;
  outW: number;
  out: string;
}

/** Renders a concat step; dispatch: (ceil(Σ widths/64), B, 1). */
export function renderCopy(spec: CopySpec, head: string): Rendered {
  const bindings: Binding[] = spec.inputs.map((input, i) => ({
    buffer: input.buffer,
    ident: `in${i}`,
    access: "read" as const,
    elem: "f32" as const,
  }));
  bindings.push({ buffer: spec.out, ident: "out", access: "read_write", elem: "f32" });
  let first = 0;
  const cases = spec.inputs.map((input, i) => {
    const copy = `out[dst + c] = in${i}[b * ${input.width}u + c - ${first}u];`;
    first += input.width;
    return i === spec.inputs.length - 1 ? `  ${copy}` : `  if (c < ${first}u) { ${copy} return; }`;
  });
  const body = `@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  let b = gid.y;
  if (c >= ${first}u || b >= params.batch) { return; }
  let dst = b * ${spec.outW}u + ${spec.col}u;
${cases.join("\n")}
}`;
  return { wgsl: shader(head, PARAMS, declareBindings(bindings), body), bindings };
}
