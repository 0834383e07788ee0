// The code table (src/diagnostics/codes.ts) against everything that depends
// on it: every code the sources write is in the table, every entry is written
// somewhere (no dead codes), each sits in its stage's hundreds, and
// docs/language.md's table is the one generated from it.

import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CODES, STAGES, type Code } from "../../src/diagnostics/index.js";
import { expectGolden } from "../golden.js";
import { withCodesTable } from "./docs.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");

/** Every code literal (`"E1234"`, `"W1234"`, `"N1234"`) in the compiler's sources, with the files that write it. */
function codeLiterals(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const folder of ["src", "passes", "backends"])
    for (const f of readdirSync(join(root, folder), { recursive: true, encoding: "utf8" })) {
      if (!f.endsWith(".ts")) continue;
      const path = `${folder}/${f}`;
      for (const [, code] of readFileSync(join(root, path), "utf8").matchAll(/"([EWN]\d{4})"/g))
        found.set(code!, [...(found.get(code!) ?? []), path]);
    }
  return found;
}

describe("diagnostic codes", () => {
  const literals = codeLiterals();
  const table = Object.keys(CODES) as Code[];

  it("every code the sources write is in the table", () => {
    const unknown = [...literals].filter(([c]) => !(c in CODES)).map(([c, files]) => `${c} (${files.join(", ")})`);
    expect(unknown, "add these to src/diagnostics/codes.ts, with what they mean").toEqual([]);
  });

  it("every code in the table is written somewhere in the sources", () => {
    expect(
      table.filter((c) => !literals.has(c)),
      "dead codes: remove them from src/diagnostics/codes.ts",
    ).toEqual([]);
  });

  it("each code sits in its stage's hundreds and has a one-line meaning", () => {
    for (const c of table) {
      const [first, last] = STAGES[CODES[c].stage].hundreds;
      const hundreds = Math.floor(Number(c.slice(1)) / 100);
      expect(hundreds >= first && hundreds <= last, `${c} is not in the ${CODES[c].stage} stage's range`).toBe(true);
      expect(CODES[c].meaning, c).toMatch(/^[^\n]{8,120}$/);
    }
  });

  it("docs/language.md's code table is generated from the table", () => {
    const path = join(root, "docs/language.md");
    expectGolden(withCodesTable(readFileSync(path, "utf8")), path);
  });
});
