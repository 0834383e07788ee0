// Reproducible builds: the same model and weights give byte-identical
// artifacts, whatever folder they are in and whatever the working directory of
// `rmc compile` (the built CLI, as a user runs it: relative paths from the
// model's folder in one build, absolute paths from elsewhere in the other);
// and no artifact file holds a path, the temp folder's name or the host name.

import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../cli/helpers.js";
import { SHARDED_AND_STORED, SMALL_MODEL } from "./helpers.js";

const CLI = resolve("build/src/cli/main.js");

/** `node build/src/cli/main.js ARGS` run in `cwd`; fails the test on a non-zero exit. */
function cli(cwd: string, args: string[]): void {
  const child = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: "utf8", timeout: 120_000 });
  expect(child.status, child.stderr).toBe(0);
}

/** Every file under `dir`, by path relative to it, sorted. */
const filesOf = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();

const CASES: [string, string[]][] = [
  ["wasm", ["--target", "wasm"]],
  ["wasm with model.wat and final.ir", ["--target", "wasm", "--emit-text"]],
  ["wgsl with final.ir", ["--target", "wgsl", "--emit-text"]],
  ["wgsl", ["--target", "wgsl"]],
  ["wasm, split and store-placed tables", ["--target", "wasm", ...SHARDED_AND_STORED]],
  ["wgsl, split and store-placed tables", ["--target", "wgsl", ...SHARDED_AND_STORED]],
];

describe("reproducible builds (the built CLI)", () => {
  it("is built", () => expect(existsSync(CLI), `${CLI} is missing: build first (npx tsc -p tsconfig.json)`).toBe(true));

  // Weights made in the first folder; the second gets copies, and makes its own to compare.
  const one = tempDir();
  const two = tempDir();
  const elsewhere = tempDir();
  writeFileSync(join(one, "small.rmdl"), SMALL_MODEL);
  copyFileSync(join(one, "small.rmdl"), join(two, "small.rmdl"));

  it("init-weights writes the same bytes in two folders", () => {
    cli(one, ["init-weights", "small.rmdl", "--seed", "4", "-o", "w.safetensors"]);
    cli(elsewhere, ["init-weights", join(two, "small.rmdl"), "--seed", "4", "-o", join(two, "own.safetensors")]);
    expect(readFileSync(join(two, "own.safetensors")).equals(readFileSync(join(one, "w.safetensors")))).toBe(true);
    copyFileSync(join(one, "w.safetensors"), join(two, "w.safetensors"));
  });

  for (const [name, flags] of CASES)
    it(`${name}: byte-identical across folders and working directories, with no path or host name inside`, () => {
      const out = `dist-${name.replace(/\W+/g, "-")}`;
      cli(one, ["compile", "small.rmdl", "--weights", "w.safetensors", "-o", out, ...flags]);
      cli(elsewhere, ["compile", join(two, "small.rmdl"), "--weights", join(two, "w.safetensors"), "-o", join(two, out), ...flags]);
      const a = join(one, out);
      const b = join(two, out);
      const files = filesOf(a);
      expect(files).toContain("manifest.json");
      expect(filesOf(b)).toEqual(files);
      const leaks = [one, two, elsewhere, tmpdir(), process.cwd(), basename(one), basename(two)];
      const host = hostname();
      for (const file of files) {
        const bytes = readFileSync(join(b, file));
        expect(bytes.equals(readFileSync(join(a, file))), `${file} differs between the two builds`).toBe(true);
        const text = bytes.toString("latin1");
        for (const leak of leaks) expect(text.includes(leak), `${file} holds ${leak}`).toBe(false);
        // A short host name could occur in binary data by chance: looked for as a word in text files, anywhere when long.
        if (host.length >= 6) expect(text.includes(host), `${file} holds the host name`).toBe(false);
        else if (/\.(json|ir|wat|wgsl)$/.test(file)) expect(new RegExp(`\\b${host}\\b`).test(text), `${file} holds the host name`).toBe(false);
      }
    });
});
