// The stated limits (src/ir/limits.ts, docs/language.md#limits) against the
// crafted inputs that used to overflow the stack, allocate until killed or
// hang: each is generated here and must end in a located RmcError (its code,
// and line and column where the input has them) within a second and without
// a large allocation; models just inside the limits still work.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RmcError, type Diagnostic } from "../../src/diagnostics/index.js";
import { loadModel } from "../../src/cli/model.js";
import { LIMITS } from "../../src/ir/limits.js";
import { parseGraph } from "../../src/ir/parse.js";
import { printGraph } from "../../src/ir/print.js";
import { verifyGraph } from "../../src/ir/verify.js";
import { readSafetensorsBytes } from "../../src/weights/safetensors.js";
import { loadPlan } from "../../src/precision/plan.js";
import { parseManifest } from "../../src/runtime/check.js";
import { rmc, tempDir } from "../cli/helpers.js";

const dir = tempDir();
mkdirSync(dir, { recursive: true });
const io = { out: () => {}, err: () => {} };
const MB = 2 ** 20;

/** Runs `f`, which must throw an RmcError, within a second and 200 MB; returns its diagnostics. */
function refused(f: () => unknown): Diagnostic[] {
  const rss = process.memoryUsage().rss;
  const t0 = performance.now();
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  const ms = performance.now() - t0;
  expect(caught, "expected an RmcError").toBeInstanceOf(RmcError);
  expect(ms, "milliseconds").toBeLessThan(1000);
  expect((process.memoryUsage().rss - rss) / MB, "MB of rss grown").toBeLessThan(200);
  return (caught as RmcError).diagnostics;
}

/** A model file from `body` (statements after one dense input), loaded as the CLI loads it. */
function model(name: string, body: string): () => unknown {
  const path = join(dir, `${name}.rmdl`);
  writeFileSync(path, `model m {\n  input dense: f32[13]\n${body}\n}\n`);
  return () => loadModel(path, io);
}

/** An IR file from `text`, loaded as the CLI loads it. */
function irFile(name: string, text: string): () => unknown {
  const path = join(dir, `${name}.ir`);
  writeFileSync(path, text);
  return () => loadModel(path, io);
}

/** The diagnostics hold `code` at `line` (and `col`, when given). */
function expectAt(ds: Diagnostic[], code: string, line: number, col?: number): void {
  const d = ds.find((x) => x.code === code);
  expect(d, `${code} in ${JSON.stringify(ds.map((x) => x.code))}`).toBeDefined();
  expect(d!.span?.line).toBe(line);
  if (col !== undefined) expect(d!.span?.col).toBe(col);
}

const deep = (open: string, inner: string, close: string, n: number): string => open.repeat(n) + inner + close.repeat(n);
const chain = (n: number): string => Array.from({ length: n }, (_, i) => `  h${i + 1} = relu(${i ? `h${i}` : "dense"})`).join("\n");

describe("limits of the .rmdl language", () => {
  it("refuses calls, lists and attribute lists nested 1,000 deep, at the level past the limit", () => {
    expectAt(refused(model("deep-call", `  x = ${deep("relu(", "dense", ")", 1000)}\n  output o = x`)), "E0103", 3, 11 + 5 * LIMITS.depth);
    expectAt(refused(model("deep-list", `  x = mlp(dense, ${deep("[", "4", "]", 1000)})\n  output o = x`)), "E0103", 3, 17 + LIMITS.depth);
    expectAt(refused(model("deep-attr", `  x = mlp(dense, [4], act: ${deep("[", "relu", "]", 1000)})\n  output o = x`)), "E0103", 3);
  });

  it("refuses 10,000 minus signs with a bounded number of errors", () => {
    expectAt(refused(model("minus", `  x = mlp(dense, [${"-".repeat(10_000)}4])\n  output o = x`)), "E0101", 3, 19);
    const spaced = refused(model("minus-spaced", `  x = mlp(dense, [${"- ".repeat(10_000)}4])\n  output o = x`));
    expect(spaced.length).toBeLessThanOrEqual(LIMITS.errors + 1);
    expect(spaced.at(-1)!.message).toMatch(/and 9900 more/);
  });

  it("refuses 20,000 statements, 20,000 layers and 20,000 operands", () => {
    expectAt(refused(model("chain", `${chain(20_000)}\n  output o = h20000`)), "E0105", 3 + LIMITS.nodes - 1, 3);
    expectAt(refused(model("layers", `  x = mlp(dense, [${Array(20_000).fill(4).join(",")}])\n  output o = x`)), "E0105", 3);
    expectAt(refused(model("concat", `  x = concat(${Array(20_000).fill("dense").join(",")})\n  output o = x`)), "E0105", 3);
    // Under the statement limit, layers still count: 3 mlps of 4,000 layers are 12,000 nodes.
    const mlps = [1, 2, 3].map((i) => `  x${i} = mlp(dense, [${Array(4000).fill(13).join(",")}])`).join("\n");
    expectAt(refused(model("many-layers", `${mlps}\n  output o = concat(x1, x2, x3)`)), "E0105", 5, 8);
  });

  it("refuses declared sizes of 1e8 to 1e11 and 2^32 before allocating anything", () => {
    const bags = (n: string) => `  input s: bags[${n}]\n  table e[${n}]: embedding(dim: 4, rows: 10)\n  output o = flatten(embedding_bag(e, s))`;
    expectAt(refused(model("bags-1e8", bags("100000000"))), "E0313", 3, 17);
    expectAt(refused(model("bags-2-32", bags(String(2 ** 32)))), "E0313", 3, 17);
    expectAt(refused(model("cross-1e11", "  x = cross(dense, layers: 100000000000)\n  output o = x")), "E0313", 3, 28);
    expectAt(refused(model("cross-1e8", "  x = cross(dense, layers: 100000000)\n  output o = x")), "E0313", 3, 28);
    expectAt(refused(model("width-2-32", `  x = mlp(dense, [${2 ** 32}])\n  output o = x`)), "E0313", 3, 19);
    expectAt(
      refused(model("rows-2-32", `  table e: embedding(dim: 4, rows: ${2 ** 32})\n  input s: bags[1]\n  output o = embedding_bag(e, s)`)),
      "E0313",
      3,
    );
    expectAt(refused(model("input-2-32", `  input big: f32[${2 ** 32}]\n  output o = relu(big)`)), "E0313", 3, 18);
  });

  it("refuses a 20-million-character name without comparing it to anything", () => {
    const name = "a".repeat(20_000_000);
    expectAt(refused(model("long-def", `  ${name} = relu(dense)\n  output o = relu(dense)`)), "E0104", 3, 3);
    expectAt(refused(model("long-use", `  x = relu(${name})\n  output o = x`)), "E0104", 3, 12);
  });

  it("still compiles models just inside: 200-deep nesting, 2,000 layers, 5,000 statements", async () => {
    const nested = join(dir, "nested.rmdl");
    writeFileSync(
      nested,
      `model m {\n  input dense: f32[13]\n  x = ${deep("relu(", "dense", ")", 200)}\n  output o = mlp(x, [1], final: sigmoid)\n}\n`,
    );
    const layers = join(dir, "layers-2000.rmdl");
    writeFileSync(layers, `model m {\n  input dense: f32[13]\n  output o = mlp(dense, [${Array(2000).fill(4).join(",")}, 1], final: sigmoid)\n}\n`);
    const long = join(dir, "chain-5000.rmdl");
    writeFileSync(long, `model m {\n  input dense: f32[13]\n${chain(5000)}\n  output o = mlp(h5000, [1], final: sigmoid)\n}\n`);
    for (const path of [nested, layers, long]) {
      const ir = await rmc("ir", path, "-q");
      expect(ir.code, ir.err).toBe(0);
      const run = await rmc("compile", path, "--init", "random", "-o", `${path}.dist`);
      expect(run.code, run.err).toBe(0);
    }
  });
});

