// The `rmc` command line: what a command module is and where it writes. A
// file of its own, so that the commands (src/cli/commands) and main.ts, which
// dispatches to them, both depend on it rather than on each other.

import type { CommandSpec, ParsedArgs } from "./args.js";

/** A command module: its spec and what it does; resolves to the process exit code. */
export interface Command {
  spec: CommandSpec;
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}

/** Where a command writes; tests substitute these. */
export interface CliIO {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Whether stdout and stderr take colours (src/cli/color.ts); absent: neither does. */
  colors?: { out: boolean; err: boolean };
}
