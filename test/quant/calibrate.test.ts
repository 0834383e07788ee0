// Calibration of static activation scales (src/quant/calibrate.ts): minmax and
// percentile on known arrays, l2 and kl against straightforward versions of
// their definitions written here, their behaviour on heavy-tailed and uniform
// samples, batching independence, and the fp16 floor of activationScale.

import { describe, expect, it } from "vitest";
import { RmcError } from "../../src/diagnostics/index.js";
import { RangeCollector, activationScale, calibrateRange } from "../../src/quant/calibrate.js";
import { Rng } from "../../src/util/rng.js";
import { rne } from "./reference.js";

const f32 = Math.fround;

/** Mean squared quantize-dequantize error of `xs` at the layer's scale for range r. */
function qdqError(xs: ArrayLike<number>, r: number): number {
  const s = Math.max(f32(r / 127), 2 ** -14);
  const inv = f32(1 / s);
  let e = 0;
  for (let k = 0; k < xs.length; k++) {
    const x = f32(xs[k]!);
    const q = Math.max(-127, Math.min(127, rne(f32(x * inv))));
    e += (x - f32(q * s)) ** 2;
  }
  return e / xs.length;
}

/** The l2 search as the spec words it: 100 candidates, least mean error, ties to the larger r. */
function l2Reference(xs: Float32Array): number {
  const max = Math.max(...xs.map(Math.abs));
  let best = { r: max, e: Infinity };
  for (let j = 1; j <= 100; j++) {
    const r = f32((max * j) / 100);
    const e = qdqError(xs, r);
    if (e <= best.e) best = { r, e };
  }
  return best.r;
}

/** The kl search written out with explicit P and Q arrays for every candidate. */
function klReference(xs: Float32Array): number {
  const abs = [...xs].map(Math.abs);
  const max = Math.max(...abs);
  const hist = new Array(2048).fill(0);
  for (const a of abs) hist[Math.min(2047, Math.floor((a / max) * 2048))]++;
  let best = { i: 2048, kl: Infinity };
  for (let i = 128; i <= 2048; i++) {
    const P = hist.slice(0, i);
    P[i - 1] += hist.slice(i).reduce((a, b) => a + b, 0);
    const Q = new Array(i).fill(0);
    for (let g = 0; g < 128; g++) {
      const lo = Math.floor((g * i) / 128);
      const hi = Math.floor(((g + 1) * i) / 128);
      const mass = hist.slice(lo, hi).reduce((a, b) => a + b, 0);
      const used = P.slice(lo, hi).filter((v) => v > 0).length;
      for (let k = lo; k < hi; k++) if (P[k] > 0) Q[k] = mass / used;
    }
    const sp = P.reduce((a, b) => a + b, 0);
    const sq = Q.reduce((a, b) => a + b, 0);
    let kl = 0;
    for (let k = 0; k < i; k++) if (P[k] > 0) kl += Q[k] === 0 ? Infinity : (P[k] / sp) * Math.log(P[k] / sp / (Q[k] / sq));
    if (kl <= best.kl) best = { i, kl };
  }
  return f32((best.i * max) / 2048);
}

const sample = (seed: number, n: number, draw: (rng: Rng) => number): Float32Array => {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => draw(rng));
};

describe("RangeCollector", () => {
  it("minmax is max|x| over every batch; NaN and infinities are counted, not collected", () => {
    const c = new RangeCollector();
    c.add(Float32Array.from([-3, 1]));
    c.add(Float32Array.from([2.5, NaN, -Infinity, 0.5]));
    expect(c.count).toBe(4);
    expect(c.skipped).toBe(2);
    expect(c.range("minmax")).toBe(3);
    expect(c.max).toBe(3);
  });

  it("names the known methods when given an unknown one", () => {
    for (const values of [[1, 2], []])
      expect(() => calibrateRange("max" as never, values)).toThrow("unknown calibration method `max` (known: minmax, percentile, l2, kl)");
  });

  it("an empty or all-zero collector has range 0 by every method", () => {
    const empty = new RangeCollector();
    const zeros = new RangeCollector();
    zeros.add(new Float32Array(50));
    for (const m of ["minmax", "percentile", "l2", "kl"] as const) {
      expect(empty.range(m)).toBe(0);
      expect(zeros.range(m)).toBe(0);
      expect(zeros.scale(m)).toBe(2 ** -14);
    }
  });

  it("grows past its first buffer and gives the same ranges however the values are batched", () => {
    const xs = sample(1, 5000, (r) => r.studentT(4));
    const one = new RangeCollector();
    one.add(xs);
    const many = new RangeCollector();
    for (let at = 0; at < xs.length; at += 333) many.add(xs.subarray(at, at + 333));
    expect(many.count).toBe(5000);
    for (const m of ["minmax", "percentile", "l2", "kl"] as const) expect(many.range(m), m).toBe(one.range(m));
    // Adding after a percentile query invalidates the sorted copy.
    expect(many.range("percentile", { percentile: 100 })).toBe(many.max);
    many.add([1000]);
    expect(many.range("percentile", { percentile: 100 })).toBe(1000);
  });
});

