// Binding files to a model: the writeWeights round trip, PyTorch DLRM
// state-dict names, and one test per binding error.

import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hasErrors, type Diagnostic } from "../../src/diagnostics/index.js";
import type { Graph } from "../../src/ir/types.js";
import { bindWeights, loadWeights, pytorchNames, writeWeights } from "../../src/weights/bind.js";
import { encodeFromF32 } from "../../src/weights/dtypes.js";
import { initMetadata, initWeights } from "../../src/weights/init.js";
import { openSafetensors, readSafetensorsBytes, serializeSafetensors, type TensorWriter } from "../../src/weights/safetensors.js";
import { DenseTensor } from "../../src/weights/store.js";
import { decl, expectRmcError, removeTempDirs, tempDir, tinyDlrm } from "./helpers.js";

afterAll(removeTempDirs);

/** Distinct, exactly representable values for a tensor: tag + index / 8. */
const valuesFor = (tag: number, n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => tag + i / 8);
const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** A tensor entry with values from valuesFor. */
const entry = (name: string, shape: number[], tag: number, dtype: "F32" | "F16" | "BF16" = "F32"): TensorWriter => ({
  name,
  dtype,
  shape,
  write: (sink) => sink(encodeFromF32(dtype, valuesFor(tag, count(shape)))),
});

/** The tiny model's weights under facebookresearch/dlrm names, each with its own tag. */
const torchEntries = (): TensorWriter[] => [
  entry("emb_l.0.weight", [10, 4], 1),
  entry("emb_l.1.weight", [7, 4], 2, "F16"),
  entry("bot_l.0.weight", [8, 4], 3),
  entry("bot_l.0.bias", [8], 4),
  entry("bot_l.2.weight", [4, 8], 5, "BF16"),
  entry("bot_l.2.bias", [4], 6),
  entry("top_l.0.weight", [6, 7], 7),
  entry("top_l.0.bias", [6], 8),
  entry("top_l.2.weight", [1, 6], 9),
  entry("top_l.2.bias", [1], 10),
];

const bind = (graph: Graph, entries: TensorWriter[]) => bindWeights(graph, readSafetensorsBytes(serializeSafetensors(entries), "m.safetensors"));
const byCode = (ds: Diagnostic[], code: string) => ds.filter((d) => d.code === code);

describe("round trip", () => {
  it("writeWeights → openSafetensors → bindWeights gives back the store", () => {
    const g = tinyDlrm();
    const p = path.join(tempDir(), "w.safetensors");
    for (const dist of ["gaussian", "trained"] as const) {
      const store = initWeights(g, { seed: 9, dist });
      writeWeights(p, g, store, initMetadata({ seed: 9, dist }));
      const file = openSafetensors(p);
      expect(file.metadata["rmc.init"]).toBe(dist);
      expect([...file.tensors.keys()]).toEqual(g.weights.map((w) => w.name));
      const { store: bound, diagnostics } = bindWeights(g, file);
      expect(diagnostics).toEqual([]);
      for (const w of g.weights) expect([...bound.get(w.name)!.toFloat32()], w.name).toEqual([...store.get(w.name)!.toFloat32()]);
      file.close();
    }
  });

  it("writeWeights streams a table larger than one chunk row by row, equal to the lazy rows", () => {
    const g: Graph = { name: "g", inputs: [], weights: [decl("big", "table", [70_000, 16])], nodes: [], outputs: [] };
    const store = initWeights(g, { seed: 2, dist: "trained" });
    const p = path.join(tempDir(), "big.safetensors");
    writeWeights(p, g, store);
    const t = openSafetensors(p).tensor("big");
    const [a, b] = [new Float32Array(16), new Float32Array(16)];
    for (const r of [0, 65_535, 65_536, 69_999]) {
      t.readRow(r, a);
      store.get("big")!.readRow(r, b);
      expect([...a], `row ${r}`).toEqual([...b]);
    }
  });

  it("writeWeights refuses missing or misshapen weights", () => {
    const g = tinyDlrm();
    const p = path.join(tempDir(), "x.safetensors");
    const store = new Map(initWeights(g, { seed: 1, dist: "gaussian" }));
    store.delete("top.1.bias");
    store.delete("emb.0.weight");
    expectRmcError(() => writeWeights(p, g, store), "2 declared weights", "`emb.0.weight`", "`top.1.bias`");
    store.set("top.1.bias", new DenseTensor([2], new Float32Array(2)));
    store.set("emb.0.weight", new DenseTensor([10, 4], new Float32Array(40)));
    expectRmcError(() => writeWeights(p, g, store), "`top.1.bias` holds [2], the model declares [1]");
  });
});

