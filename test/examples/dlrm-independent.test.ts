// The reference interpreter against an independent DLRM forward pass written
// here, in double precision, from the model's definition (facebookresearch/
// dlrm's dlrm_s_pytorch.py): bottom MLP, sum-pooled embedding bags, dot
// interaction over the strict lower triangle, top MLP, sigmoid. Every node of
// dlrm_kaggle_small is compared, not just the output. None of the
// interpreter's helpers are used here.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseModel } from "../../src/frontend/index.js";
import { runPipeline, DEFAULT_PIPELINE } from "../../src/pipeline/index.js";
import { createPassRegistry } from "../../passes/index.js";
import { interpret } from "../../src/interp/interpreter.js";
import { initWeights } from "../../src/weights/init.js";
import type { Bags, Batch } from "../../src/data/batch.js";
import { Rng } from "../../src/util/rng.js";

const B = 5;
const file = join(import.meta.dirname, "../../examples/dlrm_kaggle_small.rmdl");
const graph = parseModel(readFileSync(file, "utf8"), "dlrm_kaggle_small.rmdl").graph!;
const canonical = runPipeline(graph, DEFAULT_PIPELINE, createPassRegistry(), { out: () => {} });
const store = initWeights(graph, { seed: 21, dist: "trained" });
const W = (name: string): number[] => Array.from(store.get(name)!.toFloat32());
const rows = (name: string): number => store.get(name)!.shape[0]!;

// Inputs: random dense features and multi-hot bags (0 to 3 ids, so empty bags occur), KJT key-major.
const rng = new Rng(5);
const dense = Float32Array.from({ length: B * 13 }, () => rng.normal());
const bagIds: number[][][] = Array.from({ length: 26 }, (_, f) =>
  Array.from({ length: B }, () => Array.from({ length: rng.int(4) }, () => rng.int(rows(`emb.${f}.weight`)))),
);
const sparse: Bags = {
  count: 26,
  batch: B,
  lengths: Int32Array.from(bagIds.flatMap((f) => f.map((bag) => bag.length))),
  values: Int32Array.from(bagIds.flat(2)),
};
const batch: Batch = { size: B, inputs: { dense, sparse } };

/** y = W x + b with W [out, in] row-major, in double precision. */
function dense1(x: number[], w: number[], b: number[]): number[] {
  const out = b.length;
  const inn = x.length;
  return Array.from({ length: out }, (_, o) => x.reduce((s, xi, i) => s + xi * w[o * inn + i]!, 0) + b[o]!);
}
const reluV = (v: number[]) => v.map((x) => Math.max(0, x));

/** Independent forward pass of one sample; returns every intermediate value by node id. */
function forward(b: number): Record<string, number[]> {
  const v: Record<string, number[]> = {};
  const x = Array.from(dense.subarray(b * 13, b * 13 + 13));
  v["bottom.0"] = dense1(x, W("bottom.0.weight"), W("bottom.0.bias"));
  v["bottom.0.relu"] = reluV(v["bottom.0"]);
  v["bottom.1"] = dense1(v["bottom.0.relu"], W("bottom.1.weight"), W("bottom.1.bias"));
  v["bottom"] = reluV(v["bottom.1"]);
  const pooled: number[][] = bagIds.map((feature, f) => {
    const table = W(`emb.${f}.weight`);
    const sum = new Array(16).fill(0);
    for (const id of feature[b]!) for (let d = 0; d < 16; d++) sum[d] += table[id * 16 + d]!;
    return sum;
  });
  v["pooled"] = pooled.flat();
  // DLRM dot interaction: T = [bottom, e_0..e_25]; z = bottom ++ (T_i . T_j for i > j, row by row).
  const T = [v["bottom"], ...pooled];
  const tri: number[] = [];
  for (let i = 1; i < T.length; i++) for (let j = 0; j < i; j++) tri.push(T[i]!.reduce((s, t, d) => s + t * T[j]![d]!, 0));
  v["z"] = [...v["bottom"], ...tri];
  v["top.0"] = dense1(v["z"], W("top.0.weight"), W("top.0.bias"));
  v["top.0.relu"] = reluV(v["top.0"]);
  v["top.1"] = dense1(v["top.0.relu"], W("top.1.weight"), W("top.1.bias"));
  v["top"] = v["top.1"].map((t) => 1 / (1 + Math.exp(-t)));
  return v;
}

describe("dlrm_kaggle_small: interpreter vs an independent double-precision forward pass", () => {
  const { values, outputs } = interpret(canonical, store, batch, { keep: "all" });
  const expected = Array.from({ length: B }, (_, b) => forward(b));

  it.each(canonical.nodes.map((n) => [n.id, n.op] as const))("node %s (%s)", (id) => {
    const got = values!.get(id)!;
    const width = got.length / B;
    const want = expected.flatMap((e) => e[id]!);
    expect(want.length).toBe(got.length);
    const scale = Math.max(1e-3, ...want.map(Math.abs));
    for (let i = 0; i < got.length; i++) {
      // f32 accumulation vs double: the error bound scales with the tensor's magnitude.
      expect(Math.abs(got[i]! - want[i]!), `${id}[${Math.floor(i / width)}, ${i % width}]`).toBeLessThanOrEqual(
        1e-5 * scale + 1e-5 * Math.abs(want[i]!),
      );
    }
  });

  it("the ctr output is the top sigmoid, and z has DLRM's 16 + 27*26/2 = 367 features", () => {
    expect(Array.from(outputs.ctr!)).toEqual(Array.from(values!.get("top")!));
    expect(expected[0]!["z"]!.length).toBe(367);
  });
});
