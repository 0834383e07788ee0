// Front end, stage 3: the syntax tree of a model and the walk that builds it
// from chevrotain's CST. The AST is small, typed and carries a span on every
// piece, so the lowering (lower.ts) never touches chevrotain types. Statements
// the parser had to recover become `broken` items that name what they define.

import type { CstNode, CstNodeLocation, IToken } from "chevrotain";
import type { Span } from "../ir/types.js";
import type { ArgCstNode, CallCstNode, ExpressionCstNode, FileCstNode, ItemCstNode, ListCstNode, ModelCstNode, RefCstNode } from "./cst.js";

/** `op(args)`; `opSpan` covers the op name, `span` the whole call. */
export interface CallExpr {
  kind: "call";
  op: string;
  opSpan: Span;
  args: Arg[];
  span: Span;
}
/** A bare name: a value, input or table, or an enum value such as `relu`. */
export interface NameExpr {
  kind: "name";
  name: string;
  span: Span;
}
/** `sparse[3]`, `emb[3]`: one bag feature or one table of an array. */
export interface IndexExpr {
  kind: "index";
  name: string;
  nameSpan: Span;
  index: number;
  indexSpan: Span;
  span: Span;
}
/** A number as written (`text` keeps the spelling for messages). */
export interface NumberExpr {
  kind: "number";
  value: number;
  text: string;
  span: Span;
}
/** `[a, b, ...]`. */
export interface ListExpr {
  kind: "list";
  items: Expr[];
  span: Span;
}
/** `true` or `false`. */
export interface BoolExpr {
  kind: "bool";
  value: boolean;
  span: Span;
}
/** Any expression: an argument value or the right-hand side of a statement. */
export type Expr = CallExpr | NameExpr | IndexExpr | NumberExpr | ListExpr | BoolExpr;

/** One call argument, positional or `key: value`. */
export interface Arg {
  key?: { name: string; span: Span };
  value: Expr;
  span: Span;
}

/** `@name(args)`, attached to the statement after it. */
export interface AnnotationItem {
  kind: "annotation";
  name: string;
  nameSpan: Span;
  args: Arg[];
  span: Span;
}
/** `input name: type[size]`. */
export interface InputItem {
  kind: "input";
  name: string;
  nameSpan: Span;
  typeName: string;
  typeSpan: Span;
  size: NumberExpr;
  span: Span;
}
/** `table name[count]: ctor(...)`; `count` is absent for a single table. */
export interface TableItem {
  kind: "table";
  name: string;
  nameSpan: Span;
  count?: NumberExpr;
  ctor: CallExpr;
  span: Span;
}
/** `output name = value`, or `output name` (no value). */
export interface OutputItem {
  kind: "output";
  name: string;
  nameSpan: Span;
  value?: Expr;
  span: Span;
}
/** `name = value`. */
export interface AssignItem {
  kind: "assign";
  name: string;
  nameSpan: Span;
  value: Expr;
  span: Span;
}
/**
 * A statement with a syntax error: skipped. What it would define, and every
 * name written in it or in the tokens skipped after it, are kept, so later
 * uses of those names are not reported as undefined.
 */
export interface BrokenItem {
  kind: "broken";
  defines?: string;
  mentions: string[];
}
/** One statement (or annotation) of a model body. */
export type Item = AnnotationItem | InputItem | TableItem | OutputItem | AssignItem | BrokenItem;

/** `model name { items }`. */
export interface ModelAst {
  name: string;
  nameSpan: Span;
  items: Item[];
  span: Span;
}

/** The span of one token; chevrotain's end column is inclusive, ours is exclusive. */
export const tokenSpan = (t: IToken, file: string): Span => ({
  file,
  line: t.startLine ?? 0,
  col: t.startColumn ?? 0,
  endLine: t.endLine ?? t.startLine ?? 0,
  endCol: (t.endColumn ?? t.startColumn ?? -1) + 1,
});

/** The span of a whole CST node. */
export const nodeSpan = (n: CstNode, file: string): Span => {
  const l = n.location as CstNodeLocation;
  return { file, line: l.startLine ?? 0, col: l.startColumn ?? 0, endLine: l.endLine ?? 0, endCol: (l.endColumn ?? -1) + 1 };
};

/** Walks one file's CST; `file` goes into every span. */
export class AstBuilder {
  constructor(
    private readonly file: string,
    private readonly tokens: readonly IToken[],
    private readonly broken: ReadonlySet<CstNode>,
    /** Offsets of characters the lexer dropped: a statement holding one is broken too. */
    private readonly lexErrorOffsets: readonly number[],
  ) {}

  models(cst: CstNode): ModelAst[] {
    return ((cst as FileCstNode).children.model ?? []).map((m) => this.model(m));
  }

  private model(m: ModelCstNode): ModelAst {
    const nameTok = m.children.Ident?.[0];
    const items = m.children.item ?? [];
    return {
      name: nameTok?.image ?? "",
      nameSpan: nameTok ? tokenSpan(nameTok, this.file) : nodeSpan(m, this.file),
      items: items.map((it, i) => this.item(it, items[i + 1]?.location?.startOffset ?? m.location?.endOffset ?? Infinity)),
      span: nodeSpan(m, this.file),
    };
  }

