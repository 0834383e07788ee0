// Unit tests for the built-in passes beyond the golden files: identity when
// there is nothing to do, purity (the input is never modified), and the
// cases the pipeline's input verification keeps away from the goldens.

import { produce } from "immer";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { canonicalize } from "../../passes/canonicalize.js";
import { dce } from "../../passes/dce.js";
import { BUILTIN_PASSES, createPassRegistry } from "../../passes/index.js";
import { BUILTIN_BACKENDS } from "../../backends/index.js";
import { compilerRegistry } from "../../src/driver/index.js";
import { inferShapes } from "../../passes/infer-shapes.js";
import { parseModel } from "../../src/frontend/index.js";
import { runPipeline } from "../../src/pipeline/index.js";
import { RmcError } from "../../src/diagnostics/index.js";
import type { Graph } from "../../src/ir/types.js";
import { verifyGraph } from "../../src/ir/verify.js";
import type { OptionValue, Pass } from "../../src/pipeline/pass.js";
import { allOps, dlrmSmall, f32 } from "../ir/graphs.js";

function run<O extends Record<string, OptionValue>>(pass: Pass<O>, g: Graph, options: O = {} as O): Graph {
  return pass.run(g, { options, diagnostics: [], produce, emit: () => {} });
}

describe("built-in passes", () => {
  it("are registered under their file names, one per file", () => {
    expect(BUILTIN_PASSES.map((p) => p.name)).toEqual([
      "canonicalize",
      "infer-shapes",
      "dce",
      "assign-precision",
      "place-tables",
      "split-tables",
      "fuse-epilogue",
      "fuse-bags",
      "fuse-interaction",
      "fold-quant",
    ]);
    for (const p of BUILTIN_PASSES) expect(existsSync(join(import.meta.dirname, "../../passes", `${p.name}.ts`)), p.name).toBe(true);
  });

  it("a target's own passes live with its backend and join the compiler's registry under the target's name", () => {
    for (const [name, b] of BUILTIN_BACKENDS)
      for (const p of b.passes) {
        expect(existsSync(join(import.meta.dirname, "../../backends", name, `${p.name}.ts`)), p.name).toBe(true);
        expect(compilerRegistry().source(p.name)).toBe(`target ${name}`);
        expect(createPassRegistry().get(p.name)).toBeUndefined();
      }
    expect(BUILTIN_BACKENDS.get("wasm")!.passes.map((p) => p.name)).toEqual(["plan-memory"]);
  });

  it("return the very same object when there is nothing to do", () => {
    const g = run(canonicalize, dlrmSmall());
    expect(run(canonicalize, g)).toBe(g);
    expect(run(inferShapes, g)).toBe(g);
    expect(run(dce, g, { keepWeights: false })).toBe(g);
  });

  it("never modify their input", () => {
    const g = allOps();
    const before = structuredClone(g);
    const defaults = (pass: Pass) => Object.fromEntries(Object.entries(pass.options).map(([k, o]) => [k, o.default]));
    for (const pass of BUILTIN_PASSES) run(pass as Pass, run(canonicalize, g), defaults(pass as Pass));
    // assign-precision and plan-memory need canonical IR (plan-memory schedules Wasm kernels).
    for (const pass of BUILTIN_PASSES.filter((p) => p.name !== "assign-precision" && p.name !== "plan-memory"))
      run(pass as Pass, g, defaults(pass as Pass));
    expect(g).toEqual(before);
  });

  it("canonicalize leaves no composite op and keeps the graph valid", () => {
    const g = run(canonicalize, allOps());
    expect(g.nodes.filter((n) => n.op === "mlp" || n.op === "cross")).toEqual([]);
    expect(verifyGraph(g)).toEqual([]);
    // The mlp's users and the graph outputs still read the same ids.
    expect(g.nodes.find((n) => n.id === "z")!.inputs).toEqual(["%m", "%pooled", "%single"]);
    expect(g.nodes.find((n) => n.id === "m")!.op).toBe("linear");
  });

  it("infer-shapes replaces stale types", () => {
    const stale = produce(dlrmSmall(), (d) => {
      d.nodes.find((n) => n.id === "z")!.type = f32("B", 99);
    });
    expect(run(inferShapes, stale).nodes.find((n) => n.id === "z")!.type).toEqual(f32("B", 7));
  });

  it("infer-shapes types nodes listed out of order, and reports cycles", () => {
    const shuffled = produce(dlrmSmall(), (d) => {
      d.nodes.reverse();
      for (const n of d.nodes) n.type = null;
    });
    const typed = run(inferShapes, shuffled);
    expect(Object.fromEntries(typed.nodes.map((n) => [n.id, n.type]))).toEqual({
      top: f32("B", 1),
      z: f32("B", 7),
      pooled: f32("B", 2, 4),
      bottom: f32("B", 4),
    });
    const cyclic = produce(dlrmSmall(), (d) => {
      d.nodes[0]!.inputs[0] = "%top";
    });
    expect(() => run(inferShapes, cyclic)).toThrow(RmcError);
  });

  it("infer-shapes reports an unknown op by name", () => {
    const g = produce(dlrmSmall(), (d) => {
      d.nodes[2]!.op = "interactt";
    });
    expect(() => run(inferShapes, g)).toThrow(/%z: unknown op `interactt`/);
  });
});

describe("canonicalize's names (docs/language.md: mlp, cross)", () => {
  const ids = (src: string): string[] => {
    const g = parseModel(src, "names.rmdl").graph!;
    return runPipeline(g, "canonicalize", createPassRegistry(), { out: () => {} }).nodes.map((n) => n.id);
  };
  const model = (stmt: string) => `model m {\n  input x: f32[6]\n  ${stmt}\n  output y = top\n}`;

  it("the last node of an mlp takes its id: the final activation's, or with final: none the last linear's", () => {
    expect(ids(model("top = mlp(x, [4, 3, 1], final: sigmoid)"))).toEqual(["top.0", "top.0.relu", "top.1", "top.1.relu", "top.2", "top"]);
    expect(ids(model("top = mlp(x, [4, 3, 1], final: none)"))).toEqual(["top.0", "top.0.relu", "top.1", "top.1.relu", "top"]);
  });

  it("the last layer of a cross takes its id", () => {
    expect(ids(model("top = cross(x, layers: 3)"))).toEqual(["top.0", "top.1", "top"]);
  });
});
