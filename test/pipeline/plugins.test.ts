// The pass registry and plugin loading: duplicate names, shape checks on
// plugin passes with messages naming the file and the pass (an invalid pass
// is set aside; the file's others load), import failures, and the
// example plugin in examples/plugins running in a real pipeline.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RmcError } from "../../src/diagnostics/index.js";
import { printGraph } from "../../src/ir/print.js";
import { parseGraph } from "../../src/ir/parse.js";
import { PassRegistry, loadPlugin, runPipelineWithReport } from "../../src/pipeline/index.js";
import { compilerRegistry } from "../../src/driver/index.js";

const dir = mkdtempSync(join(tmpdir(), "rmc-plugins-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
/** Writes an ES module plugin and returns its path. */
function plugin(source: string): string {
  const file = join(dir, `p${counter++}.mjs`);
  writeFileSync(file, source);
  return file;
}

async function loadError(path: string, registry = compilerRegistry()): Promise<RmcError> {
  try {
    await loadPlugin(path, registry);
  } catch (e) {
    if (e instanceof RmcError) return e;
    throw e;
  }
  throw new Error("expected loadPlugin to fail");
}

const GOOD = `export const passes = [{ name: "tag-nodes", summary: "Adds nothing", options: { level: { type: "number", default: 1, doc: "how much" } }, run: (g) => g }];`;

describe("PassRegistry", () => {
  it("comes pre-loaded with the built-ins, listed by name", () => {
    const r = compilerRegistry();
    expect(r.names()).toEqual([
      "assign-precision",
      "canonicalize",
      "dce",
      "fold-quant",
      "fuse-bags",
      "fuse-epilogue",
      "fuse-interaction",
      "infer-shapes",
      "place-tables",
      "plan-memory",
      "split-tables",
    ]);
    expect(r.source("dce")).toBe("built-in");
    expect(new PassRegistry().names()).toEqual([]);
  });

  it("refuses a second pass of the same name, naming both sources", () => {
    const r = compilerRegistry();
    const dce = r.get("dce")!;
    expect(() => r.register({ ...dce }, "./mine.js")).toThrow(
      "pass `dce` from plugin ./mine.js clashes with the pass of that name from the built-in passes",
    );
  });
});

describe("loadPlugin", () => {
  it("registers the passes a module exports, remembering the file", async () => {
    const r = compilerRegistry();
    const path = plugin(GOOD);
    const loaded = await loadPlugin(path, r);
    expect(loaded.passes).toEqual(["tag-nodes"]);
    expect(r.get("tag-nodes")!.summary).toBe("Adds nothing");
    expect(r.source("tag-nodes")).toBe(path);
    expect(r.pluginFile("tag-nodes")).toBe(path);
    expect(r.pluginFile("dce")).toBeUndefined();
    expect(Object.keys(loaded.module)).toContain("passes");
  });

  it("accepts a module that only exports backends, and ignores unknown exports", async () => {
    const r = compilerRegistry();
    expect((await loadPlugin(plugin("export const backends = []; export const extra = 1;"), r)).passes).toEqual([]);
    expect((await loadPlugin(plugin(GOOD.replace("tag-nodes", "other") + "export const extra = 1;"), r)).passes).toEqual(["other"]);
  });

  it("names the file when it is missing or fails to import", async () => {
    const missing = await loadError("no/such/plugin.js");
    expect(missing.message).toContain("plugin file not found: no/such/plugin.js");
    expect(missing.diagnostics[0]!.span!.file).toBe("no/such/plugin.js");
    const broken = plugin("export const passes = [;");
    const e = await loadError(broken);
    expect(e.message).toContain(`cannot load plugin ${broken}:`);
    expect(e.message).not.toMatch(/\n\s+at /);
    const throws = await loadError(plugin('throw new Error("boom at import");'));
    expect(throws.message).toContain("boom at import");
  });

  it("requires a `passes` array", async () => {
    expect((await loadError(plugin("export const x = 1;"))).message).toContain("exports no `passes`");
    expect((await loadError(plugin("export const passes = {};"))).message).toContain("`passes` must be an array");
  });

  it("sets each invalid pass aside with every problem, naming the file and the pass, and registers the valid ones", async () => {
    const r = compilerRegistry();
    const path = plugin(`export const passes = [
      { name: "FoldScale", summary: "x", options: {}, run: (g) => g },
      { name: "no-run", summary: "", options: { minDim: 1 } },
      { name: "fine", summary: "returns its input", options: {}, run: (g) => g },
      { name: "bad-opts", summary: "two\\nlines", options: { size: { type: "bytes", default: "1MiB", doc: "d" }, k: { type: "int", default: 1, doc: "d" } }, run: (g) => g },
      42,
    ];`);
    const loaded = await loadPlugin(path, r);
    expect(loaded.passes).toEqual(["fine"]);
    expect(r.get("fine")).toBeDefined();
    const problems = (name: string) => r.invalid(name)!.map((d) => d.message);
    expect(problems("FoldScale")).toEqual([
      `plugin ${path}: pass \`FoldScale\`: name \`FoldScale\` must be kebab-case (lowercase words joined by -), e.g. fold-scale`,
    ]);
    expect(problems("no-run")).toEqual([
      `plugin ${path}: pass \`no-run\`: \`summary\` must be a non-empty one-line string`,
      `plugin ${path}: pass \`no-run\`: \`run\` must be a function (graph, ctx) => graph`,
      `plugin ${path}: pass \`no-run\`: option \`minDim\` must be a spec { type, default, doc }, got 1`,
    ]);
    expect(problems("bad-opts")).toEqual([
      `plugin ${path}: pass \`bad-opts\`: \`summary\` must be one line`,
      `plugin ${path}: pass \`bad-opts\`: option \`size\`: default must be a number for type bytes, got "1MiB"`,
      `plugin ${path}: pass \`bad-opts\`: option \`k\`: type must be one of number, string, boolean, bytes, percent, enum, list, got "int"`,
    ]);
    expect(problems("#4")).toEqual([`plugin ${path}: pass #4: expected a pass object, got number`]);
    // One warning per set-aside pass, each naming it.
    expect(loaded.warnings.map((w) => [w.code, w.severity])).toEqual(Array.from({ length: 4 }, () => ["W1272", "warning"]));
    expect(loaded.warnings[1]!.message).toBe(`plugin ${path}: pass \`no-run\` is not loaded (3 problems); its other passes are`);
  });

  it("fails a pipeline that names a set-aside pass with that pass's problems, and runs one that does not", async () => {
    const r = compilerRegistry();
    const path = plugin(
      `export const passes = [{ name: "good", summary: "s", options: {}, run: (g) => g }, { name: "bad", summary: "s", options: {} }];`,
    );
    await loadPlugin(path, r);
    const graph = parseGraph(printGraph(parseGraph("graph @g {\n  input %x: f32[B,2]\n  output y = %x\n}\n", "g.ir")), "g.ir");
    expect(runPipelineWithReport(graph, "good", r).graph).toBe(graph);
    let e: unknown;
    try {
      runPipelineWithReport(graph, "good,bad", r);
    } catch (x) {
      e = x;
    }
    const ds = (e as RmcError).diagnostics;
    expect(ds.map((d) => [d.code, d.severity])).toEqual([
      ["E1271", "error"],
      ["E1211", "note"],
    ]);
    expect(ds[0]!.message).toBe("pass `bad` was not loaded: its plugin's export is not a valid pass at column 6");
    expect(ds[1]!.message).toBe(`plugin ${path}: pass \`bad\`: \`run\` must be a function (graph, ctx) => graph`);
  });

  it("sets aside a plugin pass that clashes with a registered one, and registers the others", async () => {
    const r = compilerRegistry();
    const path = plugin(GOOD.replace("tag-nodes", "dce").replace("[{", '[{ name: "fresh", summary: "s", options: {}, run: (g) => g }, {'));
    const loaded = await loadPlugin(path, r);
    expect(loaded.passes).toEqual(["fresh"]);
    expect(r.invalid("dce")![0]!.message).toContain("pass `dce` clashes with the pass of that name from the built-in passes");
    expect(r.source("dce")).toBe("built-in");
  });
});

describe("the example plugin examples/plugins/fold-activations.js", () => {
  const source = `graph @g {
  input %x: f32[B,3]  loc("m.rmdl":1:1-1:9)
  weight @h.0.weight: weight f32[2,3]  loc("m.rmdl":2:1-2:9)
  %h = mlp(%x, @h.0.weight) {sizes=[2], bias=false, final=relu} : f32[B,2]  loc("m.rmdl":2:1-2:9)
  %again = relu(%h) : f32[B,2]  loc("m.rmdl":3:1-3:9)
  %thrice = relu(%again) : f32[B,2]  loc("m.rmdl":4:1-4:9)
  %s = sigmoid(%x) : f32[B,3]  loc("m.rmdl":5:1-5:9)
  %rs = relu(%s) : f32[B,3]  loc("m.rmdl":6:1-6:9)
  %keep = relu(%x) : f32[B,3]  loc("m.rmdl":7:1-7:9)
  %both = concat(%thrice, %rs, %keep) : f32[B,8]  loc("m.rmdl":8:1-8:9)
  output y = %both  loc("m.rmdl":9:1-9:9)
  output z = %thrice  loc("m.rmdl":9:1-9:9)
}
`;

  it("loads through loadPlugin and folds relu after relu or sigmoid in a pipeline", async () => {
    const registry = compilerRegistry();
    await loadPlugin("examples/plugins/fold-activations.js", registry);
    const report = runPipelineWithReport(parseGraph(source, "g.ir"), "canonicalize,fold-activations{report=true},dce", registry, { out: () => {} });
    const text = printGraph(report.graph);
    expect(report.graph.nodes.map((n) => n.id)).toEqual(["h.0", "h", "s", "keep", "both"]);
    expect(text).toContain("%both = concat(%h, %s, %keep)");
    expect(report.graph.outputs.map((o) => o.value)).toEqual(["both", "h"]);
    expect(report.diagnostics.map((d) => d.message)).toEqual([
      "removed %again: relu of %h, which is already non-negative",
      "removed %thrice: relu of %h, which is already non-negative",
      "removed %rs: relu of %s, which is already non-negative",
    ]);
    expect(report.diagnostics[0]!.span).toMatchObject({ file: "m.rmdl", line: 3 });
  });

  it("returns the same graph when there is nothing to fold", async () => {
    const registry = compilerRegistry();
    await loadPlugin("examples/plugins/fold-activations.js", registry);
    const g = parseGraph("graph @g {\n  input %x: f32[B,3]\n  %r = relu(%x) : f32[B,3]\n  output y = %r\n}\n", "g.ir");
    const pass = registry.get("fold-activations")!;
    expect(pass.run(g, { options: { report: false }, diagnostics: [], produce: (await import("immer")).produce, emit: () => {} })).toBe(g);
  });
});
