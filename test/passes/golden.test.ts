// Golden-file tests for the built-in passes. Each test/passes/*.ir file holds
// cases separated by `// -----`; a case is input IR, a `// CHECK:` line, and
// the expected output (printed IR, or the diagnostics as `//` lines when the
// pipeline fails). `// RUN: <pipeline>` on the first line applies to the whole
// file; a case may carry its own RUN line. UPDATE_GOLDEN=1 rewrites the
// expected parts from the actual output (test/golden.ts, shared by every
// golden test).

import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { RmcError, formatDiagnostic } from "../../src/diagnostics/index.js";
import { parseGraph } from "../../src/ir/parse.js";
import { printGraph } from "../../src/ir/print.js";
import { runPipeline } from "../../src/pipeline/index.js";
import { compilerRegistry } from "../../src/driver/index.js";
import { UPDATE_GOLDEN, updateCommand, writeGolden } from "../golden.js";

const DIR = join(import.meta.dirname, ".");
const SEPARATOR = "// -----";
const CHECK = "// CHECK:";
const RUN = /^\/\/ RUN:\s*(.*)$/m;

interface Case {
  /** Everything up to and including the CHECK line, verbatim. */
  head: string;
  input: string;
  expected: string;
  /** Line (0-based) in the file where the case starts, so loc-less lines keep their file position. */
  startLine: number;
}

function splitCases(text: string): Case[] {
  const cases: Case[] = [];
  let startLine = 0;
  for (const chunk of text.split(`${SEPARATOR}\n`)) {
    const at = chunk.indexOf(`${CHECK}\n`);
    if (at < 0) throw new Error(`a case starting at line ${startLine + 1} has no ${CHECK} line`);
    const input = chunk.slice(0, at);
    cases.push({ head: chunk.slice(0, at + CHECK.length + 1), input, expected: chunk.slice(at + CHECK.length + 1), startLine });
    startLine += chunk.split("\n").length - 1 + 1;
  }
  return cases;
}

/** What a case produces: the printed result, or the diagnostics as comment lines. */
function runCase(file: string, pipeline: string, c: Case): string {
  const lines: string[] = [];
  try {
    const g = parseGraph("\n".repeat(c.startLine) + c.input, file);
    const out = runPipeline(g, pipeline, compilerRegistry(), { out: (s) => lines.push(s) });
    return printGraph(out) + lines.join("");
  } catch (e) {
    if (!(e instanceof RmcError)) throw e;
    return e.diagnostics.map((d) => formatDiagnostic(d).replace(/^/gm, "// ")).join("\n") + "\n";
  }
}

const files = readdirSync(DIR)
  .filter((f) => f.endsWith(".ir"))
  .sort();

describe.each(files)("golden %s", (name) => {
  const path = join(DIR, name);
  const file = relative(process.cwd(), path);
  const text = readFileSync(path, "utf8");
  const filePipeline = RUN.exec(text)?.[1];
  const cases = splitCases(text);
  const actual = cases.map((c) => runCase(file, RUN.exec(c.input)?.[1] ?? filePipeline ?? "", c));

  if (UPDATE_GOLDEN) writeGolden(path, cases.map((c, i) => `${c.head}${actual[i]}${i < cases.length - 1 ? "\n" : ""}`).join(`${SEPARATOR}\n`));

  it("has a RUN line", () => expect(filePipeline).toBeDefined());
  it.each(cases.map((c, i) => [i + 1, c] as const))("case %i", (i, c) => {
    const expected = UPDATE_GOLDEN ? actual[i - 1]! : c.expected;
    expect(actual[i - 1]!.trimEnd(), `${file}, case ${i}: if the change is intended, run \`${updateCommand()}\` and review the diff`).toBe(
      expected.trimEnd(),
    );
  });
});
