// DCNv2 cross layers in the reference interpreter: cross_layer (full and
// low-rank) by hand and against a double reference, and `cross` with two
// layers against the test's own chain of layers.

import { describe, expect, it } from "vitest";
import { interpret } from "../../src/interp/interpreter.js";
import { dense, expectClose, graph, node, randoms, rng, store } from "./build.js";
import { crossFullRef, crossLowRankRef, rows } from "./reference.js";

describe("cross_layer", () => {
  it("computes x0 * (W xl + b) + xl by hand", () => {
    const g = graph({
      inputs: [
        ["x0", dense(2)],
        ["xl", dense(2)],
      ],
      weights: [
        ["w", [2, 2]],
        ["b", [2]],
      ],
      nodes: [node("y", "cross_layer", ["%x0", "%xl", "@w", "@b"])],
      outputs: [["y", "y"]],
    });
    const ws = store({
      w: [
        [2, 2],
        [1, 0, 2, 1],
      ],
      b: [[2], [1, -1]],
    });
    // W xl + b = [3 + 1, 6 + 4 - 1] = [4, 9]; y = [1*4 + 3, 2*9 + 4]
    const { outputs } = interpret(g, ws, { size: 1, inputs: { x0: Float32Array.from([1, 2]), xl: Float32Array.from([3, 4]) } });
    expect(Array.from(outputs.y!)).toEqual([7, 22]);
  });

  it("full rank matches the double reference", () => {
    const r = rng(21);
    const [B, d] = [4, 5];
    const [x0, xl, w, b] = [randoms(r, B * d), randoms(r, B * d), randoms(r, d * d, 0.4), randoms(r, d)];
    const g = graph({
      inputs: [
        ["x0", dense(d)],
        ["xl", dense(d)],
      ],
      weights: [
        ["w", [d, d]],
        ["b", [d]],
      ],
      nodes: [node("y", "cross_layer", ["%x0", "%xl", "@w", "@b"])],
      outputs: [["y", "y"]],
    });
    const got = interpret(g, store({ w: [[d, d], w], b: [[d], b] }), { size: B, inputs: { x0: Float32Array.from(x0), xl: Float32Array.from(xl) } })
      .outputs.y!;
    expectClose(got, crossFullRef(rows(x0, d), rows(xl, d), w, b).flat());
  });

  it("low rank (down [r,d], up [d,r]) matches the double reference", () => {
    const r = rng(22);
    const [B, d, rank] = [4, 6, 2];
    const [x0, xl, down, up, b] = [randoms(r, B * d), randoms(r, B * d), randoms(r, rank * d, 0.4), randoms(r, d * rank, 0.4), randoms(r, d)];
    const g = graph({
      inputs: [
        ["x0", dense(d)],
        ["xl", dense(d)],
      ],
      weights: [
        ["down", [rank, d]],
        ["up", [d, rank]],
        ["b", [d]],
      ],
      nodes: [node("y", "cross_layer", ["%x0", "%xl", "@down", "@up", "@b"], { rank })],
      outputs: [["y", "y"]],
    });
    const ws = store({ down: [[rank, d], down], up: [[d, rank], up], b: [[d], b] });
    const got = interpret(g, ws, { size: B, inputs: { x0: Float32Array.from(x0), xl: Float32Array.from(xl) } }).outputs.y!;
    expectClose(got, crossLowRankRef(rows(x0, d), rows(xl, d), down, up, rank, b).flat());
  });
});

describe("cross (2 layers)", () => {
  it("full rank: x2 = layer1(x0, layer0(x0, x0))", () => {
    const r = rng(31);
    const [B, d] = [3, 4];
    const x = randoms(r, B * d);
    const [w0, b0, w1, b1] = [randoms(r, d * d, 0.4), randoms(r, d), randoms(r, d * d, 0.4), randoms(r, d)];
    const g = graph({
      inputs: [["x", dense(d)]],
      weights: [
        ["w0", [d, d]],
        ["b0", [d]],
        ["w1", [d, d]],
        ["b1", [d]],
      ],
      nodes: [node("y", "cross", ["%x", "@w0", "@b0", "@w1", "@b1"], { layers: 2 })],
      outputs: [["y", "y"]],
    });
    const ws = store({ w0: [[d, d], w0], b0: [[d], b0], w1: [[d, d], w1], b1: [[d], b1] });
    const got = interpret(g, ws, { size: B, inputs: { x: Float32Array.from(x) } }).outputs.y!;
    const x0 = rows(x, d);
    expectClose(got, crossFullRef(x0, crossFullRef(x0, x0, w0, b0), w1, b1).flat());
  });

  it("low rank: weights per layer are down, up, bias", () => {
    const r = rng(32);
    const [B, d, rank] = [3, 5, 2];
    const x = randoms(r, B * d);
    const layer = () => ({ down: randoms(r, rank * d, 0.4), up: randoms(r, d * rank, 0.4), b: randoms(r, d) });
    const [l0, l1] = [layer(), layer()];
    const g = graph({
      inputs: [["x", dense(d)]],
      weights: [
        ["d0", [rank, d]],
        ["u0", [d, rank]],
        ["b0", [d]],
        ["d1", [rank, d]],
        ["u1", [d, rank]],
        ["b1", [d]],
      ],
      nodes: [node("y", "cross", ["%x", "@d0", "@u0", "@b0", "@d1", "@u1", "@b1"], { layers: 2, rank })],
      outputs: [["y", "y"]],
    });
    const ws = store({
      d0: [[rank, d], l0.down],
      u0: [[d, rank], l0.up],
      b0: [[d], l0.b],
      d1: [[rank, d], l1.down],
      u1: [[d, rank], l1.up],
      b1: [[d], l1.b],
    });
    const got = interpret(g, ws, { size: B, inputs: { x: Float32Array.from(x) } }).outputs.y!;
    const x0 = rows(x, d);
    const x1 = crossLowRankRef(x0, x0, l0.down, l0.up, rank, l0.b);
    expectClose(got, crossLowRankRef(x0, x1, l1.down, l1.up, rank, l1.b).flat());
  });

  it("gives bit-identical results to the expanded chain of cross_layer nodes", () => {
    const r = rng(33);
    const [B, d] = [3, 4];
    const decls: [string, number[]][] = [
      ["w0", [d, d]],
      ["b0", [d]],
      ["w1", [d, d]],
      ["b1", [d]],
    ];
    const ws = store(
      Object.fromEntries(
        decls.map(([n, shape]) => [
          n,
          [
            shape,
            randoms(
              r,
              shape.reduce((a, b) => a * b),
              0.4,
            ),
          ],
        ]),
      ),
    );
    const batch = { size: B, inputs: { x: Float32Array.from(randoms(r, B * d)) } };
    const fused = graph({
      inputs: [["x", dense(d)]],
      weights: decls,
      nodes: [node("y", "cross", ["%x", "@w0", "@b0", "@w1", "@b1"], { layers: 2 })],
      outputs: [["y", "y"]],
    });
    const expanded = graph({
      inputs: [["x", dense(d)]],
      weights: decls,
      nodes: [node("0", "cross_layer", ["%x", "%x", "@w0", "@b0"]), node("1", "cross_layer", ["%x", "%0", "@w1", "@b1"])],
      outputs: [["y", "1"]],
    });
    expect(Array.from(interpret(fused, ws, batch).outputs.y!)).toEqual(Array.from(interpret(expanded, ws, batch).outputs.y!));
  });
});
