// The safetensors reader: files built byte by byte in the test, lazy row reads
// from disk, and one crafted file per strictness rule.

import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openSafetensors, readSafetensorsBytes } from "../../src/weights/safetensors.js";
import { buildSafetensors, expectRmcError, f32Bytes, removeTempDirs, tempDir } from "./helpers.js";

afterAll(removeTempDirs);

const entry = (dtype: string, shape: number[], begin: number, end: number): string =>
  `{"dtype":"${dtype}","shape":[${shape.join(",")}],"data_offsets":[${begin},${end}]}`;

describe("reading", () => {
  // Two tensors stored in the reverse of header order, plus metadata, header padded with spaces.
  const header = `{"__metadata__":{"format":"pt","note":"hand made"},"w":${entry("F32", [2, 3], 8, 32)},"h":${entry("F16", [2, 2], 0, 8)}}      `;
  const data = [...[0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00], ...f32Bytes([1, 2, 3, -4, 0.5, 6])];
  const bytes = buildSafetensors(header, data);

  it("parses header, metadata and tensors from memory", () => {
    const f = readSafetensorsBytes(bytes, "hand.safetensors");
    expect(f.metadata).toEqual({ format: "pt", note: "hand made" });
    expect([...f.tensors.keys()]).toEqual(["w", "h"]);
    expect(f.tensors.get("w")).toEqual({ dtype: "F32", shape: [2, 3], begin: 8, end: 32 });
    const w = f.tensor("w");
    expect(w.dtype).toBe("f32");
    expect(w.shape).toEqual([2, 3]);
    expect([...w.toFloat32()]).toEqual([1, 2, 3, -4, 0.5, 6]);
    const h = f.tensor("h");
    expect(h.dtype).toBe("f16");
    expect([...h.toFloat32()]).toEqual([1, -2, 65504, 2 ** -24]);
    const row = new Float32Array(5);
    w.readRow(1, row, 2);
    expect([...row]).toEqual([0, 0, -4, 0.5, 6]);
    expect([...h.rawBytes()]).toEqual(data.slice(0, 8));
  });

  it("reads the same from a file; a small tensor is decoded whole on first use and then served from memory", () => {
    const dir = tempDir();
    const p = path.join(dir, "hand.safetensors");
    fs.writeFileSync(p, bytes);
    const f = openSafetensors(p);
    expect([...f.tensor("w").toFloat32()]).toEqual([1, 2, 3, -4, 0.5, 6]);
    // Nothing of `h` is read at open: overwriting row 1 on disk before the first read is seen...
    const overwrite = (bytes: number[]) => {
      const fd = fs.openSync(p, "r+");
      fs.writeSync(fd, new Uint8Array(bytes), 0, 4, 8 + header.length + 4);
      fs.closeSync(fd);
    };
    overwrite([0x00, 0x40, 0x00, 0x44]);
    const row = new Float32Array(2);
    f.tensor("h").readRow(1, row);
    expect([...row]).toEqual([2, 4]);
    // ...but the first row read decoded the whole (small) tensor, so later lookups cost no system call.
    overwrite([0x00, 0x3c, 0x00, 0x3c]);
    f.tensor("h").readRow(1, row);
    expect([...row]).toEqual([2, 4]);
    f.close();
    const g = openSafetensors(p);
    g.close();
    expectRmcError(() => g.tensor("h").readRow(0, row), "after the file was closed");
    g.close(); // idempotent
  });

  it("reads one row of a big table without loading it", () => {
    const dir = tempDir();
    const p = path.join(dir, "big.safetensors");
    const rows = 1 << 20;
    const dim = 64; // 256 MiB of F32, written sparse: only the header and one row hold bytes
    const head = `{"t":${entry("F32", [rows, dim], 0, rows * dim * 4)}}`.padEnd(48, " ");
    const fd = fs.openSync(p, "w");
    fs.writeSync(fd, buildSafetensors(head));
    fs.ftruncateSync(fd, 8 + head.length + rows * dim * 4);
    fs.writeSync(fd, new Uint8Array(f32Bytes([7.5, -1])), 0, 8, 8 + head.length + (rows - 3) * dim * 4);
    fs.closeSync(fd);
    const f = openSafetensors(p);
    const row = new Float32Array(dim);
    f.tensor("t").readRow(rows - 3, row);
    expect(row[0]).toBe(7.5);
    expect(row[1]).toBe(-1);
    expect(row[2]).toBe(0);
    expectRmcError(() => f.tensor("t").readRow(rows, row), "row 1048576 is out of range", "`t`");
    f.close();
  });

  it("converts BF16, F64 and integer tensors", () => {
    const head = `{"b":${entry("BF16", [2], 0, 4)},"d":${entry("F64", [1], 4, 12)},"i":${entry("I64", [1], 12, 20)},"u":${entry("U8", [2], 20, 22)}}`;
    const f64 = new Uint8Array(new Float64Array([0.1]).buffer);
    const data = [0x80, 0x3f, 0x49, 0x40, ...f64, 0x05, 0, 0, 0, 0, 0, 0, 0, 200, 3];
    const f = readSafetensorsBytes(buildSafetensors(head, data));
    expect([...f.tensor("b").toFloat32()]).toEqual([1, 3.140625]);
    expect(f.tensor("d").toFloat32()[0]).toBe(Math.fround(0.1));
    expect(f.tensor("i").dtype).toBe("i64");
    expect([...f.tensor("i").toFloat32()]).toEqual([5]);
    expect([...f.tensor("u").toFloat32()]).toEqual([200, 3]);
  });

  it("accepts an empty file and empty tensors", () => {
    expect(readSafetensorsBytes(buildSafetensors("{}")).tensors.size).toBe(0);
    const f = readSafetensorsBytes(buildSafetensors(`{"e":${entry("F32", [0, 4], 0, 0)},"x":${entry("F32", [1], 0, 4)}}`, f32Bytes([3])));
    expect(f.tensor("e").toFloat32().length).toBe(0);
    expect([...f.tensor("x").toFloat32()]).toEqual([3]);
  });

  it("names unknown tensors with a suggestion", () => {
    const f = readSafetensorsBytes(bytes, "hand.safetensors");
    expectRmcError(() => f.tensor("ww"), "hand.safetensors", "no tensor `ww`", "did you mean `w`?");
  });

  it("refuses a NaN or infinite weight where it is read, naming the tensor, element and row", () => {
    // F32 NaN in row 1 of `w`; F16 +Inf (0x7c00) as element 3 of `h`.
    const bad = buildSafetensors(header, [...[0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x00, 0x7c], ...f32Bytes([1, 2, 3, -4, NaN, 6])]);
    const f = readSafetensorsBytes(bad, "bad.safetensors");
    const e = expectRmcError(() => f.tensor("w").toFloat32(), "bad.safetensors", "tensor `w` element 4, row 1 is NaN", "must be finite");
    expect(e.diagnostics[0]!.code).toBe("E1319");
    expectRmcError(() => f.tensor("h").readRow(1, new Float32Array(2)), "tensor `h` element 3, row 1 is Infinity");
  });
});

