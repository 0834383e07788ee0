// Test helpers for the weights tests: safetensors files built byte by byte
// (independently of the writer under test), temp directories, and a small
// hand-built DLRM graph.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "vitest";
import { RmcError } from "../../src/diagnostics/index.js";
import { type Graph, type Node, type WeightDecl, syntheticSpan, tensor } from "../../src/ir/types.js";

/** A safetensors file: 8-byte little-endian header length, the header text as given, then the data. */
export function buildSafetensors(header: string, data: ArrayLike<number> = [], headerLength?: bigint): Uint8Array {
  const text = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(text.length), true);
  out.set(text, 8);
  out.set(Array.from(data), 8 + text.length);
  return out;
}

/** Little-endian f32 bytes of the values, via DataView. */
export function f32Bytes(values: number[]): number[] {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return [...new Uint8Array(view.buffer)];
}

const made: string[] = [];

/** A fresh temp directory for one test; removed by removeTempDirs. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rmc-weights-"));
  made.push(dir);
  return dir;
}

/** Removes every directory tempDir made (call from afterAll). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Asserts `fn` throws an RmcError whose message contains every fragment; returns it. */
export function expectRmcError(fn: () => unknown, ...fragments: string[]): RmcError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(RmcError);
  const err = caught as RmcError;
  for (const f of fragments) expect(err.message).toContain(f);
  return err;
}

const span = (line: number) => ({ ...syntheticSpan("tiny.rmdl"), line, col: 1, endLine: line, endCol: 2 });

export const decl = (name: string, role: WeightDecl["role"], shape: number[], line = 1): WeightDecl => ({
  name,
  role,
  dtype: "f32",
  shape,
  attrs: {},
  span: span(line),
});

const node = (id: string, op: string, inputs: string[], attrs: Node["attrs"], shape: number[]): Node => ({
  id,
  op,
  inputs,
  attrs,
  type: tensor(["B", ...shape]),
  span: span(1),
});

/**
 * A tiny DLRM: bottom mlp 4→8→4 on the dense input, two tables of dim 4
 * (10 and 7 rows), dot interaction (width 4 + 3 = 7), top mlp 7→6→1 and a sigmoid.
 */
export function tinyDlrm(outputValue = "%5"): Graph {
  const bottom = ["bottom.0.weight", "bottom.0.bias", "bottom.1.weight", "bottom.1.bias"];
  const top = ["top.0.weight", "top.0.bias", "top.1.weight", "top.1.bias"];
  return {
    name: "tiny",
    inputs: [
      { name: "dense", type: tensor(["B", 4]), span: span(2) },
      { name: "sparse", type: { kind: "bags", count: 2, weighted: false }, span: span(3) },
    ],
    weights: [
      decl("bottom.0.weight", "weight", [8, 4], 6),
      decl("bottom.0.bias", "bias", [8], 6),
      decl("bottom.1.weight", "weight", [4, 8], 6),
      decl("bottom.1.bias", "bias", [4], 6),
      decl("emb.0.weight", "table", [10, 4], 4),
      decl("emb.1.weight", "table", [7, 4], 4),
      decl("top.0.weight", "weight", [6, 7], 9),
      decl("top.0.bias", "bias", [6], 9),
      decl("top.1.weight", "weight", [1, 6], 9),
      decl("top.1.bias", "bias", [1], 9),
    ],
    nodes: [
      node("1", "mlp", ["%dense", ...bottom.map((n) => `@${n}`)], { sizes: [8, 4], act: "relu", final: "relu", bias: true }, [4]),
      node("2", "embedding_bag", ["%sparse", "@emb.0.weight", "@emb.1.weight"], { pool: "sum", bags: [0, 1], stacked: true }, [2, 4]),
      node("3", "interact", ["%1", "%2"], { op: "dot", self: false }, [7]),
      node("4", "mlp", ["%3", ...top.map((n) => `@${n}`)], { sizes: [6, 1], act: "relu", final: "none", bias: true }, [1]),
      node("5", "sigmoid", ["%4"], {}, [1]),
    ],
    outputs: [{ name: "ctr", value: outputValue, span: span(10) }],
  };
}
