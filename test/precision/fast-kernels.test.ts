// The search evaluator's fast kernels against the interpreter's own arithmetic,
// bit for bit: the fp32 linear layer (src/interp/math.ts linearBatch), the dot
// interaction's pairs (dotF32 in dlrm's pair order), the int8 / int8a7 layer
// updated column by column against int8Linear / int8a7Linear on the whole
// input (in JavaScript and in WebAssembly SIMD), and roundHalfEven against the
// fmod formula it replaced.

import { describe, expect, it } from "vitest";
import { dotF32, linearBatch } from "../../src/interp/math.js";
import { int8Linear, int8a7Linear, quantizeInt8Weights, smoothMultipliers } from "../../src/quant/dense.js";
import { roundHalfEven } from "../../src/quant/rowwise.js";
import { dotPairs, dotPairsInto, linearF32 } from "../../src/precision/fast-kernels.js";
import { type Int8Layer, type Int8State, int8LayerUpdate } from "../../src/precision/int8-layer.js";
import { SimdLinear, SimdSums, simdAvailable } from "../../src/precision/simd-kernels.js";
import { Rng } from "../../src/util/rng.js";

const bits = (x: Float32Array): number[] => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));
const f32s = (rng: Rng, n: number, scale = 1): Float32Array => Float32Array.from({ length: n }, () => Math.fround(rng.normal() * scale));

describe("fast fp32 kernels", () => {
  it("linearF32 and SimdLinear are linearBatch bit for bit, at every batch and width remainder, with and without a bias", () => {
    const rng = new Rng(3);
    for (const [batch, inF, out] of [
      [1, 1, 1],
      [2, 5, 4],
      [3, 7, 9],
      [5, 13, 1],
      [8, 33, 6],
      [7, 16, 64],
      [4, 9, 17],
      [3, 40, 32],
    ] as const) {
      const x = f32s(rng, batch * inF, 3);
      x[0] = -0;
      if (x.length > 3) x[3] = 1e-40; // subnormal
      if (x.length > 6) x[6] = 3e38; // products and sums overflow to infinity
      const w = f32s(rng, out * inF);
      for (const bias of [f32s(rng, out), undefined]) {
        const want = new Float32Array(batch * out);
        const got = new Float32Array(batch * out);
        linearBatch(x, batch, inF, w, bias, out, want);
        linearF32(x, batch, inF, w, bias, out, got);
        expect(bits(got)).toEqual(bits(want));
        if (!simdAvailable()) continue;
        const simd = new Float32Array(batch * out);
        new SimdLinear(w, bias, inF, out).run(x, batch, simd);
        expect(bits(simd)).toEqual(bits(want));
      }
    }
  });

  it("the dot pairs that read the changed vectors are the interaction's entries, in its columns", () => {
    const rng = new Rng(4);
    const [batch, d, n] = [5, 4, 6];
    const bottom = f32s(rng, batch * d);
    const pooled = f32s(rng, batch * (n - 1) * d);
    const src = [bottom, ...Array.from({ length: n - 1 }, () => pooled)];
    const stride = Int32Array.from([d, ...Array.from({ length: n - 1 }, () => (n - 1) * d)]);
    const within = Int32Array.from([0, ...Array.from({ length: n - 1 }, (_, k) => k * d)]);
    const vec = (v: number, b: number): [Float32Array, number] => [src[v]!, b * stride[v]! + within[v]!];
    for (const self of [false, true])
      for (const changed of [[2], [0], [1, 4], [0, 1, 2, 3, 4, 5]]) {
        const outW = d + (self ? (n * (n + 1)) / 2 : (n * (n - 1)) / 2);
        const got = new Float32Array(batch * outW).fill(NaN);
        dotPairsInto(src, stride, within, batch, d, dotPairs(n, d, self, new Set(changed)), got, outW);
        for (let b = 0; b < batch; b++) {
          let pos = d;
          for (let i = self ? 0 : 1; i < n; i++)
            for (let j = 0; j <= (self ? i : i - 1); j++, pos++) {
              const v = got[b * outW + pos]!;
              if (changed.includes(i) || changed.includes(j)) expect(v).toBe(dotF32(...vec(i, b), ...vec(j, b), d));
              else expect(v).toBeNaN(); // not written
            }
        }
      }
  });
});

