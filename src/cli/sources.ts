// Source text for diagnostics: every file the CLI reads as source (models, IR
// dumps) is remembered here so that error messages can quote the offending
// line with a caret. Only the CLI uses this; library code gets text passed in.

import { readFileSync } from "node:fs";
import { RmcError } from "../diagnostics/index.js";

const cache = new Map<string, string>();

/** Reads a text file, remembering it for diagnostics; a missing file is a user error naming it. */
export function readSource(path: string): string {
  const cached = cache.get(path);
  if (cached !== undefined) return cached;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RmcError(
      `cannot read ${path}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (e as Error).message}`,
      "E0905",
    );
  }
  cache.set(path, text);
  return text;
}

/** Registers text under a name (e.g. a pipeline string) so diagnostics can show it. */
export const rememberSource = (name: string, text: string): void => void cache.set(name, text);

/** Lookup for formatDiagnostics. */
export const sourceLookup = (file: string): string | undefined => cache.get(file);

/** A source file's text for IR dumps' notes: remembered, or read now (a dump replayed from an .ir file still quotes the model); undefined when unreadable. */
export function sourceText(file: string): string | undefined {
  const known = cache.get(file);
  if (known !== undefined) return known;
  try {
    return readSource(file);
  } catch {
    return undefined;
  }
}
