// Dense ops of the reference interpreter: linear, activations, mlp, concat,
// flatten — hand-computed cases, the f32 rounding order, and random cases
// against the double-precision reference in reference.ts.

import { describe, expect, it } from "vitest";
import { interpret } from "../../src/interp/interpreter.js";
import { dense, dense3, expectClose, graph, node, randoms, rng, store } from "./build.js";
import { actRef, linearRef, rows } from "./reference.js";

const linearGraph = (inF: number, outF: number, bias: boolean) =>
  graph({
    inputs: [["x", dense(inF)]],
    weights: bias
      ? [
          ["w", [outF, inF]],
          ["b", [outF]],
        ]
      : [["w", [outF, inF]]],
    nodes: [node("y", "linear", bias ? ["%x", "@w", "@b"] : ["%x", "@w"])],
    outputs: [["y", "y"]],
  });

describe("linear", () => {
  it("computes a 2x3 -> 2 layer by hand", () => {
    const ws = store({
      w: [
        [2, 3],
        [1, 0, -1, 0.5, 0.5, 0.5],
      ],
      b: [[2], [0.25, -1]],
    });
    const { outputs } = interpret(linearGraph(3, 2, true), ws, { size: 2, inputs: { x: Float32Array.from([1, 2, 3, 4, 5, 6]) } });
    expect(Array.from(outputs.y!)).toEqual([-1.75, 2, -1.75, 6.5]);
  });

  it("rounds every add to f32, summing k = 0..in-1 in order from 0", () => {
    const tiny = 2 ** -25; // below half an ulp of 1: 1 + tiny rounds back to 1 in f32
    // Five outputs, so both the 4-wide and the leftover code paths are checked.
    const ws = store({ w: [[5, 5], new Array(25).fill(1)] });
    const { outputs } = interpret(linearGraph(5, 5, false), ws, { size: 1, inputs: { x: Float32Array.from([1, tiny, tiny, tiny, tiny]) } });
    // Double accumulation (or summing the tiny terms first) would give 1 + 2^-23.
    expect(Array.from(outputs.y!)).toEqual([1, 1, 1, 1, 1]);
  });

  it("adds the bias after the sum, not before", () => {
    const half = 2 ** -24; // 1 + half ties and rounds to even (1); half + half = 2^-23 survives
    const ws = store({ w: [[5, 2], new Array(10).fill(1)], b: [[5], [1, 1, 1, 1, 1]] });
    const { outputs } = interpret(linearGraph(2, 5, true), ws, { size: 1, inputs: { x: Float32Array.from([half, half]) } });
    expect(Array.from(outputs.y!)).toEqual(new Array(5).fill(1 + 2 ** -23));
  });

  it("matches the double reference on random layers, with and without bias", () => {
    const r = rng(1);
    for (const bias of [true, false]) {
      const [B, inF, outF] = [4, 7, 5];
      const x = randoms(r, B * inF);
      const w = randoms(r, outF * inF, 0.5);
      const b = randoms(r, outF);
      const entries: Record<string, [number[], number[]]> = { w: [[outF, inF], w] };
      if (bias) entries.b = [[outF], b];
      const { outputs } = interpret(linearGraph(inF, outF, bias), store(entries), { size: B, inputs: { x: Float32Array.from(x) } });
      expectClose(outputs.y!, linearRef(rows(x, inF), w, outF, bias ? b : undefined).flat());
    }
  });
});

describe("activations", () => {
  const run = (op: string, xs: number[]) =>
    interpret(graph({ inputs: [["x", dense(xs.length)]], nodes: [node("y", op, ["%x"])], outputs: [["y", "y"]] }), new Map(), {
      size: 1,
      inputs: { x: Float32Array.from(xs) },
    }).outputs.y!;

  it("relu clamps negatives (and -Infinity, -0) to +0, keeps large values exactly and NaN as NaN", () => {
    const big = 3.4e38;
    const y = run("relu", [-1, 0, 2.5, -0.0001, -Infinity, Infinity, -0, big, 1e-40, NaN]);
    expect(Array.from(y.subarray(0, 9))).toEqual([0, 0, 2.5, 0, 0, Infinity, 0, Math.fround(big), Math.fround(1e-40)]);
    expect(Object.is(y[6], 0)).toBe(true);
    expect(y[9]).toBeNaN();
  });

  it("sigmoid is 1/(1+exp(-x)) in double rounded once to f32", () => {
    const xs = [-20, -1.5, 0, 0.3, 4, 100, -800];
    expect(Array.from(run("sigmoid", xs))).toEqual(xs.map((v) => Math.fround(1 / (1 + Math.exp(-Math.fround(v))))));
    expect(run("sigmoid", [0])[0]).toBe(0.5);
  });

  it("tanh is Math.tanh rounded to f32", () => {
    const xs = [-3, -0.5, 0, 0.1, 2];
    expect(Array.from(run("tanh", xs))).toEqual(xs.map((v) => Math.fround(Math.tanh(Math.fround(v)))));
  });

  it("applies elementwise to [B,n,d] tensors", () => {
    const g = graph({ inputs: [["x", dense3(2, 2)]], nodes: [node("y", "relu", ["%x"])], outputs: [["y", "y"]] });
    const { outputs } = interpret(g, new Map(), { size: 1, inputs: { x: Float32Array.from([1, -2, -3, 4]) } });
    expect(Array.from(outputs.y!)).toEqual([1, 0, 0, 4]);
  });
});

