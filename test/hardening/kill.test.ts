// Hardening: `rmc compile -o DIR` killed outright (SIGKILL) at random moments
// never leaves DIR half-written or mixed — it holds the old artifact or the new
// one, whole (every file the manifest lists, with its checksum) — and the next
// compile cleans up what the killed one left beside it. Runs the built CLI
// (npm test builds it first), since a kill must hit a real process.

import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, readFileSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { recoverArtifact } from "../../backends/artifact.js";
import { tempDir } from "../cli/helpers.js";

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MODEL = "examples/dlrm_kaggle_small.rmdl";
const compileArgs = (precision: string, out: string) => [
  "build/src/cli/main.js",
  "compile",
  MODEL,
  "--init",
  "random",
  "--seed",
  "1",
  "--precision",
  precision,
  "-o",
  out,
];

function compile(precision: string, out: string): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, compileArgs(precision, out), { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return performance.now() - t0;
}

/** The manifest's text, after checking that every file it lists is there with its size and sha256. */
function wholeArtifact(out: string): string {
  const text = readFileSync(join(out, "manifest.json"), "utf8");
  const files = JSON.parse(text).files as Record<string, { sha256: string; bytes: number }>;
  for (const [name, entry] of Object.entries(files)) {
    const bytes = readFileSync(join(out, name));
    expect(bytes.length, name).toBe(entry.bytes);
    expect(createHash("sha256").update(bytes).digest("hex"), name).toBe(entry.sha256);
  }
  return text;
}

const KILLS = 6;
const leftovers = () => readdirSync(dir).filter((f) => /^out\.(tmp|old)-\d+$/.test(f));

describe("rmc compile killed with SIGKILL", () => {
  it("leaves -o holding the old artifact or the new one, whole; the next compile cleans up", async () => {
    const refOld = join(dir, "ref-fp32");
    const refNew = join(dir, "ref-fp16");
    compile("fp32", refOld);
    const took = compile("fp16", refNew);
    const oldText = wholeArtifact(refOld);
    const newText = wholeArtifact(refNew);
    expect(newText).not.toBe(oldText);
    const out = join(dir, "out");
    const seen = { old: 0, new: 0 };
    for (let i = 0; i < KILLS; i++) {
      // The old artifact back in place: what the killed compile left beside it is cleaned up first (as a compile's
      // start cleans it: the final compile below checks that path), then a copy of the fp32 one (no compile needed).
      recoverArtifact(out);
      expect(leftovers()).toEqual([]);
      rmSync(out, { recursive: true, force: true });
      cpSync(refOld, out, { recursive: true });
      const child = spawn(process.execPath, compileArgs("fp16", out), { stdio: "ignore" });
      // Listen before waiting: a compile that finishes before the kill has
      // already emitted "exit", and a listener attached later would wait forever.
      const exited = new Promise((r) => child.on("exit", r));
      // Spread the kills over the whole compile, the final renames included.
      await new Promise((r) => setTimeout(r, ((i + 0.5) / KILLS) * took * 1.1));
      child.kill("SIGKILL");
      await exited;
      const text = wholeArtifact(out);
      expect([oldText, newText]).toContain(text);
      seen[text === oldText ? "old" : "new"]++;
    }
    // Kills early in the compile must have found the old artifact in place.
    expect(seen.old).toBeGreaterThan(0);
    compile("fp16", out);
    expect(wholeArtifact(out)).toBe(newText);
    expect(leftovers()).toEqual([]);
  }, 120_000);

  it("puts back an old artifact that a commit killed between its two renames had moved aside", () => {
    const out = join(dir, "out");
    compile("fp32", out);
    const oldText = wholeArtifact(out);
    // A pid that is surely dead: a process that has exited.
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout;
    renameSync(out, `${out}.old-${dead}`);
    expect(existsSync(out)).toBe(false);
    recoverArtifact(out);
    expect(wholeArtifact(out)).toBe(oldText);
    expect(leftovers()).toEqual([]);
    // A folder of a writer that still runs (this process) is left alone.
    renameSync(out, `${out}.tmp-${process.pid}`);
    recoverArtifact(out);
    expect(leftovers()).toEqual([`out.tmp-${process.pid}`]);
    renameSync(`${out}.tmp-${process.pid}`, out);
  });
});
