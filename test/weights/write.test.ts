// The safetensors writer: exact bytes for a hand-computed file, round trips
// through the reader, determinism, streaming, and the producer checks.

import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { encodeFromF32 } from "../../src/weights/dtypes.js";
import { openSafetensors, readSafetensorsBytes, serializeSafetensors, writeSafetensors, type TensorWriter } from "../../src/weights/safetensors.js";
import { buildSafetensors, expectRmcError, f32Bytes, removeTempDirs, tempDir } from "./helpers.js";

afterAll(removeTempDirs);

const f32Entry = (name: string, shape: number[], values: number[]): TensorWriter => ({
  name,
  dtype: "F32",
  shape,
  write: (sink) => sink(new Uint8Array(f32Bytes(values))),
});

describe("writeSafetensors", () => {
  it("writes exactly the bytes of a hand-computed file", () => {
    const dir = tempDir();
    const p = path.join(dir, "out.safetensors");
    writeSafetensors(p, [f32Entry("b", [2], [1, -2]), f32Entry("a", [1, 1], [0.5])], { k: "v" });
    // Header in the given order (b before a), padded with spaces to a multiple of 8 bytes.
    const json = `{"__metadata__":{"k":"v"},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}}`;
    const padded = json + " ".repeat((8 - (json.length % 8)) % 8);
    expect(padded.length % 8).toBe(0);
    const want = buildSafetensors(padded, [...f32Bytes([1, -2]), ...f32Bytes([0.5])]);
    expect(new Uint8Array(fs.readFileSync(p))).toEqual(want);
    expect(fs.readdirSync(dir)).toEqual(["out.safetensors"]); // no temp file left behind
  });

  it("round-trips F32, F16 and BF16 tensors streamed row by row", () => {
    const dir = tempDir();
    const p = path.join(dir, "rt.safetensors");
    const rows = 50;
    const dim = 3;
    const rowValues = (r: number) => new Float32Array([r, -r / 4, r * 1024]);
    const streamed = (dtype: "F32" | "F16" | "BF16"): TensorWriter => ({
      name: `t.${dtype}`,
      dtype,
      shape: [rows, dim],
      write: (sink) => {
        for (let r = 0; r < rows; r++) sink(encodeFromF32(dtype, rowValues(r)));
      },
    });
    writeSafetensors(p, [streamed("F32"), streamed("F16"), streamed("BF16")], { "rmc.seed": "3" });
    const f = openSafetensors(p);
    expect(f.metadata).toEqual({ "rmc.seed": "3" });
    for (const dtype of ["F32", "F16", "BF16"]) {
      const t = f.tensor(`t.${dtype}`);
      const out = new Float32Array(dim);
      for (const r of [0, 7, 49]) {
        t.readRow(r, out);
        // All these values are exact in every format (small integers times powers of two).
        expect([...out], `${dtype} row ${r}`).toEqual([...rowValues(r)]);
      }
    }
    f.close();
  });

  it("is deterministic and matches serializeSafetensors", () => {
    const dir = tempDir();
    const entries = () => [f32Entry("10", [1], [3]), f32Entry("2", [2], [4, 5])];
    writeSafetensors(path.join(dir, "one"), entries(), { z: "1", a: "2" });
    writeSafetensors(path.join(dir, "two"), entries(), { z: "1", a: "2" });
    const one = new Uint8Array(fs.readFileSync(path.join(dir, "one")));
    expect(new Uint8Array(fs.readFileSync(path.join(dir, "two")))).toEqual(one);
    expect(serializeSafetensors(entries(), { z: "1", a: "2" })).toEqual(one);
    // Integer-like names keep the given order (a JS object would put "2" first).
    expect([...readSafetensorsBytes(one).tensors.keys()]).toEqual(["10", "2"]);
  });

  it("streams large outputs through small producer buffers that are reused", () => {
    const dir = tempDir();
    const p = path.join(dir, "big.safetensors");
    const rows = 300_000; // 4.8 MB: more than the writer's gather buffer
    const buf = new Float32Array(4);
    writeSafetensors(p, [
      {
        name: "t",
        dtype: "F32",
        shape: [rows, 4],
        write: (sink) => {
          for (let r = 0; r < rows; r++) {
            buf.fill(r);
            sink(new Uint8Array(buf.buffer));
          }
        },
      },
    ]);
    const t = openSafetensors(p).tensor("t");
    const out = new Float32Array(4);
    for (const r of [0, 1, 123_457, rows - 1]) {
      t.readRow(r, out);
      expect([...out]).toEqual([r, r, r, r]);
    }
  });

  it("checks that every producer emits exactly its declared bytes, and leaves no file behind", () => {
    const dir = tempDir();
    const p = path.join(dir, "bad.safetensors");
    expectRmcError(
      () => writeSafetensors(p, [f32Entry("ok", [1], [1]), f32Entry("short", [3], [1, 2])]),
      "tensor `short`",
      "emitted 8 bytes, F32 [3] needs 12",
    );
    expectRmcError(() => writeSafetensors(p, [f32Entry("long", [1], [1, 2])]), "tensor `long`", "more than the 4 bytes");
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("removes the temp file when a producer throws, and keeps an existing target intact", () => {
    const dir = tempDir();
    const p = path.join(dir, "w.safetensors");
    fs.writeFileSync(p, "previous");
    const boom = new Error("generator bug");
    expect(() =>
      writeSafetensors(p, [
        {
          name: "x",
          dtype: "F32",
          shape: [1],
          write: () => {
            throw boom;
          },
        },
      ]),
    ).toThrow(boom);
    expect(fs.readdirSync(dir)).toEqual(["w.safetensors"]);
    expect(fs.readFileSync(p, "utf8")).toBe("previous");
  });

  it("rejects bad entries and metadata", () => {
    const p = path.join(tempDir(), "x");
    expectRmcError(() => writeSafetensors(p, [f32Entry("a", [1], [1]), f32Entry("a", [1], [1])]), "tensor `a` is listed twice");
    expectRmcError(() => writeSafetensors(p, [f32Entry("__metadata__", [1], [1])]), "reserved");
    expectRmcError(() => writeSafetensors(p, [f32Entry("a", [-1], [])]), "tensor `a`", "non-negative integers");
    expectRmcError(() => writeSafetensors(p, [{ ...f32Entry("a", [1], [1]), dtype: "F8" as "F32" }]), "unknown dtype");
    expectRmcError(() => writeSafetensors(p, [], { n: 3 as unknown as string }), "metadata `n` must be a string");
    fs.writeFileSync(p, "a file, not a folder");
    expectRmcError(() => writeSafetensors(path.join(p, "sub", "w.safetensors"), []), "cannot write weights file", "ENOTDIR");
    const nested = path.join(tempDir(), "new", "dir", "w.safetensors");
    writeSafetensors(nested, []);
    expect(readSafetensorsBytes(new Uint8Array(fs.readFileSync(nested))).tensors.size).toBe(0);
  });
});
