// Textual IR: printing and parsing round-trip exactly (spans and attrs
// included), the printed form is what the docs show, weight checksums are
// CRC-32 of the f32 bytes, and malformed text gives located errors.

import { crc32 as zlibCrc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { RmcError } from "../../src/diagnostics/index.js";
import { parseGraph } from "../../src/ir/parse.js";
import { crc32, printGraph } from "../../src/ir/print.js";
import type { Graph } from "../../src/ir/types.js";
import { DenseTensor } from "../../src/weights/store.js";
import { allOps, bags, dlrmSmall, f32, input, node, output, sp, weight } from "./graphs.js";

const roundTrip = (g: Graph): Graph => parseGraph(printGraph(g), "x.ir");

function parseErrors(text: string): RmcError {
  try {
    parseGraph(text, "bad.ir");
  } catch (e) {
    if (e instanceof RmcError) return e;
    throw e;
  }
  throw new Error("expected a parse error");
}

/** A graph with every awkward value the printer must spell so the parser reads it back. */
function awkward(): Graph {
  return {
    name: "weird name",
    inputs: [input("in put", bags(3, true), { file: 'dir//a "quoted".rmdl', line: 1, col: 2, endLine: 4, endCol: 5 }), input("scalar", f32())],
    weights: [weight("w/1", "weight", [2, 3], { note: "with // slashes", n: -1.5 })],
    nodes: [
      node(
        "a.b-c",
        "custom.op",
        ["%in put", "%scalar", "@w/1", "raw-operand"],
        {
          scale: 0.1,
          neg: -3,
          tiny: 1e-30,
          big: 1.5e300,
          third: 1 / 3,
          negzero: -0,
          nan: NaN,
          inf: Infinity,
          ninf: -Infinity,
          words: "two words",
          kw: "true",
          nul: "null",
          empty: "",
          quote: 'a"b\\c\n',
          nested: [[1, 2], [], ["x", null, true, false]],
          "weird key": 1,
          "1st": "inf",
        },
        null,
        sp(0, 0, 0, "<generated>"),
      ),
      node("7", "relu", ["%a.b-c"], {}, f32("B", 2, "B")),
    ],
    outputs: [output("out put", "7"), output("ctr", "%prefixed")],
  };
}

describe("printGraph / parseGraph round trip", () => {
  it("round-trips a graph using every op", () => {
    const g = allOps();
    expect(roundTrip(g)).toEqual(g);
  });

  it("round-trips the small DLRM", () => {
    const g = dlrmSmall();
    expect(roundTrip(g)).toEqual(g);
  });

  it("round-trips awkward names, numbers, strings, spans and null types", () => {
    const g = awkward();
    const back = roundTrip(g);
    expect(back).toEqual(g);
    expect(Object.is(back.nodes[0]!.attrs.negzero, -0)).toBe(true);
    expect(back.nodes[0]!.attrs.third).toBe(1 / 3);
    expect(back.nodes[0]!.type).toBeNull();
  });

  it("round-trips sizes that are no sizes (infinite, NaN, negative) for the verifier to report", () => {
    const g = dlrmSmall();
    g.weights[0]!.shape = [Infinity, 4];
    g.inputs[0]!.type = f32("B", NaN);
    g.weights[1]!.shape = [-3, 4];
    const text = printGraph(g);
    expect(text).toContain("f32[inf,4]");
    expect(text).toContain("f32[B,nan]");
    expect(roundTrip(g)).toEqual(g);
  });

  it("round-trips an empty graph", () => {
    const g: Graph = { name: "empty", inputs: [], weights: [], nodes: [], outputs: [] };
    expect(printGraph(g)).toBe("graph @empty {\n}\n");
    expect(roundTrip(g)).toEqual(g);
  });

  it("prints one entity per line in the documented form", () => {
    const text = printGraph(dlrmSmall());
    const lines = text.split("\n");
    expect(lines[0]).toBe("graph @dlrm_small {");
    expect(lines).toContain('  input %dense: f32[B,4]  loc("t.rmdl":2:3-2:23)');
    expect(lines).toContain('  input %sparse: bags[2]  loc("t.rmdl":3:3-3:23)');
    expect(lines).toContain('  weight @emb.1: table f32[12,4] {precision=int4}  loc("t.rmdl":4:3-4:23)');
    expect(lines).toContain(
      '  %top = mlp(%z, @top.0.weight, @top.0.bias) {sizes=[1], act=relu, final=sigmoid, precision=fp32} : f32[B,1]  loc("t.rmdl":8:3-8:23)',
    );
    expect(lines).toContain('  output ctr = %top  loc("t.rmdl":9:3-9:23)');
    expect(text.endsWith("}\n")).toBe(true);
  });

  it("prints a null type as no type annotation at all", () => {
    const text = printGraph(awkward());
    const line = text.split("\n").find((l) => l.includes("custom.op"))!;
    expect(line).not.toMatch(/\) : /);
    expect(line).toContain('loc("<generated>":0:0-0:0)');
  });

  it("quotes strings that would otherwise read as keywords or not lex", () => {
    const text = printGraph(awkward());
    expect(text).toContain('kw="true"');
    expect(text).toContain('"1st"="inf"');
    expect(text).toContain('words="two words"');
    expect(text).toContain('%"in put"');
    expect(text).toContain('"inf"=inf, ninf=-inf');
  });
});

