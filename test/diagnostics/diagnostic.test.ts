// The shared diagnostic helpers: suggestions (edit distance with swaps) and
// the rendered form users see (location, source line, caret, hint).

import { describe, expect, it } from "vitest";
import { didYouMean, editDistance, formatDiagnostic, formatDiagnostics, error } from "../../src/diagnostics/index.js";

describe("suggestions", () => {
  it("counts a swap of neighbouring letters as one edit", () => {
    expect(editDistance("dce", "dec")).toBe(1);
    expect(editDistance("f23", "f32")).toBe(1);
    expect(editDistance("relu", "rleu")).toBe(1);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
  });

  it("suggests only plausible typos", () => {
    expect(didYouMean("dec", ["dce", "canonicalize"])).toBe("did you mean `dce`?");
    expect(didYouMean("sigmiod", ["relu", "sigmoid", "tanh"])).toBe("did you mean `sigmoid`?");
    expect(didYouMean("softmax", ["relu", "sigmoid", "tanh"])).toBeUndefined();
  });
});

describe("rendering", () => {
  const src = "model m {\n  h = rleu(x)\n}\n";
  const span = { file: "m.rmdl", line: 2, col: 7, endLine: 2, endCol: 11 };

  it("shows file:line:col, the line, a caret under the span and the hint", () => {
    const text = formatDiagnostic(error("E0202", "unknown op `rleu`", span, "did you mean `relu`?"), () => src);
    expect(text).toBe(
      ["m.rmdl:2:7: error E0202: unknown op `rleu`", "2 |   h = rleu(x)", "  |       ^~~~", "  hint: did you mean `relu`?"].join("\n"),
    );
  });

  it("sorts by position and counts errors and warnings", () => {
    const text = formatDiagnostics([
      error("E0102", "second", { ...span, line: 3, col: 1 }),
      { ...error("W0210", "first", span), severity: "warning" },
    ]);
    expect(text.indexOf("first")).toBeLessThan(text.indexOf("second"));
    expect(text.endsWith("1 error, 1 warning")).toBe(true);
  });
});
