// Round trip: export → import gives back the model's IR (after the default
// pipeline: canonicalize, infer-shapes, dce) with identical weights, for every
// example export supports, the cross-check's zoo model, and a model with pins.
// The full-size examples are refused by export with a clear size error.

import { describe, expect, it } from "vitest";
import type { Graph } from "../../src/ir/types.js";
import { exportOnnx } from "../../src/onnx/export.js";
import { importOnnx } from "../../src/onnx/import.js";
import { RmcError } from "../../src/diagnostics/index.js";
import { initWeights } from "../../src/weights/init.js";
import { DenseTensor } from "../../src/weights/store.js";
import { canonical } from "../backends/wasm/helpers.js";
import { ZOO, loadExample, parseText } from "./helpers.js";

/** The IR without source spans, as plain data. */
function comparable(g: Graph): unknown {
  const strip = <T extends { span?: unknown }>(x: T) => {
    const { span: _span, ...rest } = x;
    return rest;
  };
  return { name: g.name, inputs: g.inputs.map(strip), weights: g.weights.map(strip), nodes: g.nodes.map(strip), outputs: g.outputs.map(strip) };
}

const MODELS: [string, () => Graph][] = [
  ["dlrm_kaggle_small.rmdl", () => loadExample("dlrm_kaggle_small.rmdl")],
  ["multitask.rmdl", () => loadExample("multitask.rmdl")],
  ["zoo", () => parseText(ZOO, "zoo.rmdl")],
  // An input nothing reads, a layer without bias feeding an output directly, a pinned table array.
  [
    "odd corners",
    () =>
      parseText(
        `model corners {
  input extra: weighted_bags[2]
  input dense: f32[3]
  input s: bags[2]
  @precision(int8)
  table t[2]: embedding(dim: 3, rows: [5, 6], pool: max)
  e = flatten(embedding_bag(t, s))
  h = linear(concat(dense, e), 4, bias: false)
  @precision(bf16)
  k = mlp(h, [2], act: none)
  output h
  output out = k
}`,
        "corners.rmdl",
      ),
  ],
];

describe("export then import gives the same IR and weights", () => {
  for (const [name, make] of MODELS) {
    it(name, () => {
      const g = canonical(make());
      const weights = initWeights(g, { seed: 9, dist: "trained" });
      const back = importOnnx(exportOnnx(g, weights), `${name}.onnx`);
      expect(comparable(back.graph)).toEqual(comparable(g));
      expect([...back.weights.keys()]).toEqual(g.weights.map((w) => w.name));
      for (const w of g.weights) expect(back.weights.get(w.name)!.data, w.name).toEqual(weights.get(w.name)!.toFloat32());
      // The DSL text itself parses to the same model again (what `rmc import-onnx` writes).
      expect(comparable(canonical(parseText(back.text, "back.rmdl")))).toEqual(comparable(g));
    });
  }

  it("a weight missing from the store, or of another shape, is an error naming it", () => {
    const g = parseText(ZOO, "zoo.rmdl");
    const weights = new Map(initWeights(g, { seed: 1, dist: "gaussian" }));
    weights.delete("top.1.bias");
    const message = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as RmcError).diagnostics[0]!.message;
      }
      return "no error";
    };
    expect(message(() => exportOnnx(g, weights))).toBe("weight @top.1.bias is not in the weights");
    weights.set("top.1.bias", new DenseTensor([2], new Float32Array(2)));
    expect(message(() => exportOnnx(g, weights))).toBe("weight @top.1.bias: the weights hold shape [2] but the model declares [1]");
  });

  for (const name of ["dlrm_kaggle.rmdl", "dlrm_terabyte.rmdl", "dcnv2.rmdl"]) {
    it(`${name} is too big for one ONNX file, and export says so`, () => {
      const g = loadExample(name);
      let caught: unknown;
      try {
        exportOnnx(g, initWeights(g, { seed: 1, dist: "gaussian" }));
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(RmcError);
      expect((caught as RmcError).diagnostics[0]!.message).toMatch(/GiB; an ONNX file holds at most 2 GiB/);
    });
  }
});