describe("mlp", () => {
  const layers = (r: ReturnType<typeof rng>, sizes: number[], inF: number) => {
    let n = inF;
    return sizes.map((out) => {
      const layer = { w: randoms(r, out * n, 0.5), b: randoms(r, out, 0.1), out, inF: n };
      n = out;
      return layer;
    });
  };

  for (const [act, final, bias] of [
    ["relu", "sigmoid", true],
    ["tanh", "none", false],
    ["sigmoid", "relu", true],
  ] as const) {
    it(`equals the chain of linear layers and activations (act ${act}, final ${final}, bias ${bias})`, () => {
      const r = rng(7);
      const [B, inF, sizes] = [3, 6, [5, 4, 2]];
      const ls = layers(r, sizes, inF);
      const entries: Record<string, [number[], number[]]> = {};
      const refs: string[] = [];
      ls.forEach((l, i) => {
        entries[`w${i}`] = [[l.out, l.inF], l.w];
        refs.push(`@w${i}`);
        if (bias) {
          entries[`b${i}`] = [[l.out], l.b];
          refs.push(`@b${i}`);
        }
      });
      const decls = Object.entries(entries).map(([name, [shape]]) => [name, shape] as [string, number[]]);
      const g = graph({
        inputs: [["x", dense(inF)]],
        weights: decls,
        nodes: [node("y", "mlp", ["%x", ...refs], { sizes, act, final, bias })],
        outputs: [["y", "y"]],
      });
      const x = randoms(r, B * inF);
      const { outputs } = interpret(g, store(entries), { size: B, inputs: { x: Float32Array.from(x) } });

      let h = rows(x, inF);
      ls.forEach((l, i) => {
        h = actRef(i === ls.length - 1 ? final : act, linearRef(h, l.w, l.out, bias ? l.b : undefined));
      });
      expectClose(outputs.y!, h.flat());
    });
  }

  it("gives bit-identical results to the expanded linear/activation graph", () => {
    const r = rng(11);
    const ls = layers(r, [4, 3], 5);
    const ws = store({ w0: [[4, 5], ls[0]!.w], b0: [[4], ls[0]!.b], w1: [[3, 4], ls[1]!.w], b1: [[3], ls[1]!.b] });
    const decls: [string, number[]][] = [
      ["w0", [4, 5]],
      ["b0", [4]],
      ["w1", [3, 4]],
      ["b1", [3]],
    ];
    const batch = { size: 5, inputs: { x: Float32Array.from(randoms(r, 25)) } };
    const fused = graph({
      inputs: [["x", dense(5)]],
      weights: decls,
      nodes: [node("y", "mlp", ["%x", "@w0", "@b0", "@w1", "@b1"], { sizes: [4, 3], act: "relu", final: "tanh" })],
      outputs: [["y", "y"]],
    });
    const expanded = graph({
      inputs: [["x", dense(5)]],
      weights: decls,
      nodes: [
        node("0", "linear", ["%x", "@w0", "@b0"]),
        node("1", "relu", ["%0"]),
        node("2", "linear", ["%1", "@w1", "@b1"]),
        node("3", "tanh", ["%2"]),
      ],
      outputs: [["y", "3"]],
    });
    expect(Array.from(interpret(fused, ws, batch).outputs.y!)).toEqual(Array.from(interpret(expanded, ws, batch).outputs.y!));
  });

  it("defaults act and final to relu", () => {
    const ws = store({
      w: [
        [2, 1],
        [1, -1],
      ],
    });
    const g = graph({
      inputs: [["x", dense(1)]],
      weights: [["w", [2, 1]]],
      nodes: [node("y", "mlp", ["%x", "@w"], { sizes: [2], bias: false })],
      outputs: [["y", "y"]],
    });
    expect(Array.from(interpret(g, ws, { size: 1, inputs: { x: Float32Array.from([3]) } }).outputs.y!)).toEqual([3, 0]);
  });
});

describe("concat and flatten", () => {
  it("concat joins features per sample in operand order", () => {
    const g = graph({
      inputs: [
        ["a", dense(2)],
        ["b", dense(1)],
      ],
      nodes: [node("y", "concat", ["%a", "%b", "%a"])],
      outputs: [["y", "y"]],
    });
    const { outputs } = interpret(g, new Map(), { size: 2, inputs: { a: Float32Array.from([1, 2, 3, 4]), b: Float32Array.from([9, 8]) } });
    expect(Array.from(outputs.y!)).toEqual([1, 2, 9, 1, 2, 3, 4, 8, 3, 4]);
  });

  it("flatten keeps row-major order and does not share storage with its input", () => {
    const g = graph({ inputs: [["x", dense3(2, 3)]], nodes: [node("y", "flatten", ["%x"])], outputs: [["y", "y"]] });
    const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const { outputs } = interpret(g, new Map(), { size: 2, inputs: { x } });
    expect(Array.from(outputs.y!)).toEqual(Array.from(x));
    expect(outputs.y!.buffer).not.toBe(x.buffer);
  });
});
