// Front end, stage 4 (shared state): what the lowering knows while it walks a
// model — the symbols defined so far, the IR built so far, the statement being
// lowered and the diagnostics collected. lower.ts drives it; calls.ts and
// args.ts read and extend it.

import { didYouMean, type Code, type Diagnostic } from "../diagnostics/index.js";
import type { BagsType, Node, Span, TensorType, Type, WeightDecl } from "../ir/types.js";
import { CODES } from "./codes.js";
import { LIMITS } from "../ir/limits.js";

/** A graph input, dense or bags. */
export interface InputSym {
  kind: "input";
  name: string;
  type: Type;
  span: Span;
  used: boolean;
}
/** A table declaration: one table (`count` undefined) or an array of `count`. */
export interface TableSym {
  kind: "table";
  name: string;
  count?: number;
  weights: WeightDecl[];
  pool: string;
  span: Span;
  used: boolean;
}
/** A value: a node (or, for an alias, whatever the alias names) of a dense type. */
export interface ValueSym {
  kind: "value";
  name: string;
  id: string;
  type: TensorType;
  span: Span;
  used: boolean;
}
/** A name whose definition failed; uses of it stay quiet so one mistake gives one error. */
export interface PoisonedSym {
  kind: "poisoned";
  name: string;
}
/** Whatever a name in scope stands for. */
export type Sym = InputSym | TableSym | ValueSym | PoisonedSym;

/** A dense value operand: the bare IR id (node id or input name) and its type. */
export interface Val {
  id: string;
  type: TensorType;
}

/** A bags input, whole or one feature of it. */
export interface BagsRef {
  sym: InputSym & { type: BagsType };
  index?: number;
  span: Span;
}
/** A table declaration, whole or one table of an array. */
export interface TableRef {
  sym: TableSym;
  index?: number;
  span: Span;
}

/** The statement being lowered: its name (the outer node's id), its pin, and the ids its nested calls took. */
export interface Statement {
  name: string;
  nameSpan: Span;
  precision?: string;
  idCounts: Map<string, number>;
}

/** All state of lowering one model. */
export class LowerCtx {
  readonly diagnostics: Diagnostic[] = [];
  readonly scope = new Map<string, Sym>();
  /** Every name the model defines anywhere, with where: for "used before its definition". */
  readonly definedAnywhere = new Map<string, Span>();
  /** Names written in statements with syntax errors: they may be defined there, so their uses are not reported. */
  readonly maybeDefined = new Set<string>();
  readonly nodes: Node[] = [];
  readonly weights: WeightDecl[] = [];
  stmt: Statement | undefined;
  /** Nodes made so far, counted as LIMITS.nodes counts them; once over it, one error and no more nodes. */
  private nodeCount = 0;
  overLimit = false;

  constructor(readonly file: string) {}

  /** Counts `n` more nodes for the call at `span`; false (after one located error) once the model is over LIMITS.nodes. */
  spend(n: number, span: Span): boolean {
    if (this.overLimit) return false;
    this.nodeCount += n;
    if (this.nodeCount <= LIMITS.nodes) return true;
    this.overLimit = true;
    this.error(
      CODES.tooMany,
      `the model has more than ${LIMITS.nodes} nodes by this call (each layer of an mlp or cross counts as one), over the language's limit`,
      span,
      "the language's limits are listed in docs/language.md#limits",
    );
    return false;
  }

  error(code: Code, message: string, span: Span, hint?: string): undefined {
    this.diagnostics.push({ code, severity: "error", message, span, ...(hint ? { hint } : {}) });
    return undefined;
  }

  warn(code: Code, message: string, span: Span, hint?: string): void {
    this.diagnostics.push({ code, severity: "warning", message, span, ...(hint ? { hint } : {}) });
  }

  /** `file:line:col`, for hints that point at another place. */
  where(span: Span): string {
    return `${span.file}:${span.line}:${span.col}`;
  }

  /** Looks a name up and marks it used; reports an undefined name (or one used too early) and returns undefined. */
  resolve(name: string, span: Span): Sym | undefined {
    const sym = this.scope.get(name);
    if (sym) {
      if (sym.kind !== "poisoned") sym.used = true;
      return sym;
    }
    if (this.maybeDefined.has(name)) return undefined;
    const later = this.definedAnywhere.get(name);
    if (later && this.stmt?.name === name)
      return this.error(
        CODES.usedBeforeDefined,
        `\`${name}\` is used in its own definition`,
        span,
        "a statement can only read names defined above it",
      );
    if (later)
      return this.error(
        CODES.usedBeforeDefined,
        `\`${name}\` is used before its definition on line ${later.line}`,
        span,
        "move the definition above its first use: statements run top to bottom",
      );
    return this.error(CODES.undefinedName, `undefined name \`${name}\``, span, didYouMean(name, this.scope.keys()));
  }

  /** The id for a node made by a call to `op` in the current statement: the statement's name for the outer call, `STMT.OP` (then `.2`, `.3`) for nested ones. */
  nodeId(op: string, outer: boolean): string {
    const stmt = this.stmt!;
    if (outer) return stmt.name;
    const n = (stmt.idCounts.get(op) ?? 0) + 1;
    stmt.idCounts.set(op, n);
    return n === 1 ? `${stmt.name}.${op}` : `${stmt.name}.${op}.${n}`;
  }
}
