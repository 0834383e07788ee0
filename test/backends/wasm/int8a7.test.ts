// int8a7 dense layers (int8 weights, 7-bit activation codes; docs/numerics.md):
// the quantizer against values worked out here, the zero-point rule, the
// kernel's two forms (SIMD128 widening, and relaxed_dot where the engine
// validates relaxed SIMD: Node 24, or Node 20 with
// --experimental-wasm-relaxed-simd) against the interpreter's int8a7Linear bit
// for bit, and compiled models (the default SIMD128 module) against the
// interpreter, dlrm_kaggle_small included.

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
import { DenseTensor } from "../../../src/weights/store.js";
import { type A7Zero, a7Codes, a7Scale, int8a7Linear, quantizeInt8Weights } from "../../../src/quant/dense.js";
import { nonNegativeValues } from "../../../src/ir/attrs.js";
import { WasmModule, type Local } from "../../../backends/wasm/module.js";
import { PANEL, formOf, packWeight } from "../../../backends/wasm/layout.js";
import { emitI7Gemm, i7ScratchBytes } from "../../../backends/wasm/kernels/gemm-i7.js";
import { Rng } from "../../../src/util/rng.js";
import { canonical, compileTo, runArtifact, tempDir } from "./helpers.js";

const rng = new Rng(715);

