// Dense-layer precisions in the interpreter: fp16/bf16 (weights and bias
// rounded once), int8 (per-channel weights with the clip search, activations
// static or dynamic per row) computed by hand and against quant-reference.ts,
// mlp = its canonical linear chain, the weight quantization cached across
// calls, cross layers, and the act_scale attribute (checks, text round trip).

import { describe, expect, it } from "vitest";
import { interpret } from "../../src/interp/interpreter.js";
import { DenseTensor, type Tensor } from "../../src/weights/store.js";
import type { Attrs } from "../../src/ir/types.js";
import { OPS, checkAttr } from "../../src/ir/ops.js";
import { printGraph } from "../../src/ir/print.js";
import { parseGraph } from "../../src/ir/parse.js";
import { runPipeline } from "../../src/pipeline/index.js";
import { createPassRegistry } from "../../passes/index.js";
import { Rng } from "../../src/util/rng.js";
import { int8Weights } from "../../src/interp/precision.js";
import { dense, graph, node, randoms } from "./build.js";
import { int8LinearRef, int8WeightsRef } from "./quant-reference.js";

const f32 = Math.fround;
// W row 0 = [127, -64, 32]: max 127, scale 1, q = W (zero error, so the search keeps c = 1).
// W row 1 = [-127, 3, 100] / 64: max 127/64, scale exactly 1/64, q = [-127, 3, 100].
const W = [127, -64, 32, -127 / 64, 3 / 64, 100 / 64];
const B = [0.5, -0.25];

/** linear %l over x [B,3] with weights W, B and the given attributes. */
function linear(
  attrs: Attrs,
  x: number[],
  weights: [string, Tensor][] = [
    ["w", new DenseTensor([2, 3], Float32Array.from(W))],
    ["b", new DenseTensor([2], Float32Array.from(B))],
  ],
): number[] {
  const g = graph({
    inputs: [["x", dense(3)]],
    weights: [
      ["w", [2, 3]],
      ["b", [2]],
    ],
    nodes: [node("l", "linear", ["%x", "@w", "@b"], attrs)],
    outputs: [["y", "l"]],
  });
  return Array.from(interpret(g, new Map(weights), { size: x.length / 3, inputs: { x: Float32Array.from(x) } }).outputs.y!);
}

describe("int8 linear by hand", () => {
  it("dynamic: x = [32, -64, 127]/64 gives s = 1/64, qx = [32, -64, 127], acc = [12224, 8444]", () => {
    // y0 = 12224 · (1/64 · 1) + 0.5; y1 = 8444 · (1/64 · 1/64) - 0.25
    expect(linear({ precision: "int8" }, [0.5, -1, 1.984375])).toEqual([191.5, 8444 / 4096 - 0.25]);
  });

  it("static: act_scale 1/32 gives qx = [16, -32, 64] (63.5 ties to even)", () => {
    // acc0 = 16·127 + 32·64 + 64·32 = 6128; acc1 = -16·127 - 32·3 + 64·100 = 4272
    expect(linear({ precision: "int8", act_scale: 1 / 32 }, [0.5, -1, 1.984375])).toEqual([6128 / 32 + 0.5, 4272 / 2048 - 0.25]);
  });

  it("static scales clamp to ±127: act_scale 1/128 gives qx = [64, -127, 127]", () => {
    // acc0 = 64·127 + 127·64 + 127·32 = 20320
    expect(linear({ precision: "int8", act_scale: 1 / 128 }, [0.5, -1, 1.984375])[0]).toBe(20320 / 128 + 0.5);
  });

  it("an all-zero row has s = 1 and gives the bias; a NaN input makes a dynamic row NaN and a static one reads it as 0", () => {
    expect(linear({ precision: "int8" }, [0, 0, 0])).toEqual([0.5, -0.25]);
    expect(linear({ precision: "int8" }, [NaN, 1, 1]).every(Number.isNaN)).toBe(true);
    // qx = [0, -64, 127]: acc0 = 4096 + 4064
    expect(linear({ precision: "int8", act_scale: 1 / 64 }, [NaN, -1, 1.984375])[0]).toBe(8160 / 64 + 0.5);
  });

  it("act_scale is used as an f32 (the value a compiled kernel holds)", () => {
    const s = 0.1; // not an f32: the layer must use f32(0.1)
    const ref = int8LinearRef([[0.5, -1, 1.984375]], int8WeightsRef(W.map(f32), 2, 3), B, f32(s));
    expect(linear({ precision: "int8", act_scale: s }, [0.5, -1, 1.984375])).toEqual(ref[0]);
  });
});