describe("the int8 layer updated by the codes that changed", () => {
  const [batch, inF, out] = [9, 40, 20];
  const rng = new Rng(5);
  const wf = f32s(rng, out * inF, 0.2);
  const smooth = Array.from({ length: inF }, () => 0.5 + rng.next());

  /** The layer as the evaluator builds it, for int8 (smoothed or not, static scale or not) or int8a7 at a zero point. */
  function layer(kind: "int8" | "int8s" | "static" | "a7-0" | "a7-64"): { L: Int8Layer; full: (x: Float32Array, y: Float32Array) => void } {
    const sm = kind === "int8s" ? smooth : undefined;
    const w = quantizeInt8Weights(sm ? wf.map((v, i) => Math.fround(v * sm[i % inF]!)) : wf, out, inF);
    const bias = f32s(rng, out);
    const mul = sm ? smoothMultipliers(sm) : undefined;
    const a7 = kind.startsWith("a7");
    const zero = kind === "a7-0" ? 0 : 64;
    const fixed = kind === "static" ? Math.fround(0.03) : undefined;
    const [div, lo, hi] = !a7 ? [127, -127, 127] : zero === 0 ? [127, 0, 127] : [63, -63, 63];
    const L: Int8Layer = { inF, out, scales: w.scales, bias, mul, fixed, div, lo, hi, sums: new SimdSums(w.q, inF, out) };
    const full = (x: Float32Array, y: Float32Array) =>
      a7 ? int8a7Linear(x, batch, inF, w, out, bias, zero, y) : int8Linear(x, batch, inF, w, out, bias, fixed, y, mul);
    return { L, full };
  }

  const fresh = (): Int8State => ({
    m: new Float64Array(batch),
    arg: new Int32Array(batch),
    s: new Float64Array(batch),
    q: new Int8Array(batch * inF),
    acc: new Int32Array(batch * out),
  });

  if (simdAvailable())
    for (const kind of ["int8", "int8s", "static", "a7-0", "a7-64"] as const)
      it(`${kind}: after each change of some columns, the outputs equal a full evaluation`, () => {
        const { L, full } = layer(kind);
        const nonNegative = kind === "a7-0";
        const x = f32s(rng, batch * inF, 2).map((v) => (nonNegative ? Math.abs(v) : v));
        const st = fresh();
        const y = new Float32Array(batch * out);
        const want = new Float32Array(batch * out);
        int8LayerUpdate(L, x, batch, st, true, "all", y);
        full(x, want);
        expect(bits(y)).toEqual(bits(want));
        for (let step = 0; step < 12; step++) {
          // Some columns change: a little (codes mostly hold), a lot (the row's scale moves), to a row's largest value, or to NaN.
          const cols = [...new Set(Array.from({ length: 1 + rng.int(6) }, () => rng.int(inF)))].sort((a, b) => a - b);
          for (let b = 0; b < batch; b++)
            for (const k of cols) {
              const r = rng.next();
              const v = r < 0.5 ? x[b * inF + k]! * (1 + 0.01 * rng.normal()) : r < 0.8 ? rng.normal() * 6 : r < 0.97 ? 0 : NaN;
              x[b * inF + k] = Math.fround(nonNegative && !Number.isNaN(v) ? Math.abs(v) : v);
            }
          const all = step % 5 === 4;
          int8LayerUpdate(L, x, batch, st, false, all ? "all" : Int32Array.from(cols), y);
          full(x, want);
          expect(bits(y)).toEqual(bits(want));
        }
      });
});

describe("roundHalfEven", () => {
  it("rounds as the fmod formula did, at ties, near them, at ±0, infinities, NaN and 2^52", () => {
    const old = (x: number): number => {
      const r = Math.round(x);
      return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
    };
    const rng = new Rng(6);
    const xs = [
      0,
      -0,
      0.5,
      -0.5,
      1.5,
      -1.5,
      2.5,
      -2.5,
      0.49999999999999994,
      -0.49999999999999994,
      Infinity,
      -Infinity,
      NaN,
      2 ** 52 - 0.5,
      -(2 ** 52) + 0.5,
      2 ** 53,
    ];
    for (let i = 0; i < 20000; i++) xs.push(rng.normal() * 300, Math.floor(rng.normal() * 300) + 0.5, Math.fround(rng.normal() * 127));
    for (const x of xs) expect(Object.is(roundHalfEven(x), old(x)) || (Number.isNaN(x) && Number.isNaN(roundHalfEven(x)))).toBe(true);
  });
});
