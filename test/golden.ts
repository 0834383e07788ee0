// Test helper shared by every golden-file test (the front end's error text and
// generated CST types, the pass outputs, the examples' final IR, the Wasm
// kernels' .wat), so they all behave the same: a mismatch fails with a diff, a
// missing golden file fails (a test that wrote it and then compared the output
// with itself could never fail), and UPDATE_GOLDEN=1 rewrites the files.

import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { expect } from "vitest";

/** True when the golden files are to be rewritten from the actual output (UPDATE_GOLDEN=1). */
export const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === "1";

/** The command that rewrites the golden files of the running test file. */
export function updateCommand(): string {
  const testPath = expect.getState().testPath;
  return `UPDATE_GOLDEN=1 npx vitest run ${testPath ? relative(process.cwd(), testPath) : "<test file>"}`;
}

/** Writes `text` to `path` through a temporary file, so an interrupted run never leaves half a golden file. */
export function writeGolden(path: string, text: string): void {
  if (existsSync(path) && readFileSync(path, "utf8") === text) return;
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/**
 * Checks `actual` against the golden file at `path`. Under UPDATE_GOLDEN=1 the
 * file is (re)written instead; otherwise a missing file fails, and a
 * different one fails with a diff, both saying how to regenerate.
 */
export function expectGolden(actual: string, path: string): void {
  if (UPDATE_GOLDEN) return writeGolden(path, actual);
  const name = relative(process.cwd(), path);
  if (!existsSync(path)) throw new Error(`golden file ${name} is missing: run \`${updateCommand()}\` to create it, then review and commit it`);
  expect(actual, `${name} differs from the output; if the change is intended, run \`${updateCommand()}\` and review the diff`).toBe(
    readFileSync(path, "utf8"),
  );
}
