// ONNX import of files rmc did not write: the form torch.onnx.export gives
// for nn.Embedding + sum/mean (Gather + ReduceSum/ReduceMean over a padded
// [batch, ids] index input) with MatMul + Add layers, checked numerically
// against ONNX Runtime on the original file; and the errors: ops rmc never
// imports (one error listing each op and node), nodes that fit no pattern,
// and files that are not ONNX.

import { describe, expect, it } from "vitest";
import type { Bags } from "../../src/data/batch.js";
import { RmcError } from "../../src/diagnostics/index.js";
import { interpret } from "../../src/interp/interpreter.js";
import { OnnxBuilder } from "../../src/onnx/builder.js";
import { importOnnx } from "../../src/onnx/import.js";
import { DT, IR_VERSION, OPSET, type ValueInfoProto, decodeModel, encodeModel, floatTensor } from "../../src/onnx/proto.js";
import { exportOnnx } from "../../src/onnx/export.js";
import { initWeights } from "../../src/weights/init.js";
import { DenseTensor } from "../../src/weights/store.js";
import { Rng } from "../../src/util/rng.js";
import * as ort from "onnxruntime-node";
import { ZOO, maxAbsError, parseText } from "./helpers.js";

const info = (name: string, elemType: number, dims: (number | string)[]): ValueInfoProto => ({
  name,
  type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) } } },
});

/** Model bytes from a builder's nodes and initializers. */
function modelBytes(b: OnnxBuilder, inputs: ValueInfoProto[], outputs: ValueInfoProto[]): Uint8Array {
  return encodeModel({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: "", version: OPSET }],
    producerName: "pytorch",
    graph: { name: "torch_jit", node: b.nodes, initializer: b.initializers, input: inputs, output: outputs },
  });
}

/** Thrown RmcError's messages, or a failure if nothing (or something else) was thrown. */
function messages(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof RmcError) return e.diagnostics.map((d) => d.message).join("\n");
    throw e;
  }
  throw new Error("no error");
}

const rand = (rng: Rng, n: number) => Float32Array.from({ length: n }, () => rng.normal() * 0.5);

/** A PyTorch-style export: two embeddings pooled by sum and mean over padded ids, a dense layer, concat, a head. */
function torchStyle(): { bytes: Uint8Array; params: Record<string, { shape: number[]; data: Float32Array }> } {
  const rng = new Rng(1);
  const b = new OnnxBuilder();
  const params: Record<string, { shape: number[]; data: Float32Array }> = {
    "emb_l.0.weight": { shape: [10, 4], data: rand(rng, 40) },
    "emb_l.1.weight": { shape: [7, 4], data: rand(rng, 28) },
    "bot_l.0.weight_T": { shape: [5, 4], data: rand(rng, 20) },
    "bot_l.0.bias": { shape: [4], data: rand(rng, 4) },
    "emb_l.2.weight": { shape: [6, 4], data: rand(rng, 24) },
    "top_l.0.weight": { shape: [1, 16], data: rand(rng, 16) },
    "top_l.0.bias": { shape: [1], data: rand(rng, 1) },
  };
  for (const [name, p] of Object.entries(params)) b.initializer(floatTensor(name, p.shape, p.data));
  const pool0 = b.node("ReduceSum", [b.node("Gather", ["emb_l.0.weight", "idx0"], { name: "/emb_l.0/Gather" }), b.int64([1])], {
    name: "/ReduceSum",
    attrs: { keepdims: 0 },
  });
  const pool1 = b.node("ReduceMean", [b.node("Gather", ["emb_l.1.weight", "idx1"], { name: "/emb_l.1/Gather" })], {
    name: "/ReduceMean",
    attrs: { axes: [1], keepdims: 0 },
  });
  // Per-id weights multiplied into the rows, then a max: emb(idx2) * w2.unsqueeze(2) → amax(dim=1).
  const weighted = b.node(
    "Mul",
    [b.node("Gather", ["emb_l.2.weight", "idx2"], { name: "/emb_l.2/Gather" }), b.node("Unsqueeze", ["w2", b.int64([2])], { name: "/Unsqueeze" })],
    { name: "/Mul" },
  );
  const pool2 = b.node("ReduceMax", [weighted], { name: "/ReduceMax", attrs: { axes: [1], keepdims: 0 } });
  const bot = b.node(
    "Relu",
    [b.node("Add", [b.node("MatMul", ["dense", "bot_l.0.weight_T"], { name: "/bot_l.0/MatMul" }), "bot_l.0.bias"], { name: "/bot_l.0/Add" })],
    { name: "/bot_l.1/Relu" },
  );
  const z = b.node("Concat", [bot, pool0, pool1, pool2], { name: "/Concat", attrs: { axis: 1 } });
  b.node("Sigmoid", [b.node("Gemm", [z, "top_l.0.weight", "top_l.0.bias"], { name: "/top_l.0/Gemm", attrs: { transB: 1 } })], { name: "prob" });
  const bytes = modelBytes(
    b,
    [
      info("dense", DT.FLOAT, ["batch", 5]),
      info("idx0", DT.INT64, ["batch", 2]),
      info("idx1", DT.INT64, ["batch", 3]),
      info("idx2", DT.INT64, ["batch", 2]),
      info("w2", DT.FLOAT, ["batch", 2]),
    ],
    [info("prob", DT.FLOAT, ["batch", 1])],
  );
  return { bytes, params };
}

