// Tables quantized by PyTorch: U8 tensors laid out as embedding_bag_byte_prepack
// and embedding_bag_4bit_prepack (and 2-bit) write them, built here byte by
// byte from the spec (test/quant/reference.ts) in safetensors files built by
// hand, bound to small graphs: dequantized rows, raw bytes, lazy reads, errors.

import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Diagnostic } from "../../src/diagnostics/index.js";
import type { Graph } from "../../src/ir/types.js";
import { bindWeights } from "../../src/weights/bind.js";
import { PrequantizedTable, isPrequantized } from "../../src/weights/prequantized.js";
import { openSafetensors, readSafetensorsBytes } from "../../src/weights/safetensors.js";
import { Rng } from "../../src/util/rng.js";
import { refDequantize, refQuantize } from "../quant/reference.js";
import { buildSafetensors, decl, expectRmcError, f32Bytes, removeTempDirs, tempDir, tinyDlrm } from "./helpers.js";

afterAll(removeTempDirs);

interface RawEntry {
  name: string;
  dtype: "F32" | "U8" | "I32";
  shape: number[];
  data: number[];
}

/** A safetensors file from raw entries: the header JSON written here, data back to back. */
function fileBytes(entries: RawEntry[]): Uint8Array {
  const header: Record<string, unknown> = {};
  let at = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [at, at + e.data.length] };
    at += e.data.length;
  }
  return buildSafetensors(
    JSON.stringify(header),
    entries.flatMap((e) => e.data),
  );
}

/** A table's f32 values and its rows as a PyTorch prepack op writes them. */
function prepacked(seed: number, rows: number, dim: number, bits: 8 | 4 | 2): { values: Float32Array[]; bytes: Uint8Array[] } {
  const rng = new Rng(seed);
  const values = Array.from({ length: rows }, () => Float32Array.from({ length: dim }, () => rng.normal() * 0.05));
  return { values, bytes: values.map((v) => refQuantize(bits, v)) };
}

const u8 = (name: string, rows: Uint8Array[]): RawEntry => ({
  name,
  dtype: "U8",
  shape: [rows.length, rows[0]!.length],
  data: rows.flatMap((r) => [...r]),
});
const f32Entry = (name: string, shape: number[]): RawEntry => ({
  name,
  dtype: "F32",
  shape,
  data: f32Bytes(new Array(shape.reduce((a, b) => a * b, 1)).fill(0.5)),
});

/** The tiny DLRM's dense weights as F32 entries (values do not matter here). */
const denseEntries = (g: Graph): RawEntry[] => g.weights.filter((w) => w.role !== "table").map((w) => f32Entry(w.name, [...w.shape]));

const bind = (g: Graph, entries: RawEntry[]) => bindWeights(g, readSafetensorsBytes(fileBytes(entries), "q.safetensors"));
const codes = (ds: Diagnostic[]) => ds.map((d) => d.code);

/** Checks every row of a bound table against the reference: dequantized values and raw bytes. */
function expectRows(t: PrequantizedTable, bits: 8 | 4 | 2, bytes: Uint8Array[], dim: number): void {
  const row = new Float32Array(dim + 2);
  const raw = new Uint8Array(t.rowBytes + 1);
  bytes.forEach((b, i) => {
    t.readRow(i, row, 2);
    expect([...row.subarray(2)], `row ${i}`).toEqual(refDequantize(bits, b, dim));
    t.readRowBytes(i, raw, 1);
    expect([...raw.subarray(1)], `raw row ${i}`).toEqual([...b]);
  });
  expect([...t.toFloat32()]).toEqual(bytes.flatMap((b) => refDequantize(bits, b, dim)));
  expect([...t.rawBytes()]).toEqual(bytes.flatMap((b) => [...b]));
}

