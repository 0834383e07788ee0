// Runs the `rmc` CLI in-process (src/cli/main.ts) with captured output, and
// makes temp folders: the CLI tests' only plumbing.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
