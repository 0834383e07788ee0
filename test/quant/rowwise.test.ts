// Row-wise table formats (src/quant/rowwise.ts) against the spec: FBGEMM's
// worked examples byte for byte, a 2-bit row worked by hand, packing of odd
// dims, edge rows (constant, huge, tiny, -0, NaN), and random rows checked
// against the independent implementation in ./reference.ts.

import { describe, expect, it } from "vitest";
import { dequantizeRow, prequantizedFormat, quantizeRow, roundHalfEven, roundTripRow, rowBytes, type RowFormat } from "../../src/quant/rowwise.js";
import { Rng } from "../../src/util/rng.js";
import { half, halfBits, halfValue, refDequantize, refQuantize, refQuantizeL2, rne } from "./reference.js";

const f32 = Math.fround;
const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");
const BITS = { int8: 8, int4: 4, int2: 2 } as const;

function quantize(format: RowFormat, row: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(rowBytes(format, row.length));
  quantizeRow(format, Float32Array.from(row), out);
  return out;
}

function dequantize(format: RowFormat, bytes: Uint8Array, dim: number): number[] {
  const out = new Float32Array(dim);
  dequantizeRow(format, bytes, 0, dim, out);
  return [...out];
}

/** The FBGEMM check row from the spec. */
const CHECK_ROW = [-1, 0, 0.5, 1, 0.25, -0.75, 0.1, 0.9];