describe("binding prequantized tables", () => {
  it("binds an 8-bit table under its PyTorch name and a 4-bit one under its DSL name", () => {
    const g = tinyDlrm();
    const t0 = prepacked(1, 10, 4, 8); // U8 [10, 12]
    const t1 = prepacked(2, 7, 4, 4); // U8 [7, 6]
    const { store, diagnostics, prequantized } = bind(g, [...denseEntries(g), u8("emb_l.0.weight", t0.bytes), u8("emb.1.weight", t1.bytes)]);
    expect(diagnostics).toEqual([]);
    expect(Object.fromEntries(prequantized)).toEqual({ "emb.0.weight": "int8", "emb.1.weight": "int4" });
    const e0 = store.get("emb.0.weight")!;
    const e1 = store.get("emb.1.weight")!;
    if (!isPrequantized(e0) || !isPrequantized(e1)) throw new Error("expected prequantized tables");
    expect([e0.shape, e0.dtype, e0.format, e0.rowBytes]).toEqual([[10, 4], "u8", "int8", 12]);
    expect([e1.shape, e1.dtype, e1.format, e1.rowBytes]).toEqual([[7, 4], "u8", "int4", 6]);
    expectRows(e0, 8, t0.bytes, 4);
    expectRows(e1, 4, t1.bytes, 4);
    // Dequantized rows are within half a step of the values PyTorch quantized.
    const row = new Float32Array(4);
    e0.readRow(3, row);
    const step = new DataView(t0.bytes[3]!.buffer).getFloat32(4, true);
    row.forEach((v, k) => expect(Math.abs(v - t0.values[3]![k]!)).toBeLessThanOrEqual(step / 2 + 1e-7));
    expect(isPrequantized(store.get("top.0.weight")!)).toBe(false);
  });

  it("binds 2-bit and odd-dim tables from a file on disk, read row by row", () => {
    const g: Graph = {
      name: "q",
      inputs: [],
      nodes: [],
      outputs: [],
      weights: [decl("a", "table", [5, 7]), decl("b", "table", [3, 7]), decl("c", "table", [4, 3])],
    };
    const a = prepacked(3, 5, 7, 2); // ceil(7/4) + 4 = 6
    const b = prepacked(4, 3, 7, 4); // ceil(7/2) + 4 = 8
    const c = prepacked(5, 4, 3, 8); // 3 + 8 = 11
    const p = path.join(tempDir(), "q.safetensors");
    fs.writeFileSync(p, fileBytes([u8("emb_l.0.weight", a.bytes), u8("b", b.bytes), u8("c", c.bytes)]));
    const file = openSafetensors(p);
    const { store, diagnostics, prequantized } = bindWeights(g, file);
    expect(diagnostics).toEqual([]);
    expect(Object.fromEntries(prequantized)).toEqual({ a: "int2", b: "int4", c: "int8" });
    expectRows(store.get("a") as PrequantizedTable, 2, a.bytes, 7);
    expectRows(store.get("b") as PrequantizedTable, 4, b.bytes, 7);
    expectRows(store.get("c") as PrequantizedTable, 8, c.bytes, 3);
    file.close();
  });

  it("reads PyTorch's documented byte_prepack example", () => {
    // From the comment above qembeddingbag_byte_prepack_out in PyTorch: rows [10, 20] and [30, 40]
    // pack to values [0, 255], scale bytes [161, 160, 32, 61] (10/255) and biases 10 and 30.
    const rows = [
      [0, 255, 161, 160, 32, 61, 0, 0, 32, 65],
      [0, 255, 161, 160, 32, 61, 0, 0, 240, 65],
    ].map((r) => Uint8Array.from(r));
    expect(rows.map((_, i) => [...refQuantize(8, Float32Array.from([10 + 20 * i, 20 + 20 * i]))])).toEqual(rows.map((r) => [...r]));
    const g: Graph = { name: "q", inputs: [], nodes: [], outputs: [], weights: [decl("t", "table", [2, 2])] };
    const { store } = bind(g, [u8("t", rows)]);
    const s = Math.fround(10 / 255);
    expect([...store.get("t")!.toFloat32()]).toEqual([10, Math.fround(Math.fround(255 * s) + 10), 30, Math.fround(Math.fround(255 * s) + 30)]);
  });
});

