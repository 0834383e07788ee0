// Front-end error reporting: a golden file of every fixture's formatted
// diagnostics (test/frontend/errors/*.rmdl, one mistake each), plus checks of
// the key properties (code, line, column, wording) that do not depend on the
// golden text. Regenerate the golden with UPDATE_GOLDEN=1 npx vitest run test/frontend.

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type Diagnostic, formatDiagnostics } from "../../src/diagnostics/index.js";
import { CODES, parseModel } from "../../src/frontend/index.js";
import { expectGolden } from "../golden.js";

const here = dirname(fileURLToPath(import.meta.url));
const fixtureDir = join(here, "errors");
const goldenPath = join(here, "errors.golden.txt");
const fixtures = readdirSync(fixtureDir)
  .filter((f) => f.endsWith(".rmdl"))
  .sort();

function run(name: string): { text: string; diagnostics: Diagnostic[]; graph: unknown } {
  const text = readFileSync(join(fixtureDir, name), "utf8");
  const { graph, diagnostics } = parseModel(text, name);
  return { text, diagnostics, graph };
}

/** The one diagnostic of a single-mistake fixture. */
function only(name: string): Diagnostic {
  const { diagnostics } = run(name);
  expect(diagnostics.map((d) => `${d.code} ${d.message}`)).toHaveLength(1);
  return diagnostics[0]!;
}

const at = (d: Diagnostic) => [d.code, d.span?.line, d.span?.col];

describe("error golden file", () => {
  it("matches the formatted diagnostics of every fixture", () => {
    const actual = fixtures
      .map((name) => {
        const { text, diagnostics } = run(name);
        return `=== ${name} ===\n${formatDiagnostics(diagnostics, () => text)}\n`;
      })
      .join("\n");
    expectGolden(actual, goldenPath);
  });

  it("covers many kinds of mistakes, each fixture failing with an error or a warning", () => {
    const codes = new Set<string>();
    for (const name of fixtures) {
      const { diagnostics, graph } = run(name);
      expect(diagnostics.length, name).toBeGreaterThan(0);
      const errors = diagnostics.filter((d) => d.severity === "error");
      expect(graph === undefined, name).toBe(errors.length > 0);
      for (const d of diagnostics) {
        codes.add(d.code);
        expect(d.span?.file, name).toBe(name);
        expect(d.span!.line, name).toBeGreaterThan(0);
      }
    }
    expect(codes.size).toBeGreaterThanOrEqual(30);
  });
});