describe("strictness", () => {
  const bad = (header: string, data: ArrayLike<number> = [], ...fragments: string[]) => {
    const err = expectRmcError(() => readSafetensorsBytes(buildSafetensors(header, data), "bad.safetensors"), "bad.safetensors", ...fragments);
    expect(err.diagnostics[0]!.code).toBe("E1301");
  };

  it("rejects files too short for the header length", () => {
    expectRmcError(() => readSafetensorsBytes(new Uint8Array(5), "short.st"), "short.st", "5 bytes, shorter than the 8-byte header length");
  });

  it("rejects a header length larger than the file, or absurd", () => {
    expectRmcError(
      () => readSafetensorsBytes(buildSafetensors("{}", [], 100n), "x.st"),
      "header length 100 is larger than the rest of the file (2 bytes)",
    );
    expectRmcError(() => readSafetensorsBytes(buildSafetensors("{}", [], 1n << 40n), "x.st"), "absurd");
  });

  it("rejects a file that is truncated after opening", () => {
    const dir = tempDir();
    const p = path.join(dir, "cut.safetensors");
    fs.writeFileSync(p, buildSafetensors(`{"a":${entry("F32", [2], 0, 8)}}`, f32Bytes([1, 2])));
    expectRmcError(() => openSafetensors(path.join(dir, "nope.safetensors")), "nope.safetensors", "cannot open", "ENOENT");
    const f = openSafetensors(p);
    fs.truncateSync(p, fs.statSync(p).size - 4);
    expectRmcError(() => f.tensor("a").toFloat32(), "cut.safetensors", "file ended early");
    f.close();
  });

  it("rejects headers that are not a JSON object", () => {
    bad("{not json", [], "header is not valid JSON");
    bad(`[1, 2]`, [], "header must be a JSON object, got an array");
    bad("null", [], "got null");
    expectRmcError(
      () =>
        readSafetensorsBytes(
          buildSafetensors("{}").map((b, i) => (i === 8 ? 0xff : b)),
          "u.st",
        ),
      "not valid UTF-8",
    );
  });

  it("rejects malformed entries", () => {
    bad(`{"a": 3}`, [], "tensor `a`", "entry must be an object");
    bad(`{"a": {"dtype": "F32", "shape": [1]}}`, [], "tensor `a`", "missing data_offsets");
    bad(`{"a": {"shape": [1], "data_offsets": [0, 4]}}`, f32Bytes([1]), "missing dtype");
    bad(`{"a":${entry("F8_E4M3", [1], 0, 1)}}`, [0], "tensor `a`", 'unknown dtype "F8_E4M3"', "F32, F16, BF16, F64, I8, U8, I32, I64");
    bad(`{"a":${entry("F32", [2, -1], 0, 0)}}`, [], "tensor `a`", "shape must be a list of non-negative integers, got [2,-1]");
    bad(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, f32Bytes([1]), "shape must be a list of non-negative integers");
    bad(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}`, f32Bytes([1]), "data_offsets must be two non-negative integers");
    bad(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,"4"]}}`, f32Bytes([1]), "data_offsets must be two non-negative integers");
    bad(`{"a":${entry("F32", [0], 4, 0)}}`, f32Bytes([1]), "run backwards");
  });

  it("rejects a byte count that does not match the shape", () => {
    bad(
      `{"emb.3.weight":${entry("F32", [10, 16], 0, 600)}}`,
      new Uint8Array(600),
      "tensor `emb.3.weight`: shape [10, 16] of F32 needs 640 bytes, data_offsets give 600",
    );
  });

  it("rejects offsets past the data buffer", () => {
    bad(`{"a":${entry("F32", [4], 0, 16)}}`, f32Bytes([1, 2, 3]), "tensor `a`", "truncated file", "holds 12 bytes but the header needs 16");
  });

  it("rejects overlaps, holes and trailing bytes, naming the tensors", () => {
    bad(`{"a":${entry("F32", [2], 0, 8)},"b":${entry("F32", [2], 4, 12)}}`, new Uint8Array(12), "tensors `a` and `b` overlap");
    bad(
      `{"a":${entry("F32", [1], 0, 4)},"b":${entry("F32", [1], 8, 12)}}`,
      new Uint8Array(12),
      "hole in the data buffer: bytes 4..8 between `a` and `b`",
    );
    bad(`{"b":${entry("F32", [1], 4, 8)}}`, new Uint8Array(8), "bytes 0..4 before `b`");
    bad(`{"a":${entry("F32", [1], 0, 4)}}`, new Uint8Array(6), "2 bytes after the last tensor (`a`) belong to no tensor");
  });

  it("rejects metadata that is not string to string", () => {
    bad(`{"__metadata__":{"epoch":3}}`, [], "`__metadata__` must map strings to strings, but `epoch` is 3");
    bad(`{"__metadata__":[]}`, [], "`__metadata__` must be an object of strings");
  });

  it("rejects duplicate keys", () => {
    bad(`{"a":${entry("F32", [1], 0, 4)},"a":${entry("F32", [1], 4, 8)}}`, new Uint8Array(8), "tensor `a` appears twice in the header");
    bad(
      `{"a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}`,
      new Uint8Array(4),
      "key `dtype` appears twice in the header entry `a`",
    );
    // Escapes in names are decoded before comparing; strings that merely contain braces are not structure.
    bad(`{"x{":${entry("F32", [1], 0, 4)},"x\\u007b":${entry("F32", [1], 4, 8)}}`, new Uint8Array(8), "tensor `x{` appears twice");
  });

  it("reports every bad entry at once", () => {
    const err = expectRmcError(() => readSafetensorsBytes(buildSafetensors(`{"a":1,"b":2}`), "two.st"));
    expect(err.diagnostics.map((d) => d.message)).toEqual([expect.stringContaining("tensor `a`"), expect.stringContaining("tensor `b`")]);
  });
});
