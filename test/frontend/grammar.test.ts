// The grammar itself: chevrotain's grammar validations (skipped at run time
// for start-up speed) pass, src/frontend/cst.ts matches the grammar it is
// generated from, the lexer's keywords do not swallow longer names, and
// docs/language.md documents every diagnostic code.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateCstDts } from "chevrotain";
import { describe, expect, it } from "vitest";
import { CODES as CODE_TABLE } from "../../src/diagnostics/index.js";
import { CODES } from "../../src/frontend/codes.js";
import { lex } from "../../src/frontend/lexer.js";
import { parser, RmdlParser } from "../../src/frontend/parser.js";
import { expectGolden } from "../golden.js";

// chevrotain's grammar checks and CST generator call Object.groupBy (Node 21+);
// Node 20 gets a minimal one, in this test process only.
const O = Object as unknown as { groupBy?: unknown };
if (typeof O.groupBy !== "function")
  O.groupBy = <T>(items: Iterable<T>, key: (x: T, i: number) => PropertyKey) => {
    const out: Record<PropertyKey, T[]> = Object.create(null);
    let i = 0;
    for (const x of items) (out[key(x, i++)] ??= []).push(x);
    return out;
  };

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const CST_HEADER = [
  "// Front end: the shapes of the CST nodes the grammar in parser.ts builds.",
  "// GENERATED from the grammar by chevrotain's generateCstDts; do not edit by hand.",
  "// test/frontend/grammar.test.ts checks it is current; regenerate with",
  "// UPDATE_GOLDEN=1 npx vitest run test/frontend",
  "",
].join("\n");

describe("grammar", () => {
  it("passes chevrotain's grammar validations (no ambiguity, no left recursion)", () => {
    // chevrotain throws "Parser Definition Errors detected" from the constructor when a check fails.
    expect(() => new RmdlParser(true)).not.toThrow();
  });

  it("src/frontend/cst.ts is generated from the current grammar", () => {
    const expected = `${CST_HEADER}\n${generateCstDts(parser.getGAstProductions(), { includeVisitorInterface: false })}`.trimEnd() + "\n";
    expectGolden(expected, join(root, "src/frontend/cst.ts"));
  });
});

describe("lexer", () => {
  const kinds = (text: string) => lex(text, "l.rmdl").tokens.map((t) => `${t.tokenType.name}:${t.image}`);

  it("lexes keywords, and names that merely begin with one", () => {
    expect(kinds("model modelx input inputs true trueish table_1")).toEqual([
      "Model:model",
      "Ident:modelx",
      "Input:input",
      "Ident:inputs",
      "True:true",
      "Ident:trueish",
      "Ident:table_1",
    ]);
  });

  it("lexes signed and decimal numbers, and drops comments", () => {
    expect(kinds("-4 16 0.5 // x\n /* y\n */ 1e3")).toEqual(["NumberLit:-4", "NumberLit:16", "NumberLit:0.5", "NumberLit:1e3"]);
  });

  it("reports each run of unknown characters once, located", () => {
    const { diagnostics } = lex("a = $$ b\n  #c", "l.rmdl");
    expect(diagnostics.map((d) => [d.code, d.span!.line, d.span!.col, d.span!.endCol])).toEqual([
      [CODES.unexpectedChar, 1, 5, 7],
      [CODES.unexpectedChar, 2, 3, 4],
    ]);
    expect(diagnostics[1]!.hint).toContain("//");
  });
});

describe("documentation", () => {
  // docs/language.md's table is generated from the code table (test/diagnostics/codes.test.ts).
  it("every front-end code is a front-end entry of the code table", () => {
    for (const code of Object.values(CODES)) expect(CODE_TABLE[code].stage, code).toBe("frontend");
  });
});
