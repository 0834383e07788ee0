// Command-line argument handling for every `rmc` command: a thin layer over
// Node's util.parseArgs that turns its exceptions into user-facing errors
// (with "did you mean" for mistyped flags) and renders each command's --help.

import { parseArgs } from "node:util";
import { RmcError, didYouMean } from "../diagnostics/index.js";

/** One flag of a command. */
export interface FlagSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  /** Placeholder shown in help, e.g. `FILE`. */
  value?: string;
  doc: string;
  default?: string | boolean;
  /** A string flag that may also stand alone: `--flag` means `--flag=<bare>` (e.g. --print-ir-after-change[=full]). */
  bare?: string;
}

/** A command: its name, usage line, summary, positional arguments and flags. */
export interface CommandSpec {
  name: string;
  usage: string;
  summary: string;
  /** Longer text printed after the flags in --help. */
  details?: string;
  positionals: { min: number; max: number };
  flags: Record<string, FlagSpec>;
}

export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string | boolean | string[] | undefined>;
}

/** Renders `rmc CMD --help`. */
export function commandHelp(spec: CommandSpec): string {
  const rows = Object.entries(spec.flags).map(([name, f]) => {
    const left = `${f.short ? `-${f.short}, ` : "    "}--${name}${f.type === "string" ? ` ${f.value ?? "VALUE"}` : ""}`;
    const def = f.default !== undefined && f.default !== false ? ` (default: ${f.default})` : "";
    return [left, `${f.doc}${def}${f.multiple ? " (repeatable)" : ""}`] as const;
  });
  rows.push(["-h, --help", "show this help"]);
  const w = Math.max(...rows.map(([l]) => l.length)) + 2;
  const lines = [`usage: ${spec.usage}`, "", spec.summary, "", "options:", ...rows.map(([l, r]) => `  ${l.padEnd(w)}${r}`)];
  if (spec.details) lines.push("", spec.details.trimEnd());
  return lines.join("\n") + "\n";
}

/** Parses argv for a command; bad flags and argument counts become RmcErrors that mention --help. */
export function parseCommandArgs(spec: CommandSpec, argv: string[]): ParsedArgs | "help" {
  if (argv.includes("--help") || argv.includes("-h")) return "help";
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const [name, f] of Object.entries(spec.flags))
    options[name] = { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) };
  const bare = new Map(Object.entries(spec.flags).flatMap(([name, f]) => (f.bare !== undefined ? [[`--${name}`, `--${name}=${f.bare}`]] : [])));
  let parsed;
  try {
    parsed = parseArgs({ args: splitShortEquals(spec, argv).map((a) => bare.get(a) ?? a), options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new RmcError(`rmc ${spec.name}: ${explainParseError(e as Error, spec)}\n(see \`rmc ${spec.name} --help\`)`, "E0900");
  }
  const { positionals } = parsed;
  if (positionals.length < spec.positionals.min || positionals.length > spec.positionals.max) {
    const want =
      spec.positionals.min === spec.positionals.max
        ? `${spec.positionals.min}`
        : `${spec.positionals.min} to ${spec.positionals.max === Infinity ? "any number of" : spec.positionals.max}`;
    throw new RmcError(
      `rmc ${spec.name}: expected ${want} argument${spec.positionals.max === 1 ? "" : "s"}, got ${positionals.length}${positionals.length ? ` (${positionals.join(" ")})` : ""}\nusage: ${spec.usage}`,
      "E0901",
    );
  }
  const flags: ParsedArgs["flags"] = {};
  for (const [name, f] of Object.entries(spec.flags))
    flags[name] = (parsed.values as Record<string, string | boolean | string[] | undefined>)[name] ?? f.default;
  return { positionals, flags };
}

/**
 * `-o=DIR` as `-oDIR` (the value inline, so one starting with `-` stays a value): util.parseArgs reads `-o=DIR` as `-o` with the value
 * `=DIR` (it only splits `--long=value`), which made a folder named `=DIR`.
 */
function splitShortEquals(spec: CommandSpec, argv: string[]): string[] {
  const shorts = new Set(Object.values(spec.flags).flatMap((f) => (f.short && f.type === "string" ? [f.short] : [])));
  const end = argv.indexOf("--");
  return argv.flatMap((a, i) => {
    const m = /^-([A-Za-z])=(.*)$/s.exec(a);
    return m && shorts.has(m[1]!) && (end < 0 || i < end) ? [`-${m[1]}${m[2]!}`] : [a];
  });
}

function explainParseError(e: Error, spec: CommandSpec): string {
  const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(e.message);
  if (unknown) {
    const flag = unknown[1]!.replace(/^-+/, "").split("=")[0]!;
    const hint = didYouMean(flag, Object.keys(spec.flags));
    return `unknown option \`${unknown[1]}\`${hint ? `: ${hint.replace(/`([^`]+)`/, "`--$1`")}` : ""}`;
  }
  const missing = /Option '(-[^']+)' argument missing/.exec(e.message);
  if (missing) return `option \`${missing[1]!.replace(/^-\w, /, "")}\` needs a value`;
  return e.message.replace(/\. To specify a positional argument.*$/s, "");
}

/** A string flag's value, or an error naming the flag when it is required and absent. */
export function requireFlag(args: ParsedArgs, name: string, cmd: string): string {
  const v = args.flags[name];
  if (typeof v !== "string" || v === "") throw new RmcError(`rmc ${cmd}: --${name} is required (see \`rmc ${cmd} --help\`)`, "E0902");
  return v;
}

/** Parses a numeric flag, checking it is an integer (or any number) within bounds. */
export function numberFlag(
  args: ParsedArgs,
  name: string,
  cmd: string,
  opts: { integer?: boolean; min?: number; max?: number } = {},
): number | undefined {
  const v = args.flags[name];
  if (v === undefined || v === false) return undefined;
  const n = Number(v);
  const bad =
    typeof v !== "string" ||
    v.trim() === "" ||
    !Number.isFinite(n) ||
    (opts.integer && !Number.isInteger(n)) ||
    (opts.min !== undefined && n < opts.min) ||
    (opts.max !== undefined && n > opts.max);
  if (bad) {
    const range = [opts.min !== undefined ? `>= ${opts.min}` : "", opts.max !== undefined ? `<= ${opts.max}` : ""].filter(Boolean).join(" and ");
    throw new RmcError(
      `rmc ${cmd}: --${name} must be ${opts.integer ? "an integer" : "a number"}${range ? ` ${range}` : ""}, got \`${String(v)}\``,
      "E0903",
    );
  }
  return n;
}

/** Checks an enumerated flag's value. */
export function choiceFlag<T extends string>(args: ParsedArgs, name: string, cmd: string, choices: readonly T[]): T | undefined {
  const v = args.flags[name];
  if (v === undefined) return undefined;
  if (typeof v !== "string" || !choices.includes(v as T)) {
    const hint = typeof v === "string" ? didYouMean(v, choices) : undefined;
    throw new RmcError(`rmc ${cmd}: --${name} must be one of ${choices.join(", ")}, got \`${String(v)}\`${hint ? `: ${hint}` : ""}`, "E0904");
  }
  return v as T;
}