describe("lazy reads", () => {
  it("a table too big to cache costs one positional read of one row per readRow", () => {
    const rows = 2_000_000; // 2M rows × 12 bytes = 24 MB, never materialised
    const row = refQuantize(8, Float32Array.from([0.5, -1, 2, 0.25]));
    const reads: [number, number][] = [];
    const reader = {
      byteLength: rows * 12,
      read(offset: number, out: Uint8Array) {
        reads.push([offset, out.length]);
        out.set(row);
        out[0] = (offset / 12) % 256; // a per-row byte, so each row reads back differently
      },
    };
    const t = new PrequantizedTable("big", "int8", rows, 4, reader);
    const out = new Float32Array(4);
    t.readRow(1_999_999, out);
    const want = Uint8Array.from(row);
    want[0] = 1_999_999 % 256;
    expect([...out]).toEqual(refDequantize(8, want, 4));
    expect(reads).toEqual([[1_999_999 * 12, 12]]);
    const raw = new Uint8Array(12);
    t.readRowBytes(256 + 7, raw);
    expect(raw[0]).toBe(7);
    expect(reads).toHaveLength(2);
  });

  it("a safetensors tensor's readBytes refuses bytes outside the tensor", () => {
    const t = readSafetensorsBytes(fileBytes([u8("t", [Uint8Array.from([1, 2, 3]), Uint8Array.from([4, 5, 6])])])).tensor("t");
    const out = new Uint8Array(2);
    t.readBytes(3, out);
    expect([...out]).toEqual([4, 5]);
    expect(() => t.readBytes(5, out)).toThrow(/bytes 5..7 are outside tensor `t` \(6 bytes\)/);
  });

  it("rejects rows out of range and byte counts that do not match the shape", () => {
    const t = PrequantizedTable.fromBytes("t", "int4", 2, 4, new Uint8Array(12));
    expectRmcError(() => t.readRow(2, new Float32Array(4)), "row 2 is out of range for prequantized table `t` [2, 4]");
    expectRmcError(() => t.readRowBytes(-1, new Uint8Array(6)), "row -1 is out of range");
    expect(() => PrequantizedTable.fromBytes("t", "int4", 3, 4, new Uint8Array(12))).toThrow(/3 rows of 6 bytes/);
  });
});

describe("binding errors", () => {
  const g = tinyDlrm();
  const ok = (): RawEntry[] => [...denseEntries(g), u8("emb_l.1.weight", prepacked(6, 7, 4, 8).bytes)];

  it("a U8 table of any other width names the tensor and the accepted widths", () => {
    const bad: RawEntry = { name: "emb_l.0.weight", dtype: "U8", shape: [10, 7], data: new Array(70).fill(0) };
    const { diagnostics, store, prequantized } = bind(g, [...ok(), bad]);
    expect(codes(diagnostics)).toEqual(["E1317"]);
    const m = diagnostics[0]!.message;
    expect(m).toContain("tensor `emb_l.0.weight` (→ `emb.0.weight`) is U8 [10, 7]");
    expect(m).toContain("12 bytes (8-bit: 4 uint8 values, f32 scale, f32 bias; embedding_bag_byte_prepack)");
    expect(m).toContain("6 bytes (4-bit: 2 bytes of packed values, fp16 scale, fp16 bias; embedding_bag_4bit_prepack)");
    expect(m).toContain("or 5 bytes (2-bit: 1 byte of packed values, fp16 scale, fp16 bias");
    expect(diagnostics[0]!.span?.line).toBe(4);
    expect(store.has("emb.0.weight")).toBe(false);
    expect([...prequantized.keys()]).toEqual(["emb.1.weight"]);
  });

  it("a U8 table with the wrong row count or rank is a shape error", () => {
    const rows = prepacked(7, 11, 4, 8).bytes;
    const { diagnostics } = bind(g, [...ok(), u8("emb_l.0.weight", rows)]);
    expect(codes(diagnostics)).toEqual(["E1311"]);
    expect(diagnostics[0]!.message).toContain("is U8 [11, 12], the model declares [10, 4]; a table prequantized by PyTorch is U8 [10, width]");
    const flat: RawEntry = { name: "emb_l.0.weight", dtype: "U8", shape: [120], data: new Array(120).fill(0) };
    expect(codes(bind(g, [...ok(), flat]).diagnostics)).toEqual(["E1311"]);
  });

  it("U8 is accepted for tables only; other dtypes list U8 for tables", () => {
    const biasU8: RawEntry = { name: "top.0.bias", dtype: "U8", shape: [6], data: new Array(6).fill(0) };
    const entries = [
      ...ok().filter((e) => e.name !== "top.0.bias"),
      biasU8,
      { name: "emb_l.0.weight", dtype: "I32", shape: [10, 4], data: new Array(160).fill(0) } as RawEntry,
    ];
    const { diagnostics } = bind(g, entries);
    expect(codes(diagnostics)).toEqual(["E1312", "E1312"]);
    expect(diagnostics[0]!.message).toContain(
      "`emb_l.0.weight` (→ `emb.0.weight`) is I32, the model declares f32 (accepted: F32, F16, BF16, or U8 rows prequantized by PyTorch)",
    );
    expect(diagnostics[1]!.message).toContain("tensor `top.0.bias` is U8, the model declares f32 (accepted: F32, F16, BF16)");
  });

  it("an F32 table binds as before and is not reported as prequantized", () => {
    const { diagnostics, prequantized } = bind(g, [...ok(), f32Entry("emb_l.0.weight", [10, 4])]);
    expect(diagnostics).toEqual([]);
    expect([...prequantized.keys()]).toEqual(["emb.1.weight"]);
  });
});