describe("worked examples", () => {
  it("8-bit: FBGEMM's byte prepack of the check row", () => {
    // range 2, inv = 255 / f32(2 + 1e-8) = 127.5; q = rne((x + 1) * 127.5):
    // 0, 127.5→128, 191.25→191, 255, 159.375→159, 31.875→32, 140.25→140, 242.25→242.
    // scale = f32(2/255) = 0x3c008081, bias = -1 = 0xbf800000 (both little-endian).
    expect(hex(quantize("int8", CHECK_ROW))).toBe("00 80 bf ff 9f 20 8c f2 81 80 00 3c 00 00 80 bf");
  });

  it("4-bit: FBGEMM's 4-bit prepack of the check row", () => {
    // scale = f16(2/15) = 0x3044 (0.13330078), inv = 7.5018..., q = 0,8,11,15,9,2,8,14,
    // low nibble first: 0x80 0xfb 0x29 0xe8; bias f16(-1) = 0xbc00.
    expect(hex(quantize("int4", CHECK_ROW))).toBe("80 fb 29 e8 44 30 00 bc");
  });

  it("2-bit: the check row, worked by hand", () => {
    // mn = f16(-1) = -1, range = 2, scale = f16(2/3): 2/3 = 1.3333 * 2^-1, mantissa
    // 0.3333 * 1024 = 341.3 → 341 = 0x155, exponent -1 + 15 = 14 → 0x3955 = 0.66650390625.
    // inv = 1/0.6665039 = 1.5003663; (x + 1) * inv = 0, 1.50037, 2.2505, 3.0007, 1.8755,
    // 0.3751, 1.6504, 2.8507 → q = 0, 2, 2, 3 (clamped), 2, 0, 2, 3.
    // Four values per byte, the first in the lowest two bits:
    // 0 + 2·4 + 2·16 + 3·64 = 232 = 0xe8; 2 + 0·4 + 2·16 + 3·64 = 226 = 0xe2.
    expect(hex(quantize("int2", CHECK_ROW))).toBe("e8 e2 55 39 00 bc");
  });

  it("2-bit: an odd-width row with exact arithmetic and ties", () => {
    // [-2, -0.5, 1, 0.5, -1.5, -1]: mn = -2 (f16 0xc000), range 3, scale = f16(3/3) = 1 (0x3c00),
    // inv = 1, x - mn = 0, 1.5, 3, 2.5, 0.5, 1 → rne: 0, 2 (tie up to even), 3, 2 (tie down
    // to even), 0 (tie down to even), 1. Bytes: 0 + 2·4 + 3·16 + 2·64 = 184 = 0xb8; the
    // last byte holds two values, 0 + 1·4 = 0x04, its upper four bits zero.
    const bytes = quantize("int2", [-2, -0.5, 1, 0.5, -1.5, -1]);
    expect(hex(bytes)).toBe("b8 04 00 3c 00 c0");
    expect(dequantize("int2", bytes, 6)).toEqual([-2, 0, 1, 0, -2, -1]);
  });

  it("4-bit and 2-bit with the l2 range: the check row's refitted scale and bias (docs/numerics.md)", () => {
    const l2 = (format: RowFormat) => {
      const out = new Uint8Array(rowBytes(format, CHECK_ROW.length));
      quantizeRow(format, Float32Array.from(CHECK_ROW), out, 0, "l2");
      return hex(out);
    };
    expect(l2("int4")).toBe("70 fb 29 e8 52 30 ea bb");
    expect(l2("int2")).toBe("e8 e2 c2 38 54 bb");
    // int8 rows keep FBGEMM's rule whatever the range option says.
    const int8 = new Uint8Array(rowBytes("int8", CHECK_ROW.length));
    quantizeRow("int8", Float32Array.from(CHECK_ROW), int8, 0, "l2");
    expect(hex(int8)).toBe(hex(quantize("int8", CHECK_ROW)));
  });

  it("8-bit: the example in PyTorch's qembeddingbag_prepack.cpp", () => {
    // Rows [10, 20] and [30, 40] → values [0, 255], scale bytes 161 160 32 61 (f32(10/255)),
    // bias bytes 0 0 32 65 (10.0) and 0 0 240 65 (30.0), as that comment prints them.
    expect([...quantize("int8", [10, 20])]).toEqual([0, 255, 161, 160, 32, 61, 0, 0, 32, 65]);
    expect([...quantize("int8", [30, 40])]).toEqual([0, 255, 161, 160, 32, 61, 0, 0, 240, 65]);
  });

  it("a number[] row quantizes as its Float32Array does (values are f32 first)", () => {
    const rng = new Rng(99);
    for (let n = 0; n < 300; n++) {
      const row = Array.from({ length: 8 }, () => Math.round(rng.normal() * 1000) / 1000); // not f32 values
      for (const format of ["int8", "int4", "int2"] as const) {
        const direct = new Uint8Array(rowBytes(format, 8));
        quantizeRow(format, row, direct);
        expect(hex(direct), `${format} [${row}]`).toBe(hex(refQuantize(BITS[format], Float32Array.from(row))));
      }
    }
  });

  it("dequantizes the worked rows to q·scale + bias", () => {
    const s8 = f32(2 / 255);
    expect(dequantize("int8", quantize("int8", CHECK_ROW), 8)).toEqual([0, 128, 191, 255, 159, 32, 140, 242].map((q) => f32(f32(q * s8) - 1)));
    const s4 = halfValue(0x3044);
    expect(dequantize("int4", quantize("int4", CHECK_ROW), 8)).toEqual([0, 8, 11, 15, 9, 2, 8, 14].map((q) => f32(f32(q * s4) - 1)));
  });
});

