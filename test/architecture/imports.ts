// The import graph of the compiler's own sources (src/, passes/, backends/),
// read with the TypeScript compiler's pre-processor (every `import` and
// `export … from`, type-only ones included), and its cycles: strongly
// connected components of more than one file (Tarjan). Used by the
// architecture test; kept apart so a reader can run it on its own.

import ts from "typescript";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** Repository-relative file → the repository-relative files it imports. */
export type ImportGraph = Map<string, string[]>;

function sourceFiles(root: string, dirs: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith(".ts") && !p.endsWith(".d.ts")) out.push(p);
    }
  };
  for (const d of dirs) walk(join(root, d));
  return out;
}

/** The relative imports of every .ts file under `dirs`, resolved to files. */
export function importGraph(root: string, dirs: readonly string[] = ["src", "passes", "backends"]): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of sourceFiles(root, dirs)) {
    const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    const deps = info.importedFiles
      .map((i) => i.fileName)
      .filter((name) => name.startsWith("."))
      .map((name) => relative(root, resolve(dirname(file), name.replace(/\.js$/, ".ts"))));
    graph.set(relative(root, file), [...new Set(deps)]);
  }
  return graph;
}

/** Every import cycle: each a list of files that reach one another, sorted. */
export function importCycles(graph: ImportGraph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  // Iterative Tarjan: the graph is small, but recursion depth should not depend on it.
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: { v: string; i: number }[] = [{ v: start, i: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const deps = (graph.get(top.v) ?? []).filter((d) => graph.has(d));
      if (top.i < deps.length) {
        const w = deps[top.i++]!;
        if (!index.has(w)) {
          index.set(w, next);
          low.set(w, next++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.v, Math.min(low.get(parent.v)!, low.get(top.v)!));
      if (low.get(top.v) === index.get(top.v)) {
        const scc: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          scc.push(w);
        } while (w !== top.v);
        if (scc.length > 1) cycles.push(scc.sort());
      }
    }
  }
  return cycles;
}

/** Pairs of folders that import from each other (a folder-level cycle), as "a <-> b". */
export function folderCycles(graph: ImportGraph): string[] {
  const edges = new Map<string, Set<string>>();
  for (const [file, deps] of graph)
    for (const dep of deps) {
      const a = dirname(file);
      const b = dirname(dep);
      if (a === b || !graph.has(dep)) continue;
      if (!edges.has(a)) edges.set(a, new Set());
      edges.get(a)!.add(b);
    }
  const out: string[] = [];
  for (const [a, bs] of edges) for (const b of bs) if (a < b && edges.get(b)?.has(a)) out.push(`${a} <-> ${b}`);
  return out.sort();
}
