// The line diff behind --print-ir-after-change and the report's step diffs:
// its edit script turns a into b, is as short as the longest common
// subsequence allows (checked against a dynamic-programming LCS), and its
// unified form numbers hunks as diff(1) does.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { diffLines, unifiedDiff } from "../../src/util/diff.js";

/** Length of a longest common subsequence, by the textbook table (independent of Myers). */
function lcs(a: readonly string[], b: readonly string[]): number {
  const t = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) t[i]![j] = a[i - 1] === b[j - 1] ? t[i - 1]![j - 1]! + 1 : Math.max(t[i - 1]![j]!, t[i]![j - 1]!);
  return t[a.length]![b.length]!;
}

describe("diffLines", () => {
  it("gives a shortest edit script that turns a into b", () => {
    const lines = fc.array(fc.constantFrom("x", "y", "z", "w"), { maxLength: 14 });
    fc.assert(
      fc.property(lines, lines, (a, b) => {
        const script = diffLines(a, b);
        expect(script.filter((l) => l.kind !== "+").map((l) => l.text)).toEqual(a);
        expect(script.filter((l) => l.kind !== "-").map((l) => l.text)).toEqual(b);
        expect(script.filter((l) => l.kind === " ").length).toBe(lcs(a, b));
      }),
      { numRuns: 400 },
    );
  });
});

describe("diffLines on rewritten dumps", () => {
  it("falls back past maxEdits to replacing the middle, keeping the common first and last lines", () => {
    const a = ["head", ...Array.from({ length: 50 }, (_, i) => `a${i}`), "tail"];
    const b = ["head", ...Array.from({ length: 50 }, (_, i) => `b${i}`), "tail"];
    const capped = diffLines(a, b, 10);
    expect(capped.map((l) => l.kind).join("")).toBe(` ${"-".repeat(50)}${"+".repeat(50)} `);
    expect(diffLines(a, b)).toEqual(capped); // 100 edits is also the shortest script here
  });

  it("diffs 20,000-line dumps with scattered changes quickly", () => {
    const a = Array.from({ length: 20_000 }, (_, i) => `  %n${i} = relu(%n${i - 1})`);
    const b = a.map((l, i) => (i % 1000 === 7 ? `${l} {act=relu}` : l));
    const t0 = performance.now();
    const script = diffLines(a, b);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(script.filter((l) => l.kind === "+").length).toBe(20);
    expect(script.filter((l) => l.kind === "-").length).toBe(20);
  });
});

describe("unifiedDiff", () => {
  const a = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`);
  it("is empty for equal texts", () => expect(unifiedDiff("a\nb\n", "a\nb\n", { a: "x", b: "y" })).toBe(""));

  it("numbers hunks with three lines of context, splitting far-apart changes", () => {
    const b = [...a];
    b[1] = "changed 2";
    b.splice(15, 1);
    const d = unifiedDiff(a.join("\n") + "\n", b.join("\n") + "\n", { a: "before p", b: "after p" });
    expect(d.split("\n")).toEqual([
      "--- before p",
      "+++ after p",
      "@@ -1,5 +1,5 @@",
      " line 1",
      "-line 2",
      "+changed 2",
      " line 3",
      " line 4",
      " line 5",
      "@@ -13,7 +13,6 @@",
      " line 13",
      " line 14",
      " line 15",
      "-line 16",
      " line 17",
      " line 18",
      " line 19",
      "",
    ]);
  });

  it("numbers an insertion into an empty text as diff(1) does", () => {
    expect(unifiedDiff("", "new\n", { a: "a", b: "b" })).toBe("--- a\n+++ b\n@@ -0,0 +1 @@\n+new\n");
  });
});
