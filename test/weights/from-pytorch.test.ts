// docs/from-pytorch.md, step by step: the model text is taken from the doc's
// `rmdl` block; the weights file is laid out exactly as step 2's Python writes
// a facebookresearch/dlrm state dict (emb_l.0 F32, emb_l.1 byte-prepacked U8,
// emb_l.2 4-bit-prepacked U8, bot_l / top_l at nn.Sequential indices 0 and 2);
// `rmc compile` builds the artifact, and its predictions match an independent
// double-precision DLRM forward pass (tables dequantized as PyTorch's
// quantized EmbeddingBag does, from the packed bytes). The same weights through
// `rmc export-onnx` run in ONNX Runtime and agree too.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, describe, expect, it } from "vitest";
import type { Bags } from "../../src/data/batch.js";
import { Rng } from "../../src/util/rng.js";
import { refDequantize, refQuantize } from "../quant/reference.js";
import { rmc } from "../cli/helpers.js";
import { runArtifact } from "../backends/wasm/helpers.js";
import { buildSafetensors, f32Bytes, removeTempDirs, tempDir } from "./helpers.js";

afterAll(removeTempDirs);

const doc = readFileSync(join(import.meta.dirname, "../../docs/from-pytorch.md"), "utf8");
const model = /```rmdl\n([\s\S]*?)```/.exec(doc)![1]!;

interface Entry {
  name: string;
  dtype: "F32" | "U8";
  shape: number[];
  bytes: number[];
}

/** The safetensors bytes of entries in this order (as safetensors.torch.save_file lays a dict out: header, then data). */
function safetensors(entries: Entry[]): Uint8Array {
  const header: Record<string, unknown> = {};
  let at = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [at, at + e.bytes.length] };
    at += e.bytes.length;
  }
  return buildSafetensors(
    JSON.stringify(header),
    entries.flatMap((e) => e.bytes),
  );
}

const rng = new Rng(17);
const values = (n: number, scale: number) => Array.from({ length: n }, () => Math.fround(rng.normal() * scale));

// The trained model's parameters (state-dict names), in double-checked shapes.
const emb = [values(20 * 4, 0.3), values(30 * 4, 0.3), values(40 * 4, 0.3)];
const rowsOf = (k: number) => [20, 30, 40][k]!;
const dense: Record<string, { shape: number[]; v: number[] }> = {
  "bot_l.0.weight": { shape: [8, 5], v: values(40, 0.4) },
  "bot_l.0.bias": { shape: [8], v: values(8, 0.1) },
  "bot_l.2.weight": { shape: [4, 8], v: values(32, 0.4) },
  "bot_l.2.bias": { shape: [4], v: values(4, 0.1) },
  "top_l.0.weight": { shape: [6, 10], v: values(60, 0.4) },
  "top_l.0.bias": { shape: [6], v: values(6, 0.1) },
  "top_l.2.weight": { shape: [1, 6], v: values(6, 0.4) },
  "top_l.2.bias": { shape: [1], v: values(1, 0.1) },
};
/** emb_l.1 through embedding_bag_byte_prepack, emb_l.2 through embedding_bag_4bit_prepack: rows of U8. */
const packed = [1, 2].map((k) => Array.from({ length: rowsOf(k) }, (_, r) => refQuantize(k === 1 ? 8 : 4, emb[k]!.slice(r * 4, r * 4 + 4))));
/** What PyTorch's quantized bag reads for each table: fp32 rows, or the dequantized packed rows. */
const tableRows = [emb[0]!, packed[0]!.flatMap((b) => refDequantize(8, b, 4)), packed[1]!.flatMap((b) => refDequantize(4, b, 4))];

