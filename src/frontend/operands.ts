// Front end, stage 4 (operands): resolves the names a call's operands use —
// dense values, tables and bags inputs, whole or indexed (`emb[3]`,
// `sparse[3]`) — and reports a name of the wrong kind with what it is and
// what to write instead. Nested calls are lowered in calls.ts.

import { formatType, type BagsType } from "../ir/types.js";
import type { Expr, IndexExpr, NameExpr } from "./ast.js";
import { describe, checkCount } from "./args.js";
import { CODES } from "./codes.js";
import type { BagsRef, InputSym, LowerCtx, Sym, TableRef, Val } from "./context.js";

/** What a symbol is, in a few words, for messages. */
export function kindOf(sym: Exclude<Sym, { kind: "poisoned" }>): string {
  if (sym.kind === "table") return sym.count === undefined ? "a table" : `an array of ${sym.count} tables`;
  if (sym.kind === "value") return `a value (${formatType(sym.type)})`;
  return sym.type.kind === "bags" ? `a bags input (${formatType(sym.type)})` : `an input (${formatType(sym.type)})`;
}

/** A dense value named by `e` (a name, not a call). */
export function valueByName(ctx: LowerCtx, e: NameExpr | IndexExpr): Val | undefined {
  const sym = ctx.resolve(e.name, e.kind === "name" ? e.span : e.nameSpan);
  if (!sym || sym.kind === "poisoned") return undefined;
  const shown = e.kind === "name" ? `\`${e.name}\`` : `\`${e.name}[${e.index}]\``;
  if (sym.kind === "table")
    return ctx.error(CODES.tableAsValue, `${shown} is ${kindOf(sym)}, not a value`, e.span, `read a table through embedding_bag(${e.name}, BAGS)`);
  if (sym.kind === "input" && sym.type.kind === "bags")
    return ctx.error(
      CODES.bagsAsValue,
      `${shown} is ${e.kind === "index" ? "one feature of " : ""}${kindOf(sym)}, which cannot be used as a dense value`,
      e.span,
      `look its ids up in a table first: embedding_bag(TABLE, ${e.kind === "name" ? e.name : `${e.name}[${e.index}]`})`,
    );
  if (e.kind === "index")
    return ctx.error(
      CODES.wrongKind,
      `\`${e.name}\` is ${kindOf(sym)} and cannot be indexed`,
      e.span,
      "only table arrays and bags inputs take an index",
    );
  if (sym.kind === "value") return { id: sym.id, type: sym.type };
  return sym.type.kind === "tensor" ? { id: sym.name, type: sym.type } : undefined;
}

/** Checks `x[i]` against a size; reports a bad or out-of-range index. */
function checkIndex(ctx: LowerCtx, e: IndexExpr, size: number, what: string): number | undefined {
  const i = checkCount(ctx, e.index, String(e.index), e.indexSpan, `the index in \`${e.name}[${e.index}]\``, true);
  if (i === undefined) return undefined;
  if (i >= size)
    return ctx.error(CODES.indexOutOfRange, `\`${e.name}[${i}]\` is out of range: \`${e.name}\` has ${size} ${what} (0..${size - 1})`, e.indexSpan);
  return i;
}

/** A table or one table of an array, for embedding_bag. */
export function toTable(ctx: LowerCtx, e: Expr, op: string): TableRef | undefined {
  if (e.kind !== "name" && e.kind !== "index")
    return ctx.error(
      e.kind === "call" ? CODES.valueAsTable : CODES.wrongKind,
      `${op} needs a table, got ${describe(e)}`,
      e.span,
      "declare tables with `table NAME: embedding(dim: D, rows: R)` and pass NAME",
    );
  const sym = ctx.resolve(e.name, e.kind === "name" ? e.span : e.nameSpan);
  if (!sym || sym.kind === "poisoned") return undefined;
  if (sym.kind !== "table")
    return ctx.error(
      CODES.valueAsTable,
      `${op} needs a table, but \`${e.name}\` is ${kindOf(sym)}`,
      e.span,
      "declare tables with `table NAME: embedding(dim: D, rows: R)` and pass NAME",
    );
  if (e.kind === "name") return { sym, span: e.span };
  if (sym.count === undefined)
    return ctx.error(CODES.wrongKind, `\`${e.name}\` is a single table, not an array, and cannot be indexed`, e.span, `write \`${e.name}\``);
  const index = checkIndex(ctx, e, sym.count, "tables");
  return index === undefined ? undefined : { sym, index, span: e.span };
}

/** A bags input or one feature of it, for embedding_bag. */
export function toBags(ctx: LowerCtx, e: Expr, op: string): BagsRef | undefined {
  if (e.kind !== "name" && e.kind !== "index")
    return ctx.error(CODES.valueAsBags, `${op} reads a bags input, got ${describe(e)}`, e.span, "declare one with `input NAME: bags[N]`");
  const sym = ctx.resolve(e.name, e.kind === "name" ? e.span : e.nameSpan);
  if (!sym || sym.kind === "poisoned") return undefined;
  if (sym.kind !== "input" || sym.type.kind !== "bags")
    return ctx.error(
      CODES.valueAsBags,
      `${op} reads a bags input, but \`${e.name}\` is ${kindOf(sym)}`,
      e.span,
      "declare one with `input NAME: bags[N]` or `weighted_bags[N]`",
    );
  const bagsSym = sym as InputSym & { type: BagsType };
  if (e.kind === "name") return { sym: bagsSym, span: e.span };
  const index = checkIndex(ctx, e, bagsSym.type.count, "bag features");
  return index === undefined ? undefined : { sym: bagsSym, index, span: e.span };
}
