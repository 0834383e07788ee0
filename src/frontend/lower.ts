// Front end, stage 4: lowers one model's AST to IR. Statements run top to
// bottom: inputs and tables declare symbols (tables also their weights),
// assignments and outputs lower their calls (calls.ts), `@precision` pins
// attach to the statement after them. A statement that fails defines its name
// as poisoned, so later uses of it stay quiet and every real mistake of the
// file is reported once.

import { didYouMean } from "../diagnostics/index.js";
import { ID_POLICIES, POOLINGS, PRECISIONS } from "../ir/ops.js";
import type { Attrs, Graph, Input, Output, Span, WeightDecl } from "../ir/types.js";
import { LIMIT_HINT, bindArgs, checkCount, toEnum, toInt } from "./args.js";
import type { AnnotationItem, AssignItem, InputItem, Item, ModelAst, OutputItem, TableItem } from "./ast.js";
import { lowerCall, toValue } from "./calls.js";
import { CODES } from "./codes.js";
import { LowerCtx, type Sym, type Val } from "./context.js";
import { kindOf } from "./operands.js";
import { LIMITS } from "../ir/limits.js";

/** Precisions meant for embedding tables only (row-wise sub-byte formats). */
const TABLE_ONLY_PRECISIONS = ["int4", "int2"];
/** What a table may be stored at (bf16 has no row format: it is a layer precision). */
const TABLE_PRECISIONS = ["fp32", "fp16", "int8", "int4", "int2"];
const INPUT_TYPES = ["f32", "bags", "weighted_bags"];

interface Pin {
  precision: string;
  span: Span;
}

/** Everything lowering one model produced; `graph` is meaningful only when no diagnostic is an error. */
export interface Lowered {
  graph: Graph;
  diagnostics: LowerCtx["diagnostics"];
}

/**
 * Lowers a model. After syntax errors (`hadSyntaxErrors`) the no-outputs
 * error is left out, since a statement the parser could not read may be the
 * output; unused-name warnings come only for a model without errors, where
 * they cannot be echoes of a failed statement.
 */
export function lowerModel(model: ModelAst, file: string, hadSyntaxErrors: boolean): Lowered {
  const ctx = new LowerCtx(file);
  for (const it of model.items)
    if (it.kind === "assign" || it.kind === "input" || it.kind === "table" || (it.kind === "output" && it.value?.kind === "call"))
      if (!ctx.definedAnywhere.has(it.name)) ctx.definedAnywhere.set(it.name, it.nameSpan);
  const inputs: Input[] = [];
  const outputs = new Map<string, Output>();
  let pending: AnnotationItem[] = [];
  for (const item of model.items) {
    if (item.kind === "annotation") {
      pending.push(item);
      continue;
    }
    const pin = takePin(ctx, pending, item);
    pending = [];
    if (item.kind === "broken") {
      for (const name of item.mentions) ctx.maybeDefined.add(name);
      if (item.defines) poison(ctx, item.defines);
    } else if (item.kind === "input") lowerInput(ctx, item, inputs);
    else if (item.kind === "table") lowerTable(ctx, item, pin);
    else if (item.kind === "assign") lowerStatement(ctx, item, pin, outputs);
    else lowerOutput(ctx, item, outputs);
  }
  for (const a of pending)
    ctx.error(
      CODES.misplacedPin,
      `\`@${a.name}\` at the end of the model pins nothing`,
      a.span,
      "put it right before the assignment or table it pins",
    );
  // A size derived from others (a concat's width, a cross layer's weights) can pass the limit though every number written is under it:
  // the first value or weight over it is reported (the rest follow from it).
  const nodes = ctx.nodes.map((n) => ({ name: n.id, shape: n.type?.kind === "tensor" ? n.type.shape : [], span: n.span }));
  const over = [...nodes, ...ctx.weights].find((x) => x.shape.some((d) => typeof d === "number" && d > LIMITS.size));
  if (over)
    ctx.error(
      CODES.tooLarge,
      `\`${over.name}\` would have shape [${over.shape.join(", ")}], a size over the limit of ${LIMITS.size}`,
      over.span,
      LIMIT_HINT,
    );
  if (!hadSyntaxErrors && !model.items.some((it) => it.kind === "output"))
    ctx.error(CODES.noOutputs, `model \`${model.name}\` has no outputs`, model.nameSpan, "add one, e.g. `output ctr = top`");
  if (!hadSyntaxErrors && !ctx.diagnostics.some((d) => d.severity === "error")) warnUnused(ctx);
  return {
    graph: { name: model.name, inputs, weights: ctx.weights, nodes: ctx.nodes, outputs: [...outputs.values()] },
    diagnostics: ctx.diagnostics,
  };
}

