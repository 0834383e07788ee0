// Textual pipelines and pass options: parsing, printing, located errors, and
// how option text becomes typed values.

import { describe, expect, it } from "vitest";
import { RmcError } from "../../src/diagnostics/index.js";
import { camelCase, kebabCase, parseOptionValue } from "../../src/pipeline/pass.js";
import { parsePipeline, printPipeline } from "../../src/pipeline/text.js";

function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof RmcError) return e.message;
    throw e;
  }
  throw new Error("expected an RmcError");
}

describe("parsePipeline / printPipeline", () => {
  it("reads names, options and their columns", () => {
    expect(parsePipeline("canonicalize,infer-shapes,dce{keep-weights=true}")).toEqual([
      { name: "canonicalize", options: {}, at: { col: 1, options: {} } },
      { name: "infer-shapes", options: {}, at: { col: 14, options: {} } },
      { name: "dce", options: { "keep-weights": "true" }, at: { col: 27, options: { "keep-weights": 31 } } },
    ]);
  });

  it("accepts spaces, comma- or space-separated options, and quoted values", () => {
    const steps = parsePipeline(' a{x=1 y=128MiB}, b { z = "two words, {braced}" ,w=0.05% } ');
    expect(steps.map((s) => [s.name, s.options])).toEqual([
      ["a", { x: "1", y: "128MiB" }],
      ["b", { z: "two words, {braced}", w: "0.05%" }],
    ]);
    expect(parsePipeline("")).toEqual([]);
    expect(parsePipeline("   ")).toEqual([]);
  });

  it("prints the canonical form, which parses back to the same steps", () => {
    const text = 'fuse,assign-precision{budget=0.05%},split-tables{max-bytes=128MiB,note="a b"}';
    expect(printPipeline(parsePipeline(text))).toBe(text);
    expect(parsePipeline(printPipeline(parsePipeline(text)))).toEqual(parsePipeline(text));
    expect(printPipeline([{ name: "x", options: { s: "" } }])).toBe('x{s=""}');
  });

  it("locates syntax errors by column", () => {
    expect(message(() => parsePipeline("a,,b"))).toBe("expected a pass name, found `,` at column 3 of the pipeline");
    expect(message(() => parsePipeline("a,"))).toContain("found the end at column 3");
    expect(message(() => parsePipeline("dce{keep-weights}"))).toContain("expected `=` after option `keep-weights` at column 17");
    expect(message(() => parsePipeline("dce{a=1"))).toContain("at column 8");
    expect(message(() => parsePipeline("dce{a=1,a=2}"))).toContain("option `a` of `dce` is given twice at column 9");
    expect(message(() => parsePipeline("a b"))).toContain("expected `,` between passes, found `b` at column 3");
    expect(message(() => parsePipeline('a{s="x}'))).toContain("unterminated string");
  });
});

describe("option values", () => {
  const value = (type: "number" | "string" | "boolean" | "bytes" | "percent", text: string) => parseOptionValue({ type }, text);

  it("reads byte sizes with binary and decimal units", () => {
    expect(value("bytes", "1000")).toEqual({ value: 1000 });
    expect(value("bytes", "128MiB")).toEqual({ value: 128 * 1024 * 1024 });
    expect(value("bytes", "4GiB")).toEqual({ value: 4 * 2 ** 30 });
    expect(value("bytes", "1.5GB")).toEqual({ value: 1.5e9 });
    expect(value("bytes", "64kib")).toEqual({ value: 65536 });
    expect(value("bytes", "1.5B")).toHaveProperty("error");
    expect(value("bytes", "12 parsecs")).toHaveProperty("error");
    expect(value("bytes", "-1")).toHaveProperty("error");
  });

  it("reads percentages with or without the % sign, in percent units", () => {
    expect(value("percent", "0.05%")).toEqual({ value: 0.05 });
    expect(value("percent", "0.05")).toEqual({ value: 0.05 });
    expect(value("percent", "5 %")).toEqual({ value: 5 });
    expect(value("percent", "five")).toHaveProperty("error");
  });

  it("reads numbers, booleans and strings", () => {
    expect(value("number", "4")).toEqual({ value: 4 });
    expect(value("number", "-2.5e3")).toEqual({ value: -2500 });
    expect(value("number", "")).toHaveProperty("error");
    expect(value("number", "4x")).toHaveProperty("error");
    expect(value("boolean", "true")).toEqual({ value: true });
    expect(value("boolean", "false")).toEqual({ value: false });
    expect(value("boolean", "yes")).toHaveProperty("error");
    expect(value("string", "a b")).toEqual({ value: "a b" });
  });

  it("maps option names between code (camelCase) and pipelines (kebab-case)", () => {
    expect(kebabCase("maxBytes")).toBe("max-bytes");
    expect(camelCase("max-bytes")).toBe("maxBytes");
    expect(camelCase(kebabCase("keepHotRows2"))).toBe("keepHotRows2");
  });
});
