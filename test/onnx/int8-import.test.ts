// `export-onnx --precision int8` files import back: the MatMulInteger layers
// (ONNX's dynamic form and rmc's exact one) become rmc int8 linear layers
// whose dequantized weights rmc quantizes back to the exported int8 values,
// so the imported model predicts exactly what the exporting model does (the
// model with its linear layers at int8, run by rmc's reference interpreter),
// and, through the CLI, compiles to an artifact that agrees too.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dataSchema } from "../../src/data/schema.js";
import { InputSampler, rawToBatch } from "../../src/data/synth.js";
import { interpret } from "../../src/interp/interpreter.js";
import { int8Weights } from "../../src/interp/precision.js";
import type { Graph } from "../../src/ir/types.js";
import { exportOnnx } from "../../src/onnx/export.js";
import { importOnnx } from "../../src/onnx/import.js";
import { Rng } from "../../src/util/rng.js";
import { initWeights } from "../../src/weights/init.js";
import { DenseTensor, type Tensor, type WeightStore } from "../../src/weights/store.js";
import { canonical, runArtifact, tempDir } from "../backends/wasm/helpers.js";
import { rmc } from "../cli/helpers.js";
import { ROOT, loadExample } from "./helpers.js";

/** The graph with every linear layer pinned int8: what `--precision int8` exports. */
const allInt8 = (g: Graph): Graph => ({
  ...g,
  nodes: g.nodes.map((n) => (n.op === "linear" ? { ...n, attrs: { ...n.attrs, precision: "int8" } } : n)),
});

describe("import-onnx of int8 exports", () => {
  const graph = canonical(loadExample("dlrm_kaggle_small.rmdl"));
  const weights = initWeights(graph, { seed: 5, dist: "trained" });
  const schema = dataSchema(graph);
  const batch = rawToBatch(schema, new InputSampler(schema, { idsPerBag: [0, 4] }).sample(new Rng(3), 16));
  const want = interpret(allInt8(graph), weights, batch).outputs.ctr!;

  it.each(["dynamic", "exact"] as const)("the %s form maps back to int8 linear layers that predict as the exporting model", (int8Form) => {
    const back = importOnnx(exportOnnx(graph, weights, { precision: "int8", int8Form }), "q.onnx");
    const linears = back.graph.nodes.filter((n) => n.op === "linear");
    expect(linears.length).toBe(4);
    for (const n of linears) expect(n.attrs.precision).toBe("int8");
    expect(back.text).toContain("@precision(int8)");
    const store: WeightStore = new Map<string, Tensor>([...back.weights].map(([k, w]) => [k, new DenseTensor(w.shape, w.data)]));
    // rmc's quantizer gives back the exported int8 values and scales from the dequantized weights.
    for (const n of graph.nodes.filter((m) => m.op === "linear")) {
      const name = n.inputs[1]!.slice(1);
      const orig = int8Weights(weights.get(name)!);
      const again = int8Weights(store.get(name)!);
      expect(Array.from(again.q)).toEqual(Array.from(orig.q));
      expect(Array.from(again.scales)).toEqual(Array.from(orig.scales));
    }
    const got = interpret(canonical(back.graph), store, batch).outputs.ctr!;
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  it("round trip through the CLI: export --precision int8, import, compile; the artifact predicts as the exporting model's", async () => {
    const dir = tempDir();
    const model = join(ROOT, "examples/dlrm_kaggle_small.rmdl");
    const onnx = join(dir, "q.onnx");
    expect((await rmc("export-onnx", model, "--init", "trained", "--seed", "5", "--precision", "int8", "-o", onnx)).code).toBe(0);
    const imp = await rmc("import-onnx", onnx, "-o", join(dir, "back", "model.rmdl"));
    expect(imp.err).toBe("");
    expect(imp.code).toBe(0);
    const c = await rmc("compile", join(dir, "back", "model.rmdl"), "--weights", join(dir, "back", "model.safetensors"), "-o", join(dir, "dist"));
    expect(c.code).toBe(0);
    // The exporting model as an artifact: the example with its mlps pinned int8, the same synthetic weights.
    const pinned = readFileSync(model, "utf8").replace(/^(\s*)(bottom|top)(\s*=\s*mlp)/gm, "$1@precision(int8)\n$1$2$3");
    writeFileSync(join(dir, "pinned.rmdl"), pinned);
    expect((await rmc("compile", join(dir, "pinned.rmdl"), "--init", "trained", "--seed", "5", "-o", join(dir, "ref"))).code).toBe(0);
    const [a, b] = [await runArtifact(join(dir, "dist"), batch), await runArtifact(join(dir, "ref"), batch)];
    expect(Array.from(a.ctr!)).toEqual(Array.from(b.ctr!));
  });
});
