// `rmc import-onnx` for the int8 layers `rmc export-onnx --precision int8`
// writes (src/onnx/lower.ts): DynamicQuantizeLinear → MatMulInteger → Cast →
// Mul(x_scale · w_scale) (the dynamic form), or rmc's exact per-row form, each
// then + bias. Both are matched as templates built by the exporter's own
// lowering, and map back to an rmc int8 linear layer: the weights
// W[o, k] = (Wu8[k, o] − 128) · w_scale[o], dequantized in f32, pinned int8.
// rmc's quantizer maps those values back to the same int8 values and scales
// (their rows lie on the int8 grid, so its clip search finds zero error at the
// full range), so the imported model computes what the exporting one did.
// The activations are quantized as rmc does (per row, symmetric): the
// exporting model's scheme, which the dynamic form only approximates.

import { OnnxBuilder } from "./builder.js";
import { lowerInt8Linear, lowerInt8LinearExact } from "./lower.js";
import { type GraphIndex, matchTemplate } from "./match.js";
import { DT, tensorValues } from "./proto.js";

/** A matched int8 layer: its input tensor, the f32 weights it stands for, its bias initializer. */
export interface Int8Layer {
  x: string;
  /** The DSL weight name: the u8 initializer's name without the exporter's `.u8`. */
  name: string;
  shape: [number, number];
  data: Float32Array;
  bias?: string;
}

/** The int8 layer whose output is `tensor` (an Add of the bias, or the scaling Mul), or why it is none. */
export function matchInt8Layer(g: GraphIndex, tensor: string, withBias: boolean): Int8Layer | string {
  let why = "";
  for (const form of ["dynamic", "exact"] as const) {
    const t = new OnnxBuilder();
    const holes = { weight: "?w", zeroPoint: "?zp", scales: "?scales" };
    const bias = withBias ? "?bias" : undefined;
    const root = form === "dynamic" ? lowerInt8Linear(t, "?x", holes, bias, "?out") : lowerInt8LinearExact(t, "?x", holes, undefined, bias, "?out");
    const m = matchTemplate(g, t, root, tensor, new Set(["?x", ...Object.values(holes), ...(bias ? [bias] : [])]));
    if (typeof m === "string") {
      why ||= m;
      continue;
    }
    const get = (h: string) => m.bound.get(h)!;
    const x = get("?x");
    if (g.opOf(x, "Mul") && g.initializers.has(g.opOf(x, "Mul")!.input?.[1] ?? ""))
      return "a smoothed int8 layer (SmoothQuant's Mul before the quantizer), which import-onnx does not read back";
    const w = g.initializers.get(get("?w"));
    const zp = g.constant(get("?zp"));
    const sc = g.initializers.get(get("?scales"));
    const wv = w ? tensorValues(w) : undefined;
    const sv = sc ? tensorValues(sc) : undefined;
    if (!wv || wv.dtype !== DT.UINT8 || wv.dims.length !== 2) return `its MatMulInteger weight \`${get("?w")}\` is no uint8 [in, out] initializer`;
    if (!zp || Array.from(zp.data as ArrayLike<number>).some((v) => v !== 128))
      return "its weight zero point is not 128 (rmc's symmetric int8 shifted to uint8)";
    const [inF, out] = wv.dims as [number, number];
    if (!sv || sv.dtype !== DT.FLOAT || sv.dims.join() !== `${out}`)
      return `its weight scales \`${get("?scales")}\` are no float [${out}] initializer`;
    const u8 = wv.data as ArrayLike<number>;
    const s = sv.data as Float32Array;
    const data = new Float32Array(out * inF);
    for (let o = 0; o < out; o++) for (let k = 0; k < inF; k++) data[o * inF + k] = Math.fround((u8[k * out + o]! - 128) * s[o]!);
    const name = get("?w").replace(/\.u8(_\d+)?$/, "");
    return { x, name, shape: [out, inF], data, ...(bias ? { bias: get(bias) } : {}) };
  }
  return why;
}