/** facebookresearch/dlrm's forward for one sample, in double precision. */
function dlrmForward(x: number[], bags: number[][]): number {
  const layer = (inp: number[], w: string, b: string) => {
    const W = dense[w]!;
    return Array.from({ length: W.shape[0]! }, (_, o) => inp.reduce((s, xi, i) => s + xi * W.v[o * inp.length + i]!, dense[b]!.v[o]!));
  };
  const relu = (v: number[]) => v.map((a) => Math.max(0, a));
  const bottom = relu(layer(relu(layer(x, "bot_l.0.weight", "bot_l.0.bias")), "bot_l.2.weight", "bot_l.2.bias"));
  const pooled = bags.map((ids, k) => [0, 1, 2, 3].map((d) => ids.reduce((s, id) => s + tableRows[k]![id * 4 + d]!, 0)));
  const T = [bottom, ...pooled];
  const z = [...bottom];
  for (let i = 1; i < T.length; i++) for (let j = 0; j < i; j++) z.push(T[i]!.reduce((s, a, d) => s + a * T[j]![d]!, 0));
  const top = layer(relu(layer(z, "top_l.0.weight", "top_l.0.bias")), "top_l.2.weight", "top_l.2.bias");
  return 1 / (1 + Math.exp(-top[0]!));
}

describe("docs/from-pytorch.md", () => {
  it("a facebookresearch/dlrm state dict saved as safetensors (fp32, byte- and 4-bit-prepacked tables) compiles and predicts like DLRM", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "dlrm.rmdl"), model);
    const entries: Entry[] = [
      { name: "emb_l.0.weight", dtype: "F32", shape: [20, 4], bytes: f32Bytes(emb[0]!) },
      { name: "emb_l.1.weight", dtype: "U8", shape: [30, 12], bytes: packed[0]!.flatMap((r) => [...r]) },
      { name: "emb_l.2.weight", dtype: "U8", shape: [40, 6], bytes: packed[1]!.flatMap((r) => [...r]) },
      ...Object.entries(dense).map(([name, t]): Entry => ({ name, dtype: "F32", shape: t.shape, bytes: f32Bytes(t.v) })),
    ];
    writeFileSync(join(dir, "dlrm.safetensors"), safetensors(entries));
    expect((await rmc("check", join(dir, "dlrm.rmdl"))).code).toBe(0);
    const r = await rmc("compile", join(dir, "dlrm.rmdl"), "--weights", join(dir, "dlrm.safetensors"), "-o", join(dir, "dist"));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, "dist", "manifest.json"), "utf8")) as unknown;
    expect(JSON.stringify(manifest)).toMatch(/int4/);

    const B = 7;
    const x = Float32Array.from(values(B * 5, 1));
    const bags = Array.from({ length: B }, () => [0, 1, 2].map((k) => Array.from({ length: rng.int(4) }, () => rng.int(rowsOf(k)))));
    // KJT layout: lengths key-major, values in the same order.
    const sparse: Bags = {
      count: 3,
      batch: B,
      lengths: Int32Array.from([0, 1, 2].flatMap((k) => bags.map((b) => b[k]!.length))),
      values: Int32Array.from([0, 1, 2].flatMap((k) => bags.flatMap((b) => b[k]!))),
    };
    const got = (await runArtifact(join(dir, "dist"), { size: B, inputs: { dense: x, sparse } })).ctr!;
    for (let b = 0; b < B; b++) expect(got[b], `sample ${b}`).toBeCloseTo(dlrmForward(Array.from(x.subarray(b * 5, b * 5 + 5)), bags[b]!), 5);

    // The same weights exported to ONNX (prequantized tables dequantized) predict the same in ONNX Runtime.
    expect((await rmc("export-onnx", join(dir, "dlrm.rmdl"), "--weights", join(dir, "dlrm.safetensors"), "-o", join(dir, "dlrm.onnx"))).code).toBe(0);
    const session = await ort.InferenceSession.create(readFileSync(join(dir, "dlrm.onnx")));
    const offsets = BigInt64Array.from([0, ...sparse.lengths.map((_, i) => sparse.lengths.slice(0, i + 1).reduce((a, n) => a + n, 0))].map(BigInt));
    const feeds = {
      dense: new ort.Tensor("float32", x, [B, 5]),
      sparse_ids: new ort.Tensor(
        "int64",
        BigInt64Array.from(sparse.values, (v) => BigInt(v)),
        [sparse.values.length],
      ),
      sparse_offsets: new ort.Tensor("int64", offsets, [offsets.length]),
    };
    const onnx = (await session.run(feeds)).ctr!.data as Float32Array;
    await session.release();
    for (let b = 0; b < B; b++) expect(onnx[b], `ONNX sample ${b}`).toBeCloseTo(got[b]!, 5);
  });
});