describe("weight checksums in dumps", () => {
  it("is the standard CRC-32", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });

  it("appends crc32 of the little-endian f32 bytes to each weight line, and the parser ignores it", () => {
    const g = dlrmSmall();
    const data = Float32Array.from({ length: 40 }, (_, i) => i * 0.25 - 3);
    const bytes = Buffer.alloc(data.length * 4);
    data.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
    const expected = zlibCrc32(bytes).toString(16).padStart(8, "0");
    const weights = new Map([
      ["emb.0", new DenseTensor([10, 4], data)],
      ["emb.1", new DenseTensor([4, 12], new Float32Array(48))],
    ]);
    const text = printGraph(g, { weights });
    const lines = text.split("\n");
    expect(lines.find((l) => l.includes("@emb.0:"))).toMatch(new RegExp(`// crc32 ${expected}$`));
    expect(lines.find((l) => l.includes("@emb.1:"))).toMatch(/\(stored shape \[4,12\]\)$/);
    expect(lines.find((l) => l.includes("@top.0.bias:"))).toMatch(/\/\/ no data in the weight store$/);
    expect(parseGraph(text, "x.ir")).toEqual(g);
  });
});

describe("parseGraph", () => {
  it("gives lines without loc(...) their position in the IR file", () => {
    const g = parseGraph("// a comment\ngraph @g {\n  input %x: f32[B,2]\n  %y = relu(%x)   // untyped\n  output y = %y\n}\n", "m.ir");
    expect(g.inputs[0]!.span).toEqual({ file: "m.ir", line: 3, col: 3, endLine: 3, endCol: 21 });
    expect(g.nodes[0]).toEqual({
      id: "y",
      op: "relu",
      inputs: ["%x"],
      attrs: {},
      type: null,
      span: { file: "m.ir", line: 4, col: 3, endLine: 4, endCol: 16 },
    });
    expect(g.outputs[0]).toMatchObject({ name: "y", value: "y" });
  });

  it("reports every bad line with file:line:col, not just the first", () => {
    const e = parseErrors("graph @g {\n  input %x: f33[B,2]\n  %y = relu(%x,)\n  output y = %y\n  bogus\n}\n");
    const where = e.diagnostics.map((d) => [d.span!.file, d.span!.line, d.span!.col]);
    expect(where).toEqual([
      ["bad.ir", 2, 13],
      ["bad.ir", 3, 16],
      ["bad.ir", 5, 3],
    ]);
    expect(e.diagnostics[0]!.message).toContain("unknown element type `f33`");
    expect(e.diagnostics[1]!.message).toContain("expected an operand");
    expect(e.diagnostics[2]!.message).toContain("found `bogus`");
  });

  it("reports a missing closing brace and junk after the graph", () => {
    expect(parseErrors("graph @g {\n  input %x: f32[B,2]\n").diagnostics[0]!.message).toContain("missing `}`");
    expect(parseErrors("graph @g {\n}\nx").diagnostics[0]!.message).toContain("after the graph");
  });

  it("reports malformed strings, weight types and loc(...)", () => {
    expect(parseErrors('graph @g {\n  output "ctr = %x\n}').diagnostics[0]!.message).toContain("unterminated");
    expect(parseErrors("graph @g {\n  weight @w: weight f32[B,2]\n}").diagnostics[0]!.message).toContain("static dimensions");
    expect(parseErrors("graph @g {\n  weight @w: matrix f32[2,2]\n}").diagnostics[0]!.message).toContain("unknown weight role `matrix`");
    const loc = parseErrors('graph @g {\n  input %x: f32[B,2] loc("f":1:2)\n}').diagnostics[0]!;
    expect(loc.message).toContain("loc(");
    expect(loc.span).toMatchObject({ line: 2, col: 33 });
  });

  it("rejects an attribute given twice", () => {
    expect(parseErrors("graph @g {\n  %y = relu(%x) {a=1, a=2}\n}").diagnostics[0]!.message).toContain("attribute `a` is given twice");
  });
});