describe("layout", () => {
  it("row sizes", () => {
    expect([1, 2, 3, 4, 5, 8, 9, 64].map((d) => rowBytes("int8", d))).toEqual([9, 10, 11, 12, 13, 16, 17, 72]);
    expect([1, 2, 3, 4, 5, 8, 9, 64].map((d) => rowBytes("int4", d))).toEqual([5, 5, 6, 6, 7, 8, 9, 36]);
    expect([1, 2, 3, 4, 5, 8, 9, 64].map((d) => rowBytes("int2", d))).toEqual([5, 5, 5, 5, 6, 6, 7, 20]);
    expect(rowBytes("fp16", 7)).toBe(14);
  });

  it("odd dims pack the last partial byte low bits first and leave the rest zero", () => {
    for (const [format, dim] of [
      ["int4", 7],
      ["int4", 1],
      ["int2", 5],
      ["int2", 6],
      ["int2", 7],
      ["int2", 1],
    ] as const) {
      // The first value at level 0, the rest at the top level (all ones in their bit field).
      const row = Array.from({ length: dim }, (_, i) => (i === 0 ? 0 : 1));
      const bytes = quantize(format, row);
      const bits = BITS[format];
      const packed = Math.ceil(dim / (8 / bits));
      const usedInLast = dim - (packed - 1) * (8 / bits);
      const levels = 2 ** bits - 1;
      // The unused high bits of the last byte stay 0.
      let expectLast = 0;
      for (let j = 0; j < usedInLast; j++) expectLast += ((packed - 1) * (8 / bits) + j === 0 ? 0 : levels) * 2 ** (j * bits);
      expect(bytes[packed - 1], `${format} dim ${dim}`).toBe(expectLast);
      expect(bytes.length).toBe(packed + 4);
      expect(hex(bytes), `${format} dim ${dim}`).toBe(hex(refQuantize(bits, Float32Array.from(row))));
    }
  });

  it("recognises PyTorch-prequantized widths", () => {
    expect(prequantizedFormat(16, 24)).toBe("int8");
    expect(prequantizedFormat(16, 12)).toBe("int4");
    expect(prequantizedFormat(16, 8)).toBe("int2");
    expect(prequantizedFormat(7, 8)).toBe("int4");
    expect(prequantizedFormat(7, 6)).toBe("int2");
    expect(prequantizedFormat(16, 16)).toBeUndefined();
    expect(prequantizedFormat(16, 64)).toBeUndefined();
  });
});

describe("edge rows", () => {
  it("a constant row keeps its value: 8-bit exactly; n-bit exactly when f16 holds it", () => {
    for (const c of [0.1, -3.75, 1000.3, 0]) {
      const row = new Array(5).fill(c);
      const b8 = quantize("int8", row);
      expect(hex(b8.subarray(0, 5))).toBe("00 00 00 00 00");
      expect(new DataView(b8.buffer).getFloat32(5, true)).toBe(0); // scale = range / 255 = 0
      expect(dequantize("int8", b8, 5)).toEqual(row.map(f32));
    }
    for (const c of [-3.75, 1000.5, 0, 2 ** -20]) {
      for (const f of ["int4", "int2"] as const) {
        const b = quantize(f, new Array(5).fill(c));
        // range 0 → scale 1 (0x3c00), q = 0, x' = bias = c.
        expect(new DataView(b.buffer).getUint16(b.length - 4, true)).toBe(0x3c00);
        expect(dequantize(f, b, 5)).toEqual(new Array(5).fill(c));
      }
    }
    // Not an f16 value: the bias is f16(0.1) = 0.09997559 below the row, so range = 2.44e-5 is not 0 and
    // the scale becomes the f16 subnormal 27·2^-24; q clamps at 15 and x' lands within 2^-11 of 0.1.
    const b = quantize("int4", new Array(5).fill(0.1));
    expect(hex(b.subarray(3))).toBe(hex(refQuantize(4, new Float32Array(5).fill(0.1)).subarray(3)));
    expect(new DataView(b.buffer).getUint16(3, true)).toBe(27);
    for (const v of dequantize("int4", b, 5)) expect(Math.abs(v - 0.1)).toBeLessThan(0.1 * 2 ** -11);
  });

  it("huge and tiny magnitudes match the reference", () => {
    const rows = [
      [1e30, -2e30, 3.5e29, 0, 1e-30],
      [3e-38, 1e-45, -2e-38, 5e-39],
      [1e-6, 2e-6, 3e-6, 0],
      [0, 1e-9, 2e-9], // n-bit: f16(range / levels) is 0, so the scale falls back to 1
      [60000, -60000, 123.25, 7],
      [1, 1 + 2 ** -23, 1 + 2 ** -22],
    ];
    for (const row of rows)
      for (const format of ["int8", "int4", "int2"] as const) {
        const bits = BITS[format];
        const f = Float32Array.from(row);
        expect(hex(quantize(format, f)), `${format} [${row}]`).toBe(hex(refQuantize(bits, f)));
        expect(dequantize(format, quantize(format, f), f.length)).toEqual(refDequantize(bits, refQuantize(bits, f), f.length));
      }
    const tiny = quantize("int4", [0, 1e-9, 2e-9]);
    expect(new DataView(tiny.buffer).getUint16(tiny.length - 4, true)).toBe(0x3c00);
  });

  it("negative zero: the minimum counts -0 below +0, and dequantized zeros are +0", () => {
    const b8 = quantize("int8", [0, -0, 1]);
    expect(hex(b8.subarray(7, 11))).toBe("00 00 00 80"); // bias -0.0f
    expect(dequantize("int8", b8, 3).map((v) => Object.is(v, 0))).toEqual([true, true, false]);
    const b4 = quantize("int4", [-0, -0]);
    expect(hex(b4)).toBe("00 00 3c 00 80"); // packed 0, scale 1, bias f16 -0 = 0x8000
    expect(dequantize("int4", b4, 2).every((v) => Object.is(v, 0))).toBe(true);
    const fp16 = quantize("fp16", [-0, 0]);
    expect(hex(fp16)).toBe("00 80 00 00");
  });

  it("a NaN anywhere makes the whole row NaN, never a plausible number", () => {
    for (const format of ["int8", "int4", "int2"] as const)
      expect(dequantize(format, quantize(format, [1, NaN, 2]), 3).every(Number.isNaN), format).toBe(true);
  });
});

