// The wiring rules of the compiler's sources, checked on the import graph:
// no import cycle between files, no two sibling folders that import from
// each other, and binaryen reached only through backends/wasm/module.ts. A
// new cycle fails here with the files that form it.

import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { folderCycles, importCycles, importGraph, type ImportGraph } from "./imports.js";

const root = new URL("../..", import.meta.url).pathname;
const graph = importGraph(root);

describe("import graph", () => {
  it("reads the sources (sanity: the graph knows the pass manager's imports)", () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get("src/pipeline/manager.ts")).toContain("src/pipeline/pass.ts");
  });

  it("finds a cycle when there is one (the detector itself)", () => {
    const g: ImportGraph = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts"]],
      ["c.ts", ["a.ts"]],
      ["d.ts", ["a.ts"]],
    ]);
    expect(importCycles(g)).toEqual([["a.ts", "b.ts", "c.ts"]]);
    expect(
      folderCycles(
        new Map([
          ["x/a.ts", ["y/b.ts"]],
          ["y/b.ts", ["x/c.ts"]],
          ["x/c.ts", []],
        ]),
      ),
    ).toEqual(["x <-> y"]);
  });

  it("has no import cycle in src/, passes/ and backends/", () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it("has no two folders importing from each other, but for a folder and its own subfolder", () => {
    const nested = (pair: string): boolean => {
      const [a, b] = pair.split(" <-> ") as [string, string];
      return b.startsWith(`${a}/`) || a.startsWith(`${b}/`);
    };
    expect(folderCycles(graph).filter((p) => !nested(p))).toEqual([]);
  });

  it("imports binaryen only in backends/wasm/module.ts", () => {
    const importers = [...graph.keys()].filter((f) => /from\s+["']binaryen["']/.test(readFileSync(`${root}/${f}`, "utf8")));
    expect(importers).toEqual(["backends/wasm/module.ts"]);
  });

  it("keeps the pipeline free of its clients: src/pipeline imports neither passes/ nor backends/", () => {
    const bad = [...graph]
      .filter(([f]) => dirname(f) === "src/pipeline")
      .flatMap(([f, ds]) => ds.filter((d) => /^(passes|backends)\//.test(d)).map((d) => `${f} -> ${d}`));
    expect(bad).toEqual([]);
  });
});
