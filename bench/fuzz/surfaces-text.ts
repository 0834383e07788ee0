// Fuzzing harness (bench/fuzz): the text surfaces — the .rmdl front end
// (parse, lower, verify, as `rmc check` does), the textual IR parser, and
// precision plan JSON. Seeds are the real models in examples/ and bench/ and
// the plan `rmc precision` wrote for one of them.

import fc from "fast-check";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RmcError, hasErrors } from "../../src/diagnostics/index.js";
import { parseModel } from "../../src/frontend/index.js";
import { parseGraph } from "../../src/ir/parse.js";
import { printGraph } from "../../src/ir/print.js";
import type { Graph } from "../../src/ir/types.js";
import { verifyGraph } from "../../src/ir/verify.js";
import { readPlan } from "../../src/precision/plan.js";
import type { Surface } from "./harness.js";
import { mutatedJson, mutatedText } from "./mutate.js";

/** The .rmdl sources of examples/ and the bench model. */
export const MODEL_SOURCES: readonly string[] = [
  ...readdirSync("examples")
    .filter((f) => f.endsWith(".rmdl"))
    .map((f) => readFileSync(join("examples", f), "utf8")),
  readFileSync("bench/dlrm_kaggle_100k.rmdl", "utf8"),
];

const DSL_TOKENS = [
  "model",
  "input",
  "table",
  "output",
  "embedding",
  "embedding_bag",
  "mlp",
  "concat",
  "dot",
  "interact",
  "f32",
  "bags",
  "ids",
  "clamp",
  "modulo",
  "error",
  "dim",
  "rows",
  "act",
  "relu",
  "sigmoid",
  "final",
  "{",
  "}",
  "(",
  ")",
  "[",
  "]",
  ",",
  ":",
  "=",
  ".",
  "\n",
  "//",
  "/*",
  "*/",
  '"',
  "@",
  "#",
  "\t",
  "\u0000",
  "\uFEFF",
  "é",
  "((((((((((",
  "[[[[[[[[",
  "x".repeat(300),
];

/** Crafted extremes: deep nesting, long names, many models, an empty file. */
const DSL_EXTREMES = fc.constantFrom(
  "",
  "model m {}",
  `model m { input d: f32[3]\n output o = ${"(".repeat(5000)}d${")".repeat(5000)} }`,
  `model ${"n".repeat(100_000)} { }`,
  "model a { }\nmodel b { }",
  `model m { input d: f32[99999999999] output o = d }`,
  `model m { input d: f32[3]\n${Array.from({ length: 3000 }, (_, i) => `x${i} = mlp(d, [1])`).join("\n")}\n output o = d }`,
  "/* never closed",
);

/** Front-end problems come back as diagnostics; as a surface they are thrown, so the harness can check their codes. */
function checkModel(text: string, file = "fuzz.rmdl"): Graph | undefined {
  const { graph, diagnostics } = parseModel(text, file);
  if (hasErrors(diagnostics)) {
    if (graph) throw new Error("the front end returned a graph together with errors");
    throw new RmcError(diagnostics.filter((d) => d.severity === "error"));
  }
  if (!graph) throw new Error("the front end returned neither a graph nor an error");
  return graph;
}

export const dslSurface: Surface<string> = {
  name: "dsl (parse, lower, verify)",
  located: true,
  arb: () => fc.oneof({ weight: 9, arbitrary: mutatedText(MODEL_SOURCES, DSL_TOKENS) }, { weight: 1, arbitrary: DSL_EXTREMES }),
  run(text) {
    const graph = checkModel(text)!;
    const problems = verifyGraph(graph).filter((d) => d.severity === "error");
    // A graph the front end accepted must verify, and must survive a round trip through the IR text.
    if (problems.length > 0) return { wrong: `front end accepted a graph the verifier refuses: ${problems[0]!.message}` };
    const again = printGraph(parseGraph(printGraph(graph), "roundtrip.ir"));
    if (again !== printGraph(graph)) return { wrong: "printed IR does not parse back to the same graph" };
  },
};

const IR_SEEDS = MODEL_SOURCES.map((s) => printGraph(checkModel(s)!));
const IR_TOKENS = [
  "%",
  "@",
  "=",
  "(",
  ")",
  "{",
  "}",
  "[",
  "]",
  ",",
  ":",
  '"',
  "loc(",
  "f32",
  "i32",
  "bags",
  "graph",
  "input",
  "output",
  "\\u0000",
  "nan",
  "inf",
  "-",
  "\n",
  "#",
];

export const irSurface: Surface<string> = {
  name: "ir text (parse, verify)",
  located: true,
  arb: () =>
    fc.oneof(
      { weight: 9, arbitrary: mutatedText(IR_SEEDS, IR_TOKENS) },
      { weight: 1, arbitrary: fc.constantFrom("", "graph", "graph g {", "[".repeat(100_000), `"${"\\".repeat(10_001)}`) },
    ),
  run(text) {
    const g = parseGraph(text, "fuzz.ir");
    const problems = verifyGraph(g).filter((d) => d.severity === "error");
    if (problems.length > 0) throw new RmcError(problems);
  },
};

/** The bench plan, less its decisions on MLP layers (they name layers of the lowered graph, not of the parsed one). */
const PLAN_SEED = ((p) => ({ ...p, decisions: p.decisions.filter((d: { unit: string }) => !/^(bottom|top)\./.test(d.unit)) }))(
  JSON.parse(readFileSync("bench/dlrm_kaggle_100k.auto-plan.json", "utf8")),
);
const PLAN_SOURCE = JSON.stringify(PLAN_SEED, null, 1);
const PLAN_GRAPH = checkModel(readFileSync("bench/dlrm_kaggle_100k.rmdl", "utf8"))!;
let planDir: string | undefined;

export const planSurface: Surface<string> = {
  name: "precision plan JSON",
  arb: () =>
    fc.oneof(
      mutatedJson(PLAN_SEED).map((x) => JSON.stringify(x) ?? ""),
      mutatedText([PLAN_SOURCE], ['"', "{", "}", "[", "]", ",", ":", "null", "\\u0000", "[".repeat(200)], 2),
    ),
  run(text) {
    planDir ??= mkdtempSync(join(tmpdir(), "rmc-fuzz-plan-"));
    const path = join(planDir, "plan.json");
    writeFileSync(path, text);
    readPlan(path, PLAN_GRAPH);
  },
};
