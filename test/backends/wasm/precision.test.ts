// Low-precision Wasm kernels against the reference interpreter, bit for bit,
// over randomised shapes (seeded): row-wise fp16/int8/int4/int2 embedding
// bags (odd dims, every pool, weighted), fp16/bf16/int8 linear layers (static
// and dynamic activation scales, relu folded or not, bias or not, NaN and
// infinite inputs), fp16/bf16 cross layers, a prequantized table used as its
// bytes, and dlrm_kaggle_small with int4 tables and int8 layers end to end.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseModel } from "../../../src/frontend/index.js";
import { interpret } from "../../../src/interp/interpreter.js";
import { initWeights } from "../../../src/weights/init.js";
import { dataSchema } from "../../../src/data/schema.js";
import { InputSampler, rawToBatch } from "../../../src/data/synth.js";
import type { Batch } from "../../../src/data/batch.js";
import type { Graph } from "../../../src/ir/types.js";
import type { WeightStore } from "../../../src/weights/store.js";
import { PrequantizedTable } from "../../../src/weights/prequantized.js";
import type { Manifest } from "../../../src/runtime/manifest.js";
import { quantizeRow, rowBytes } from "../../../src/quant/rowwise.js";
import { Rng } from "../../../src/util/rng.js";
import { canonical, compileTo, maxRelError, runArtifact } from "./helpers.js";

const rng = new Rng(4242);
const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
const f32 = Math.fround;

/** A prequantized table whose float reads fail: proves its stored bytes are what gets used. */
class BytesOnly extends PrequantizedTable {
  override readRow(): void {
    expect.fail("a prequantized table must not be re-quantized");
  }
  override toFloat32(): Float32Array {
    return expect.fail("a prequantized table must not be materialised");
  }
}

/** Parses and canonicalizes `src`, then lets `edit` change the (cloned) graph, e.g. to set act_scale. */
function build(src: string, edit?: (g: Graph) => void): { source: Graph; graph: Graph } {
  const { graph, diagnostics } = parseModel(src, "precision.rmdl");
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const g = structuredClone(canonical(graph!));
  edit?.(g);
  return { source: graph!, graph: g };
}

/** Random batch of `b` samples; dense inputs signed normal × 2, with `poison` NaN/inf placed in a few entries. */
function batchFor(source: Graph, b: number, poison = false): Batch {
  const schema = dataSchema(source);
  const batch: Batch = rawToBatch(schema, new InputSampler(schema, { idsPerBag: [0, 4] }).sample(rng, b));
  for (const [name, v] of Object.entries(batch.inputs))
    if (v instanceof Float32Array) {
      const x = v.map(() => rng.normal() * 2);
      if (poison && x.length > 2) [x[0], x[x.length - 1]] = [NaN, -Infinity];
      batch.inputs[name] = x;
    }
  return batch;
}

/** Compiles, runs batch sizes `sizes` through the artifact and the interpreter, expects identical outputs. */
async function agree(built: { source: Graph; graph: Graph }, sizes: number[], weights?: WeightStore, poison = false): Promise<string> {
  const store = weights ?? initWeights(built.source, { seed: rng.u32(), dist: "trained" });
  const dir = await compileTo(built.graph, store);
  for (const b of sizes) {
    const batch = batchFor(built.source, b, poison);
    const want = interpret(built.graph, store, batch).outputs;
    const got = await runArtifact(dir, batch);
    for (const o of built.graph.outputs) expect(maxRelError(got[o.name]!, want[o.name]!), `${o.name} at batch ${b}`).toBe(0);
  }
  return dir;
}

