// The CLI side of data sources: the `--data` flag (repeatable; a file, `-`
// for standard input, or a glob), the `--columns` map for Parquet files,
// and their parsing, shared by run, verify, debug-numerics, compile's
// --calib and data-stats so that they all read the same sources.

import { existsSync, readFileSync } from "node:fs";
import { RmcError } from "../diagnostics/index.js";
import type { ColumnMap } from "../data/sources.js";
import type { FlagSpec, ParsedArgs } from "./args.js";

/** `--data` with its one-line doc. */
export const dataFlag = (doc: string): FlagSpec => ({
  type: "string",
  multiple: true,
  value: "FILE",
  doc: `${doc}: TSV, .gz or Parquet; - is standard input; a quoted glob (\`'day_*.gz'\`) or several --data read in turn`,
});

/** `--columns`: the Parquet column map. */
export const COLUMNS_FLAG: FlagSpec = {
  type: "string",
  value: "MAP",
  doc: "Parquet column names, NAME=COLUMN,… or a JSON file of them (default label, I1…, C1…; docs/data.md)",
};

/** The sources a data flag names (at least one), or an error naming the flag when it is required and absent. */
export function dataSources(args: ParsedArgs, name: string, cmd: string): string[] {
  const v = args.flags[name];
  const list = (Array.isArray(v) ? v : typeof v === "string" ? [v] : []).filter((s) => s !== "");
  if (list.length === 0) throw new RmcError(`rmc ${cmd}: --${name} is required (see \`rmc ${cmd} --help\`)`, "E0902");
  return list;
}

/** `--columns` as read options: `{ columns }`, or nothing when not given. */
export function columnsOf(args: ParsedArgs, cmd: string): { columns?: ColumnMap } {
  const columns = columnMap(args, cmd);
  return columns ? { columns } : {};
}

/** Parses `--columns`: `label=click,I1=int_0` or the path of a JSON object of the same pairs. */
export function columnMap(args: ParsedArgs, cmd: string): ColumnMap | undefined {
  const v = args.flags.columns;
  if (typeof v !== "string") return undefined;
  const bad = (why: string): never => {
    throw new RmcError(`rmc ${cmd}: --columns: ${why}`, "E0971");
  };
  if (!v.includes("=") && existsSync(v)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(v, "utf8"));
    } catch (e) {
      bad(`${v} is not JSON (${(e as Error).message})`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) bad(`${v} must hold a JSON object of "NAME": "COLUMN" pairs`);
    const map: Record<string, string> = {};
    for (const [k, c] of Object.entries(parsed as object)) {
      if (typeof c !== "string" || c === "") bad(`${v}: the column for ${k} must be a non-empty string`);
      map[k] = c as string;
    }
    return map;
  }
  const map: Record<string, string> = {};
  for (const pair of v.split(",")) {
    const eq = pair.indexOf("=");
    const k = pair.slice(0, eq).trim();
    const c = pair.slice(eq + 1).trim();
    if (eq < 0 || k === "" || c === "") bad(`\`${pair}\` is not NAME=COLUMN (and no file ${v} exists)`);
    map[k] = c;
  }
  return map;
}
