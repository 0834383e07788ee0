#!/usr/bin/env node
// The `rmc` command line: dispatches to one module per command under
// src/cli/commands, and is the one place that turns errors into output —
// user errors as located diagnostics, bugs as a short "internal error" note
// (with the stack only when RMC_DEBUG is set). Nothing here prints a raw stack.

import { fileURLToPath } from "node:url";
import { RmcError, formatDiagnostics, type Code } from "../diagnostics/index.js";
import { commandHelp, parseCommandArgs } from "./args.js";
import type { CliIO } from "./command.js";
import { sourceLookup } from "./sources.js";
import { COMMANDS } from "./commands/index.js";
import { compilerVersion } from "../driver/version.js";

function mainHelp(): string {
  const w = Math.max(...COMMANDS.map((c) => c.spec.name.length)) + 2;
  return [
    "rmc: a compiler for recommendation models (DLRM and relatives)",
    "",
    "usage: rmc <command> [options]",
    "",
    "commands:",
    ...COMMANDS.map((c) => `  ${c.spec.name.padEnd(w)}${c.spec.summary}`),
    "",
    "Run `rmc <command> --help` for a command's options. Docs: docs/language.md, README.md.",
    "",
  ].join("\n");
}

/** Runs `rmc` with the given arguments; returns the exit code (0 ok, 1 failure, 2 usage). */
export async function main(
  argv: string[],
  io: CliIO = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) },
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.out(mainHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    io.out(`rmc ${compilerVersion()}\n`);
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.spec.name === name);
  if (!cmd) {
    const { didYouMean } = await import("../diagnostics/index.js");
    const hint = didYouMean(
      name,
      COMMANDS.map((c) => c.spec.name),
    );
    io.err(`rmc: unknown command \`${name}\`${hint ? `: ${hint}` : ""}\nRun \`rmc --help\` for the list of commands.\n`);
    return 2;
  }
  try {
    const args = parseCommandArgs(cmd.spec, rest);
    if (args === "help") {
      io.out(commandHelp(cmd.spec));
      return 0;
    }
    return await cmd.run(args, io);
  } catch (e) {
    return reportError(e, io);
  }
}

/** Codes of command-line usage mistakes (bad flags, wrong argument counts): exit code 2. */
const USAGE_CODES = new Set<string>(["E0900", "E0901", "E0902", "E0903", "E0904", "E0906", "E0970"] satisfies Code[]);

/** Prints an error the way a user should see it; returns the exit code. */
export function reportError(e: unknown, io: CliIO): number {
  if (e instanceof RmcError) {
    io.err(formatDiagnostics(e.diagnostics, sourceLookup) + "\n");
    return e.diagnostics.some((d) => USAGE_CODES.has(d.code)) ? 2 : 1;
  }
  const err = e as Error;
  if ((err as NodeJS.ErrnoException)?.code === "EPIPE") return 0;
  io.err(
    `rmc: internal error: ${err?.message ?? String(e)}\nThis is a bug in rmc; please report it with the command you ran.${process.env.RMC_DEBUG ? `\n${err?.stack ?? ""}` : " (set RMC_DEBUG=1 for details)"}\n`,
  );
  return 70;
}

const isEntry = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === (await import("node:fs")).realpathSync(process.argv[1]);
if (isEntry) {
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
  });
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