describe("quantized embedding bags = interpreter, bit for bit", () => {
  for (const pool of ["sum", "mean", "max"] as const)
    it(`pool ${pool}: fp16, int8, int4 and int2 tables of odd dims, weighted and plain`, async () => {
      const dims = [1, 3, 5, 16, 20];
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
      await agree(build(src), [1, 7]);
    });

  it("int4 and int2 tables with l2 row ranges (row_range): the interpreter reads the refitted rows, and the artifact agrees", async () => {
    const src = `model k {\n  input s: bags[2]\n  @precision(int4)\n  table t0: embedding(dim: 16, rows: 40)\n  @precision(int2)\n  table t1: embedding(dim: 7, rows: 33)\n  a = embedding_bag(t0, s[0])\n  b = embedding_bag(t1, s[1])\n  output a\n  output b\n}`;
    const l2 = build(src, (g) => {
      for (const w of g.weights) w.attrs.row_range = "l2";
    });
    const store = initWeights(l2.source, { seed: rng.u32(), dist: "trained" });
    await agree(l2, [1, 6], store);
    // The attribute is read: the same bags pool to other values than with minmax rows.
    const batch = batchFor(l2.source, 6);
    const withL2 = interpret(l2.graph, store, batch).outputs;
    const minmax = interpret(build(src).graph, store, batch).outputs;
    expect(Array.from(withL2.a!)).not.toEqual(Array.from(minmax.a!));
    expect(Array.from(withL2.b!)).not.toEqual(Array.from(minmax.b!));
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
    const pre = new BytesOnly("t.weight", "int4", 9, 5, {
      byteLength: bytes.length,
      read: (at, out) => out.set(bytes.subarray(at, at + out.length)),
    });
    const dir = await agree(built, [1, 6], new Map([["t.weight", pre]]));
    // weights.bin holds the rows byte for byte (the table is the only weight, at the blob's start).
    expect(new Uint8Array(readFileSync(join(dir, "weights.bin"))).subarray(0, bytes.length)).toEqual(bytes);
  });
});

describe("low-precision dense layers = interpreter, bit for bit", () => {
  for (const inF of [1, 3, 7, 9, 33])
    it(`in = ${inF}: fp16, bf16, int8 dynamic and static layers, odd outputs, relu folded or not, bias or not`, async () => {
      const kinds = ["fp16", "bf16", "int8", "int8-static", "int8-static", "int8"];
      const layers = kinds.map((k, i) => {
        const out = pick([1, 3, 4, 7, 8, 9, 16, 17, 33]);
        const call = `linear(x, ${out}${i % 3 === 2 ? ", bias: false" : ""})`;
        return `  @precision(${k.slice(0, 4)})\n  l${i} = ${i % 2 === 0 ? `relu(${call})` : call}\n  output o${i} = l${i}`;
      });
      const built = build(`model k {\n  input x: f32[${inF}]\n${layers.join("\n")}\n}`, (g) => {
        // Static scales: one that clamps most of N(0, 2) (0.01) and one that clamps little (0.05).
        kinds.forEach((k, i) => {
          if (k !== "int8-static") return;
          const lin = g.nodes.find((n) => n.op === "linear" && n.id.startsWith(`l${i}`))!;
          lin.attrs.act_scale = i === 3 ? 0.01 : f32(0.05);
        });
      });
      expect(built.graph.nodes.filter((n) => n.attrs.act_scale !== undefined)).toHaveLength(2);
      await agree(built, [1, 5, 9]);
    });

  it("smoothed int8 layers (per-channel factors, dynamic and static scales, odd widths, NaN inputs)", async () => {
    for (const inF of [3, 9, 36]) {
      const src = `model k {\n  input x: f32[${inF}]\n  @precision(int8)\n  a = relu(linear(x, 9))\n  @precision(int8)\n  b = linear(x, 5)\n  output a\n  output b\n}`;
      const built = build(src, (g) => {
        for (const n of g.nodes.filter((x) => x.op === "linear")) n.attrs.smooth = Array.from({ length: inF }, () => f32(2 ** (rng.next() * 8 - 4)));
        g.nodes.find((n) => n.id === "b")!.attrs.act_scale = f32(0.03);
      });
      await agree(built, [1, 6], undefined, true);
    }
  });

  it("NaN and infinite inputs give the interpreter's values (NaN scales, NaN → 0, clamped infinities)", async () => {
    const built = build(
      `model k {\n  input x: f32[10]\n  @precision(int8)\n  a = linear(x, 9)\n  @precision(int8)\n  b = relu(linear(x, 5))\n  @precision(fp16)\n  c = linear(x, 3)\n  output a\n  output b\n  output c\n}`,
      (g) => {
        g.nodes.find((n) => n.op === "linear" && n.id.startsWith("b"))!.attrs.act_scale = 0.02;
      },
    );
    await agree(built, [1, 6], undefined, true);
  });

  it("dynamic scales at the edges of the unchecked quantizer: zero, tiny, subnormal, huge and infinite row maxima", async () => {
    // Rows whose max |x| is 0, straddles 2^-119 (below it the quantizer masks NaNs and clamps; above, it
    // skips both), is subnormal, near the f32 maximum, or infinite; the rest random.
    const inF = 19;
    const built = build(`model k {\n  input x: f32[${inF}]\n  @precision(int8)\n  a = linear(x, 9, bias: false)\n  output a\n}`);
    const store = initWeights(built.source, { seed: rng.u32(), dist: "trained" });
    const dir = await compileTo(built.graph, store);
    const maxima = [0, -0, 2 ** -119, 2 ** -119 * 0.999, 2 ** -119 * 1.001, 1e-40, 1e-37, 3.4e38, Infinity, 1];
    const batch = batchFor(built.source, maxima.length);
    const x = batch.inputs.x as Float32Array;
    maxima.forEach((m, r) => {
      for (let k = 0; k < inF; k++) x[r * inF + k] = m === 0 ? (k % 2 ? 0 : -0) : f32(m * (k % 3 === 0 ? 1 : rng.next() * 2 - 1));
    });
    const want = interpret(built.graph, store, batch).outputs.a!;
    const got = (await runArtifact(dir, batch)).a!;
    expect(Array.from(got).map(String)).toEqual(Array.from(want).map(String));
  });

  it("DCNv2 cross layers at fp16 and bf16, full and low rank", async () => {
    const d = 3 + rng.int(15);
    const built = build(`model k {
  input x: f32[${d}]
  @precision(fp16)
  full = cross(x, layers: 2)
  @precision(bf16)
  low = relu(cross(x, layers: 2, rank: ${1 + rng.int(5)}))
  output full
  output low
}`);
    await agree(built, [1, 4, 9]);
  });
});

