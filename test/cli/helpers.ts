// Runs the `rmc` CLI in-process (src/cli/main.ts) with captured output, and
// makes temp folders, and normalises --json objects for golden files: the
// CLI tests' only plumbing.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { main } from "../../src/cli/main.js";

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** `rmc ...args`, returning the exit code and everything written to stdout and stderr. */
export async function rmc(...args: string[]): Promise<CliResult> {
  let out = "";
  let err = "";
  const code = await main(args, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

export const tempDir = (): string => mkdtempSync(join(tmpdir(), "rmc-cli-"));

/** Fields that differ from run to run (wall times, rates) or machine to machine (threads, code variant). */
const VOLATILE = new Set(["seconds", "samplesPerSecond", "ms", "fetchMs", "stageMs", "engine", "variant"]);

/**
 * A --json object as its golden file holds it: volatile fields replaced,
 * numbers to 6 significant digits (the last digits of an NE are not the
 * contract), the temp folder as `<tmp>`.
 */
export function normalise(r: CliResult, tmp: string): string {
  expect(r.code, r.err).toBe(0);
  const walk = (x: unknown, key: string): unknown => {
    if (VOLATILE.has(key)) return "<volatile>";
    if (typeof x === "number") return Number.isInteger(x) ? x : Number(x.toPrecision(6));
    if (typeof x === "string") return x.split(tmp).join("<tmp>");
    if (Array.isArray(x)) return x.map((v) => walk(v, ""));
    if (typeof x === "object" && x !== null) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, walk(v, k)]));
    return x;
  };
  return JSON.stringify(walk(JSON.parse(r.out), ""), null, 2) + "\n";
}
