// A model whose int8 quantizers see values 1 ulp under, exactly on and 1 ulp
// over rounding ties (x.5) of an awkward static scale, for the WGSL tests on
// Dawn and in Chromium: two int8 layers, the second fed by the first's
// output, and an fp32 layer after them. Any step that rounds differently from
// the interpreter (a fused multiply-add, a division) moves a code by one and
// an output by scale·w, so the outputs must be bit-identical.

import type { Graph } from "../../../src/ir/types.js";
import { build, type Built } from "./helpers.js";

const f32 = Math.fround;
/** The first layer's static activation scale: 1/s is no power of two, so x·(1/s) rounds. */
export const TIE_SCALE = f32(0.0371);

/** `v` moved by `by` ulps (away from zero for by > 0). */
function ulps(v: number, by: number): number {
  const bits = new Float32Array([v]);
  const u = new Uint32Array(bits.buffer);
  u[0] = u[0]! + (v >= 0 ? by : -by);
  return bits[0]!;
}

/** An input x with f32(x · inv) exactly `target`, searched among the floats near target / inv. */
function aimAt(target: number, inv: number): number {
  const x0 = f32(target / inv);
  for (let d = 0; d < 64; d++) for (const x of [ulps(x0, d), ulps(x0, -d)]) if (f32(x * inv) === target) return x;
  return x0;
}

/** Inputs whose products with 1/TIE_SCALE are t - ulp, t and t + ulp for ties t of both signs, small and near the clamp. */
export const TIE_INPUTS: readonly number[] = [0.5, 1.5, 2.5, 7.5, 57.5, 126.5, -0.5, -7.5, -57.5]
  .flatMap((t) => [ulps(t, -1), t, ulps(t, 1)])
  .map((t) => aimAt(t, f32(1 / TIE_SCALE)));

/** Fills a batch's `x` (row-major [B, 9]) with the tie inputs, cycling. */
export function fillTies(x: Float32Array): void {
  for (let i = 0; i < x.length; i++) x[i] = TIE_INPUTS[i % TIE_INPUTS.length]!;
}

/** The model, with static scales set on its int8 layers. */
export function tieModel(): Built {
  const src = `model ties {
  input x: f32[9]
  @precision(int8)
  a = relu(linear(x, 16))
  @precision(int8)
  b = linear(a, 8)
  c = linear(b, 4)
  output b
  output c
}`;
  return build(src, (g: Graph) => {
    for (const n of g.nodes) if (n.op === "linear" && n.id.startsWith("a")) n.attrs.act_scale = TIE_SCALE;
    for (const n of g.nodes) if (n.op === "linear" && n.id === "b") n.attrs.act_scale = f32(0.0517);
  });
}
