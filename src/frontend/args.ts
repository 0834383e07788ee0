// Front end, stage 4 (arguments): binds a call's positional and `key: value`
// arguments to an op's parameters, and converts the plain ones (numbers,
// lists of numbers, booleans, enum names) with a precise error for each way
// they can be wrong. Operands that name things (values, tables, bags) are
// converted in calls.ts, which can lower nested calls.

import { didYouMean } from "../diagnostics/index.js";
import type { Span } from "../ir/types.js";
import type { Arg, CallExpr, Expr } from "./ast.js";
import { CODES } from "./codes.js";
import type { LowerCtx } from "./context.js";
import { LIMITS } from "../ir/limits.js";

/** How a parameter's argument is read: an operand (value, values, table, bags) or a plain constant. */
export type ParamKind = "value" | "values" | "table" | "bags" | "int" | "ints" | "rows" | "bool" | "enum";

/** One parameter of a DSL op. */
export interface Param {
  name: string;
  kind: ParamKind;
  /** What it is, for messages ("the number of output features"). */
  doc: string;
  /** May be given by position (in declaration order); every parameter may be given by name, except `values`. */
  positional?: boolean;
  required?: boolean;
  /** For `enum`. */
  values?: readonly string[];
  /** For `int`: 0 is allowed (otherwise sizes must be positive). */
  allowZero?: boolean;
  /** For `values`: at least this many. */
  min?: number;
  /** For `int`: at most this much (default LIMITS.size). */
  max?: number;
}

/** The arguments of one call, by parameter name; `values` collects the variadic operands. */
export interface Bound {
  args: Map<string, Expr>;
  values: Expr[];
}

/** `the number 5`, `a list`, `the name \`x\``: how an expression is named in messages. */
export function describe(e: Expr): string {
  switch (e.kind) {
    case "number":
      return `the number ${e.text}`;
    case "list":
      return "a list";
    case "name":
      return `the name \`${e.name}\``;
    case "index":
      return `\`${e.name}[${e.index}]\``;
    case "call":
      return `a call to \`${e.op}\``;
    case "bool":
      return `\`${e.value}\``;
  }
}

/** Matches arguments to parameters; reports unknown, repeated, extra and missing arguments. `ok` is false if any was wrong; what did bind is still returned so its values get checked too. */
export function bindArgs(ctx: LowerCtx, call: CallExpr, params: readonly Param[], usage: string): { bound: Bound; ok: boolean } {
  const bound: Bound = { args: new Map(), values: [] };
  const positional = params.filter((p) => p.positional);
  const variadic = params.find((p) => p.kind === "values");
  let ok = true;
  let next = 0;
  let sawKeyword = false;
  if (call.args.length > LIMITS.operands) {
    const extra = call.args[LIMITS.operands]!;
    ctx.error(CODES.tooMany, `\`${call.op}\` is called with ${call.args.length} arguments, over the limit of ${LIMITS.operands}`, extra.span, usage);
    return { bound, ok: false };
  }
  for (const arg of call.args) {
    if (arg.key) {
      sawKeyword = true;
      ok = bindKeyword(ctx, call, params, bound, arg, usage) && ok;
      continue;
    }
    if (sawKeyword)
      ok =
        ctx.error(
          CODES.tooManyPositional,
          `a positional argument follows a keyword argument in the call to \`${call.op}\``,
          arg.span,
          `put positional arguments first: ${usage}`,
        ) ?? false;
    // Bound even when out of order, so the order is the only complaint.
    if (next < positional.length && !bound.args.has(positional[next]!.name)) {
      bound.args.set(positional[next++]!.name, arg.value);
    } else if (variadic) {
      bound.values.push(arg.value);
    } else {
      const names = positional.map((p) => p.name).join(", ");
      const takes =
        positional.length === 0
          ? "takes no positional arguments"
          : `takes ${positional.length} positional argument${positional.length > 1 ? "s" : ""} (${names})`;
      ok = ctx.error(CODES.tooManyPositional, `\`${call.op}\` ${takes}, got ${call.args.filter((a) => !a.key).length}`, arg.span, usage) ?? false;
    }
  }
  for (const p of params) {
    if (p.required && !bound.args.has(p.name))
      ok = ctx.error(CODES.missingArgument, `\`${call.op}\` is missing its \`${p.name}\` argument (${p.doc})`, call.span, usage) ?? false;
  }
  if (variadic && bound.values.length < (variadic.min ?? 0)) {
    const min = variadic.min!;
    ok =
      ctx.error(
        CODES.tooFewPositional,
        `\`${call.op}\` needs at least ${min} input${min > 1 ? "s" : ""} (${variadic.doc}), got ${bound.values.length}`,
        call.span,
        usage,
      ) ?? false;
  }
  return { bound, ok };
}

