// The pass manager: pipeline resolution errors, typed options, verification
// after each pass with a reproducer, failure wrapping, and instrumentation
// (IR printing before/after/after-change/after-failure, dump files, timing).

import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { produce } from "immer";
import { afterAll, describe, expect, it } from "vitest";
import { RmcError } from "../../src/diagnostics/index.js";
import { parseGraph } from "../../src/ir/parse.js";
import { printGraph } from "../../src/ir/print.js";
import type { Graph } from "../../src/ir/types.js";
import { VERIFY_CODES } from "../../src/ir/verify.js";
import { DEFAULT_PIPELINE, runPipeline, runPipelineWithReport, type Instrumentation, type Pass } from "../../src/pipeline/index.js";
import { compilerRegistry } from "../../src/driver/index.js";
import { canonicalize } from "../../passes/canonicalize.js";
import { dlrmSmall } from "../ir/graphs.js";

const tmp = mkdtempSync(join(tmpdir(), "rmc-manager-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A registry with the built-ins plus test passes that misbehave on purpose. */
function registry(...extra: Pass[]) {
  const r = compilerRegistry();
  for (const p of extra) {
    if (p.name === "from-plugin") r.registerFromPlugin(p, "./plugins/mine.js");
    else r.register(p, "test");
  }
  return r;
}

const dropWeight: Pass = {
  name: "drop-weight",
  summary: "Removes a weight declaration that is still in use (a broken pass)",
  options: {},
  run: (g, ctx) => ctx.produce(g, (d) => void d.weights.shift()),
};
const throws: Pass = {
  name: "boom",
  summary: "Throws",
  options: {},
  run: () => {
    throw new TypeError("kaput");
  },
};
const userError: Pass = {
  name: "picky",
  summary: "Rejects the model",
  options: {},
  run: () => {
    throw new RmcError("this model is not supported");
  },
};
const addUntyped: Pass = {
  name: "add-untyped",
  summary: "Appends an untyped relu, as a plugin might",
  options: {},
  run: (g, ctx) =>
    ctx.produce(g, (d) => {
      d.nodes.push({ id: "extra", op: "relu", inputs: ["%top"], attrs: {}, type: null, span: d.nodes[0]!.span });
      d.outputs.push({ name: "extra", value: "extra", span: d.nodes[0]!.span });
    }),
};
const options: Pass<{ maxBytes: number; budget: number; label: string }> = {
  name: "show-options",
  summary: "Reports its options",
  options: {
    maxBytes: { type: "bytes", default: 1024, doc: "a size" },
    budget: { type: "percent", default: 0.1, doc: "a budget" },
    label: { type: "string", default: "none", doc: "a label" },
  },
  run(g, ctx) {
    ctx.diagnostics.push({ code: "T1", severity: "note", message: JSON.stringify(ctx.options) });
    return g;
  },
};

function rmcError(f: () => unknown): RmcError {
  try {
    f();
  } catch (e) {
    if (e instanceof RmcError) return e;
    throw e;
  }
  throw new Error("expected an RmcError");
}

/** Runs with output captured. */
function capture(g: Graph, pipeline: string, instr: Instrumentation = {}, r = registry()) {
  const chunks: string[] = [];
  const graph = runPipeline(g, pipeline, r, { ...instr, out: (s) => chunks.push(s) });
  return { graph, out: chunks.join("") };
}

const headers = (out: string) => out.split("\n").filter((l) => l.startsWith("// -----"));

describe("runPipeline", () => {
  it("runs the default pipeline to a valid, canonical graph", () => {
    expect(DEFAULT_PIPELINE).toBe("canonicalize,infer-shapes,dce");
    const { graph, out } = capture(dlrmSmall(), DEFAULT_PIPELINE);
    expect(graph.nodes.map((n) => n.op)).toEqual(["linear", "relu", "linear", "relu", "embedding_bag", "interact", "linear", "sigmoid"]);
    expect(out).toBe("");
  });

  it("reports unknown passes and options by column, with suggestions", () => {
    const unknown = rmcError(() => capture(dlrmSmall(), "canonicalise,dce"));
    expect(unknown.message).toBe("unknown pass `canonicalise` at column 1: did you mean `canonicalize`?");
    expect(unknown.diagnostics[0]!.hint).toContain(
      "known passes: assign-precision, canonicalize, dce, fold-quant, fuse-bags, fuse-epilogue, fuse-interaction, infer-shapes, place-tables, plan-memory, split-tables",
    );
    const option = rmcError(() => capture(dlrmSmall(), "canonicalize, dce{keep-weight=true}"));
    expect(option.message).toBe("pass `dce` has no option `keep-weight` at column 19: did you mean `keep-weights`?");
    expect(option.diagnostics[0]!.hint).toContain("keep-weights (boolean, default false)");
    const value = rmcError(() => capture(dlrmSmall(), "dce{keep-weights=yes}"));
    expect(value.message).toContain("option `keep-weights` of `dce` expects true or false, got `yes` at column 5");
    const both = rmcError(() => capture(dlrmSmall(), "nope,dce{x=1}"));
    expect(both.diagnostics).toHaveLength(2);
  });

  it("hands each pass its typed options, defaults filled in, kebab-case or camelCase", () => {
    const r = registry(options);
    const report = runPipelineWithReport(dlrmSmall(), "show-options{max-bytes=128MiB,budget=0.05%},show-options{label=x}", r, { out: () => {} });
    expect(report.diagnostics.map((d) => JSON.parse(d.message))).toEqual([
      { maxBytes: 128 * 2 ** 20, budget: 0.05, label: "none" },
      { maxBytes: 1024, budget: 0.1, label: "x" },
    ]);
    expect(runPipelineWithReport(dlrmSmall(), "show-options{maxBytes=2KiB}", r).diagnostics[0]!.message).toContain('"maxBytes":2048');
  });

  it("checks enum and list options when the pipeline resolves, before any pass runs", () => {
    let ran = false;
    const choosy: Pass = {
      name: "choosy",
      summary: "t",
      options: {
        mode: { type: "enum", values: ["rows", "cols"], default: "rows", doc: "d" },
        acts: { type: "list", values: ["relu", "tanh"], default: "relu", doc: "d" },
      },
      run: (g, ctx) => {
        ran = true;
        ctx.diagnostics.push({ code: "T2", severity: "note", message: JSON.stringify(ctx.options) });
        return g;
      },
    };
    const r = registry(choosy);
    const ok = runPipelineWithReport(dlrmSmall(), 'choosy{mode=cols,acts=" tanh ;relu;"}', r);
    expect(JSON.parse(ok.diagnostics[0]!.message)).toEqual({ mode: "cols", acts: "tanh;relu" });
    ran = false;
    const bad = rmcError(() => runPipelineWithReport(dlrmSmall(), "canonicalize,choosy{mode=col,acts=relu;gelu}", r));
    expect(ran).toBe(false);
    expect(bad.diagnostics.map((d) => d.code)).toEqual(["E1204", "E1204"]);
    expect(bad.diagnostics[0]!.message).toBe("option `mode` of `choosy` must be one of rows, cols, got `col`: did you mean `cols`? at column 21");
    expect(bad.diagnostics[1]!.message).toContain("takes some of relu, tanh separated by ;, got `gelu`");
  });

  it("refuses a pipeline whose step runs before the step that provides what it requires, naming both", () => {
    const needs: Pass = { name: "needs-p", summary: "t", options: {}, requires: ["p"], run: (g) => g };
    const gives: Pass = { name: "gives-p", summary: "t", options: {}, provides: ["p"], run: (g) => g };
    const r = registry(needs, gives);
    expect(() => runPipelineWithReport(dlrmSmall(), "gives-p,needs-p", r)).not.toThrow();
    // No step provides it: the input is taken to have it (an .ir file written after that pass).
    expect(() => runPipelineWithReport(dlrmSmall(), "needs-p", r)).not.toThrow();
    const e = rmcError(() => runPipelineWithReport(dlrmSmall(), "needs-p,gives-p", r));
    expect(e.diagnostics[0]!.code).toBe("E1212");
    expect(e.message).toBe("pass `needs-p` needs p, which `gives-p` provides, but runs before it");
    // The built-ins declare theirs: the memory plan must come after the fusions, the fusions after precision.
    expect(rmcError(() => runPipelineWithReport(dlrmSmall(), "canonicalize,plan-memory,fuse-epilogue", r)).message).toContain(
      "pass `plan-memory` needs epilogues, which `fuse-epilogue` provides",
    );
    expect(rmcError(() => runPipelineWithReport(dlrmSmall(), "canonicalize,fuse-bags,assign-precision", r)).message).toContain(
      "pass `fuse-bags` needs precision, which `assign-precision` provides",
    );
  });

  it("writes pass diagnostics to out when the caller does not take the report", () => {
    const { out } = capture(dlrmSmall(), "show-options", {}, registry(options));
    expect(out).toContain('note T1: {"maxBytes":1024');
  });

  it("refuses an invalid input graph before running anything", () => {
    const g = produce(dlrmSmall(), (d) => void (d.nodes[2]!.inputs[0] = "%nope"));
    const e = rmcError(() => capture(g, "canonicalize"));
    expect(e.diagnostics[0]!.message).toContain("input graph @dlrm_small is not valid IR");
    expect(e.diagnostics[1]!.code).toBe(VERIFY_CODES.undefinedValue);
  });

  it("names the pass that broke the IR and writes a reproducer that replays it", () => {
    const reproDir = join(tmp, "repro");
    const input = capture(dlrmSmall(), "canonicalize").graph;
    const e = rmcError(() => capture(input, "infer-shapes,drop-weight", { reproDir }, registry(dropWeight)));
    expect(e.diagnostics[0]!.message).toBe("pass `drop-weight` produced invalid IR");
    expect(e.diagnostics.slice(1).map((d) => d.code)).toContain(VERIFY_CODES.undefinedWeight);
    const file = join(reproDir, "rmc-repro-drop-weight.ir");
    expect(e.diagnostics[0]!.hint).toBe(`reproducer written to ${file}; replay with: rmc ir ${file} --passes drop-weight`);
    const text = readFileSync(file, "utf8");
    expect(text).toContain("// replay: rmc ir");
    expect(parseGraph(text, file)).toEqual(input);
  });

  it("adds --plugin to the replay command for a plugin's pass", () => {
    const broken = { ...dropWeight, name: "from-plugin" };
    const e = rmcError(() => capture(dlrmSmall(), "from-plugin", { reproDir: tmp }, registry(broken)));
    expect(e.diagnostics[0]!.hint).toContain("--passes from-plugin --plugin ./plugins/mine.js");
  });

  it("wraps an exception from a pass, without a stack unless RMC_DEBUG is set", () => {
    const e = rmcError(() => capture(dlrmSmall(), "canonicalize,boom", { reproDir: tmp }, registry(throws)));
    expect(e.message).toBe("pass `boom` failed: kaput");
    expect(e.diagnostics[0]!.hint).toContain("rmc-repro-boom.ir");
    expect(e.diagnostics[0]!.hint).not.toMatch(/\n\s+at /);
    process.env.RMC_DEBUG = "1";
    try {
      const debug = rmcError(() => capture(dlrmSmall(), "boom", { reproDir: tmp }, registry(throws)));
      expect(debug.diagnostics[0]!.hint).toMatch(/TypeError: kaput\n\s+at /);
    } finally {
      delete process.env.RMC_DEBUG;
    }
  });

  it("passes an RmcError from a pass through, adding the pass name", () => {
    const e = rmcError(() => capture(dlrmSmall(), "canonicalize,picky", {}, registry(userError)));
    expect(e.diagnostics.map((d) => [d.severity, d.message])).toEqual([
      ["error", "this model is not supported"],
      ["note", "while running pass `picky` (step 2 of the pipeline)"],
    ]);
  });

  it("rejects a pass that returns something other than a graph", () => {
    const bad: Pass = { name: "bad-return", summary: "Returns undefined", options: {}, run: () => undefined as unknown as Graph };
    expect(rmcError(() => capture(dlrmSmall(), "bad-return", { reproDir: tmp }, registry(bad))).message).toBe(
      "pass `bad-return` failed: run() returned undefined instead of a graph",
    );
  });

  it("lets a pass leave untyped nodes for infer-shapes, but not at the end of the pipeline", () => {
    const r = registry(addUntyped);
    const { graph } = capture(dlrmSmall(), "add-untyped,infer-shapes", {}, r);
    expect(graph.nodes.at(-1)!.type).toEqual({ kind: "tensor", dtype: "f32", shape: ["B", 1] });
    const e = rmcError(() => capture(dlrmSmall(), "add-untyped,dce", {}, r));
    expect(e.diagnostics[0]!.message).toBe("the pipeline's result is not valid IR after pass `dce`");
    expect(e.diagnostics[0]!.hint).toBe("add infer-shapes at the end of the pipeline");
    expect(e.diagnostics[1]!.message).toBe("%extra: missing type; run infer-shapes");
  });
});

describe("instrumentation", () => {
  it("prints after a pass only when it changed the IR, with printAfterChange", () => {
    // canonicalize changes the graph; infer-shapes then has nothing to do; dce has nothing dead.
    const { out } = capture(dlrmSmall(), DEFAULT_PIPELINE, { printAfterChange: "full" });
    expect(headers(out)).toEqual(["// ----- IR after canonicalize -----"]);
    const after = out.slice(out.indexOf("\n") + 1);
    expect(parseGraph(after, "dump.ir")).toEqual(canonicalize.run(dlrmSmall(), { options: {}, diagnostics: [], produce, emit: () => {} }));
  });

  it("prints before and after the named passes, or after all", () => {
    const named = capture(dlrmSmall(), "canonicalize,dce{keep-weights=true}", { printBefore: ["dce"], printAfter: ["canonicalize", "dce"] });
    expect(headers(named.out)).toEqual([
      "// ----- IR after canonicalize -----",
      "// ----- IR before dce{keep-weights=true} -----",
      "// ----- IR after dce{keep-weights=true} -----",
    ]);
    const all = capture(dlrmSmall(), DEFAULT_PIPELINE, { printAfter: "all" });
    expect(headers(all.out)).toHaveLength(3);
    expect(rmcError(() => capture(dlrmSmall(), "dce", { printAfter: ["dcee"] })).message).toContain("unknown pass `dcee`: did you mean `dce`?");
  });

  it("prints the failing pass's input after a failure, when asked", () => {
    let out = "";
    rmcError(() => runPipeline(dlrmSmall(), "boom", registry(throws), { printAfterFailure: true, reproDir: tmp, out: (s) => (out += s) }));
    expect(headers(out)).toEqual(["// ----- IR before boom (the pass failed) -----"]);
    expect(parseGraph(out.slice(out.indexOf("\n") + 1), "dump.ir")).toEqual(dlrmSmall());
  });

  it("writes one numbered file per step to irDumpDir", () => {
    const dumpDir = join(tmp, "dumps");
    const { graph } = capture(dlrmSmall(), DEFAULT_PIPELINE, { irDumpDir: dumpDir });
    expect(readdirSync(dumpDir).sort()).toEqual(["00-input.ir", "01-canonicalize.ir", "02-infer-shapes.ir", "03-dce.ir"]);
    const read = (f: string) => parseGraph(readFileSync(join(dumpDir, f), "utf8"), f);
    expect(read("00-input.ir")).toEqual(dlrmSmall());
    expect(read("03-dce.ir")).toEqual(graph);
    expect(readdirSync(dumpDir).some((f) => f.includes(".tmp-"))).toBe(false);
  });

  it("times each pass and prints a table", () => {
    const r = registry();
    const report = runPipelineWithReport(dlrmSmall(), DEFAULT_PIPELINE, r, { timePasses: true, out: () => {} });
    expect(report.timings.map((t) => t.pass)).toEqual(["canonicalize", "infer-shapes", "dce"]);
    expect(report.timings.every((t) => t.ms >= 0)).toBe(true);
    const { out } = capture(dlrmSmall(), DEFAULT_PIPELINE, { timePasses: true }, r);
    const rows = out.split("\n");
    expect(rows[0]).toBe("// ----- pass timing -----");
    expect(rows[1]).toMatch(/^pass\s+ms\s+%$/);
    expect(rows.slice(2, 5).map((l) => l.split(/\s+/)[0])).toEqual(["canonicalize", "infer-shapes", "dce"]);
    expect(rows[5]).toMatch(/^total\s+[\d.]+\s+100\.0%$/);
    const shares = rows.slice(2, 5).map((l) => Number(l.split(/\s+/)[2]!.replace("%", "")));
    expect(Math.abs(shares.reduce((a, b) => a + b, 0) - 100)).toBeLessThan(0.5);
  });

  it("stops after the named pass or step number, and says where", () => {
    const r = registry();
    const byName = runPipelineWithReport(dlrmSmall(), DEFAULT_PIPELINE, r, { stopAfter: "infer-shapes", out: () => {} });
    expect(byName.timings.map((t) => t.pass)).toEqual(["canonicalize", "infer-shapes"]);
    expect(byName.stopped).toEqual({ step: 2, text: "infer-shapes", of: 3 });
    expect(runPipelineWithReport(dlrmSmall(), DEFAULT_PIPELINE, r, { stopAfter: 1, out: () => {} }).graph).toEqual(
      runPipelineWithReport(dlrmSmall(), "canonicalize", r, { out: () => {} }).graph,
    );
    const e = rmcError(() => runPipelineWithReport(dlrmSmall(), DEFAULT_PIPELINE, r, { stopAfter: 0, out: () => {} }));
    expect(e.diagnostics[0]!.code).toBe("E1270");
  });

  it("warns once when --print-ir-filter matches nothing", () => {
    const { out } = capture(dlrmSmall(), DEFAULT_PIPELINE, { printFilter: ["tpo"], printAfterChange: "diff" });
    expect(out.split("\n")[0]).toMatch(/^rmc: --print-ir-filter tpo matches no node or weight of @\S+ \(nodes: /);
  });

  it("does not write a reproducer for a user error", () => {
    const reproDir = join(tmp, "none");
    rmcError(() => capture(dlrmSmall(), "picky", { reproDir }, registry(userError)));
    expect(existsSync(join(reproDir, "rmc-repro-picky.ir"))).toBe(false);
  });
});
