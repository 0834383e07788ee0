// f16 / bf16 conversions against hand-checked bit patterns, plus exhaustive
// round trips over every binary16 pattern.

import { describe, expect, it } from "vitest";
import { decodeToF32, encodeFromF32 } from "../../src/weights/dtypes.js";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "../../src/quant/half.js";

describe("f16", () => {
  it("decodes hand-checked bit patterns exactly", () => {
    expect(f16ToF32(0x3c00)).toBe(1);
    expect(f16ToF32(0xc000)).toBe(-2);
    expect(f16ToF32(0x7bff)).toBe(65504);
    expect(f16ToF32(0x0001)).toBe(2 ** -24);
    expect(f16ToF32(0x03ff)).toBe(1023 * 2 ** -24); // largest subnormal
    expect(f16ToF32(0x0400)).toBe(2 ** -14); // smallest normal
    expect(f16ToF32(0x3555)).toBe(0.333251953125); // (1 + 341/1024) / 4, the f16 nearest 1/3
    expect(f16ToF32(0x7c00)).toBe(Infinity);
    expect(f16ToF32(0xfc00)).toBe(-Infinity);
    expect(Number.isNaN(f16ToF32(0x7e00))).toBe(true);
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
  });

  it("encodes with round-half-to-even", () => {
    expect(f32ToF16(1)).toBe(0x3c00);
    expect(f32ToF16(-2)).toBe(0xc000);
    expect(f32ToF16(65504)).toBe(0x7bff);
    expect(f32ToF16(65519)).toBe(0x7bff); // below the halfway point to 65536
    expect(f32ToF16(65520)).toBe(0x7c00); // halfway, ties to even = infinity
    expect(f32ToF16(1e6)).toBe(0x7c00);
    // 1 + 2^-11 is exactly halfway between 1 and 1 + 2^-10: ties to the even mantissa (1).
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00);
    // 1 + 3 * 2^-11 is halfway between mantissas 1 and 2: ties to 2.
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(f32ToF16(2 ** -24)).toBe(0x0001);
    expect(f32ToF16(2 ** -25)).toBe(0x0000); // halfway to the smallest subnormal: ties to 0
    expect(f32ToF16(1.5 * 2 ** -25)).toBe(0x0001);
    expect(f32ToF16(3 * 2 ** -25)).toBe(0x0002); // 1.5 subnormal units: ties to 2
    expect(f32ToF16(2 ** -14 - 2 ** -26)).toBe(0x0400); // rounds up from subnormal into the smallest normal
    expect(f32ToF16(-0)).toBe(0x8000);
    expect(f32ToF16(-Infinity)).toBe(0xfc00);
    expect(f32ToF16(NaN) & 0x7c00).toBe(0x7c00);
    expect(f32ToF16(NaN) & 0x3ff).not.toBe(0);
  });

  it("round-trips every finite binary16 pattern", () => {
    for (let h = 0; h < 65536; h++) {
      if ((h & 0x7c00) === 0x7c00 && h & 0x3ff) continue; // NaN payloads need not survive
      expect(f32ToF16(f16ToF32(h))).toBe(h);
    }
  });
});

describe("bf16", () => {
  it("decodes and encodes hand-checked values", () => {
    expect(bf16ToF32(0x3f80)).toBe(1);
    expect(bf16ToF32(0xc000)).toBe(-2);
    expect(bf16ToF32(0x4049)).toBe(3.140625);
    expect(bf16ToF32(0x7f80)).toBe(Infinity);
    expect(f32ToBf16(1)).toBe(0x3f80);
    expect(f32ToBf16(3.14159)).toBe(0x4049);
    // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (1); 1 + 3 * 2^-8 ties up.
    expect(f32ToBf16(1 + 2 ** -8)).toBe(0x3f80);
    expect(f32ToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(Number.isNaN(bf16ToF32(f32ToBf16(NaN)))).toBe(true);
  });
});

describe("decodeToF32", () => {
  it("decodes every dtype from little-endian bytes at an offset", () => {
    const cases: [Parameters<typeof decodeToF32>[0], number[], number[]][] = [
      ["F32", [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0], [1, -2]],
      ["F16", [0x00, 0x3c, 0x00, 0xc0], [1, -2]],
      ["BF16", [0x80, 0x3f, 0x00, 0xc0], [1, -2]],
      ["F64", [0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0xc0], [1, -2]],
      ["I8", [0x01, 0xfe], [1, -2]],
      ["U8", [0x01, 0xfe], [1, 254]],
      ["I32", [1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff], [1, -2]],
      ["I64", [1, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [1, -2]],
    ];
    for (const [dtype, bytes, want] of cases) {
      const out = new Float32Array(3);
      decodeToF32(dtype, new Uint8Array(bytes), out, 1);
      expect([...out], dtype).toEqual([0, ...want]);
    }
  });

  it("encodes F16 and BF16 through the rounding functions", () => {
    const v = new Float32Array([1, -2, 0.5]);
    expect([...encodeFromF32("F16", v)]).toEqual([0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38]);
    expect([...encodeFromF32("BF16", v)]).toEqual([0x80, 0x3f, 0x00, 0xc0, 0x00, 0x3f]);
    expect([...encodeFromF32("F32", new Float32Array([1]))]).toEqual([0x00, 0x00, 0x80, 0x3f]);
  });
});