describe("PyTorch names", () => {
  it("maps emb_l / bot_l / top_l to the model's tables and MLP layers", () => {
    const { aliases, unavailable } = pytorchNames(tinyDlrm());
    expect(unavailable.size).toBe(0);
    expect(Object.fromEntries(aliases)).toEqual({
      "emb_l.0.weight": "emb.0.weight",
      "emb_l.1.weight": "emb.1.weight",
      "bot_l.0.weight": "bottom.0.weight",
      "bot_l.0.bias": "bottom.0.bias",
      "bot_l.2.weight": "bottom.1.weight",
      "bot_l.2.bias": "bottom.1.bias",
      "top_l.0.weight": "top.0.weight",
      "top_l.0.bias": "top.0.bias",
      "top_l.2.weight": "top.1.weight",
      "top_l.2.bias": "top.1.bias",
    });
  });

  it("binds a PyTorch-named file, widening F16 and BF16 exactly", () => {
    for (const outputRef of ["%5", "5"]) {
      const { store, diagnostics } = bind(tinyDlrm(outputRef), torchEntries());
      expect(diagnostics).toEqual([]);
      const want: [string, number, number[]][] = [
        ["emb.0.weight", 1, [10, 4]],
        ["emb.1.weight", 2, [7, 4]],
        ["bottom.1.weight", 5, [4, 8]],
        ["top.0.weight", 7, [6, 7]],
        ["top.1.bias", 10, [1]],
      ];
      for (const [name, tag, shape] of want) expect([...store.get(name)!.toFloat32()], name).toEqual([...valuesFor(tag, count(shape))]);
      expect(store.get("emb.1.weight")!.dtype).toBe("f16");
    }
  });

  it("finds the top mlp when it feeds the output directly", () => {
    const g = tinyDlrm("%4");
    g.nodes = g.nodes.slice(0, 4);
    expect(pytorchNames(g).aliases.get("top_l.2.bias")).toBe("top.1.bias");
  });

  it("explains why top_l names cannot be placed when two mlps feed outputs", () => {
    const g = tinyDlrm();
    g.weights = [...g.weights, decl("aux.0.weight", "weight", [1, 7]), decl("aux.0.bias", "bias", [1])];
    g.nodes = [...g.nodes, { ...g.nodes[3]!, id: "6", inputs: ["%3", "@aux.0.weight", "@aux.0.bias"], attrs: { sizes: [1], bias: true } }];
    g.outputs = [...g.outputs, { name: "aux", value: "%6", span: g.outputs[0]!.span }];
    const { diagnostics } = bind(g, torchEntries());
    const [e] = byCode(diagnostics, "E1314");
    expect(e!.message).toContain("cannot place PyTorch tensors `top_l.0.weight`");
    expect(e!.message).toContain("2 mlps feed model outputs (`%4` (`top.0.weight`, ...), `%6` (`aux.0.weight`, ...)), so the name is ambiguous");
    // Their targets are then missing, in one error; the bottom and tables still bind.
    expect(byCode(diagnostics, "E1310")).toHaveLength(1);
    expect(byCode(diagnostics, "E1310")[0]!.message).toContain("`top.0.weight`");
    expect(byCode(diagnostics, "E1310")[0]!.message).not.toContain("bottom");
  });

  it("explains that a model without a bottom mlp has no bot_l", () => {
    const g = tinyDlrm();
    g.nodes = g.nodes.filter((n) => n.id !== "1");
    const { diagnostics } = bind(g, torchEntries());
    expect(byCode(diagnostics, "E1314")[0]!.message).toContain("no mlp reads a dense graph input");
  });
});