  /** One item; `regionEnd` is where the next item starts (a broken item owns the skipped tokens up to there). */
  private item(it: ItemCstNode, regionEnd: number): Item {
    const c = it.children;
    const start = it.location?.startOffset ?? NaN;
    const end = it.location?.endOffset ?? start;
    const dropped = this.lexErrorOffsets.some((o) => o >= start && o <= end);
    // Items recovered in place are in `broken`; items cut short by a thrown error are attached as partial nodes with `recoveredNode`.
    if (this.broken.has(it) || it.recoveredNode === true || dropped) {
      const mentions = this.tokens
        .filter((t) => t.tokenType.name === "Ident" && t.startOffset >= start && t.startOffset < regionEnd)
        .map((t) => t.image);
      return { ...brokenItem(it), mentions };
    }
    const span = nodeSpan(it, this.file);
    const tok = (t: IToken) => tokenSpan(t, this.file);
    if (c.annotation) {
      const a = c.annotation[0]!.children;
      return { kind: "annotation", name: a.Ident[0]!.image, nameSpan: tok(a.Ident[0]!), args: this.args(a.argList?.[0]?.children.arg), span };
    }
    if (c.inputDecl) {
      const d = c.inputDecl[0]!.children;
      return {
        kind: "input",
        name: d.name[0]!.image,
        nameSpan: tok(d.name[0]!),
        typeName: d.typeName[0]!.image,
        typeSpan: tok(d.typeName[0]!),
        size: this.number(d.NumberLit[0]!),
        span,
      };
    }
    if (c.tableDecl) {
      const d = c.tableDecl[0]!.children;
      const count = d.NumberLit?.[0];
      return {
        kind: "table",
        name: d.Ident[0]!.image,
        nameSpan: tok(d.Ident[0]!),
        ...(count ? { count: this.number(count) } : {}),
        ctor: this.call(d.call[0]!),
        span,
      };
    }
    if (c.outputDecl) {
      const d = c.outputDecl[0]!.children;
      const value = d.expression?.[0];
      return { kind: "output", name: d.Ident[0]!.image, nameSpan: tok(d.Ident[0]!), ...(value ? { value: this.expr(value) } : {}), span };
    }
    const d = c.assignment![0]!.children;
    return { kind: "assign", name: d.Ident[0]!.image, nameSpan: tok(d.Ident[0]!), value: this.expr(d.expression[0]!), span };
  }

  private expr(e: ExpressionCstNode): Expr {
    const c = e.children;
    if (c.call) return this.call(c.call[0]!);
    if (c.ref) return this.ref(c.ref[0]!);
    if (c.NumberLit) return this.number(c.NumberLit[0]!);
    if (c.list) return this.list(c.list[0]!);
    const b = (c.True ?? c.False)![0]!;
    return { kind: "bool", value: b.image === "true", span: tokenSpan(b, this.file) };
  }

  private call(n: CallCstNode): CallExpr {
    const op = n.children.Ident[0]!;
    return {
      kind: "call",
      op: op.image,
      opSpan: tokenSpan(op, this.file),
      args: this.args(n.children.argList?.[0]?.children.arg),
      span: nodeSpan(n, this.file),
    };
  }

  private args(args: ArgCstNode[] | undefined): Arg[] {
    return (args ?? []).map((a) => {
      const key = a.children.Ident?.[0];
      return {
        ...(key ? { key: { name: key.image, span: tokenSpan(key, this.file) } } : {}),
        value: this.expr(a.children.expression[0]!),
        span: nodeSpan(a, this.file),
      };
    });
  }

  private ref(n: RefCstNode): NameExpr | IndexExpr {
    const name = n.children.Ident[0]!;
    const index = n.children.NumberLit?.[0];
    if (!index) return { kind: "name", name: name.image, span: tokenSpan(name, this.file) };
    return {
      kind: "index",
      name: name.image,
      nameSpan: tokenSpan(name, this.file),
      index: Number(index.image),
      indexSpan: tokenSpan(index, this.file),
      span: nodeSpan(n, this.file),
    };
  }

  private list(n: ListCstNode): ListExpr {
    return { kind: "list", items: (n.children.expression ?? []).map((e) => this.expr(e)), span: nodeSpan(n, this.file) };
  }

  private number(t: IToken): NumberExpr {
    return { kind: "number", value: Number(t.image), text: t.image, span: tokenSpan(t, this.file) };
  }
}

/** What a statement the parser had to recover would have defined, if its name made it into the CST. */
function brokenItem(it: ItemCstNode): Omit<BrokenItem, "mentions"> {
  const c = it.children;
  const real = (t: IToken | undefined): string | undefined => (t && !t.isInsertedInRecovery ? t.image : undefined);
  const defines =
    real(c.assignment?.[0]?.children.Ident?.[0]) ?? real(c.inputDecl?.[0]?.children.name?.[0]) ?? real(c.tableDecl?.[0]?.children.Ident?.[0]);
  return { kind: "broken", ...(defines ? { defines } : {}) };
}
