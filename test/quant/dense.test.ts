// Dense-layer quantization (src/quant/dense.ts) against the spec: fp16/bf16
// weight rounding, int8 per-channel weights with the clip search (checked
// against ./reference.ts and by the error it is meant to lower), dynamic and
// static activation quantization at the edges, and int8Linear on a small
// example worked by hand.

import { describe, expect, it } from "vitest";
import { dynamicScale, int8Linear, quantizeActivations, quantizeInt8Weights, toBf16, toF16 } from "../../src/quant/dense.js";
import { Rng } from "../../src/util/rng.js";
import { half, refInt8WeightRow, rne } from "./reference.js";

const f32 = Math.fround;

/** Squared error of a row quantized at `scale` with values `q`, in double. */
const sqErr = (w: Float32Array, q: ArrayLike<number>, scale: number): number => w.reduce((s, v, k) => s + (v - q[k]! * scale) ** 2, 0);

describe("fp16 / bf16 rounding", () => {
  it("toF16 is the nearest binary16", () => {
    const rng = new Rng(5);
    for (let n = 0; n < 2000; n++) {
      const x = f32(rng.normal() * 10 ** (rng.int(12) - 6));
      expect(toF16(x)).toBe(half(x));
    }
  });

  it("toBf16 keeps the top 16 bits, ties to even, NaN stays NaN", () => {
    // bf16 has 8 significand bits: 1 + 2^-8 is halfway between 1 and 1 + 2^-7 (even: 1);
    // 1 + 3·2^-8 halfway between 1 + 2^-7 and 1 + 2^-6 (even: 1 + 2^-6); a hair above a tie rounds up.
    expect(toBf16(1 + 2 ** -8)).toBe(1);
    expect(toBf16(1 + 3 * 2 ** -8)).toBe(1 + 2 ** -6);
    expect(toBf16(1 + 2 ** -8 + 2 ** -20)).toBe(1 + 2 ** -7);
    expect(toBf16(-(1 + 2 ** -8 + 2 ** -20))).toBe(-(1 + 2 ** -7));
    expect(toBf16(3.3895313892515355e38)).toBe(3.3895313892515355e38); // the largest bf16
    expect(toBf16(f32(3.4e38))).toBe(Infinity);
    expect(Number.isNaN(toBf16(NaN))).toBe(true);
    // Independent check: bf16(x) is the nearest value with 8 significand bits.
    const rng = new Rng(6);
    for (let n = 0; n < 500; n++) {
      const x = f32(rng.normal() * 2 ** (rng.int(40) - 20));
      const e = Math.floor(Math.log2(Math.abs(x)));
      const ulp = 2 ** (e - 7);
      const lo = Math.floor(x / ulp) * ulp;
      const r = x - lo === ulp / 2 ? ((lo / ulp) % 2 === 0 ? lo : lo + ulp) : x - lo < ulp / 2 ? lo : lo + ulp;
      expect(toBf16(x), `${x}`).toBe(r);
    }
  });
});

describe("int8 weights", () => {
  it("are symmetric per output channel and match the reference quantizer", () => {
    const rng = new Rng(11);
    const [out, inF] = [6, 37];
    const w = Float32Array.from({ length: out * inF }, () => rng.normal() * 0.3);
    w[5] = 4; // an outlier in row 0
    const { q, scales } = quantizeInt8Weights(w, out, inF);
    for (let o = 0; o < out; o++) {
      const row = w.subarray(o * inF, (o + 1) * inF);
      const ref = refInt8WeightRow(row);
      expect([...q.subarray(o * inF, (o + 1) * inF)], `row ${o}`).toEqual(ref.q);
      expect(scales[o]).toBe(ref.scale);
    }
    expect(Math.min(...q)).toBeGreaterThanOrEqual(-127);
    expect(Math.max(...q)).toBeLessThanOrEqual(127);
    // Negating the weights negates q and keeps the scales: the quantizer is symmetric.
    const neg = quantizeInt8Weights(
      w.map((v) => -v),
      out,
      inF,
    );
    expect([...neg.q].map((v) => v + 0)).toEqual([...q].map((v) => -v + 0));
    expect([...neg.scales]).toEqual([...scales]);
  });

  it("keeps the full range (c = 1) for a row already on the int8 grid", () => {
    // w = k · a/127 for k = -127..127: at c = 1 every value is exact; any c < 1 adds error.
    const a = 0.75;
    const w = Float32Array.from({ length: 255 }, (_, i) => f32(((i - 127) * a) / 127));
    const { q, scales } = quantizeInt8Weights(w, 1, 255);
    expect(scales[0]).toBe(f32(a / 127));
    expect([...q]).toEqual(Array.from({ length: 255 }, (_, i) => i - 127));
  });

  it("keeps the full range for a uniformly spread row", () => {
    const rng = new Rng(12);
    const w = Float32Array.from({ length: 512 }, () => f32(rng.next() * 2 - 1));
    const a = Math.max(...w.map(Math.abs));
    expect(quantizeInt8Weights(w, 1, 512).scales[0]).toBe(f32(a / 127));
  });

  it("clips a long row with one big outlier, with less error than no clipping", () => {
    const rng = new Rng(3);
    const n = 4096;
    const w = Float32Array.from({ length: n }, () => f32(rng.normal()));
    w[3] = 6; // six standard deviations
    const { q, scales } = quantizeInt8Weights(w, 1, n);
    const ref = refInt8WeightRow(w);
    expect(ref.c).toBeLessThan(1);
    expect(scales[0]).toBe(ref.scale);
    expect(scales[0]).toBeLessThan(f32(6 / 127));
    expect(q[3]).toBe(127); // the outlier saturates
    // The unclipped quantization, computed here from the spec formula.
    const s1 = f32(6 / 127);
    const inv1 = f32(1 / s1);
    const q1 = [...w].map((v) => Math.max(-127, Math.min(127, rne(f32(v * inv1)))));
    expect(sqErr(w, q, scales[0]!)).toBeLessThan(sqErr(w, q1, s1));
  });

  it("an all-zero row gets scale 1 and zeros", () => {
    const { q, scales } = quantizeInt8Weights(new Float32Array(8), 1, 8);
    expect(scales[0]).toBe(1);
    expect([...q]).toEqual(new Array(8).fill(0));
  });
});