describe("errors by code and location", () => {
  it("reports three different mistakes in one file as three located errors", () => {
    const { diagnostics } = run("three_mistakes.rmdl");
    expect(diagnostics.map(at)).toEqual([
      [CODES.badEnum, 5, 41],
      [CODES.undefinedName, 6, 16],
      [CODES.unknownKeyword, 9, 40],
    ]);
    expect(diagnostics[0]!.hint).toContain("`sum`");
    expect(diagnostics[1]!.hint).toContain("`dense`");
  });

  it("phrases syntax errors in the language's terms", () => {
    const comma = only("syntax_missing_comma.rmdl");
    expect(at(comma)).toEqual([CODES.syntax, 6, 27]);
    expect(comma.message).toBe("expected `,` or `]` after a layer size, found the number 8");
    expect(only("syntax_empty_list.rmdl").message).toBe("expected a layer size or `]`, found `}`");
    const paren = only("syntax_missing_paren.rmdl");
    // The missing `)` is pointed at the end of its own line, not at the next statement.
    expect(at(paren)).toEqual([CODES.syntax, 8, 39]);
    expect(paren.message).toContain("found `top` on line 9");
    expect(only("syntax_missing_value.rmdl").message).toContain("expected a value after `=`");
    expect(only("syntax_keyword_typo.rmdl").hint).toBe("did you mean `input`?");
  });

  it("reports lexing errors once, with a hint for habits from other languages", () => {
    expect(at(only("unexpected_char.rmdl"))).toEqual([CODES.unexpectedChar, 6, 12]);
    expect(only("unclosed_comment.rmdl").message).toContain("never closed");
    const semi = parseModel("model m {\n  input x: f32[2]\n  output y = relu(x);\n}\n", "semi.rmdl").diagnostics;
    expect(semi.map(at)).toEqual([[CODES.unexpectedChar, 3, 21]]);
    expect(semi[0]!.hint).toContain("remove the `;`");
  });

  it("suggests the nearest name for unknown ops, names, keywords, enums, types and annotations", () => {
    const cases: Array<[string, string, string]> = [
      ["unknown_op.rmdl", CODES.unknownOp, "`linear`"],
      ["undefined_name.rmdl", CODES.undefinedName, "`dense`"],
      ["unknown_keyword.rmdl", CODES.unknownKeyword, "`final`"],
      ["bad_enum.rmdl", CODES.badEnum, "`sigmoid`"],
      ["unknown_type.rmdl", CODES.unknownType, "`f32`"],
      ["unknown_annotation.rmdl", CODES.unknownAnnotation, "`precision`"],
      ["unknown_table_kind.rmdl", CODES.unknownOp, "`embedding`"],
    ];
    for (const [file, code, suggestion] of cases) {
      const d = only(file);
      expect(d.code, file).toBe(code);
      expect(d.hint, file).toBe(`did you mean ${suggestion}?`);
    }
  });

  it("names both shapes in a shape mismatch and both counts in a count mismatch", () => {
    const shape = only("shape_mismatch.rmdl");
    expect(at(shape)).toEqual([CODES.shapeMismatch, 8, 7]);
    expect(shape.message).toContain("f32[B,12]");
    expect(shape.message).toContain("f32[B,4,8]");
    const count = only("count_mismatch.rmdl");
    expect(count.code).toBe(CODES.countMismatch);
    expect(count.message).toContain("4 tables");
    expect(count.message).toContain("5 bag features");
    expect(only("flatten_needed.rmdl").hint).toContain("flatten");
  });

  it("checks sizes, indices and row lists", () => {
    const index = only("index_out_of_range.rmdl");
    expect(at(index)).toEqual([CODES.indexOutOfRange, 7, 41]);
    expect(index.message).toContain("4 bag features (0..3)");
    expect(at(only("rows_length.rmdl"))).toEqual([CODES.rowsLength, 5, 41]);
    expect(only("single_table_rows_list.rmdl").code).toBe(CODES.rowsLength);
    expect(at(only("not_positive.rmdl"))).toEqual([CODES.notPositive, 5, 32]);
    expect(only("decimal_size.rmdl").message).toContain("whole number, got 16.5");
  });

  it("tells tables, values and bags apart", () => {
    expect(only("table_as_value.rmdl").code).toBe(CODES.tableAsValue);
    expect(only("value_as_table.rmdl").code).toBe(CODES.valueAsTable);
    expect(only("bags_as_value.rmdl").code).toBe(CODES.bagsAsValue);
    expect(only("value_as_bags.rmdl").code).toBe(CODES.valueAsBags);
  });

  it("checks argument lists", () => {
    expect(at(only("missing_argument.rmdl"))).toEqual([CODES.missingArgument, 9, 17]);
    expect(at(only("too_many_positional.rmdl"))).toEqual([CODES.tooManyPositional, 9, 24]);
    expect(only("positional_after_keyword.rmdl").code).toBe(CODES.tooManyPositional);
    expect(only("too_few_inputs.rmdl").code).toBe(CODES.tooFewPositional);
    expect(only("duplicate_argument.rmdl").code).toBe(CODES.duplicateArgument);
    expect(only("wrong_kind_int.rmdl").code).toBe(CODES.wrongKind);
    expect(only("wrong_kind_list.rmdl").hint).toBe("for one layer write [8]");
    expect(only("wrong_kind_value.rmdl").code).toBe(CODES.wrongKind);
  });

  it("checks precision pins", () => {
    expect(at(only("unknown_precision.rmdl"))).toEqual([CODES.unknownPrecision, 9, 14]);
    expect(at(only("misplaced_pin.rmdl"))).toEqual([CODES.misplacedPin, 4, 3]);
    expect(only("trailing_pin.rmdl").code).toBe(CODES.misplacedPin);
    expect(only("table_precision_on_layer.rmdl").code).toBe(CODES.pinConflict);
    // A precision no kernel has for that kind is refused at once, not when the model first runs.
    const bf16Table = only("layer_precision_on_table.rmdl");
    expect(at(bf16Table)).toEqual([CODES.pinConflict, 5, 3]);
    expect(bf16Table.message).toContain("`bf16` is a precision for dense layers, not embedding tables");
    const int8Cross = only("int8_cross.rmdl");
    expect(at(int8Cross)).toEqual([CODES.pinConflict, 4, 3]);
    expect(int8Cross.hint).toContain("cross layers take fp32, fp16 or bf16");
    expect(at(only("pinned_twice.rmdl"))).toEqual([CODES.pinConflict, 10, 3]);
  });

  it("checks names and the model's structure", () => {
    const dup = only("duplicate_definition.rmdl");
    expect(at(dup)).toEqual([CODES.duplicateDefinition, 8, 3]);
    expect(dup.hint).toContain("duplicate_definition.rmdl:7:3");
    expect(only("used_before_definition.rmdl").message).toBe("`bottom` is used before its definition on line 8");
    expect(at(only("no_outputs.rmdl"))).toEqual([CODES.noOutputs, 2, 7]);
    expect(at(only("duplicate_output.rmdl"))).toEqual([CODES.duplicateOutput, 11, 10]);
    expect(at(only("two_models.rmdl"))).toEqual([CODES.manyModels, 13, 7]);
    expect(only("no_model.rmdl").code).toBe(CODES.noModel);
  });

  it("warns about unused inputs and values without failing", () => {
    const { diagnostics, graph } = run("unused.rmdl");
    expect(graph).toBeDefined();
    expect(diagnostics.map((d) => [d.severity, ...at(d)])).toEqual([
      ["warning", CODES.unusedInput, 4, 9],
      ["warning", CODES.unusedValue, 11, 3],
    ]);
  });
});

describe("robustness", () => {
  it("never throws, and reports located errors, on every prefix of a model", () => {
    const text = readFileSync(join(here, "../../examples/multitask.rmdl"), "utf8");
    // Every proper prefix of the model text (the whole text minus trailing whitespace is valid).
    for (let n = 0; n < text.trimEnd().length; n += 3) {
      const prefix = text.slice(0, n);
      const { graph, diagnostics } = parseModel(prefix, "cut.rmdl");
      expect(graph, `prefix ${n}`).toBeUndefined();
      const errors = diagnostics.filter((d) => d.severity === "error");
      expect(errors.length, `prefix ${n}`).toBeGreaterThan(0);
      for (const d of errors) expect(d.span!.line, `prefix ${n}: ${d.message}`).toBeGreaterThan(0);
    }
  });

  it("does not cascade: one broken statement gives one error, and later uses of its name stay quiet", () => {
    const src = ["model m {", "  input x: f32[4]", "  h = mlp(x, [8 4])", "  g = relu(h)", "  output y = g", "}"].join("\n");
    const { diagnostics } = parseModel(src, "m.rmdl");
    expect(diagnostics.map(at)).toEqual([[CODES.syntax, 3, 17]]);
  });
});
