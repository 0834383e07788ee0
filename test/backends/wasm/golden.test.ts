// Golden .wat for a few small kernels, as generated (before binaryen's
// optimiser): a reviewer can read exactly what each kernel does, and any
// change to the generated code shows up as a diff. UPDATE_GOLDEN=1 rewrites
// (test/golden.ts: a missing golden file fails).

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { WasmModule } from "../../../backends/wasm/module.js";
import { expectGolden } from "../../golden.js";
import { emitGemm } from "../../../backends/wasm/kernels/gemm.js";
import { emitInt8Gemm } from "../../../backends/wasm/kernels/gemm-int8.js";
import { emitEmbeddingBag } from "../../../backends/wasm/kernels/embedding.js";
import { emitInteract } from "../../../backends/wasm/kernels/interact.js";
import { emitCrossEpilogue } from "../../../backends/wasm/kernels/elementwise.js";

const GOLDEN = join(import.meta.dirname, "golden");

const cases: Record<string, (w: WasmModule) => void> = {
  // 3 inputs → 5 outputs: one partial panel (5 of 8 columns: a full vector and one lane), relu epilogue
  "gemm-3x5-relu": (w) => emitGemm(w, "gemm", { inF: 3, outF: 5, weights: 1024, bias: 2048, act: "relu" }),
  // one f16 table of dim 4, weighted sum pooling
  "embedding-f16-weighted-sum": (w) =>
    emitEmbeddingBag(w, "bags", {
      tables: [{ address: 4096, rowBytes: 8, format: "fp16", feature: 1 }],
      dim: 4,
      pool: "sum",
      weighted: true,
      outWidth: 4,
    }),
  // x [B,2] and 2 embeddings [B,2,2]: 3 vectors, strict lower triangle → 2 + 3 outputs
  "interact-dot-3x2": (w) =>
    emitInteract(w, "interact", {
      inputs: [
        { vectors: 1, width: 2 },
        { vectors: 2, width: 4 },
      ],
      dim: 2,
      op: "dot",
      self: false,
      outWidth: 5,
    }),
  "cross-epilogue-relu": (w) => emitCrossEpilogue(w, "cross_out", true),
  // int8, 9 inputs (one 8-wide quantize step + a scalar tail; 5 k-pairs, the last padded) → 5 outputs, dynamic scales, bias, relu
  "gemm-int8-9x5-dynamic-relu": (w) =>
    emitInt8Gemm(w, "gemm_i8", { inF: 9, outF: 5, weights: 1024, scales: 2048, bias: 3072, act: "relu", actScale: undefined }),
  // fold-quant: int8 reading another layer's codes (static scale 0.25, no quantize step), 9 → 5, writing the next layer's codes (scale 0.5, smoothed)
  "gemm-int8-9x5-codes-in-out": (w) =>
    emitInt8Gemm(w, "gemm_i8", {
      inF: 9,
      outF: 5,
      weights: 1024,
      scales: 2048,
      bias: 3072,
      act: "relu",
      actScale: 0.25,
      codesIn: true,
      codesOut: { scale: 0.5, mul: 4096 },
    }),
  // fuse-interaction: x [B,2] and 2 embeddings, then a tail input [B,3] copied after the triangle
  "interact-dot-3x2-tail": (w) =>
    emitInteract(w, "interact", {
      inputs: [
        { vectors: 1, width: 2 },
        { vectors: 2, width: 4 },
        { vectors: 1, width: 3 },
      ],
      dim: 2,
      op: "dot",
      self: false,
      outWidth: 8,
      tail: 1,
    }),
  // one int4 table of dim 5 (7-byte rows: 3 packed bytes, fp16 scale and bias), sum pooling
  "embedding-int4-sum": (w) =>
    emitEmbeddingBag(w, "bags", {
      tables: [{ address: 4096, rowBytes: 7, format: "int4", feature: 0 }],
      dim: 5,
      pool: "sum",
      weighted: false,
      outWidth: 5,
    }),
};

describe("golden .wat of small kernels", () => {
  for (const [name, emit] of Object.entries(cases))
    it(name, () => {
      const { binary, text } = WasmModule.generate({ sharedMemory: false, optimize: false }, emit);
      expect(WebAssembly.validate(binary)).toBe(true);
      expectGolden(text, join(GOLDEN, `${name}.wat`));
    });
});