/** Checks a new name is free; reports a duplicate with where the first one is. */
function canDefine(ctx: LowerCtx, name: string, span: Span, outputs: ReadonlyMap<string, Output>): boolean {
  const old = ctx.scope.get(name);
  if (old && old.kind !== "poisoned") {
    ctx.error(
      CODES.duplicateDefinition,
      `\`${name}\` is already defined`,
      span,
      `the first definition, ${kindOf(old)}, is at ${ctx.where(old.span)}; rename one of them`,
    );
    return false;
  }
  const out = outputs.get(name);
  if (out && out.value !== name) {
    ctx.error(
      CODES.duplicateDefinition,
      `\`${name}\` is already the name of an output (returning \`${out.value}\`)`,
      span,
      `the output is at ${ctx.where(out.span)}; rename one of them`,
    );
    return false;
  }
  return true;
}

const define = (ctx: LowerCtx, sym: Exclude<Sym, { kind: "poisoned" }>): void => void ctx.scope.set(sym.name, sym);
const poison = (ctx: LowerCtx, name: string): void => {
  if (!ctx.scope.has(name)) ctx.scope.set(name, { kind: "poisoned", name });
};

function lowerInput(ctx: LowerCtx, item: InputItem, inputs: Input[]): void {
  const free = canDefine(ctx, item.name, item.nameSpan, new Map());
  let ok = true;
  if (!INPUT_TYPES.includes(item.typeName))
    ok =
      ctx.error(
        CODES.unknownType,
        `unknown input type \`${item.typeName}\``,
        item.typeSpan,
        didYouMean(item.typeName, INPUT_TYPES) ?? "an input is `f32[N]` (dense features), `bags[N]` or `weighted_bags[N]` (N multi-hot features)",
      ) ?? false;
  // A bags input has one bag (and one table) per feature: that count has the tighter limit.
  const most = item.typeName === "f32" ? LIMITS.size : LIMITS.count;
  const n = checkCount(ctx, item.size.value, item.size.text, item.size.span, `the size of input \`${item.name}\``, false, most);
  if (!free) return;
  if (!ok || n === undefined) return poison(ctx, item.name);
  const type =
    item.typeName === "f32"
      ? { kind: "tensor" as const, dtype: "f32" as const, shape: ["B" as const, n] }
      : { kind: "bags" as const, count: n, weighted: item.typeName === "weighted_bags" };
  inputs.push({ name: item.name, type, span: item.span });
  define(ctx, { kind: "input", name: item.name, type, span: item.nameSpan, used: false });
}

function lowerTable(ctx: LowerCtx, item: TableItem, pin: Pin | undefined): void {
  const free = canDefine(ctx, item.name, item.nameSpan, new Map());
  const rows = tableRows(ctx, item);
  const call = item.ctor;
  let dim: number | undefined;
  let pool: string | undefined = "sum";
  let ids: string | undefined = "error";
  let idsWritten = false;
  if (call.op !== "embedding") {
    ctx.error(
      CODES.unknownOp,
      `unknown table kind \`${call.op}\``,
      call.opSpan,
      didYouMean(call.op, ["embedding"]) ?? "tables are declared with `embedding(dim: D, rows: R, pool: sum)`",
    );
  } else {
    const params = [
      { name: "dim", kind: "int" as const, required: true, doc: "the width of each row" },
      { name: "rows", kind: "rows" as const, required: true, doc: "the number of rows, one for all tables or a list with one per table" },
      { name: "pool", kind: "enum" as const, doc: "how the rows of a bag combine" },
      { name: "ids", kind: "enum" as const, doc: "what to do with an id outside the table: error, clamp or modulo" },
    ];
    const { bound, ok } = bindArgs(ctx, call, params, "embedding(dim: 16, rows: 1000, pool: sum)");
    const d = bound.args.get("dim");
    const p = bound.args.get("pool");
    const policy = bound.args.get("ids");
    dim = d && toInt(ctx, d, "embedding", "dim");
    if (p) pool = toEnum(ctx, p, "embedding", "pool", POOLINGS);
    if (policy) {
      ids = toEnum(ctx, policy, "embedding", "ids", ID_POLICIES);
      idsWritten = true;
    }
    if (!ok) dim = undefined;
  }
  if (pin && !TABLE_PRECISIONS.includes(pin.precision))
    ctx.error(
      CODES.pinConflict,
      `\`${pin.precision}\` is a precision for dense layers, not embedding tables`,
      pin.span,
      "tables take fp32, fp16, int8, int4 or int2 (a bf16 row would be the size of an fp16 one, with 3 fewer bits of precision)",
    );
  if (!free) return;
  if (dim === undefined || pool === undefined || rows === undefined || ids === undefined) return poison(ctx, item.name);
  // Only a policy the model writes is recorded, so models that never mention `ids:` keep their IR, and a data
  // file can tell a table that asks for `error` (its raw ids are checked) from one that says nothing (ids hashed).
  const precision: Attrs = { ...(pin ? { precision: pin.precision } : {}), ...(idsWritten ? { ids } : {}) };
  const weights: WeightDecl[] = rows.map((r, i) => ({
    name: item.count === undefined ? `${item.name}.weight` : `${item.name}.${i}.weight`,
    role: "table",
    dtype: "f32",
    shape: [r, dim!],
    attrs: { ...precision },
    span: item.span,
  }));
  ctx.weights.push(...weights);
  define(ctx, {
    kind: "table",
    name: item.name,
    ...(item.count === undefined ? {} : { count: rows.length }),
    weights,
    pool,
    span: item.nameSpan,
    used: false,
  });
}

