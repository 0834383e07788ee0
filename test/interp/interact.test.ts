// interact in the reference interpreter: the dot interaction's exact output
// order (dlrm's strict lower triangle, and with self), mixed [B,d] / [B,n,d]
// operands, and op=cat — by hand and against a double reference.

import { describe, expect, it } from "vitest";
import { interpret } from "../../src/interp/interpreter.js";
import { dense, dense3, expectClose, graph, node, randoms, rng } from "./build.js";

// Two samples. Sample 0: x=[1,2], e=[[3,0],[-1,1]]; sample 1: x=[0,1], e=[[2,2],[1,-3]].
const X = Float32Array.from([1, 2, 0, 1]);
const E = Float32Array.from([3, 0, -1, 1, 2, 2, 1, -3]);

function runInteract(attrs: Record<string, string | boolean>) {
  const g = graph({
    inputs: [
      ["x", dense(2)],
      ["e", dense3(2, 2)],
    ],
    nodes: [node("z", "interact", ["%x", "%e"], attrs)],
    outputs: [["z", "z"]],
  });
  return Array.from(interpret(g, new Map(), { size: 2, inputs: { x: X, e: E } }).outputs.z!);
}

describe("interact op=dot", () => {
  it("is x followed by (1,0), (2,0), (2,1)", () => {
    // sample 0: x.e0 = 3, e1.x = 1, e1.e0 = -3; sample 1: 2, -3, -4
    expect(runInteract({ op: "dot" })).toEqual([1, 2, 3, 1, -3, 0, 1, 2, -3, -4]);
  });

  it("is the default op", () => {
    expect(runInteract({})).toEqual([1, 2, 3, 1, -3, 0, 1, 2, -3, -4]);
  });

  it("with self=true is x followed by (0,0), (1,0), (1,1), (2,0), (2,1), (2,2)", () => {
    expect(runInteract({ op: "dot", self: true })).toEqual([1, 2, 5, 3, 9, 1, -3, 2, 0, 1, 1, 2, 8, -3, -4, 10]);
  });

  for (const self of [false, true])
    it(`mixes [B,d] and [B,n,d] operands in operand order (self ${self}), matching a double reference`, () => {
      const r = rng(self ? 3 : 4);
      const [B, d, n] = [3, 4, 3];
      const x = randoms(r, B * d);
      const a = randoms(r, B * d);
      const e = randoms(r, B * n * d);
      const g = graph({
        inputs: [
          ["x", dense(d)],
          ["a", dense(d)],
          ["e", dense3(n, d)],
        ],
        nodes: [node("z", "interact", ["%x", "%a", "%e"], { op: "dot", self })],
        outputs: [["z", "z"]],
      });
      const got = interpret(g, new Map(), { size: B, inputs: { x: Float32Array.from(x), a: Float32Array.from(a), e: Float32Array.from(e) } }).outputs
        .z!;

      const want: number[] = [];
      for (let b = 0; b < B; b++) {
        const vecs = [x.slice(b * d, (b + 1) * d), a.slice(b * d, (b + 1) * d)];
        for (let k = 0; k < n; k++) vecs.push(e.slice((b * n + k) * d, (b * n + k + 1) * d));
        want.push(...vecs[0]!);
        for (let i = 0; i < vecs.length; i++)
          for (let j = 0; j < (self ? i + 1 : i); j++) want.push(vecs[i]!.reduce((s, v, k) => s + v * vecs[j]![k]!, 0));
      }
      expect(got.length).toBe(B * (d + (self ? 15 : 10)));
      expectClose(got, want);
    });
});

describe("interact op=cat", () => {
  it("is x followed by each further operand flattened, per sample", () => {
    const g = graph({
      inputs: [
        ["x", dense(2)],
        ["e", dense3(2, 3)],
        ["c", dense(1)],
      ],
      nodes: [node("z", "interact", ["%x", "%e", "%c"], { op: "cat" })],
      outputs: [["z", "z"]],
    });
    const e = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const { outputs } = interpret(g, new Map(), { size: 2, inputs: { x: X, e, c: Float32Array.from([-1, -2]) } });
    expect(Array.from(outputs.z!)).toEqual([1, 2, 1, 2, 3, 4, 5, 6, -1, 0, 1, 7, 8, 9, 10, 11, 12, -2]);
  });
});
