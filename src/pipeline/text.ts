// Textual pipelines: `canonicalize,infer-shapes,dce{keep-weights=true}` ⇄ a
// list of steps. Parsing is purely syntactic (names and raw option text, with
// the column of each); manager.ts resolves steps against a pass registry and
// reports unknown passes and options by column.

import { RmcError, type Code } from "../diagnostics/index.js";
import { dict } from "../util/records.js";

/** Diagnostic code for a malformed pipeline string. */
export const E_PIPELINE_SYNTAX = "E1201" satisfies Code;

/** One step: a pass name and its options as written (values not yet typed). */
export interface PipelineStep {
  name: string;
  options: Record<string, string>;
  /** 1-based columns in the pipeline text, for error messages; absent for steps built in code. */
  at?: { col: number; options: Record<string, number> };
}

const NAME_CHARS = /[A-Za-z0-9_.-]/;
const PLAIN_VALUE = /^[^\s,{}="]+$/;

const fail = (message: string, col: number): never => {
  throw new RmcError(`${message} at column ${col} of the pipeline`, E_PIPELINE_SYNTAX);
};

/** Parses a pipeline string; throws an RmcError naming the column of the first problem. */
export function parsePipeline(text: string): PipelineStep[] {
  const steps: PipelineStep[] = [];
  let p = 0;
  const skipSpace = () => {
    while (p < text.length && /\s/.test(text[p]!)) p++;
  };
  const readName = (what: string): string => {
    const start = p;
    while (p < text.length && NAME_CHARS.test(text[p]!)) p++;
    if (p === start) fail(`expected ${what}, found ${p < text.length ? `\`${text[p]}\`` : "the end"}`, p + 1);
    return text.slice(start, p);
  };
  skipSpace();
  if (p === text.length) return steps;
  for (;;) {
    skipSpace();
    const col = p + 1;
    const name = readName("a pass name");
    // Option names are the user's text: records without a prototype, so `x{__proto__=1}` is an option (and an unknown one).
    const step: PipelineStep = { name, options: dict(), at: { col, options: dict() } };
    skipSpace();
    if (text[p] === "{") {
      p++;
      readOptions(step);
    }
    steps.push(step);
    skipSpace();
    if (p === text.length) return steps;
    if (text[p] !== ",") fail(`expected \`,\` between passes, found \`${text[p]}\``, p + 1);
    p++;
  }

  function readOptions(step: PipelineStep): void {
    for (;;) {
      skipSpace();
      if (text[p] === "}") return void p++;
      if (Object.keys(step.options).length > 0 && text[p] === ",") {
        p++;
        skipSpace();
      }
      const col = p + 1;
      const key = readName(`an option name or \`}\` in the options of \`${step.name}\``);
      skipSpace();
      if (text[p] !== "=") fail(`expected \`=\` after option \`${key}\``, p + 1);
      p++;
      skipSpace();
      if (Object.prototype.hasOwnProperty.call(step.options, key)) fail(`option \`${key}\` of \`${step.name}\` is given twice`, col);
      step.options[key] = readValue(key);
      step.at!.options[key] = col;
    }
  }

  function readValue(key: string): string {
    const start = p;
    if (text[p] === '"') {
      let q = p + 1;
      while (q < text.length && text[q] !== '"') q += text[q] === "\\" ? 2 : 1;
      if (q >= text.length) fail(`unterminated string in option \`${key}\``, start + 1);
      p = q + 1;
      try {
        return JSON.parse(text.slice(start, p)) as string;
      } catch {
        return fail(`malformed string in option \`${key}\``, start + 1);
      }
    }
    while (p < text.length && !/[\s,{}]/.test(text[p]!)) p++;
    if (p === start) fail(`expected a value for option \`${key}\``, p + 1);
    return text.slice(start, p);
  }
}

/** The canonical text of a pipeline; `parsePipeline(printPipeline(s))` gives back the same steps. */
export function printPipeline(steps: readonly PipelineStep[]): string {
  return steps.map(printStep).join(",");
}

/** One step as text: `dce` or `split-tables{max-bytes=128MiB}`. */
export function printStep(step: PipelineStep): string {
  const opts = Object.entries(step.options);
  if (opts.length === 0) return step.name;
  return `${step.name}{${opts.map(([k, v]) => `${k}=${PLAIN_VALUE.test(v) ? v : JSON.stringify(v)}`).join(",")}}`;
}