/** The row count of each table of a declaration, from `rows:` (one number for all, or a list of one per table). */
function tableRows(ctx: LowerCtx, item: TableItem): number[] | undefined {
  const count =
    item.count &&
    checkCount(ctx, item.count.value, item.count.text, item.count.span, `the number of tables in \`${item.name}\``, false, LIMITS.count);
  if (item.count && count === undefined) return undefined;
  const rowsArg = item.ctor.args.find((a) => a.key?.name === "rows")?.value;
  if (!rowsArg || item.ctor.op !== "embedding") return undefined;
  if (rowsArg.kind === "number") {
    const r = checkCount(ctx, rowsArg.value, rowsArg.text, rowsArg.span, "embedding's `rows`");
    return r === undefined ? undefined : Array.from({ length: count ?? 1 }, () => r);
  }
  if (rowsArg.kind !== "list") return ctx.error(CODES.wrongKind, `embedding's \`rows\` must be a number or a list of numbers`, rowsArg.span);
  if (count === undefined)
    return ctx.error(
      CODES.rowsLength,
      `\`${item.name}\` is a single table, so \`rows\` is one number, not a list`,
      rowsArg.span,
      `for ${rowsArg.items.length} tables declare an array: \`table ${item.name}[${rowsArg.items.length}]: ...\``,
    );
  if (rowsArg.items.length !== count)
    return ctx.error(
      CODES.rowsLength,
      `\`rows\` lists ${rowsArg.items.length} row counts but \`${item.name}\` is declared with ${count} tables`,
      rowsArg.span,
      "give one row count per table, or one number for all of them",
    );
  const rows: number[] = [];
  for (const [i, r] of rowsArg.items.entries()) {
    const n =
      r.kind === "number"
        ? checkCount(ctx, r.value, r.text, r.span, `the row count of \`${item.name}[${i}]\``)
        : ctx.error(CODES.wrongKind, "row counts must be numbers", r.span);
    if (n !== undefined) rows.push(n);
  }
  return rows.length === count ? rows : undefined;
}

/** Lowers `name = expr` (or the call of `output name = call(...)`), defining `name`. */
function lowerStatement(ctx: LowerCtx, item: AssignItem | OutputItem, pin: Pin | undefined, outputs: ReadonlyMap<string, Output>): Val | undefined {
  const free = canDefine(ctx, item.name, item.nameSpan, outputs);
  const firstNode = ctx.nodes.length;
  ctx.stmt = { name: item.name, nameSpan: item.nameSpan, idCounts: new Map(), ...(pin ? { precision: pin.precision } : {}) };
  const value = item.value!;
  const val = value.kind === "call" ? lowerCall(ctx, value, true) : toValue(ctx, value, `the right-hand side of \`${item.name} = ...\``);
  ctx.stmt = undefined;
  if (!free) return undefined;
  if (!val) {
    poison(ctx, item.name);
    return undefined;
  }
  define(ctx, { kind: "value", name: item.name, id: val.id, type: val.type, span: item.nameSpan, used: false });
  const made = ctx.nodes.slice(firstNode);
  if (pin && made.length === 0)
    ctx.error(
      CODES.misplacedPin,
      `\`${item.name} = ...\` computes nothing, so the pin has nothing to apply to`,
      pin.span,
      "pin the statement that makes the node",
    );
  if (pin && (pin.precision === "int8" || pin.precision === "int8a7") && made.some((n) => n.op === "cross" || n.op === "cross_layer"))
    ctx.error(
      CODES.pinConflict,
      `cross layers have no ${pin.precision} form`,
      pin.span,
      "cross layers take fp32, fp16 or bf16; pin the linear layers (or their mlp) for int8",
    );
  else if (pin && TABLE_ONLY_PRECISIONS.includes(pin.precision) && made.some((n) => n.op !== "embedding_bag"))
    ctx.error(
      CODES.pinConflict,
      `\`${pin.precision}\` is a precision for embedding tables, not layers`,
      pin.span,
      "layers take fp32, fp16, bf16 or int8; pin the table declaration for int4/int2",
    );
  return val;
}