function bindKeyword(ctx: LowerCtx, call: CallExpr, params: readonly Param[], bound: Bound, arg: Arg, usage: string): boolean {
  const key = arg.key!;
  const p = params.find((q) => q.name === key.name && q.kind !== "values");
  if (!p) {
    const names = params.filter((q) => q.kind !== "values").map((q) => q.name);
    const hint = didYouMean(key.name, names) ?? (names.length ? `\`${call.op}\` takes ${names.map((n) => `\`${n}\``).join(", ")}` : usage);
    return ctx.error(CODES.unknownKeyword, `\`${call.op}\` has no argument \`${key.name}\``, key.span, hint) ?? false;
  }
  if (bound.args.has(p.name))
    return ctx.error(CODES.duplicateArgument, `argument \`${p.name}\` of \`${call.op}\` is given twice`, key.span, usage) ?? false;
  bound.args.set(p.name, arg.value);
  return true;
}

/** `linear's \`out\``: how a parameter is named in messages. */
export const what = (op: string, p: string): string => `${op}'s \`${p}\``;

/** A whole number; positive unless `allowZero`. */
export function toInt(ctx: LowerCtx, e: Expr, op: string, param: string, allowZero = false, max: number = LIMITS.size): number | undefined {
  if (e.kind !== "number")
    return ctx.error(
      CODES.wrongKind,
      `${what(op, param)} must be a number, got ${describe(e)}`,
      e.span,
      e.kind === "list" && e.items.length === 1 ? `write ${e.items[0]!.kind === "number" ? e.items[0]!.text : "it"} without the brackets` : undefined,
    );
  return checkCount(ctx, e.value, e.text, e.span, `${what(op, param)}`, allowZero, max);
}

/** Checks a number written in the source is a count: whole, positive (or zero when allowed) and at most `max`. */
export function checkCount(
  ctx: LowerCtx,
  value: number,
  text: string,
  span: Span,
  subject: string,
  allowZero = false,
  max: number = LIMITS.size,
): number | undefined {
  if (!Number.isInteger(value)) return ctx.error(CODES.wrongKind, `${subject} must be a whole number, got ${text}`, span);
  if (value < 0 || (value === 0 && !allowZero))
    return ctx.error(CODES.notPositive, `${subject} must be ${allowZero ? "zero or more" : "positive"}, got ${text}`, span);
  // Checked before anything is sized by it: `table e[1e11]` or `cross(x, layers: 1e11)` would allocate until killed.
  if (value > max) return ctx.error(CODES.tooLarge, `${subject} is ${text}, over the limit of ${max}`, span, LIMIT_HINT);
  if (!Number.isSafeInteger(value)) return ctx.error(CODES.wrongKind, `${subject} is too large: ${text}`, span);
  return value;
}

/** A non-empty list of positive whole numbers. */
export function toInts(ctx: LowerCtx, e: Expr, op: string, param: string): number[] | undefined {
  if (e.kind !== "list")
    return ctx.error(
      CODES.wrongKind,
      `${what(op, param)} must be a list of numbers like [64, 16], got ${describe(e)}`,
      e.span,
      e.kind === "number" ? `for one layer write [${e.text}]` : undefined,
    );
  if (e.items.length === 0) return ctx.error(CODES.notPositive, `${what(op, param)} is empty; it needs at least one number`, e.span);
  if (e.items.length > LIMITS.listItems) return tooManyItems(ctx, e, what(op, param));
  const out: number[] = [];
  let ok = true;
  for (const item of e.items) {
    if (item.kind !== "number") ok = ctx.error(CODES.wrongKind, `${what(op, param)} must hold numbers, got ${describe(item)}`, item.span) ?? false;
    else {
      const n = checkCount(ctx, item.value, item.text, item.span, `every entry of ${what(op, param)}`);
      if (n === undefined) ok = false;
      else out.push(n);
    }
  }
  return ok ? out : undefined;
}

/** The hint of every over-the-limit error. */
export const LIMIT_HINT = "the language's limits are listed in docs/language.md#limits";

/** A list longer than LIMITS.listItems, reported at its first item past the limit. */
export function tooManyItems(ctx: LowerCtx, e: Extract<Expr, { kind: "list" }>, subject: string): undefined {
  return ctx.error(
    CODES.tooMany,
    `${subject} has ${e.items.length} items, over the limit of ${LIMITS.listItems}`,
    e.items[LIMITS.listItems]!.span,
    LIMIT_HINT,
  );
}

/** `true` or `false`. */
export function toBool(ctx: LowerCtx, e: Expr, op: string, param: string): boolean | undefined {
  if (e.kind === "bool") return e.value;
  return ctx.error(CODES.wrongKind, `${what(op, param)} must be \`true\` or \`false\`, got ${describe(e)}`, e.span);
}

/** A bare name from a fixed list (`act: relu`). */
export function toEnum(ctx: LowerCtx, e: Expr, op: string, param: string, values: readonly string[]): string | undefined {
  const choices = values.map((v) => `\`${v}\``).join(", ");
  if (e.kind !== "name") return ctx.error(CODES.wrongKind, `${what(op, param)} must be one of ${choices}, got ${describe(e)}`, e.span);
  if (values.includes(e.name)) return e.name;
  return ctx.error(CODES.badEnum, `${what(op, param)} must be one of ${choices}, got \`${e.name}\``, e.span, didYouMean(e.name, values));
}
