// The pass interface — the public plugin API — and pass options: their specs,
// how option text from a pipeline string (`128MiB`, `0.05%`) becomes typed
// values, and the checks a pass object from a plugin must pass before it is
// registered. Built-in passes (passes/*.ts) and plugins implement `Pass`.

import type { produce } from "immer";
import { didYouMean, type Diagnostic } from "../diagnostics/index.js";
import type { Graph } from "../ir/types.js";
import type { Batch } from "../data/batch.js";
import type { WeightStore } from "../weights/store.js";
import type { TargetInfo } from "../target/target.js";

/**
 * What passes hand back to the caller with `ctx.emit`, by name. Modules that
 * emit a result declare its type here by interface merging (see
 * src/precision/plan.ts), so callers read it typed; plugins may emit any
 * other name, read as `unknown`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface PassOutputs {}

/** A typed option value as a pass sees it. */
export type OptionValue = number | string | boolean;

/**
 * How option text is read: `bytes` takes `128MiB`/`4GiB`/`1000`; `percent`
 * takes `0.05%` or `0.05` (both mean 0.05 percent); `enum` takes one of the
 * spec's `values`; `list` takes some of them separated by `;` (the value is
 * that text, normalised: trimmed, no empty items).
 */
export type OptionType = "number" | "string" | "boolean" | "bytes" | "percent" | "enum" | "list";

/** One option of a pass: its type, default and a one-line description. */
export interface OptionSpec {
  type: OptionType;
  default: OptionValue;
  doc: string;
  /** `enum` and `list`: the values allowed, checked when the pipeline is resolved. */
  values?: readonly string[];
}

/** What a pass gets besides the graph. */
export interface PassContext<O = Record<string, OptionValue>> {
  /** Every declared option, defaults filled in. */
  options: O;
  /** The weight store, when the caller has one (passes that look at data need it). */
  weights?: WeightStore;
  /** Warnings and notes for the user; errors are thrown as RmcError instead. */
  diagnostics: Diagnostic[];
  /** immer's `produce`, so plugins can update the graph without importing anything. */
  produce: typeof produce;
  /** Labelled calibration samples, when the caller has them (the precision search measures NE on them). */
  calibration?: readonly Batch[];
  /** The target being compiled for, when the caller knows it (passes with a `target` option fall back to the built-in of that name). */
  target?: TargetInfo;
  /** Progress lines and results so far of a long pass (the precision search), when the caller wants them. */
  control?: PassControl;
  /** Hands a result besides the graph back to the caller (e.g. the precision plan and its report), by name. */
  emit<K extends keyof PassOutputs>(name: K, value: PassOutputs[K]): void;
  emit(name: string, value: unknown): void;
  /** Reports progress of long work (the precision search): units done of a phase's total; the CLI draws it on a terminal. */
  progress?: (phase: string, done: number, total: number) => void;
}

/** What a caller may give a long-running pass: somewhere to show progress, and to keep a result before the pass ends. */
export interface PassControl {
  /** One progress line (the CLI shows the latest on a terminal). */
  progress?(line: string): void;
  /** A result so far, by name as `emit` names it (assign-precision: "precision-plan"), e.g. to save it should the run be interrupted. */
  checkpoint?(name: string, value: unknown): void;
}

/**
 * A pass: pure, no module-level state. Option keys are camelCase in code
 * (`maxBytes`) and kebab-case in pipeline text (`max-bytes=128MiB`).
 */
export interface Pass<O extends Record<string, OptionValue> = Record<string, OptionValue>> {
  /** As used in pipelines, kebab-case. */
  name: string;
  /** One line. */
  summary: string;
  options: { [K in keyof O]: OptionSpec };
  /**
   * Facts the pass needs established before it runs (e.g. `precision`): the
   * manager refuses a pipeline where a step that provides one comes only
   * after this pass. A fact no step provides is assumed of the input.
   */
  requires?: readonly string[];
  /** Facts the pass establishes, for the `requires` of later steps. */
  provides?: readonly string[];
  /** Returns the same object when it changes nothing. May assume valid IR and must leave valid IR. */
  run(graph: Graph, ctx: PassContext<O>): Graph;
}

export const OPTION_TYPES: readonly OptionType[] = ["number", "string", "boolean", "bytes", "percent", "enum", "list"];

/** `maxBytes` → `max-bytes`. */
export const kebabCase = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
/** `max-bytes` → `maxBytes`. */
export const camelCase = (s: string): string => s.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

