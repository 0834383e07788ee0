// Colours of the `rmc` command line, through picocolors: on when the stream is
// a terminal (and TERM is not `dumb`), off when NO_COLOR is set (no-color.org),
// forced on by FORCE_COLOR (FORCE_COLOR=0 forces them off). Decided once per
// stream by main.ts; commands and tests that pass their own CliIO get none.

import pc from "picocolors";
import type { CliIO } from "./command.js";

/** What a command colours with: picocolors' formatters, or identities when colours are off. */
export type Colors = ReturnType<typeof pc.createColors>;

/** Whether output to a stream with this `isTTY` is coloured, given the environment. */
export function colorEnabled(isTTY: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined) return !["0", "false"].includes(env.FORCE_COLOR);
  return isTTY === true && env.TERM !== "dumb";
}

/** The colours of a CliIO's stdout or stderr (off unless main.ts switched them on). */
export const colorsOf = (io: CliIO, stream: "out" | "err"): Colors => pc.createColors(io.colors?.[stream] === true);

/** A formatted diagnostics block with its severities, codes and hints coloured (the text itself is the formatter's). */
export function paintDiagnostics(text: string, c: Colors): string {
  return text
    .replace(/^(.*?)(error|warning|note) ([EWN]\d{4}):/gm, (_, where: string, sev: string, code: string) => {
      const paint = sev === "error" ? c.red : sev === "warning" ? c.yellow : c.cyan;
      return `${c.bold(where)}${paint(c.bold(sev))} ${c.dim(code)}:`;
    })
    .replace(/^(\s*\d* \| *)(\^~*)$/gm, (_, gutter: string, caret: string) => `${gutter}${c.green(caret)}`)
    .replace(/^( {2}hint:)/gm, (h: string) => c.cyan(h));
}