describe("percentile", () => {
  it("interpolates between the two nearest ranks, h = (n - 1)·p/100", () => {
    // |x| = 1..100 in a scrambled order (37 is prime to 100), with mixed signs.
    const shuffled = Float32Array.from({ length: 100 }, (_, i) => (((i * 37) % 100) + 1) * (i % 3 ? 1 : -1));
    expect(calibrateRange("percentile", shuffled, { percentile: 50 })).toBe(50.5); // h = 49.5
    expect(calibrateRange("percentile", shuffled, { percentile: 25 })).toBe(25.75); // h = 24.75
    expect(calibrateRange("percentile", shuffled, { percentile: 100 })).toBe(100);
    expect(calibrateRange("percentile", shuffled, { percentile: 1 })).toBe(f32(1.99)); // h = 0.99
  });

  it("defaults to the 99.99th percentile", () => {
    // |x| = 0..10000: h = 10000 · 0.9999 = 9999 → 9999 (up to the rounding of 99.99).
    const xs = Float32Array.from({ length: 10001 }, (_, i) => -i);
    expect(calibrateRange("percentile", xs)).toBeCloseTo(9999, 6);
    expect(calibrateRange("percentile", xs)).toBe(calibrateRange("percentile", xs, { percentile: 99.99 }));
  });

  it("rejects a percentile outside (0, 100]", () => {
    for (const p of [0, -1, 100.5, NaN]) {
      expect(() => calibrateRange("percentile", [1, 2], { percentile: p })).toThrow(RmcError);
      expect(() => calibrateRange("percentile", [1, 2], { percentile: p })).toThrow(/percentile must be in \(0, 100\]/);
    }
  });
});

describe("l2", () => {
  it("matches the search written from the spec", () => {
    for (const [seed, draw] of [
      [4, (r: Rng) => r.studentT(3)],
      [5, (r: Rng) => r.normal() * 0.01],
      [6, (r: Rng) => (r.next() < 0.9 ? r.next() : 20 * r.next())],
    ] as const) {
      const xs = sample(seed, 400, draw);
      expect(calibrateRange("l2", xs), `seed ${seed}`).toBe(l2Reference(xs));
    }
  });

  it("clips a heavy-tailed (Student-t, 3 degrees of freedom) sample, lowering the error", () => {
    const xs = sample(7, 20000, (r) => r.studentT(3));
    const max = calibrateRange("minmax", xs);
    const r = calibrateRange("l2", xs);
    expect(r).toBeLessThan(0.95 * max);
    expect(qdqError(xs, r)).toBeLessThan(qdqError(xs, max));
  });

  it("keeps the full range of a uniform sample", () => {
    const xs = Float32Array.from({ length: 2001 }, (_, i) => (i - 1000) / 1000);
    expect(calibrateRange("l2", xs)).toBe(1);
    const rnd = sample(8, 5000, (r) => r.next() * 2 - 1);
    expect(calibrateRange("l2", rnd)).toBe(calibrateRange("minmax", rnd));
  });
});

describe("kl", () => {
  it("matches the divergence search written out with explicit P and Q", () => {
    for (const [seed, draw] of [
      [9, (r: Rng) => r.studentT(3)],
      [10, (r: Rng) => r.normal()],
      [11, (r: Rng) => r.next()],
    ] as const) {
      const xs = sample(seed, 3000, draw);
      expect(calibrateRange("kl", xs), `seed ${seed}`).toBe(klReference(xs));
    }
  });

  it("picks a threshold below the max for a long-tailed sample, on a bin edge", () => {
    const xs = sample(12, 20000, (r) => r.studentT(3));
    const max = calibrateRange("minmax", xs);
    const r = calibrateRange("kl", xs);
    expect(r).toBeLessThan(0.8 * max);
    const bins = (r / max) * 2048;
    expect(Math.abs(bins - Math.round(bins))).toBeLessThan(1e-3);
    expect(Math.round(bins)).toBeGreaterThanOrEqual(128);
  });

  it("keeps nearly the full range of a uniform sample", () => {
    const xs = sample(13, 20000, (r) => r.next() * 2 - 1);
    expect(calibrateRange("kl", xs)).toBeGreaterThan(0.99 * calibrateRange("minmax", xs));
  });

  it("a lone far outlier above an empty gap is kept: clipping it into empty bins diverges", () => {
    const xs = sample(14, 1000, (r) => r.next() * 0.01);
    xs[0] = 1;
    expect(calibrateRange("kl", xs)).toBe(1);
  });
});

describe("activationScale", () => {
  it("is f32(r / 127), floored at fp16's minimum normal 2^-14", () => {
    expect(activationScale(127)).toBe(1);
    expect(activationScale(254)).toBe(2);
    expect(activationScale(1)).toBe(f32(1 / 127));
    expect(activationScale(127 * 2 ** -14)).toBe(2 ** -14);
    expect(activationScale(127 * 2 ** -15)).toBe(2 ** -14);
    expect(activationScale(1e-9)).toBe(2 ** -14);
    expect(activationScale(0)).toBe(2 ** -14);
  });

  it("rejects negative or non-finite ranges", () => {
    for (const r of [-1, NaN, Infinity]) expect(() => activationScale(r)).toThrow(/activation range must be a finite number/);
  });

  it("the collector's scale is activationScale of its range", () => {
    const c = new RangeCollector();
    c.add(sample(15, 1000, (r) => r.normal()));
    expect(c.scale("l2")).toBe(activationScale(c.range("l2")));
    expect(c.scale("percentile", { percentile: 99 })).toBe(activationScale(c.range("percentile", { percentile: 99 })));
  });
});
