// Every bundled example, end to end through the stages that exist: it parses
// without diagnostics, verifies, round-trips through the textual IR before and
// after the default pipeline, matches its golden final IR (UPDATE_GOLDEN=1
// regenerates), and runs in the reference interpreter on synthetic rows, with
// lazily generated tables so the full-size models never materialise them.

import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseModel } from "../../src/frontend/index.js";
import { printGraph } from "../../src/ir/print.js";
import { parseGraph } from "../../src/ir/parse.js";
import { verifyGraph } from "../../src/ir/verify.js";
import { runPipeline, DEFAULT_PIPELINE } from "../../src/pipeline/index.js";
import { createPassRegistry } from "../../passes/index.js";
import { interpret } from "../../src/interp/interpreter.js";
import { initWeights } from "../../src/weights/init.js";
import { dataSchema } from "../../src/data/schema.js";
import { InputSampler, rawToBatch } from "../../src/data/synth.js";
import { Rng } from "../../src/util/rng.js";
import type { Graph } from "../../src/ir/types.js";
import { expectGolden } from "../golden.js";

const EXAMPLES = join(import.meta.dirname, "../../examples");
const GOLDEN = join(import.meta.dirname, "golden");
const files = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith(".rmdl"))
  .sort();

function load(file: string): Graph {
  const path = `examples/${file}`;
  const { graph, diagnostics } = parseModel(readFileSync(join(EXAMPLES, file), "utf8"), path);
  expect(diagnostics).toEqual([]);
  return graph!;
}

const canonical = (g: Graph): Graph => runPipeline(g, DEFAULT_PIPELINE, createPassRegistry(), { out: () => {} });

describe.each(files)("example %s", (file) => {
  it("verifies and round-trips through the textual IR, before and after the default pipeline", () => {
    const g = load(file);
    expect(verifyGraph(g)).toEqual([]);
    expect(parseGraph(printGraph(g), "rt.ir")).toEqual(g);
    const c = canonical(g);
    expect(verifyGraph(c)).toEqual([]);
    expect(parseGraph(printGraph(c), "rt.ir")).toEqual(c);
    expect(c.nodes.some((n) => n.op === "mlp" || n.op === "cross")).toBe(false);
  });

  it("matches its golden IR after the default pipeline", () => {
    const actual = `// ${DEFAULT_PIPELINE}\n${printGraph(canonical(load(file)))}`;
    expectGolden(actual, join(GOLDEN, `${basename(file, ".rmdl")}.ir`));
  });

  it("runs in the interpreter, giving identical outputs before and after canonicalization", () => {
    const g = load(file);
    const weights = initWeights(g, { seed: 3, dist: "trained" });
    const schema = dataSchema(g);
    const batch = rawToBatch(schema, new InputSampler(schema, { idsPerBag: [0, 3] }).sample(new Rng(11), 4));
    const before = interpret(g, weights, batch).outputs;
    const after = interpret(canonical(g), weights, batch).outputs;
    for (const o of g.outputs) {
      expect(before[o.name]!.length).toBe(4);
      for (const p of before[o.name]!) expect(p > 0 && p < 1).toBe(true);
      expect(after[o.name]).toEqual(before[o.name]);
    }
  });
});