describe("random rows against the reference implementation", () => {
  const rng = new Rng(20240611);
  /** Rows of assorted dims, scales and offsets, some with repeated or exactly representable values. */
  function randomRow(): Float32Array {
    const dim = 1 + rng.int(40);
    const scale = 10 ** (rng.int(9) - 4);
    const offset = rng.next() < 0.3 ? (rng.next() - 0.5) * 100 * scale : 0;
    const row = Float32Array.from({ length: dim }, () => offset + rng.normal() * scale);
    if (rng.next() < 0.2) for (let i = 0; i < dim; i++) row[i] = Math.round(row[i]! * 4) / 4; // ties in the quantizer
    return row;
  }

  it("bytes and dequantized values agree on 600 rows per format", () => {
    for (const format of ["int8", "int4", "int2"] as const) {
      const bits = BITS[format];
      for (let n = 0; n < 600; n++) {
        const row = randomRow();
        const mine = quantize(format, row);
        const theirs = refQuantize(bits, row);
        expect(hex(mine), `${format} [${[...row]}]`).toBe(hex(theirs));
        expect(dequantize(format, mine, row.length)).toEqual(refDequantize(bits, theirs, row.length));
      }
    }
  });

  it("l2 ranges: the reference's bytes, and never a larger squared error than minmax, on 600 rows per n-bit format", () => {
    const sq = (format: RowFormat, row: Float32Array, bytes: Uint8Array) =>
      dequantize(format, bytes, row.length).reduce((e, v, i) => e + (v - row[i]!) ** 2, 0);
    for (const format of ["int4", "int2"] as const) {
      let lower = 0;
      for (let n = 0; n < 600; n++) {
        const row = randomRow();
        const mine = new Uint8Array(rowBytes(format, row.length));
        quantizeRow(format, row, mine, 0, "l2");
        expect(hex(mine), `${format} [${[...row]}]`).toBe(hex(refQuantizeL2(BITS[format], row)));
        const [l2, minmax] = [sq(format, row, mine), sq(format, row, quantize(format, row))];
        // (Rows beyond fp16's range have no n-bit form: NaN either way, docs/numerics.md.)
        if (Number.isNaN(minmax)) continue;
        expect(l2).toBeLessThanOrEqual(minmax);
        if (l2 < minmax) lower++;
      }
      // Most rows of more than a few values have a better range than their minimum and maximum.
      expect(lower, format).toBeGreaterThan(300);
    }
  });

  it("fp16 rows are the nearest binary16, ties to even", () => {
    for (let n = 0; n < 200; n++) {
      const row = randomRow();
      const bytes = quantize("fp16", row);
      const view = new DataView(bytes.buffer);
      for (let i = 0; i < row.length; i++) expect(view.getUint16(2 * i, true)).toBe(halfBits(row[i]!));
      expect(dequantize("fp16", bytes, row.length)).toEqual([...row].map(half));
    }
    // Exact ties: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10 (goes to the even 1);
    // 1 + 3·2^-11 halfway between 1 + 2^-10 and 1 + 2^-9 (goes to the even 1 + 2^-9).
    // 65519 rounds down to 65504, 65520 overflows to infinity; 2^-25 ties to 0, 3·2^-25 to 2^-23.
    expect(dequantize("fp16", quantize("fp16", [1 + 2 ** -11, 1 + 3 * 2 ** -11, 65519, 65520, 2 ** -25, 3 * 2 ** -25]), 6)).toEqual([
      1,
      1 + 2 ** -9,
      65504,
      Infinity,
      0,
      2 ** -23,
    ]);
  });
});