describe("binding errors", () => {
  it("names both shapes and both names on a shape mismatch, at the declaration", () => {
    const entries = torchEntries().map((e) => (e.name === "top_l.0.weight" ? entry("top_l.0.weight", [6, 8], 7) : e));
    const { diagnostics, store } = bind(tinyDlrm(), entries);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ code: "E1311", severity: "error", span: { file: "tiny.rmdl", line: 9 } });
    expect(diagnostics[0]!.message).toBe("m.safetensors: tensor `top_l.0.weight` (→ `top.0.weight`) is [6, 8], the model declares [6, 7]");
    expect(store.has("top.0.weight")).toBe(false);
    expect(store.has("top.0.bias")).toBe(true);
  });

  it("rejects dtypes an f32 weight cannot load from", () => {
    const entries = torchEntries().map((e) => (e.name === "bot_l.0.bias" ? { ...e, dtype: "I32" as const } : e));
    const { diagnostics } = bind(tinyDlrm(), entries);
    expect(diagnostics.map((d) => d.code)).toEqual(["E1312"]);
    expect(diagnostics[0]!.message).toContain("tensor `bot_l.0.bias` (→ `bottom.0.bias`) is I32, the model declares f32 (accepted: F32, F16, BF16)");
  });

  it("lists every missing weight in one error, with the PyTorch names also accepted", () => {
    const entries = torchEntries().filter((e) => e.name !== "bot_l.2.bias" && e.name !== "emb_l.1.weight");
    const { diagnostics } = bind(tinyDlrm(), entries);
    expect(diagnostics.map((d) => d.code)).toEqual(["E1310"]);
    expect(diagnostics[0]!.message).toBe(
      "m.safetensors: 2 weights the model declares are not in the file: `bottom.1.bias` (or `bot_l.2.bias`), `emb.1.weight` (or `emb_l.1.weight`)",
    );
  });

  it("points at a near-miss name in the file", () => {
    const entries = torchEntries().map((e) => (e.name === "top_l.2.bias" ? { ...e, name: "top.1.bais" } : e));
    const { diagnostics } = bind(tinyDlrm(), entries);
    expect(byCode(diagnostics, "E1310")[0]!.message).toContain("`top.1.bias` (or `top_l.2.bias`; the file has `top.1.bais`)");
    expect(byCode(diagnostics, "W1315")[0]!.message).toContain("1 tensor in the file is not used by the model: `top.1.bais`");
  });

  it("warns about unused tensors without failing", () => {
    const entries = [...torchEntries(), entry("bot_l.1.weight", [1], 0), entry("optimizer.step", [1], 0)];
    const { diagnostics } = bind(tinyDlrm(), entries);
    expect(hasErrors(diagnostics)).toBe(false);
    expect(diagnostics).toEqual([
      {
        code: "W1315",
        severity: "warning",
        message: "m.safetensors: 2 tensors in the file are not used by the model: `bot_l.1.weight`, `optimizer.step`",
      },
    ]);
  });

  it("rejects a weight given under both names", () => {
    const { diagnostics } = bind(tinyDlrm(), [...torchEntries(), entry("top.0.bias", [6], 8)]);
    expect(diagnostics.map((d) => d.code)).toEqual(["E1313"]);
    expect(diagnostics[0]!.message).toContain("weight `top.0.bias` is in the file twice, as `top_l.0.bias`, `top.0.bias`");
  });

  it("loadWeights throws every error at once, or returns the store and warnings", () => {
    const dir = tempDir();
    const p = path.join(dir, "m.safetensors");
    const g = tinyDlrm();
    writeWeights(p, { ...g, weights: g.weights.filter((w) => w.name !== "emb.0.weight") }, initWeights(g, { seed: 1, dist: "gaussian" }));
    const err = expectRmcError(() => loadWeights(g, p), "`emb.0.weight` (or `emb_l.0.weight`)");
    expect(err.diagnostics.map((d) => d.code)).toEqual(["E1310"]);
    const ok = loadWeights({ ...g, weights: g.weights.filter((w) => w.name !== "emb.0.weight") }, p);
    expect(ok.warnings).toEqual([]);
    expect(ok.store.size).toBe(g.weights.length - 1);
    ok.file.close();
  });
});
