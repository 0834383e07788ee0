// The `rmc` exit codes, in one place so that scripts and CI can tell the
// outcomes apart (docs/cli.md#exit-codes): `verify || verify --repair` must
// repair only when the plan is over budget, never when a file is missing.
// main.ts maps every thrown error through `exitCodeFor`; commands return
// EXIT.ok or EXIT.failed themselves.

import { RmcError } from "../diagnostics/index.js";

/** What each exit code means. */
export const EXIT = {
  /** The command did what it was asked. */
  ok: 0,
  /** It ran, and the check it makes failed: verify over its NE budget, check or store check found errors. */
  failed: 1,
  /** The command line is wrong: an unknown command or flag, a missing or malformed flag value, a bad pipeline string. */
  usage: 2,
  /** An input is missing, unreadable or malformed: a model, weights, data, plan, artifact or plugin file. */
  input: 3,
  /** A bug: in rmc, or in a plugin pass (an exception, or invalid IR it produced). */
  internal: 4,
} as const;

/** Codes of command-line mistakes: bad flags, wrong argument counts, a pipeline naming passes or options that do not exist. */
const USAGE = new Set(["E0900", "E0901", "E0902", "E0903", "E0904", "E0906", "E1202", "E1203", "E1204", "E1212", "E0970", "E1270"]);

/** Codes of a check that ran and failed (a repair that cannot meet the budget is still a failed check, not a bad file). */
const FAILED = new Set(["E1910"]);

/** A pass that threw (E1206) or broke the IR it was given (E1205 with a reproducer): a bug in that pass, built in or plugin. */
const isPassBug = (d: { code: string; message: string }): boolean =>
  d.code === "E1206" || (d.code === "E1205" && d.message.includes("produced invalid IR"));

/** The exit code for an error a command threw. */
export function exitCodeFor(e: unknown): number {
  if (!(e instanceof RmcError)) return EXIT.internal;
  const errors = e.diagnostics.filter((d) => d.severity === "error");
  const codes = errors.map((d) => d.code);
  if (codes.some((c) => USAGE.has(c))) return EXIT.usage;
  if (errors.some(isPassBug)) return EXIT.internal;
  if (codes.length > 0 && codes.every((c) => FAILED.has(c))) return EXIT.failed;
  return EXIT.input;
}