describe("int8 weight clipping", () => {
  it("a row [1, 0.99 ×30] takes t = 0.99: clipping the 1 costs 1e-4, rounding thirty 0.99s at t = 1 costs 30 × 4.6e-6", () => {
    const row = [1, ...Array<number>(30).fill(0.99)];
    const q = int8Weights(new DenseTensor([1, 31], Float32Array.from(row)));
    expect(q.scales[0]).toBe(f32(f32(0.99) / 127));
    expect(Array.from(q.q)).toEqual(Array<number>(31).fill(127));
    // Through a layer: x = e0 gives s = 1/127, qx[0] = 127, acc = 127·127.
    const g = graph({
      inputs: [["x", dense(31)]],
      weights: [["w", [1, 31]]],
      nodes: [node("l", "linear", ["%x", "@w"], { precision: "int8" })],
      outputs: [["y", "l"]],
    });
    const x = Float32Array.from(row.map((_, k) => (k === 0 ? 1 : 0)));
    const y = interpret(g, new Map([["w", new DenseTensor([1, 31], Float32Array.from(row))]]), { size: 1, inputs: { x } }).outputs.y![0];
    expect(y).toBe(f32(127 * 127 * f32(f32(1 / 127) * q.scales[0]!)));
  });
});

describe("int8 linear against the spec, random", () => {
  it("odd shapes, static and dynamic, with and without bias", () => {
    const rng = new Rng(11);
    for (const [inF, out] of [
      [1, 1],
      [3, 7],
      [9, 5],
      [33, 3],
    ] as const) {
      const w = randoms(rng, inF * out);
      const b = randoms(rng, out);
      const x = randoms(rng, inF * 4, 2);
      const rowsOf = Array.from({ length: 4 }, (_, i) => x.slice(i * inF, (i + 1) * inF));
      const ref = int8WeightsRef(w, out, inF);
      for (const actScale of [undefined, f32(0.02)])
        for (const withBias of [true, false]) {
          const g = graph({
            inputs: [["x", dense(inF)]],
            weights: [["w", [out, inF]], ...(withBias ? [["b", [out]] as [string, number[]]] : [])],
            nodes: [
              node("l", "linear", ["%x", "@w", ...(withBias ? ["@b"] : [])], { precision: "int8", ...(actScale ? { act_scale: actScale } : {}) }),
            ],
            outputs: [["y", "l"]],
          });
          const store = new Map<string, Tensor>([
            ["w", new DenseTensor([out, inF], Float32Array.from(w))],
            ["b", new DenseTensor([out], Float32Array.from(b))],
          ]);
          const got = interpret(g, store, { size: 4, inputs: { x: Float32Array.from(x) } }).outputs.y!;
          expect(Array.from(got), `${inF}x${out} ${actScale ?? "dynamic"} bias ${withBias}`).toEqual(
            int8LinearRef(rowsOf, ref, withBias ? b : undefined, actScale).flat(),
          );
        }
    }
  });
});

describe("fp16 and bf16 layers", () => {
  it("round the weights and the bias once, then compute in fp32", () => {
    const w = new DenseTensor([1, 1], Float32Array.from([1 / 3]));
    const b = new DenseTensor([1], Float32Array.from([0.1]));
    const run = (precision: string) => {
      const g = graph({
        inputs: [["x", dense(1)]],
        weights: [
          ["w", [1, 1]],
          ["b", [1]],
        ],
        nodes: [node("l", "linear", ["%x", "@w", "@b"], { precision })],
        outputs: [["y", "l"]],
      });
      return interpret(
        g,
        new Map([
          ["w", w],
          ["b", b],
        ]),
        { size: 1, inputs: { x: Float32Array.from([3]) } },
      ).outputs.y![0];
    };
    // fp16: 1/3 → 0x3555 = 0.333251953125, 0.1 → 0x2E66 = 0.0999755859375
    expect(run("fp16")).toBe(f32(f32(3 * 0.333251953125) + 0.0999755859375));
    // bf16: 1/3 → 0x3EAB = 0.333984375, 0.1 → 0x3DCD = 0.10009765625
    expect(run("bf16")).toBe(f32(f32(3 * 0.333984375) + 0.10009765625));
  });

  it("cross layers at bf16 round their weights; at int8 they are an error naming the node", () => {
    const d = 2;
    const g = (precision: string) =>
      graph({
        inputs: [["x", dense(d)]],
        weights: [
          ["w", [d, d]],
          ["b", [d]],
        ],
        nodes: [node("c", "cross_layer", ["%x", "%x", "@w", "@b"], { precision })],
        outputs: [["y", "c"]],
      });
    const store = new Map<string, Tensor>([
      ["w", new DenseTensor([d, d], Float32Array.from([1 / 3, 0, 0, 1]))],
      ["b", new DenseTensor([d], Float32Array.from([0, 0]))],
    ]);
    const run = (p: string) => interpret(g(p), store, { size: 1, inputs: { x: Float32Array.from([1, 1]) } }).outputs.y!;
    expect(run("bf16")[0]).toBe(f32(0.333984375 + 1));
    expect(() => run("int8")).toThrow(/cross_layer %c cannot run at int8/);
  });
});