function lowerOutput(ctx: LowerCtx, item: OutputItem, outputs: Map<string, Output>): void {
  const first = outputs.get(item.name);
  // A second output of a name is skipped whole: lowering it would only repeat the complaint.
  if (first)
    return void ctx.error(
      CODES.duplicateOutput,
      `output \`${item.name}\` is declared twice`,
      item.nameSpan,
      `the first is at ${ctx.where(first.span)}`,
    );
  let val: Val | undefined;
  if (item.value?.kind === "call") {
    val = lowerStatement(ctx, item, undefined, new Map());
    const sym = ctx.scope.get(item.name);
    if (sym && sym.kind !== "poisoned") sym.used = true;
  } else {
    val = toValue(ctx, item.value ?? { kind: "name", name: item.name, span: item.nameSpan }, `output \`${item.name}\``);
    const clash = ctx.scope.get(item.name);
    if (val && item.value && clash && clash.kind !== "poisoned" && !(clash.kind === "value" && clash.id === val.id))
      ctx.error(
        CODES.duplicateDefinition,
        `output \`${item.name}\` has the name of ${kindOf(clash)} defined at ${ctx.where(clash.span)}, but returns something else`,
        item.nameSpan,
        `rename the output, or write \`output ${item.name}\` to return \`${item.name}\``,
      );
  }
  if (val) outputs.set(item.name, { name: item.name, value: val.id, span: item.span });
}

/** The pin the annotations before `target` ask for, after checking each annotation. */
function takePin(ctx: LowerCtx, annotations: AnnotationItem[], target: Item): Pin | undefined {
  let pin: Pin | undefined;
  for (const a of annotations) {
    if (a.name !== "precision") {
      ctx.error(
        CODES.unknownAnnotation,
        `unknown annotation \`@${a.name}\``,
        a.nameSpan,
        didYouMean(a.name, ["precision"]) ?? "the only annotation is `@precision(P)`",
      );
      continue;
    }
    const precision = precisionArg(ctx, a);
    if (precision === undefined || target.kind === "broken") continue;
    if (target.kind !== "assign" && target.kind !== "table") {
      ctx.error(
        CODES.misplacedPin,
        `\`@precision\` cannot pin ${target.kind === "input" ? "an input" : "an output"}`,
        a.span,
        "put it right before an assignment (`h = ...`) or a `table` declaration; to pin an output, pin the statement that computes it",
      );
      continue;
    }
    if (pin) {
      ctx.error(CODES.pinConflict, `\`${target.name}\` is pinned twice (${pin.precision}, then ${precision})`, a.span, "keep one pin");
      continue;
    }
    pin = { precision, span: a.span };
  }
  return pin;
}

function precisionArg(ctx: LowerCtx, a: AnnotationItem): string | undefined {
  const usage = "write e.g. `@precision(fp16)`";
  const arg = a.args[0];
  if (!arg) return ctx.error(CODES.missingArgument, "`@precision` needs a precision", a.span, `${usage}; one of ${PRECISIONS.join(", ")}`);
  if (a.args.length > 1)
    return ctx.error(CODES.tooManyPositional, `\`@precision\` takes one precision, got ${a.args.length} arguments`, a.args[1]!.span, usage);
  if (arg.key) return ctx.error(CODES.unknownKeyword, `\`@precision\` has no argument \`${arg.key.name}\``, arg.key.span, usage);
  if (arg.value.kind !== "name")
    return ctx.error(CODES.wrongKind, "`@precision` takes a precision name", arg.value.span, `${usage}; one of ${PRECISIONS.join(", ")}`);
  const p = arg.value.name;
  if ((PRECISIONS as readonly string[]).includes(p)) return p;
  return ctx.error(
    CODES.unknownPrecision,
    `unknown precision \`${p}\``,
    arg.value.span,
    didYouMean(p, PRECISIONS) ?? `the precisions are ${PRECISIONS.join(", ")}`,
  );
}

function warnUnused(ctx: LowerCtx): void {
  for (const sym of ctx.scope.values()) {
    if (sym.kind === "poisoned" || sym.used) continue;
    if (sym.kind === "input") ctx.warn(CODES.unusedInput, `input \`${sym.name}\` is never used`, sym.span);
    else if (sym.kind === "table")
      ctx.warn(CODES.unusedTable, `table \`${sym.name}\` is never read`, sym.span, `read it with embedding_bag(${sym.name}, BAGS)`);
    else
      ctx.warn(
        CODES.unusedValue,
        `\`${sym.name}\` is computed but never used`,
        sym.span,
        `use it, return it with \`output ${sym.name}\`, or remove it`,
      );
  }
}
