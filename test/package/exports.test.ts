// The `rmc` package as installed: its main entry (src/index.ts, package.json
// "exports" ".") exports the compiler's public API with types; the example
// plugin type-checks against the package by name (its self-reference), not
// against ../../src; and `npm pack` ships no benchmarks or tests.

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import * as api from "../../src/index.js";

describe("the package's main entry", () => {
  it("exports compile, the pass manager, ONNX export/import, the server and the interpreter", () => {
    for (const name of [
      "compile",
      "parseModel",
      "loadWeights",
      "runPipeline",
      "loadPlugin",
      "exportOnnx",
      "importOnnx",
      "serve",
      "interpret",
      "readBatches",
    ])
      expect(typeof (api as Record<string, unknown>)[name], name).toBe("function");
    expect(api.compile).toBe(api.compileModel);
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { exports: Record<string, { types: string; default: string }> };
    expect(pkg.exports["."]).toEqual({ types: "./build/src/index.d.ts", default: "./build/src/index.js" });
  });

  it('types the example plugin through `import("rmc")`, resolved to the package\'s own declarations', () => {
    expect(existsSync("build/src/index.d.ts"), "build first (npx tsc -p tsconfig.json)").toBe(true);
    const file = "examples/plugins/fold-activations.js";
    expect(readFileSync(file, "utf8")).toMatch(/import\("rmc"\)\.Pass/);
    expect(readFileSync(file, "utf8")).not.toMatch(/\.\.\/\.\.\/src/);
    const options: ts.CompilerOptions = {
      allowJs: true,
      checkJs: true,
      noEmit: true,
      strict: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ["node"],
    };
    const resolved = ts.resolveModuleName("rmc", `${process.cwd()}/${file}`, options, ts.sys).resolvedModule;
    expect(resolved?.resolvedFileName).toBe(`${process.cwd()}/build/src/index.d.ts`);
    const diagnostics = ts.getPreEmitDiagnostics(ts.createProgram([file], options));
    expect(diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"))).toEqual([]);
    // The check has teeth: a pass with a misspelt field is refused by the same program.
    const host = ts.createCompilerHost(options);
    const read = host.readFile;
    host.readFile = (f) => (f.endsWith("fold-activations.js") ? read(f)!.replace('summary: "Remove', 'sumary: "Remove') : read(f));
    expect(ts.getPreEmitDiagnostics(ts.createProgram([file], options, host)).length).toBeGreaterThan(0);
  });
});

describe("npm pack", () => {
  it("lists the built compiler, docs and examples, and no benchmarks or tests", () => {
    // --ignore-scripts: the listing, without `prepare` rebuilding everything first.
    const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const files = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    expect(files).toContain("package.json");
    expect(files).toContain("build/src/index.js");
    expect(files).toContain("build/src/runtime/index.js");
    expect(files.some((f) => f.startsWith("docs/"))).toBe(true);
    expect(files.filter((f) => /(^|\/)(bench|test|tests)\//.test(f) || /\.test\.[jt]s$/.test(f))).toEqual([]);
    expect(files.filter((f) => f.startsWith("packages/") || f.startsWith("src/"))).toEqual([]);
  });
});