describe("error bounds", () => {
  const rng = new Rng(7);
  it("|x - x'| ≤ scale/2 plus f32 rounding, at every width", () => {
    for (const format of ["int8", "int4", "int2"] as const) {
      for (let n = 0; n < 100; n++) {
        const dim = 1 + rng.int(64);
        const row = Float32Array.from({ length: dim }, () => rng.normal() * 3);
        const bytes = quantize(format, row);
        const view = new DataView(bytes.buffer);
        const scale = format === "int8" ? view.getFloat32(dim, true) : halfValue(view.getUint16(bytes.length - 4, true));
        const back = dequantize(format, bytes, dim);
        const maxAbs = Math.max(...[...row].map(Math.abs));
        // Rounding of x - mn, of the product and of the sum: a few f32 ulps of the row's magnitude.
        // The n-bit minimum is rounded to f16 first, so values below f16(min) are clamped at q = 0:
        // that error is at most |min - f16(min)| ≤ 2^-11 |min|; and the f16 scale may fall short of
        // range / levels by 2^-11 relative, so the top values can clamp by up to range · 2^-11.
        const slack = 8 * maxAbs * 2 ** -23 + (format === "int8" ? 0 : 3 * maxAbs * 2 ** -11);
        back.forEach((v, i) => expect(Math.abs(v - row[i]!), `${format} ${i}`).toBeLessThanOrEqual(scale / 2 + slack));
      }
    }
  });

  it("roundTripRow is quantize then dequantize, in place", () => {
    const row = Float32Array.from(CHECK_ROW);
    roundTripRow("int4", row);
    expect([...row]).toEqual(refDequantize(4, refQuantize(4, Float32Array.from(CHECK_ROW)), 8));
  });
});

describe("roundHalfEven", () => {
  it("matches floor-based rounding on ties and non-ties", () => {
    const xs = [-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 254.5, 255.5, 2.4999, -2.5001, 7, -7, 0.49999999999999994];
    const mine = xs.map((x) => roundHalfEven(x) + 0); // + 0: -0.5 rounds to -0, compared as 0
    expect(mine).toEqual(xs.map(rne));
    expect(mine).toEqual([-4, -2, -2, 0, 0, 2, 2, 4, 254, 256, 2, -3, 7, -7, 0]);
  });
});