describe("import of a PyTorch-style graph (Gather + ReduceSum / ReduceMean / weighted ReduceMax, MatMul + Add)", () => {
  it("gives a model that computes what ONNX Runtime computes on the file", async () => {
    const { bytes, params } = torchStyle();
    const imported = importOnnx(bytes, "torch.onnx");
    expect(imported.text).toMatch(/input idx0: bags\[1\]/);
    expect(imported.text).toMatch(/pool: mean/);
    expect(imported.text).toMatch(/input idx2: weighted_bags\[1\]/);
    const ops = imported.graph.nodes.map((n) => n.op);
    expect(ops.filter((o) => o === "embedding_bag")).toHaveLength(3);
    expect(ops.filter((o) => o === "linear")).toHaveLength(2);
    // Weights: transposed MatMul weights come back as [out, in]; values are kept.
    const linear = imported.graph.nodes.find((n) => n.op === "linear")!;
    const w = imported.weights.get(linear.inputs[1]!.slice(1))!;
    expect(w.shape).toEqual([4, 5]);
    expect(w.data[1 * 5 + 2]).toBe(params["bot_l.0.weight_T"]!.data[2 * 4 + 1]);
    const rng = new Rng(2);
    const B = 6;
    const dense = rand(rng, B * 5);
    const idx0 = Int32Array.from({ length: B * 2 }, () => rng.int(10));
    const idx1 = Int32Array.from({ length: B * 3 }, () => rng.int(7));
    const idx2 = Int32Array.from({ length: B * 2 }, () => rng.int(6));
    const w2 = rand(rng, B * 2);
    const bags = (values: Int32Array, per: number): Bags => ({ count: 1, batch: B, lengths: new Int32Array(B).fill(per), values });
    const store = new Map([...imported.weights].map(([n, t]) => [n, new DenseTensor(t.shape, t.data)]));
    const got = interpret(imported.graph, store, {
      size: B,
      inputs: { dense, idx0: bags(idx0, 2), idx1: bags(idx1, 3), idx2: { ...bags(idx2, 2), weights: w2 } },
    }).outputs.prob!;
    const session = await ort.InferenceSession.create(bytes);
    const i64 = (a: Int32Array, per: number) =>
      new ort.Tensor(
        "int64",
        BigInt64Array.from(a, (x) => BigInt(x)),
        [B, per],
      );
    const want = (
      await session.run({
        dense: new ort.Tensor("float32", dense, [B, 5]),
        idx0: i64(idx0, 2),
        idx1: i64(idx1, 3),
        idx2: i64(idx2, 2),
        w2: new ort.Tensor("float32", w2, [B, 2]),
      })
    ).prob!.data as Float32Array;
    await session.release();
    expect(maxAbsError(got, want)).toBeLessThanOrEqual(1e-5);
  });
});

describe("import errors", () => {
  it("ops rmc never imports: one error listing each op with its node name", () => {
    const b = new OnnxBuilder();
    b.initializer(floatTensor("w", [2, 1, 3], new Float32Array(6)));
    const conv = b.node("Conv", ["x", "w"], { name: "features/conv1" });
    b.node("LSTM", [conv, "w"], { name: "seq/lstm", outputs: 1 });
    const bytes = modelBytes(b, [info("x", DT.FLOAT, ["B", 1, 8])], [info("seq/lstm", DT.FLOAT, ["B", 2])]);
    const msg = messages(() => importOnnx(bytes, "cnn.onnx"));
    expect(msg).toMatch(/cnn\.onnx: 2 nodes use ops rmc cannot import/);
    expect(msg).toMatch(/Conv \(node `features\/conv1`\)/);
    expect(msg).toMatch(/LSTM \(node `seq\/lstm`\)/);
  });

  it("known ops outside any pattern: every such node is named, with the reason", () => {
    const b = new OnnxBuilder();
    b.node("Relu", [b.node("Transpose", ["x"], { name: "odd_transpose" })], { name: "out" });
    b.node("Sigmoid", [b.node("Sub", ["x", "y"], { name: "odd_sub" })], { name: "out2" });
    const outs = [info("out", DT.FLOAT, ["B", 3]), info("out2", DT.FLOAT, ["B", 3])];
    const bytes = modelBytes(b, [info("x", DT.FLOAT, ["B", 3]), info("y", DT.FLOAT, ["B", 3])], outs);
    const msg = messages(() => importOnnx(bytes, "odd.onnx"));
    expect(msg).toMatch(/odd\.onnx: 2 nodes fit no pattern rmc imports/);
    expect(msg).toMatch(/Transpose node `odd_transpose`: it is not part of any pattern/);
    expect(msg).toMatch(/Sub node `odd_sub`: it is not part of any pattern/);
  });

  it("a graph that only looks like rmc's is refused, not misread: a dot interaction gathering another triangle", () => {
    const g = parseText(ZOO, "zoo.rmdl");
    const model = decodeModel(exportOnnx(g, initWeights(g, { seed: 1, dist: "gaussian" })), "zoo.onnx");
    const tri = model.graph!.node!.find((n) => n.name === "y/Gather")!;
    const init = model.graph!.initializer!.find((t) => t.name === tri.input![1])!;
    const view = new DataView(init.rawData!.buffer, init.rawData!.byteOffset, init.rawData!.byteLength);
    view.setBigInt64(0, view.getBigInt64(8, true), true); // the first pair now repeats the second
    const msg = messages(() => importOnnx(encodeModel(model), "zoo.onnx"));
    expect(msg).toMatch(/Concat node `y`: not the dot interaction rmc writes/);
  });

  it("a file that is not ONNX", () => {
    expect(messages(() => importOnnx(new TextEncoder().encode("model x { }"), "x.onnx"))).toMatch(/x\.onnx: not an ONNX model/);
    expect(messages(() => importOnnx(new Uint8Array(0), "empty.onnx"))).toMatch(/empty\.onnx: not an ONNX model/);
  });
});
