// Test helper: the runtime as plain JavaScript in a temp folder (src/runtime
// with its subfolders, and what it imports), because worker threads and child
// processes run real .js files, not vitest's on-the-fly TypeScript. Gives the
// worker script's URL (for `workerUrl`) and the entry module's path. Any test
// that loads a model with threads > 1 passes `workerUrl: testWorkerUrl()`.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

const sourcesUnder = (folder: string): string[] =>
  readdirSync(join(repo, folder), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => `${folder}/${f.split(sep).join("/")}`)
    .sort();

/**
 * src/runtime and src/diagnostics, and every file they reach by relative
 * imports (static, `import type` and dynamic alike: the staging of store-placed
 * tables reaches src/ir/tables.ts and src/store), found by following them.
 */
function runtimeSources(): string[] {
  const seen = new Set([...sourcesUnder("src/runtime"), ...sourcesUnder("src/diagnostics")]);
  const queue = [...seen];
  while (queue.length) {
    const file = queue.pop()!;
    const text = readFileSync(join(repo, file), "utf8");
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)\.js"/g)) {
      const target = posix.normalize(posix.join(posix.dirname(file), `${m[1]}.ts`));
      if (!seen.has(target) && existsSync(join(repo, target))) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  return [...seen].sort();
}

/** Transpiles every .ts file under src/runtime and src/diagnostics (subfolders included), and what they import, under `root` (an ES module package). */
export function transpileRuntime(root: string): { workerUrl: URL; entry: string } {
  for (const source of runtimeSources()) {
    const out = join(root, source.replace(/\.ts$/, ".js"));
    mkdirSync(dirname(out), { recursive: true });
    const { outputText } = ts.transpileModule(readFileSync(join(repo, source), "utf8"), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    writeFileSync(out, outputText);
  }
  writeFileSync(join(root, "package.json"), JSON.stringify({ type: "module" }));
  return { workerUrl: pathToFileURL(join(root, "src/runtime/wasm/worker.js")), entry: join(root, "src/runtime/index.js") };
}

/**
 * The worker script for `load(dir, { threads, workerUrl })` in tests. Kept in
 * one temp folder per version of the runtime's sources (named by their hash),
 * built under a temp name and renamed into place, so parallel test files
 * share it safely and nothing is left behind per run.
 */
export function testWorkerUrl(): URL {
  const hash = createHash("sha256");
  for (const source of runtimeSources()) hash.update(source).update(readFileSync(join(repo, source)));
  const root = join(tmpdir(), `rmc-runtime-js-${hash.digest("hex").slice(0, 16)}`);
  if (!existsSync(join(root, "package.json"))) {
    const staging = mkdtempSync(`${root}.tmp-`);
    transpileRuntime(staging);
    try {
      renameSync(staging, root);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another test file got there first
    }
  }
  return pathToFileURL(join(root, "src/runtime/wasm/worker.js"));
}
