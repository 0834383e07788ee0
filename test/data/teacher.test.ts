import { describe, expect, it } from "vitest";
import { RmcError } from "../../src/diagnostics/index.js";
import { entropy, expectedNE, fitTeacher } from "../../src/data/teacher.js";
import { Rng } from "../../src/util/rng.js";

const normalLogits = (n: number, sd: number, mean = 0, seed = 7): Float32Array => {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => mean + sd * rng.normal());
};

/** Mean p and E[H(p)]/H(mean p), written out independently of the module. */
function check(z: Float32Array, a: number, b: number): { ctr: number; ne: number } {
  const ps = Array.from(z, (x) => 1 / (1 + Math.exp(-(a * x + b))));
  const ctr = ps.reduce((s, p) => s + p, 0) / ps.length;
  const h = (p: number): number => -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
  return { ctr, ne: ps.reduce((s, p) => s + h(p), 0) / ps.length / h(ctr) };
}

describe("fitTeacher", () => {
  it.each([
    [0.25, 0.8, 1],
    [0.03, 0.7, 0.1],
    [0.5, 0.95, 5],
    [0.1, 0.4, 2],
  ])("hits ctr %f and NE %f (logit sd %f)", (ctr, ne, sd) => {
    const z = normalLogits(4096, sd, 0.3);
    const t = fitTeacher(z, { ctr, ne });
    const got = check(z, t.scale, t.shift);
    expect(Math.abs(got.ctr - ctr)).toBeLessThan(1e-6);
    expect(Math.abs(got.ne - ne)).toBeLessThan(1e-4);
    expect(t.note).toBeUndefined();
    expect(t.scale).toBeGreaterThan(0);
  });

  it("uses the defaults ctr 0.25, NE 0.8", () => {
    const z = normalLogits(2000, 2);
    const t = fitTeacher(z);
    const got = check(z, t.scale, t.shift);
    expect(got.ctr).toBeCloseTo(0.25, 6);
    expect(got.ne).toBeCloseTo(0.8, 3);
  });

  it("NE 1 means a constant teacher", () => {
    const t = fitTeacher(normalLogits(100, 1), { ne: 1, ctr: 0.3 });
    expect(t.scale).toBe(0);
    expect(1 / (1 + Math.exp(-t.shift))).toBeCloseTo(0.3, 8);
  });

  it("rejects constant logits and impossible targets", () => {
    expect(() => fitTeacher(new Float32Array(100).fill(0.5))).toThrow(/does not depend on its inputs; cannot reach NE 0.8/);
    expect(() => fitTeacher(normalLogits(10, 1), { ne: 1.2 })).toThrow(RmcError);
    expect(() => fitTeacher(normalLogits(10, 1), { ctr: 0 })).toThrow(/CTR/);
    expect(() => fitTeacher(Float32Array.from([0, NaN]))).toThrow(/non-finite/);
  });

  it("returns the best teacher with a note when heavy ties make the NE unreachable", () => {
    // Half the samples tie at one logit, half at another: p can only take two values.
    const z = Float32Array.from({ length: 1000 }, (_, i) => (i % 2 ? 1 : 0));
    const t = fitTeacher(z, { ctr: 0.25, ne: 0.1 });
    expect(t.note).toMatch(/out of reach/);
    expect(t.ne).toBeGreaterThan(0.1);
    expect(check(z, t.scale, t.shift).ctr).toBeCloseTo(0.25, 5);
  });
});

describe("expectedNE", () => {
  it("agrees with a direct computation and is 1 for a constant teacher", () => {
    const z = normalLogits(500, 1.5);
    expect(expectedNE(z, 0.7, -1)).toBeCloseTo(check(z, 0.7, -1).ne, 10);
    expect(expectedNE(z, 0, -1)).toBeCloseTo(1, 12);
    expect(entropy(0.5)).toBeCloseTo(Math.log(2), 15);
  });
});
