// Every Wasm kernel against the reference interpreter, over randomised shapes
// (seeded): models are written in the DSL, compiled to an artifact, run
// through the runtime, and compared with the interpreter on the same inputs.
// The kernels keep the interpreter's order of operations, so the outputs must
// be bit-identical (a stronger check than the 1e-5 relative error asked of
// fp32 backends).

import { describe, expect, it } from "vitest";
import { parseModel } from "../../../src/frontend/index.js";
import { interpret } from "../../../src/interp/interpreter.js";
import { initWeights } from "../../../src/weights/init.js";
import { dataSchema } from "../../../src/data/schema.js";
import { InputSampler, rawToBatch } from "../../../src/data/synth.js";
import type { Batch } from "../../../src/data/batch.js";
import { Rng } from "../../../src/util/rng.js";
import { canonical, compileTo, maxRelError, runArtifact } from "./helpers.js";

const rng = new Rng(2026);
const pick = <T>(xs: T[]): T => xs[rng.int(xs.length)]!;
const int = (lo: number, hi: number): number => lo + rng.int(hi - lo + 1);

/** Compiles `src`, runs batch sizes `sizes` through the artifact and the interpreter, expects identical outputs. */
async function agree(src: string, sizes: number[], idsPerBag: [number, number] = [0, 3]): Promise<void> {
  const { graph, diagnostics } = parseModel(src, "kernel.rmdl");
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const g = canonical(graph!);
  const weights = initWeights(graph!, { seed: rng.u32(), dist: "trained" });
  const dir = await compileTo(g, weights);
  const schema = dataSchema(graph!);
  for (const b of sizes) {
    const batch: Batch = rawToBatch(schema, new InputSampler(schema, { idsPerBag }).sample(rng, b));
    // Signed dense inputs exercise relu's negative side.
    for (const [name, v] of Object.entries(batch.inputs)) if (v instanceof Float32Array) batch.inputs[name] = v.map(() => rng.normal() * 2);
    const want = interpret(g, weights, batch).outputs;
    const got = await runArtifact(dir, batch);
    for (const o of g.outputs) {
      expect(got[o.name]!.length, `${o.name} at batch ${b}`).toBe(want[o.name]!.length);
      expect(maxRelError(got[o.name]!, want[o.name]!), `${o.name} at batch ${b}\n${src}`).toBe(0);
    }
  }
}

/** x → linear(d), n bags of dim d: the dot interaction without and with the self term (and, with `cat`, the cat interaction). */
function interactModel(n: number, d: number, o: { rows: number; inputs: number; cat: boolean }): string {
  return `model k {
  input x: f32[${o.inputs}]
  input s: bags[${n}]
  table t[${n}]: embedding(dim: ${d}, rows: ${o.rows})
  bot = linear(x, ${d})
  e = embedding_bag(t, s)
  one = embedding_bag(t[0], s[0])
  z = interact(bot, e, op: dot)
  zs = interact(bot, one, e, op: dot, self: true)
${o.cat ? "  zc = interact(bot, e, op: cat)\n" : ""}  output z
  output zs
${o.cat ? "  output zc\n" : ""}}`;
}

describe("wasm kernels = interpreter, bit for bit", () => {
  it("linear layers: random widths (panel tails, 1-wide outputs), relu folded or not, with and without bias", async () => {
    const layers = Array.from({ length: 6 }, (_, i) => {
      const out = pick([1, 3, 4, 7, 8, 9, 16, 17, int(1, 40)]);
      return `  l${i} = ${rng.next() < 0.5 ? `relu(linear(x, ${out}${rng.next() < 0.3 ? ", bias: false" : ""}))` : `linear(x, ${out})`}\n  output o${i} = l${i}`;
    });
    await agree(`model k {\n  input x: f32[${int(1, 70)}]\n${layers.join("\n")}\n}`, [1, 5, 9]);
  });

  it("mlp stacks ending in sigmoid and tanh (host math), and standalone relu", async () => {
    const inW = int(2, 30);
    await agree(
      `model k {\n  input x: f32[${inW}]\n  a = mlp(x, [${int(1, 20)}, ${int(1, 20)}, 1], final: sigmoid)\n  b = tanh(mlp(x, [${int(1, 12)}], act: none))\n  c = relu(x)\n  output a\n  output b\n  output c\n}`,
      [1, 6],
    );
  });

  for (const pool of ["sum", "mean", "max"] as const)
    it(`embedding bags, pool ${pool}: f32 and f16 tables, odd dimensions, weighted and plain, empty bags`, async () => {
      const dims = [1, 3, 4, 16, 20];
      const d = pick(dims);
      const d2 = pick(dims);
      await agree(
        `model k {
  input s: bags[3]
  input w: weighted_bags[2]
  table t[3]: embedding(dim: ${d}, rows: [${int(1, 50)}, ${int(1, 50)}, ${int(1, 50)}], pool: ${pool})
  @precision(fp16)
  table h: embedding(dim: ${d2}, rows: ${int(1, 80)}, pool: ${pool})
  table u: embedding(dim: ${d}, rows: 30, pool: ${pool})
  a = embedding_bag(t, s)
  b = embedding_bag(h, w[1])
  c = embedding_bag(u, w[0])
  output a
  output b
  output c
}`,
        [1, 7],
        [0, 4],
      );
    });

  it("dot interaction (with and without the self term) and cat interaction", async () => {
    const d = pick([2, 4, 5, 8]);
    const n = int(2, 9);
    await agree(interactModel(n, d, { rows: 20, inputs: 6, cat: true }), [1, 5]);
  });

  // The dot kernel pairs rows, stores whole vectors into the rows after them, runs blocks of four
  // columns top-down in groups of four and stages the last pair in scratch; these counts cover one
  // row, odd and even row counts, a last row ending on and off a block, and rows of one, two and more
  // groups (limit above 16, 32).
  for (const [n, d] of [
    [1, 3],
    [2, 4],
    [4, 16],
    [16, 4],
    [17, 5],
    [20, 8],
    [26, 16],
    [34, 2],
  ] as const)
    it(`dot interaction of ${n + 1} (and ${n + 2}, with self) features of dim ${d}`, async () => {
      await agree(interactModel(n, d, { rows: 7, inputs: 3, cat: false }), [1, 3]);
    });

  it("DCNv2 cross layers, full and low rank, with concat and flatten", async () => {
    const d = int(3, 20);
    await agree(
      `model k {
  input x: f32[${d}]
  input s: bags[2]
  table t[2]: embedding(dim: 3, rows: 10)
  f = flatten(embedding_bag(t, s))
  full = cross(x, layers: 2)
  low = relu(cross(x, layers: 2, rank: ${int(1, 6)}))
  both = concat(full, low, f)
  output both
}`,
      [1, 4, 9],
    );
  });
});
