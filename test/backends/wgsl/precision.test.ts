// Low-precision WGSL kernels on a real WebGPU device against the reference
// interpreter, over randomised shapes (seeded): fp16/int8/int4/int2 row-wise
// tables (odd dims, every pool, weighted, empty bags, a prequantized table used
// as its bytes, tables split across buffers), fp16/bf16 layers, int8 layers
// (dynamic and static scales, smoothing, both the dot4I8Packed and the
// unpacking shader) and fp16/bf16 cross layers. Integer paths are exact:
// dequantized tables pool bit for bit, and an int8 layer without bias that
// reads a model input — codes, int32 sums and one product — is bit-identical.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Manifest } from "../../../src/runtime/manifest.js";
import { PrequantizedTable } from "../../../src/weights/prequantized.js";
import { quantizeRow, rowBytes } from "../../../src/quant/rowwise.js";
import { Rng } from "../../../src/util/rng.js";
import { gpuContext, type Variant } from "./gpu.js";
import { agree, build, compileTo } from "./helpers.js";
import { fillTies, tieModel } from "./ties.js";
import { initWeights } from "../../../src/weights/init.js";

const ctx = await gpuContext();
const rng = new Rng(4243);
const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
const f32 = Math.fround;

describe.skipIf(!ctx)("quantized embedding bags = interpreter", () => {
  for (const pool of ["sum", "mean", "max"] as const)
    it(`pool ${pool}: fp16, int8, int4 and int2 tables of odd dims, weighted and plain`, async () => {
      const dims = [1, 3, 5, 16, 21];
      const tables = ["fp16", "int8", "int4", "int2"].map(
        (p, i) => `  @precision(${p})\n  table t${i}: embedding(dim: ${pick(dims)}, rows: ${1 + rng.int(60)}, pool: ${pool})`,
      );
      const src = `model k {
  input s: bags[2]
  input w: weighted_bags[2]
${tables.join("\n")}
  a = embedding_bag(t0, s[0])
  b = embedding_bag(t1, w[0])
  c = embedding_bag(t2, s[1])
  d = embedding_bag(t3, w[1])
  output a
  output b
  output c
  output d
}`;
      // Dequantization is exact; plain bags then only add (bit-identical), weighted ones also multiply (fusable on a GPU: fp32 tolerance).
      await agree(ctx!, build(src), [1, 5, 9], rng, { tol: { a: 0, b: 1e-4, c: 0, d: 1e-4 } });
    });

  it("int4 and int2 tables with l2 row ranges (row_range) pool exactly", async () => {
    const src = `model k {\n  input s: bags[2]\n  @precision(int4)\n  table t0: embedding(dim: 16, rows: 40)\n  @precision(int2)\n  table t1: embedding(dim: 7, rows: 33)\n  a = embedding_bag(t0, s[0])\n  b = embedding_bag(t1, s[1])\n  output a\n  output b\n}`;
    const built = build(src, (g) => {
      for (const w of g.weights) w.attrs.row_range = "l2";
    });
    await agree(ctx!, built, [1, 6], rng, { tol: { a: 0, b: 0 } });
  });

  it("one node's tables of mixed formats, split across buffers by a small binding limit, pool exactly", async () => {
    const src = `model k {
  input s: bags[4]
  table t[4]: embedding(dim: 6, rows: [40, 30, 50, 20], pool: sum)
  e = embedding_bag(t, s)
  output e
}`;
    const built = build(src, (g) => {
      ["int8", "fp32", "int4", "int8"].forEach((p, i) => (g.weights.find((w) => w.name === `t.${i}.weight`)!.attrs.precision = p));
    });
    // t.0 (int8, 560 B) and t.1 (fp32, 720 B) share a buffer under 1400 bytes; t.2 (int4, 350 B → 352) and t.3 (int8, 280 B) share the next.
    await agree(ctx!, built, [1, 6], rng, { tol: 0, bindingLimit: 1400 });
    const dir = await compileTo(built.graph, initWeights(built.source, { seed: 1, dist: "trained" }), { bindingLimit: 1400 });
    const layout = (JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest).wgsl!;
    expect(layout.buffers.filter((b) => b.kind === "weights").map((b) => [b.name, b.bytes])).toEqual([
      ["tables.e.0", 560 + 720],
      ["tables.e.1", 352 + 280],
    ]);
    expect(layout.steps.map((s) => s.shader)).toEqual([
      "00-embedding_bag-e-int8-0",
      "01-embedding_bag-e-fp32-0",
      "02-embedding_bag-e-int4-1",
      "03-embedding_bag-e-int8-1",
    ]);
  });

  it("a table prequantized in its format (PyTorch's prepacked bytes) is used as it is", async () => {
    const built = build(
      `model k {\n  input s: bags[1]\n  @precision(int4)\n  table t: embedding(dim: 5, rows: 9)\n  e = embedding_bag(t, s)\n  output e\n}`,
    );
    const rowLen = rowBytes("int4", 5);
    const bytes = new Uint8Array(9 * rowLen);
    for (let r = 0; r < 9; r++)
      quantizeRow(
        "int4",
        Array.from({ length: 5 }, () => rng.normal()),
        bytes,
        r * rowLen,
      );
    const pre = new PrequantizedTable("t.weight", "int4", 9, 5, {
      byteLength: bytes.length,
      read: (at, out) => out.set(bytes.subarray(at, at + out.length)),
    });
    const store = new Map([["t.weight", pre]]);
    await agree(ctx!, built, [1, 6], rng, { weights: store, tol: 0 });
    const dir = await compileTo(built.graph, store);
    // weights.bin holds the rows byte for byte (the only buffer, at offset 0).
    expect(new Uint8Array(readFileSync(join(dir, "weights.bin"))).subarray(0, bytes.length)).toEqual(bytes);
  });
});

