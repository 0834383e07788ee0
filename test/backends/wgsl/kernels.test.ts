// Every fp32 WGSL kernel run on a real WebGPU device (Dawn on llvmpipe)
// against the reference interpreter, over randomised shapes (seeded): tiled
// GEMMs with tails in every dimension, relu folded or not, sigmoid and tanh,
// embedding bags (every pool, weighted, empty bags), dot and cat interactions,
// DCNv2 cross layers, concat, flatten, and the paths for more inputs than a
// shader stage can bind. fp32 arithmetic may be fused on a GPU, so float
// results are held to 1e-4 relative; sums without products (unweighted bags,
// copies) must be exact.

import { describe, expect, it } from "vitest";
import { Rng } from "../../../src/util/rng.js";
import { gpuContext } from "./gpu.js";
import { agree, build } from "./helpers.js";

const ctx = await gpuContext();
const rng = new Rng(2027);
const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
const int = (lo: number, hi: number): number => lo + rng.int(hi - lo + 1);

describe.skipIf(!ctx)("wgsl fp32 kernels = interpreter", () => {
  it("linear layers: random widths (tile tails in samples, outputs and k), relu folded or not, with and without bias", async () => {
    const inW = int(17, 70);
    const layers = Array.from({ length: 6 }, (_, i) => {
      const out = pick([1, 3, 8, 9, 31, 33, int(1, 70)]);
      const call = `linear(x, ${out}${i % 3 === 2 ? ", bias: false" : ""})`;
      return `  l${i} = ${i % 2 === 0 ? `relu(${call})` : call}\n  output o${i} = l${i}`;
    });
    await agree(ctx!, build(`model k {\n  input x: f32[${inW}]\n${layers.join("\n")}\n}`), [1, 5, 9, 70], rng);
  });

  it("mlp stacks ending in sigmoid and tanh, and a standalone relu", async () => {
    const inW = int(2, 30);
    const src = `model k {\n  input x: f32[${inW}]\n  a = mlp(x, [${int(1, 20)}, ${int(1, 20)}, 1], final: sigmoid)\n  b = tanh(mlp(x, [${int(1, 12)}], act: none))\n  c = relu(x)\n  output a\n  output b\n  output c\n}`;
    const worst = await agree(ctx!, build(src), [1, 6], rng, { tol: { a: 1e-4, b: 1e-4, c: 0 } });
    expect(worst.c).toBe(0);
  });

  for (const pool of ["sum", "mean", "max"] as const)
    it(`fp32 embedding bags, pool ${pool}: odd dims, stacked and single tables, weighted and plain, empty bags`, async () => {
      const d = pick([1, 3, 4, 16, 20]);
      const src = `model k {
  input s: bags[3]
  input w: weighted_bags[2]
  table t[3]: embedding(dim: ${d}, rows: [${int(1, 50)}, ${int(1, 50)}, ${int(1, 50)}], pool: ${pool})
  table u: embedding(dim: ${pick([1, 5, 7])}, rows: ${int(1, 80)}, pool: ${pool})
  a = embedding_bag(t, s)
  b = embedding_bag(u, w[1])
  output a
  output b
}`;
      // Plain bags only add (and divide exactly): bit-identical. Weighted ones multiply too, which a GPU may fuse into the add (fp32 tolerance).
      await agree(ctx!, build(src), [1, 5, 9], rng, { tol: { a: 0, b: 1e-4 }, idsPerBag: [0, 5] });
    });

  it("dot interaction with and without the self term, and cat interaction", async () => {
    const d = pick([2, 4, 5, 8]);
    const n = int(2, 9);
    const src = `model k {
  input x: f32[6]
  input s: bags[${n}]
  table t[${n}]: embedding(dim: ${d}, rows: 20)
  bot = linear(x, ${d})
  e = embedding_bag(t, s)
  one = embedding_bag(t[0], s[0])
  z = interact(bot, e, op: dot)
  zs = interact(bot, one, e, op: dot, self: true)
  zc = interact(bot, e, op: cat)
  output z
  output zs
  output zc
}`;
    const worst = await agree(ctx!, build(src), [1, 5, 9], rng);
    expect(worst.zc).toBe(0);
  });

  it("DCNv2 cross layers, full and low rank, with concat and flatten", async () => {
    const d = int(3, 40);
    const src = `model k {
  input x: f32[${d}]
  input s: bags[2]
  table t[2]: embedding(dim: 3, rows: 10)
  f = flatten(embedding_bag(t, s))
  full = cross(x, layers: 2)
  low = relu(cross(x, layers: 2, rank: ${int(1, 6)}))
  both = concat(full, low, f)
  output both
}`;
    await agree(ctx!, build(src), [1, 4, 9, 40], rng);
  });

  it("concat and dot interaction over more inputs than one shader stage binds (copied in groups, gathered)", async () => {
    const d = pick([3, 4]);
    const inputs = Array.from({ length: 9 }, (_, i) => `e${i}`);
    const src = `model k {
  input x: f32[5]
  input s: bags[9]
  table t[9]: embedding(dim: ${d}, rows: 15)
  bot = linear(x, ${d})
${inputs.map((e, i) => `  ${e} = embedding_bag(t[${i}], s[${i}])`).join("\n")}
  c = concat(bot, ${inputs.join(", ")})
  z = interact(bot, ${inputs.join(", ")}, op: dot)
  output c
  output z
}`;
    const worst = await agree(ctx!, build(src), [1, 7], rng);
    expect(worst.c).toBe(0);
  });
});
