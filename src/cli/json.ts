// Machine-readable output of the `rmc` commands (`--json`): every command
// prints one JSON object on stdout, `{ "command": NAME, "ok": BOOL, ... }`,
// with the fields docs/cli.md lists for it; a failure (an error thrown) is
// `{ "command", "ok": false, "exitCode", "diagnostics" }`. Human-readable
// text still goes to stderr, so `rmc X --json | jq` sees only the object.

import { RmcError, type Diagnostic } from "../diagnostics/index.js";
import type { ParsedArgs } from "./args.js";
import type { CliIO } from "./command.js";

/** The `--json` flag, for each command that has one. */
export const JSON_FLAG = { json: { type: "boolean" as const, doc: "print the result as one JSON object on stdout (docs/cli.md)" } };

/** Whether the command was asked for JSON. */
export const wantsJson = (args: ParsedArgs): boolean => args.flags.json === true;

/** A diagnostic as JSON: code, severity, message, and where it is and the hint when known. */
export const diagnosticJson = (d: Diagnostic): Diagnostic => ({
  code: d.code,
  severity: d.severity,
  message: d.message,
  ...(d.span ? { span: d.span } : {}),
  ...(d.hint ? { hint: d.hint } : {}),
});

/** Prints a command's result object. */
export function printJson(io: CliIO, command: string, ok: boolean, fields: Record<string, unknown>): void {
  io.out(JSON.stringify({ command, ok, ...fields }, null, 2) + "\n");
}

/** The JSON of a failure: what main.ts prints on stdout when a --json command throws. */
export function errorJson(command: string, e: unknown, exitCode: number): string {
  const diagnostics =
    e instanceof RmcError
      ? e.diagnostics.map(diagnosticJson)
      : [{ code: "internal", severity: "error", message: e instanceof Error ? e.message : String(e) }];
  return JSON.stringify({ command, ok: false, exitCode, diagnostics }, null, 2) + "\n";
}