describe.skipIf(!ctx)("low-precision dense layers = interpreter", () => {
  for (const inF of [1, 7, 33, 70])
    it(`in = ${inF}: fp16, bf16, int8 dynamic and static layers, odd outputs, relu folded or not, bias or not, both int8 shaders`, async () => {
      const kinds = ["fp16", "bf16", "int8", "int8-static", "int8-static", "int8"];
      const layers = kinds.map((k, i) => {
        const out = pick([1, 3, 9, 17, 33, 40]);
        const call = `linear(x, ${out}${i % 3 === 2 ? ", bias: false" : ""})`;
        return `  @precision(${k.slice(0, 4)})\n  l${i} = ${i % 2 === 0 ? `relu(${call})` : call}\n  output o${i} = l${i}`;
      });
      const built = build(`model k {\n  input x: f32[${inF}]\n${layers.join("\n")}\n}`, (g) => {
        // Static scales: one that clamps most of N(0, 2) (0.01) and one that clamps little (0.05).
        kinds.forEach((k, i) => {
          if (k === "int8-static") g.nodes.find((n) => n.op === "linear" && n.id.startsWith(`l${i}`))!.attrs.act_scale = i === 3 ? 0.01 : f32(0.05);
        });
      });
      // l2 and l5 are int8 without bias reading the input: codes, int32 sums and one product, so bit-identical.
      for (const variant of ["best", "base"] as Variant[]) {
        const worst = await agree(ctx!, built, [1, 5, 40], rng, { variant, tol: { o2: 0, o5: 0 } });
        expect(Math.max(...Object.values(worst))).toBeLessThanOrEqual(1e-4);
      }
    });

  it("smoothed int8 layers (per-channel factors, dynamic and static scales, odd widths)", async () => {
    for (const inF of [3, 9, 36]) {
      const src = `model k {\n  input x: f32[${inF}]\n  @precision(int8)\n  a = relu(linear(x, 9))\n  @precision(int8)\n  b = linear(x, 5, bias: false)\n  output a\n  output b\n}`;
      const built = build(src, (g) => {
        for (const n of g.nodes.filter((x) => x.op === "linear")) n.attrs.smooth = Array.from({ length: inF }, () => f32(2 ** (rng.next() * 8 - 4)));
        g.nodes.find((n) => n.id === "b")!.attrs.act_scale = f32(0.03);
      });
      for (const variant of ["best", "base"] as Variant[]) await agree(ctx!, built, [1, 6], rng, { variant, tol: { a: 1e-4, b: 0 } });
    }
  });

  it("int8 activation codes on rounding ties and at the clamp give the interpreter's values", async () => {
    // With a static scale of 1/8, inputs k/16 land exactly halfway between codes (ties to even) and ±40 clamps at ±127.
    const built = build(`model k {\n  input x: f32[12]\n  @precision(int8)\n  a = linear(x, 7, bias: false)\n  output a\n}`, (g) => {
      g.nodes.find((n) => n.op === "linear")!.attrs.act_scale = 0.125;
    });
    const edit = (batch: { inputs: Record<string, unknown> }) => {
      const x = batch.inputs.x as Float32Array;
      for (let i = 0; i < x.length; i++) x[i] = i % 5 === 4 ? (i % 2 ? 40 : -40) : (rng.int(64) - 32) / 16;
    };
    for (const variant of ["best", "base"] as Variant[]) await agree(ctx!, built, [1, 9], rng, { variant, tol: 0, edit });
  });

  it("int8 codes 1 ulp under, on and over rounding ties of an awkward static scale, through two int8 layers and an fp32 one, are the interpreter's", async () => {
    const built = tieModel();
    const edit = (batch: { inputs: Record<string, unknown> }) => fillTies(batch.inputs.x as Float32Array);
    for (const variant of ["best", "base"] as Variant[]) await agree(ctx!, built, [3, 11], rng, { variant, tol: 0, edit });
  });

  it("DCNv2 cross layers at fp16 and bf16, full and low rank", async () => {
    const d = 3 + rng.int(30);
    const src = `model k {
  input x: f32[${d}]
  @precision(fp16)
  full = cross(x, layers: 2)
  @precision(bf16)
  low = relu(cross(x, layers: 2, rank: ${1 + rng.int(5)}))
  output full
  output low
}`;
    await agree(ctx!, build(src), [1, 4, 9], rng);
  });
});