/** The parts of the WebAssembly JS API this test instantiates a kernel with (the project's lib setting has no WebAssembly types). */
interface WasmApi {
  Memory: new (d: { initial: number; maximum: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
const f32 = Math.fround;

describe("int8a7 quantizer", () => {
  const codes = (x: number[], s: number, zero: A7Zero): number[] => {
    const q = new Int32Array(x.length);
    a7Codes(Float32Array.from(x), 0, x.length, s, zero, q);
    return Array.from(q);
  };
  it("zero point 0: s = max|x|/127, codes rne(x/s) clamped to 0..127", () => {
    const x = [127, 0.5, 1.5, 2.5, -3, 3.49];
    expect(a7Scale(Float32Array.from(x), 0, x.length, 0)).toBe(1);
    expect(codes(x, 1, 0)).toEqual([127, 0, 2, 2, 0, 3]);
    expect(a7Scale(Float32Array.from([0.5, 254]), 0, 2, 0)).toBe(2);
  });
  it("zero point 64: s = max|x|/63, codes rne(x/s) clamped to ±63, plus 64", () => {
    const x = [63, 0.5, 1.5, -2.5, -63, -10.5];
    expect(a7Scale(Float32Array.from(x), 0, x.length, 64)).toBe(1);
    expect(codes(x, 1, 64)).toEqual([127, 64, 66, 62, 1, 54]);
    expect(a7Scale(Float32Array.from([-126, 3]), 0, 2, 64)).toBe(2);
    // A scale smaller than the row asks for: clamped at both ends.
    expect(codes([100, -100, 31.5, -31.5], 0.5, 64)).toEqual([127, 1, 127, 1]);
  });
  it("NaN → the zero point (and a NaN scale), an all-zero row → scale 1, codes at the zero point", () => {
    expect(codes([NaN, 5], 1, 64)).toEqual([64, 69]);
    expect(codes([NaN, 5], 1, 0)).toEqual([0, 5]);
    expect(a7Scale(Float32Array.from([1, NaN]), 0, 2, 64)).toBeNaN();
    expect(a7Scale(Float32Array.from([1, NaN]), 0, 2, 0)).toBeNaN();
    expect(codes([1, 2], NaN, 64)).toEqual([64, 64]);
    expect(a7Scale(Float32Array.from([0, -0, 0]), 0, 3, 64)).toBe(1);
    expect(codes([0, -0, 0], 1, 64)).toEqual([64, 64, 64]);
  });
  it("int8a7Linear on integer data is the exact dot product plus bias", () => {
    // Rows with max|x| = 63 (scale 1) and weight rows with max|w| = 127 (weight scale 1): codes and weights are the values.
    const [inF, out, batch] = [11, 5, 3];
    const w = Float32Array.from({ length: out * inF }, (_, i) => (i % inF === 0 ? 127 : rng.int(255) - 127));
    const x = Float32Array.from({ length: batch * inF }, (_, i) => (i % inF === 0 ? -63 : rng.int(127) - 63));
    const bias = Float32Array.from({ length: out }, () => rng.int(100) - 50);
    const q = quantizeInt8Weights(w, out, inF);
    expect(Array.from(q.scales)).toEqual(new Array(out).fill(1));
    const y = new Float32Array(batch * out);
    int8a7Linear(x, batch, inF, q, out, bias, 64, y);
    for (let b = 0; b < batch; b++)
      for (let o = 0; o < out; o++) {
        let dot = bias[o]!;
        for (let k = 0; k < inF; k++) dot += x[b * inF + k]! * w[o * inF + k]!;
        expect(y[b * out + o]).toBe(dot);
      }
  });
});

describe("int8a7 zero points from the graph", () => {
  it("relu, sigmoid, relu/sigmoid epilogues and concat/flatten/interact of such are non-negative; inputs and plain layers are not", () => {
    const src = `model k {
  input x: f32[6]
  a = relu(linear(x, 4))
  b = linear(x, 4)
  c = sigmoid(b)
  d = concat(a, c)
  e = concat(a, b)
  m = mlp(x, [3, 2], act: relu)
  n = mlp(x, [3, 2], act: relu, final: tanh)
  output d
  output e
  output m
  output n
}`;
    const { graph } = parseModel(src, "zero.rmdl");
    const raw = nonNegativeValues(graph!);
    expect(["a", "c", "d", "m"].every((id) => raw.has(id))).toBe(true);
    expect(["x", "b", "e", "n"].some((id) => raw.has(id))).toBe(false);
    // The canonical form (mlp expanded into linear + relu nodes) agrees on every value both have.
    const can = nonNegativeValues(canonical(graph!));
    for (const id of ["a", "b", "c", "d", "e", "m", "n"]) expect(can.has(id), id).toBe(raw.has(id));
  });
});

/** One int8a7 kernel in a module of its own, run on x: [batch, inF]; returns y. */
function runKernel(
  relaxed: boolean,
  spec: { inF: number; outF: number; zero: A7Zero; relu: boolean },
  w: Float32Array,
  bias: Float32Array,
  x: Float32Array,
  batch: number,
): Float32Array | undefined {
  const { inF, outF } = spec;
  const decl = {
    name: "w",
    role: "weight" as const,
    dtype: "f32" as const,
    shape: [outF, inF],
    attrs: {},
    span: { file: "t", line: 1, col: 1, endLine: 1, endCol: 1 },
  };
  const form = formOf(decl, "int8a7");
  if (form.kind !== "panels-i8q") throw new Error("not panels-i8q");
  const store = new Map([["w", new DenseTensor([outF, inF], w)]]);
  const wBytes = [...packWeight({ name: "w", offset: 64, bytes: 0, form, precision: "int8a7" }, store)];
  const wLen = wBytes.reduce((s, c) => s + c.byteLength, 0);
  const at = { w: 64, bias: 64 + Math.ceil(wLen / 16) * 16 };
  const padded = Math.ceil(outF / PANEL) * PANEL;
  const xAt = at.bias + padded * 4;
  const yAt = xAt + Math.ceil((batch * inF * 4) / 16) * 16;
  const sAt = yAt + Math.ceil((batch * outF * 4) / 16) * 16;
  const { binary } = WasmModule.generate({ sharedMemory: false, optimize: true, relaxed }, (m) => {
    emitI7Gemm(m, "k", {
      inF,
      outF,
      weights: at.w,
      scales: at.w + form.scalesAt,
      corr: at.w + form.corrAt,
      bias: at.bias,
      act: spec.relu ? "relu" : "none",
      zero: spec.zero,
    });
    m.func(
      "run",
      ["i32", "i32", "i32", "i32"],
      (f) => [
        m.call(
          "k",
          (f.params as Local[]).map((p) => p.get()),
        ),
      ],
      true,
    );
  });
  if (!WebAssembly.validate(binary)) return undefined;
  const memory = new WA.Memory({ initial: Math.ceil((sAt + batch * i7ScratchBytes(inF)) / 65536) + 1, maximum: 65536 });
  const bytes = new Uint8Array(memory.buffer);
  let pos = at.w;
  for (const c of wBytes) (bytes.set(c, pos), (pos += c.byteLength));
  new Float32Array(memory.buffer, at.bias, outF).set(bias);
  new Float32Array(memory.buffer, xAt, batch * inF).set(x);
  const inst = new WA.Instance(new WA.Module(binary), { env: { memory } });
  (inst.exports.run as (...a: number[]) => void)(xAt, yAt, sAt, batch);
  return new Float32Array(memory.buffer, yAt, batch * outF).slice();
}

/** The interpreter's values for the same layer (int8a7Linear, then relu as activateInPlace applies it). */
function reference(
  spec: { inF: number; outF: number; zero: A7Zero; relu: boolean },
  w: Float32Array,
  bias: Float32Array,
  x: Float32Array,
  batch: number,
): Float32Array {
  const y = new Float32Array(batch * spec.outF);
  int8a7Linear(x, batch, spec.inF, quantizeInt8Weights(w, spec.outF, spec.inF), spec.outF, bias, spec.zero, y);
  return spec.relu ? y.map((v) => (v > 0 ? v : v === v ? 0 : v)) : y;
}

/** Random layer data: weights N(0,1)/√in, inputs N(0, 2) (|x| for zero point 0), with NaN, ±∞, an all-zero row and a tiny row. */
function layerData(inF: number, outF: number, batch: number, zero: A7Zero): { w: Float32Array; bias: Float32Array; x: Float32Array } {
  const w = Float32Array.from({ length: outF * inF }, () => rng.normal() / Math.sqrt(inF));
  const bias = Float32Array.from({ length: outF }, () => rng.normal() * 0.1);
  const x = Float32Array.from({ length: batch * inF }, () => (zero === 0 ? Math.abs(rng.normal() * 2) : rng.normal() * 2));
  if (batch > 4) {
    x[0] = NaN;
    x[inF + inF - 1] = zero === 0 ? Infinity : -Infinity;
    x.fill(0, 2 * inF, 3 * inF);
    for (let k = 0; k < inF; k++) x[3 * inF + k] = f32(x[3 * inF + k]! * 1e-38);
  }
  return { w, bias, x };
}

const relaxedValid = WebAssembly.validate(
  WasmModule.generate({ sharedMemory: false, optimize: false, relaxed: true }, (m) =>
    emitI7Gemm(m, "k", { inF: 4, outF: 1, weights: 64, scales: 64, corr: 64, bias: undefined, act: "none", zero: 64 }),
  ).binary,
);

const SHAPES: [number, number][] = [
  [1, 1],
  [3, 7],
  [13, 64],
  [16, 9],
  [17, 16],
  [33, 5],
  [64, 1],
  [367, 64],
];

describe("int8a7 GEMM kernel = interpreter, bit for bit", () => {
  for (const [inF, outF] of SHAPES)
    it(`SIMD128 (widened dots): ${inF}→${outF}, zero points 0 and 64, relu or not, batch 1 and 9`, () => {
      for (const zero of [0, 64] as const)
        for (const batch of [1, 9]) {
          const spec = { inF, outF, zero, relu: zero === 64 };
          const { w, bias, x } = layerData(inF, outF, batch, zero);
          const got = runKernel(false, spec, w, bias, x, batch)!;
          expect(Array.from(got).map(String)).toEqual(Array.from(reference(spec, w, bias, x, batch)).map(String));
        }
    });

  const why = relaxedValid
    ? ""
    : " — SKIPPED: this engine does not validate relaxed SIMD (run under Node 24, or Node 20 with --experimental-wasm-relaxed-simd)";
  it.skipIf(!relaxedValid)(
    `relaxed (relaxed_dot_i8x16_i7x16_add_s): every shape, zero points 0 and 64, equal to SIMD128 and the interpreter${why}`,
    () => {
      for (const [inF, outF] of SHAPES)
        for (const zero of [0, 64] as const) {
          const spec = { inF, outF, zero, relu: zero === 0 };
          const { w, bias, x } = layerData(inF, outF, 9, zero);
          const want = Array.from(reference(spec, w, bias, x, 9)).map(String);
          expect(Array.from(runKernel(true, spec, w, bias, x, 9)!).map(String), `${inF}→${outF} zero ${zero}`).toEqual(want);
          expect(Array.from(runKernel(false, spec, w, bias, x, 9)!).map(String)).toEqual(want);
        }
    },
  );
});

/** Parses and canonicalizes `src`. */
function build(src: string, edit?: (g: Graph) => void): { source: Graph; graph: Graph } {
  const { graph, diagnostics } = parseModel(src, "int8a7.rmdl");
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const g = structuredClone(canonical(graph!));
  edit?.(g);
  return { source: graph!, graph: g };
}

function batchFor(source: Graph, b: number, seed: number): Batch {
  const schema = dataSchema(source);
  const r = new Rng(seed);
  const batch = rawToBatch(schema, new InputSampler(schema, { idsPerBag: [0, 4] }).sample(r, b));
  for (const [name, v] of Object.entries(batch.inputs)) if (v instanceof Float32Array) batch.inputs[name] = v.map(() => r.normal() * 2);
  return batch;
}

describe("compiled int8a7 models = interpreter, bit for bit (SIMD128 module)", () => {
  it("layers reading the input (zero point 64), relu and sigmoid outputs (0), an mlp; odd widths, NaN inputs", async () => {
    for (const inF of [5, 19, 40]) {
      const built = build(`model k {
  input x: f32[${inF}]
  @precision(int8a7)
  a = relu(linear(x, 9))
  @precision(int8a7)
  b = linear(a, 5)
  @precision(int8a7)
  c = linear(sigmoid(x), 3, bias: false)
  @precision(int8a7)
  m = mlp(x, [17, 4], act: relu, final: none)
  output b
  output c
  output m
}`);
      const store = initWeights(built.source, { seed: rng.u32(), dist: "trained" });
      const dir = await compileTo(built.graph, store);
      for (const b of [1, 6]) {
        const batch = batchFor(built.source, b, rng.u32());
        (batch.inputs.x as Float32Array)[0] = NaN;
        const want = interpret(built.graph, store, batch).outputs;
        expect(await runArtifact(dir, batch)).toEqual(want);
      }
    }
  });

  it("dlrm_kaggle_small with every linear at int8a7: runs equal to the interpreter on 1 and 2 threads", async () => {
    const src = readFileSync(join(import.meta.dirname, "../../../examples/dlrm_kaggle_small.rmdl"), "utf8");
    const built = build(src, (g) => {
      for (const n of g.nodes) if (n.op === "linear") n.attrs.precision = "int8a7";
    });
    const weights = initWeights(built.source, { seed: 7, dist: "trained" });
    const dir = await compileTo(built.graph, weights);
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as { precision: Record<string, string> };
    expect(Object.values(manifest.precision).filter((p) => p === "int8a7")).toHaveLength(4);
    const batch = batchFor(built.source, 70, 9);
    const want = interpret(built.graph, weights, batch).outputs;
    const fp32 = interpret(canonical(built.source), weights, batch).outputs;
    expect(want.ctr).not.toEqual(fp32.ctr);
    expect(await runArtifact(dir, batch, 1)).toEqual(want);
    expect(await runArtifact(dir, batch, 2)).toEqual(want);
  });
});

describe("int8a7 where it does not apply: located errors", () => {
  it("a static act_scale on an int8a7 layer, int8a7 on a cross layer or a table, and the wgsl backend", async () => {
    const built = build(`model k {\n  input x: f32[6]\n  @precision(int8a7)\n  a = linear(x, 3)\n  output a\n}`, (g) => {
      g.nodes.find((n) => n.op === "linear")!.attrs.act_scale = 0.05;
    });
    const batch = batchFor(built.source, 2, 1);
    expect(() => interpret(built.graph, initWeights(built.source, { seed: 1, dist: "trained" }), batch)).toThrow(/int8a7.*static act_scale/);
    const cross = parseModel(`model k {\n  input x: f32[6]\n  @precision(int8a7)\n  c = cross(x, layers: 1)\n  output c\n}`, "c.rmdl");
    expect(cross.diagnostics.map((d) => `${d.span?.line}: ${d.message}`)).toContain("3: cross layers have no int8a7 form");
    const table = parseModel(
      `model k {\n  input s: bags[1]\n  @precision(int8a7)\n  table t: embedding(dim: 4, rows: 10)\n  e = embedding_bag(t, s)\n  output e\n}`,
      "t.rmdl",
    );
    expect(table.diagnostics.some((d) => d.severity === "error" && d.span?.line === 3)).toBe(true);
    const plain = build(`model k {\n  input x: f32[6]\n  @precision(int8a7)\n  a = linear(x, 3)\n  output a\n}`);
    const { wgslBackend } = await import("../../../backends/wgsl/index.js");
    const weights = initWeights(plain.source, { seed: 1, dist: "trained" });
    const err = await wgslBackend
      .compile(plain.graph, weights, { outDir: join(tempDir(), "w"), emitText: false, features: [], compilerVersion: "test" })
      .catch((e: unknown) => e);
    expect(String((err as Error).message)).toMatch(/wgsl backend cannot compile .* at int8a7/);
    expect((err as { diagnostics?: { span?: { line: number } }[] }).diagnostics?.[0]?.span?.line).toBe(4);
  });
});