describe("activations", () => {
  it("dynamicScale: max|x| / 127, 1 for zeros, NaN propagates", () => {
    expect(dynamicScale(Float32Array.from([0.5, -127, 3]), 0, 3)).toBe(1);
    expect(dynamicScale(Float32Array.from([9, 1, -2, 0.25]), 1, 3)).toBe(f32(2 / 127)); // only x[1..3]
    expect(dynamicScale(Float32Array.from([-0, 0, 0]), 0, 3)).toBe(1);
    expect(dynamicScale(new Float32Array(0), 0, 0)).toBe(1);
    expect(dynamicScale(Float32Array.from([1, NaN, 2]), 0, 3)).toBeNaN();
  });

  it("quantizeActivations: rne, clamps at ±127, NaN → 0", () => {
    const q = new Int32Array(9);
    quantizeActivations(Float32Array.from([2.5, -2.5, 3.5, 1000, -1000, NaN, 126.6, -0.4, 0.5]), 0, 9, 1, q);
    expect([...q]).toEqual([2, -2, 4, 127, -127, 0, 127, 0, 0]);
    // With scale 0.25: inv 4; 0.125·4 = 0.5 → 0, 0.375·4 = 1.5 → 2, 40·4 = 160 → 127.
    quantizeActivations(Float32Array.from([0.125, 0.375, 40, -40]), 0, 4, 0.25, q);
    expect([...q.subarray(0, 4)]).toEqual([0, 2, 127, -127]);
  });

  it("dynamic quantization of a NaN row gives all-zero codes and a NaN output", () => {
    const w = quantizeInt8Weights(Float32Array.from([1, 2]), 1, 2);
    const y = new Float32Array(1);
    int8Linear(Float32Array.from([NaN, 1]), 1, 2, w, 1, undefined, undefined, y);
    expect(y[0]).toBeNaN(); // 0 · NaN scale
  });
});

describe("int8Linear", () => {
  // Weights on exact grids, so the clip search keeps c = 1: row 0 has scale 1/64, row 1 scale 1/32.
  //   Wq = [[127, -3, 0, 10], [-127, 5, 64, -1]], bias [0.25, -0.5].
  const W = Float32Array.from([127 / 64, -3 / 64, 0, 10 / 64, -127 / 32, 5 / 32, 64 / 32, -1 / 32]);
  const bias = Float32Array.from([0.25, -0.5]);

  it("quantizes the example weights as intended", () => {
    const w = quantizeInt8Weights(W, 2, 4);
    expect([...w.q]).toEqual([127, -3, 0, 10, -127, 5, 64, -1]);
    expect([...w.scales]).toEqual([1 / 64, 1 / 32]);
  });

  it("static scale: a sample worked by hand", () => {
    // s = 0.5 → inv 2: x = [1, -2, 0.5, 4] → qx = [2, -4, 1, 8].
    // acc0 = 254 + 12 + 0 + 80 = 346, y0 = 346 · (0.5/64) + 0.25 = 2.703125 + 0.25 = 2.953125.
    // acc1 = -254 - 20 + 64 - 8 = -218, y1 = -218 · (0.5/32) - 0.5 = -3.40625 - 0.5 = -3.90625.
    const y = new Float32Array(2);
    int8Linear(Float32Array.from([1, -2, 0.5, 4]), 1, 4, quantizeInt8Weights(W, 2, 4), 2, bias, 0.5, y);
    expect([...y]).toEqual([2.953125, -3.90625]);
  });

  it("dynamic scale per row: two samples worked by hand", () => {
    // Row 0: max|x| = 15.875 → s = 15.875/127 = 0.125, inv 8: x·8 = [127, -8, 0.5, 24] → qx = [127, -8, 0, 24]
    // (0.5 ties to 0). acc0 = 16129 + 24 + 240 = 16393 → y0 = 16393/512 + 0.25 = 32.267578125;
    // acc1 = -16129 - 40 - 24 = -16193 → y1 = -16193/256 - 0.5 = -63.75390625.
    // Row 1 is row 0 halved: s halves, the codes are the same, so y = (row-0 y - bias)/2 + bias.
    const x = Float32Array.from([15.875, -1, 0.0625, 3, 7.9375, -0.5, 0.03125, 1.5]);
    const y = new Float32Array(4);
    int8Linear(x, 2, 4, quantizeInt8Weights(W, 2, 4), 2, bias, undefined, y);
    expect([...y]).toEqual([32.267578125, -63.75390625, 16393 / 1024 + 0.25, -16193 / 512 - 0.5]);
  });

  it("without a bias, y = f32(acc) · f32(s · sw)", () => {
    const y = new Float32Array(2);
    int8Linear(Float32Array.from([1, -2, 0.5, 4]), 1, 4, quantizeInt8Weights(W, 2, 4), 2, undefined, 0.5, y);
    expect([...y]).toEqual([346 / 128, -218 / 64]);
  });
});