describe("dlrm_kaggle_small at low precision", () => {
  it("every table int4 and every linear int8 (the first static, the rest dynamic): compiles, reports its precisions, runs equal to the interpreter on 1 and 2 threads", async () => {
    const src = readFileSync(join(import.meta.dirname, "../../../examples/dlrm_kaggle_small.rmdl"), "utf8");
    const built = build(src, (g) => {
      for (const w of g.weights) if (w.role === "table") w.attrs.precision = "int4";
      g.nodes
        .filter((n) => n.op === "linear")
        .forEach((n, i) => {
          n.attrs.precision = "int8";
          if (i === 0) n.attrs.act_scale = f32(4 / 127);
        });
    });
    const weights = initWeights(built.source, { seed: 8, dist: "trained" });
    const dir = await compileTo(built.graph, weights);
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest;
    const reported = Object.entries(manifest.precision);
    expect(reported.filter(([, p]) => p === "int4")).toHaveLength(26);
    expect(reported.filter(([, p]) => p === "int8")).toHaveLength(4);
    expect(reported).toHaveLength(30);
    const schema = dataSchema(built.source);
    const batch = rawToBatch(schema, new InputSampler(schema, { idsPerBag: [0, 3] }).sample(new Rng(5), 200));
    const want = interpret(built.graph, weights, batch).outputs;
    const fp32 = interpret(canonical(built.source), weights, batch).outputs;
    expect(want.ctr).not.toEqual(fp32.ctr); // the low precision really is in effect
    expect(await runArtifact(dir, batch, 1)).toEqual(want);
    expect(await runArtifact(dir, batch, 2)).toEqual(want);
  });
});