const BYTE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Reads option text as the spec's type; returns the value or a message saying what was expected. */
export function parseOptionValue(spec: Pick<OptionSpec, "type" | "values">, text: string): { value: OptionValue } | { error: string } {
  const t = text.trim();
  switch (spec.type) {
    case "enum":
      return (spec.values ?? []).includes(t)
        ? { value: t }
        : { error: `must be one of ${(spec.values ?? []).join(", ")}, got \`${text}\`${hintFor(t, spec.values)}` };
    case "list": {
      const items = t
        .split(";")
        .map((s) => s.trim())
        .filter(Boolean);
      const bad = items.find((i) => !(spec.values ?? []).includes(i));
      if (bad !== undefined)
        return { error: `takes some of ${(spec.values ?? []).join(", ")} separated by ;, got \`${bad}\`${hintFor(bad, spec.values)}` };
      return { value: items.join(";") };
    }
    case "string":
      return { value: text };
    case "boolean":
      return t === "true" ? { value: true } : t === "false" ? { value: false } : { error: `expects true or false, got \`${text}\`` };
    case "number": {
      const v = Number(t);
      return t !== "" && Number.isFinite(v) ? { value: v } : { error: `expects a number, got \`${text}\`` };
    }
    case "bytes": {
      const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(t);
      const unit = m ? BYTE_UNITS[(m[2] || "b").toLowerCase()] : undefined;
      const v = m && unit ? Number(m[1]) * unit : NaN;
      if (!Number.isSafeInteger(v)) return { error: `expects a byte size such as 1000, 64KiB, 128MiB, 4GiB or 1.5GB, got \`${text}\`` };
      return { value: v };
    }
    case "percent": {
      const m = /^(\d+(?:\.\d*)?|\.\d+)\s*%?$/.exec(t);
      return m ? { value: Number(m[1]) } : { error: `expects a percentage such as 0.05% or 0.05, got \`${text}\`` };
    }
  }
}

const hintFor = (written: string, values: readonly string[] | undefined): string => {
  const dym = didYouMean(written, values ?? []);
  return dym ? `: ${dym}` : "";
};

/** The key under which `pass` declares the option written `written` in a pipeline, if any. */
export function findOption(pass: Pass, written: string): string | undefined {
  const has = (k: string) => Object.prototype.hasOwnProperty.call(pass.options, k);
  return has(camelCase(written)) ? camelCase(written) : has(written) ? written : undefined;
}

/** `max-bytes (bytes, default 128MiB): ...` lines, for error messages and `rmc passes`. */
export function describeOptions(pass: Pass): string {
  const entries = Object.entries(pass.options);
  if (entries.length === 0) return `pass \`${pass.name}\` takes no options`;
  return `options of \`${pass.name}\`: ${entries.map(([k, s]) => `${kebabCase(k)} (${s.values ? `${s.type} of ${s.values.join("|")}` : s.type}, default ${String(s.default)}): ${s.doc}`).join("; ")}`;
}

/** A "did you mean" for a mistyped option name, checked against the kebab-case spellings. */
export const suggestOption = (pass: Pass, written: string): string | undefined =>
  didYouMean(kebabCase(camelCase(written)), Object.keys(pass.options).map(kebabCase));

const PASS_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const OPTION_NAME = /^[a-z][A-Za-z0-9]*(-[a-z0-9]+)*$/;

/** Problems with a value claimed to be a Pass (from a plugin); empty when it is usable. */
export function checkPassShape(p: unknown): string[] {
  if (typeof p !== "object" || p === null) return [`expected a pass object, got ${p === null ? "null" : typeof p}`];
  const pass = p as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof pass.name !== "string") problems.push("`name` must be a string");
  else if (!PASS_NAME.test(pass.name)) problems.push(`name \`${pass.name}\` must be kebab-case (lowercase words joined by -), e.g. fold-scale`);
  if (typeof pass.summary !== "string" || pass.summary.trim() === "") problems.push("`summary` must be a non-empty one-line string");
  else if (pass.summary.includes("\n")) problems.push("`summary` must be one line");
  if (typeof pass.run !== "function") problems.push("`run` must be a function (graph, ctx) => graph");
  if (typeof pass.options !== "object" || pass.options === null || Array.isArray(pass.options))
    problems.push("`options` must be an object of { type, default, doc } specs (use {} for none)");
  else for (const [k, spec] of Object.entries(pass.options)) problems.push(...checkOptionSpec(k, spec));
  for (const key of ["requires", "provides"] as const)
    if (pass[key] !== undefined && !(Array.isArray(pass[key]) && (pass[key] as unknown[]).every((f) => typeof f === "string")))
      problems.push(`\`${key}\` must be an array of fact names (strings)`);
  return problems;
}

function checkOptionSpec(key: string, spec: unknown): string[] {
  if (!OPTION_NAME.test(key)) return [`option name \`${key}\` must be camelCase or kebab-case`];
  if (typeof spec !== "object" || spec === null) return [`option \`${key}\` must be a spec { type, default, doc }, got ${JSON.stringify(spec)}`];
  const s = spec as Record<string, unknown>;
  if (!OPTION_TYPES.includes(s.type as OptionType))
    return [`option \`${key}\`: type must be one of ${OPTION_TYPES.join(", ")}, got ${JSON.stringify(s.type)}`];
  const problems: string[] = [];
  const choice = s.type === "enum" || s.type === "list";
  const want = s.type === "string" || choice ? "string" : s.type === "boolean" ? "boolean" : "number";
  if (typeof s.default !== want)
    problems.push(`option \`${key}\`: default must be a ${want} for type ${String(s.type)}, got ${JSON.stringify(s.default)}`);
  if (typeof s.doc !== "string") problems.push(`option \`${key}\`: doc must be a string`);
  if (choice && !(Array.isArray(s.values) && s.values.length > 0 && s.values.every((v) => typeof v === "string")))
    problems.push(`option \`${key}\`: type ${String(s.type)} needs \`values\`, a non-empty array of strings`);
  else if (choice && typeof s.default === "string" && "error" in parseOptionValue(s as unknown as OptionSpec, s.default))
    problems.push(`option \`${key}\`: default ${JSON.stringify(s.default)} is not among its values (${(s.values as string[]).join(", ")})`);
  return problems;
}