describe("mlp and caching", () => {
  it("an int8 mlp equals its canonical linear chain, bit for bit", () => {
    const rng = new Rng(3);
    const g = graph({
      inputs: [["x", dense(5)]],
      weights: [
        ["w0", [4, 5]],
        ["b0", [4]],
        ["w1", [3, 4]],
        ["b1", [3]],
      ],
      nodes: [node("m", "mlp", ["%x", "@w0", "@b0", "@w1", "@b1"], { sizes: [4, 3], precision: "int8" })],
      outputs: [["y", "m"]],
    });
    const store = new Map<string, Tensor>(
      (
        [
          ["w0", [4, 5]],
          ["b0", [4]],
          ["w1", [3, 4]],
          ["b1", [3]],
        ] as const
      ).map(([n, s]) => [
        n,
        new DenseTensor(
          [...s],
          Float32Array.from(
            randoms(
              rng,
              s.reduce((a, b) => a * b, 1),
            ),
          ),
        ),
      ]),
    );
    const batch = { size: 3, inputs: { x: Float32Array.from(randoms(rng, 15)) } };
    const canonical = runPipeline(g, "canonicalize,infer-shapes", createPassRegistry(), { out: () => {} });
    expect(canonical.nodes.map((n) => n.op)).toEqual(["linear", "relu", "linear", "relu"]);
    expect(interpret(canonical, store, batch).outputs.y).toEqual(interpret(g, store, batch).outputs.y);
  });

  it("int8 weights are quantized once per tensor across interpret() calls", () => {
    let materialised = 0;
    const inner = new DenseTensor([2, 3], Float32Array.from(W));
    const counting: Tensor = {
      dtype: "f32",
      shape: inner.shape,
      toFloat32: () => (materialised++, inner.data),
      readRow: (i, o, off) => inner.readRow(i, o, off),
    };
    const weights: [string, Tensor][] = [
      ["w", counting],
      ["b", new DenseTensor([2], Float32Array.from(B))],
    ];
    const first = linear({ precision: "int8" }, [0.5, -1, 1.984375], weights);
    expect(linear({ precision: "int8" }, [0.5, -1, 1.984375], weights)).toEqual(first);
    expect(linear({ precision: "int8", act_scale: 1 / 32 }, [1, 2, 3], weights)).toHaveLength(2);
    expect(materialised).toBe(1);
  });
});

describe("the act_scale attribute", () => {
  const spec = OPS.linear.attrs.act_scale!;
  it("takes a positive finite number or null", () => {
    for (const ok of [0.5, 2 ** -14, 1e-30, null]) expect(checkAttr("act_scale", spec, ok)).toBeUndefined();
    for (const bad of [0, -1, NaN, Infinity, "0.5", true])
      expect(checkAttr("act_scale", spec, bad as never)).toMatch(/act_scale must be a positive number/);
  });

  it("round-trips through the textual IR exactly", () => {
    const scales = [f32(0.1) / 127, 2 ** -14, f32(3.4e-7), 1e21, 1.5];
    const g = graph({
      inputs: [["x", dense(1)]],
      weights: [["w", [1, 1]]],
      nodes: scales.map((s, i) => node(`l${i}`, "linear", ["%x", "@w"], { precision: "int8", act_scale: s }, dense(1))),
      outputs: scales.map((_, i) => [`y${i}`, `l${i}`] as [string, string]),
    });
    const back = parseGraph(printGraph(g), "t.ir");
    expect(back.nodes.map((n) => n.attrs.act_scale)).toEqual(scales);
  });
});