describe("limits of textual IR", () => {
  const graph = (node: string): string => `graph @g {\n  input %x: f32[B,4]\n${node}\n  output y = %y\n}\n`;

  it("refuses 10,000 minus signs and lists nested 1,000 deep, located", () => {
    expectAt(refused(irFile("minus", graph(`  %y = relu(%x) {n=${"-".repeat(10_000)}1} : f32[B,4]`))), "E1001", 3, 21);
    expectAt(refused(irFile("deep", graph(`  %y = relu(%x) {n=${deep("[", "1", "]", 1000)}} : f32[B,4]`))), "E1002", 3, 20 + LIMITS.depth);
  });

  it("refuses a 20-million-character name, 20,000 operands and too many statements", () => {
    expectAt(refused(irFile("long", graph(`  %${"a".repeat(20_000_000)} = relu(%x) : f32[B,4]\n  %y = relu(%x) : f32[B,4]`))), "E1002", 3, 3);
    const operands = Array(20_000).fill("%x").join(", ");
    expectAt(refused(irFile("operands", graph(`  %y = concat(${operands}) : f32[B,80000]`))), "E1002", 3);
    const many = Array.from({ length: LIMITS.irStatements + 1 }, (_, i) => `  %n${i} = relu(%x)`).join("\n");
    expectAt(refused(irFile("statements", graph(many))), "E1002", 2 + LIMITS.irStatements);
  });

  it("prints non-finite sizes so they parse back, and the verifier refuses them at their line", () => {
    const g = parseGraph(graph("  weight @w: weight f32[2,4]\n  %y = relu(%x) : f32[B,4]"), "g.ir");
    g.weights[0]!.shape = [Infinity, 4];
    g.inputs[0]!.type = { kind: "tensor", dtype: "f32", shape: ["B", 2 ** 40] };
    const text = printGraph(g);
    expect(text).toContain("f32[inf,4]");
    const back = parseGraph(text, "g.ir");
    expect(back).toEqual(g);
    const ds = verifyGraph(back);
    expectAt(ds, "E1116", 3);
    expectAt(ds, "E1118", 2);
  });
});

describe("limits of JSON files", () => {
  const nested = (n: number): string => `{"a": ${deep("[", "1", "]", n)}}`;

  it("refuses a safetensors header nested 100,000 deep before parsing it, at its byte", () => {
    const header = new TextEncoder().encode(nested(100_000));
    const bytes = new Uint8Array(8 + header.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    const ds = refused(() => readSafetensorsBytes(bytes, "deep.safetensors"));
    // `{"a": ` then `[`s: the 8th opens level 9, at text offset 13, so column 8 + 13 + 1 of the file's one header line.
    expectAt(ds, "E1318", 1, 22);
  });

  it("refuses a plan file and a manifest nested 100,000 deep, the plan at line and column", () => {
    const plan = join(dir, "deep-plan.json");
    writeFileSync(plan, `{\n  "format": "rmc-precision-plan/1",\n  "decisions": ${nested(100_000)}\n}\n`);
    expectAt(
      refused(() => loadPlan(plan)),
      "E1915",
      3,
      // line 3 is `  "decisions": {"a": [[[…`: the first `[` at column 22 opens level 3.
      22 + LIMITS.jsonDepth - 2,
    );
    const ds = refused(() => parseManifest(nested(100_000), "manifest.json"));
    expect(ds[0]!.code).toBe("E1701");
  });
});
