// Textual IR, parsing half: text → Graph, the inverse of print.ts. Used for
// golden pass tests, `rmc ir <file>` and pass reproducers. Syntax errors are
// located at file:line:col of the IR text; the parser skips to the next line
// after an error so one run reports every bad line. A line without `loc(...)`
// gets its own position in the IR file as its span. Input past the limits
// of src/ir/limits.ts (nesting, name length, operands, statements) is E1002,
// located, found before anything recurses that deep or allocates that much.

import { RmcError, error, type Diagnostic, type Code } from "../diagnostics/index.js";
import type { AttrValue, Attrs, DType, Graph, Input, Node, Output, Span, TensorType, Type, WeightDecl, WeightRole } from "./types.js";
import { BATCH } from "./types.js";
import { LIMITS } from "./limits.js";

/** Diagnostic code for malformed IR text. */
export const E_IR_SYNTAX = "E1001" satisfies Code;
/** Diagnostic code for IR text past one of its limits. */
export const E_IR_LIMIT = "E1002" satisfies Code;

const DTYPES: readonly DType[] = ["f32", "f16", "bf16", "i8", "u8", "i32", "i64", "f64"];
const ROLES: readonly WeightRole[] = ["table", "weight", "bias"];

type TokenKind = "word" | "value" | "weight" | "number" | "string" | "punct" | "eof";

interface Token {
  kind: TokenKind;
  /** Decoded text: the name behind a ref, a string's contents, the punctuation itself. */
  text: string;
  line: number;
  col: number;
  endCol: number;
}

const REF_CHARS = /[A-Za-z0-9_.-]/;
const WORD_START = /[A-Za-z_]/;
const WORD_CHARS = /[A-Za-z0-9_.]/;
const NUMBER = /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const PUNCT = "{}()[],:=-";

/** Splits IR text into tokens; comments (`// ...`) and whitespace vanish. */
function tokenize(text: string, file: string, diags: Diagnostic[]): Token[] {
  const tokens: Token[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((src, i) => {
    const line = i + 1;
    let p = 0;
    const at = (start: number, kind: TokenKind, value: string) => {
      if (value.length > LIMITS.irNameLength)
        diags.push(
          error(
            E_IR_LIMIT,
            `a token of ${value.length} characters, over the limit of ${LIMITS.irNameLength}`,
            span(file, line, start + 1, start + 2),
          ),
        );
      else tokens.push({ kind, text: value, line, col: start + 1, endCol: p + 1 });
    };
    while (p < src.length) {
      const c = src[p]!;
      const start = p;
      if (c === " " || c === "\t") p++;
      else if (src.startsWith("//", p)) break;
      else if (c === '"') {
        const s = readString(src, p);
        if (s === undefined) {
          diags.push(error(E_IR_SYNTAX, "unterminated or malformed string", span(file, line, p + 1, src.length + 1)));
          break;
        }
        p = s.end;
        at(start, "string", s.value);
      } else if (c === "%" || c === "@") {
        p++;
        let name: string;
        if (src[p] === '"') {
          const s = readString(src, p);
          if (s === undefined) {
            diags.push(error(E_IR_SYNTAX, "unterminated or malformed string", span(file, line, p + 1, src.length + 1)));
            break;
          }
          [name, p] = [s.value, s.end];
        } else {
          while (p < src.length && REF_CHARS.test(src[p]!)) p++;
          name = src.slice(start + 1, p);
          if (name === "") diags.push(error(E_IR_SYNTAX, `expected a name after \`${c}\``, span(file, line, start + 1, start + 2)));
        }
        at(start, c === "%" ? "value" : "weight", name);
      } else if (WORD_START.test(c)) {
        while (p < src.length && WORD_CHARS.test(src[p]!)) p++;
        at(start, "word", src.slice(start, p));
      } else if (/\d/.test(c)) {
        NUMBER.lastIndex = p;
        NUMBER.exec(src);
        p = NUMBER.lastIndex;
        at(start, "number", src.slice(start, p));
      } else if (PUNCT.includes(c)) {
        p++;
        at(start, "punct", c);
      } else {
        diags.push(error(E_IR_SYNTAX, `unexpected character \`${c}\``, span(file, line, p + 1, p + 2)));
        p++;
      }
    }
  });
  const last = lines.length;
  tokens.push({ kind: "eof", text: "end of input", line: last, col: (lines[last - 1]?.length ?? 0) + 1, endCol: (lines[last - 1]?.length ?? 0) + 1 });
  return tokens;
}

/** Reads the JSON string starting at `src[p] === '"'`. */
function readString(src: string, p: number): { value: string; end: number } | undefined {
  let q = p + 1;
  while (q < src.length && src[q] !== '"') q += src[q] === "\\" ? 2 : 1;
  if (q >= src.length) return undefined;
  try {
    return { value: JSON.parse(src.slice(p, q + 1)) as string, end: q + 1 };
  } catch {
    return undefined;
  }
}

/** The printer's spellings of non-finite numbers (print.ts printNumber), read wherever a number is. */
const NUMBER_WORDS: ReadonlyMap<string, number> = new Map([
  ["inf", Infinity],
  ["nan", NaN],
]);

const span = (file: string, line: number, col: number, endCol: number, endLine = line): Span => ({ file, line, col, endLine, endCol });

/** Thrown inside the parser to abandon the current line; caught per statement. */
class LineError {
  constructor(readonly diagnostic: Diagnostic) {}
}

const describe = (t: Token): string =>
  t.kind === "eof"
    ? "end of input"
    : t.kind === "value"
      ? `\`%${t.text}\``
      : t.kind === "weight"
        ? `\`@${t.text}\``
        : t.kind === "string"
          ? JSON.stringify(t.text)
          : `\`${t.text}\``;

class IrParser {
  private pos = 0;
  readonly diags: Diagnostic[] = [];
  constructor(
    private readonly tokens: Token[],
    private readonly file: string,
  ) {}

  private peek(): Token {
    return this.tokens[this.pos]!;
  }
  private next(): Token {
    const t = this.tokens[this.pos]!;
    if (t.kind !== "eof") this.pos++;
    return t;
  }
  private fail(message: string, t = this.peek(), hint?: string): never {
    throw new LineError(error(E_IR_SYNTAX, message, span(this.file, t.line, t.col, t.endCol), hint));
  }
  private isPunct(c: string, t = this.peek()): boolean {
    return t.kind === "punct" && t.text === c;
  }
  private expectPunct(c: string, what: string): Token {
    if (!this.isPunct(c)) this.fail(`expected \`${c}\` ${what}, found ${describe(this.peek())}`);
    return this.next();
  }
  private expect(kind: TokenKind, what: string): Token {
    if (this.peek().kind !== kind) this.fail(`expected ${what}, found ${describe(this.peek())}`);
    return this.next();
  }
  private isWord(w: string): boolean {
    const t = this.peek();
    return t.kind === "word" && t.text === w;
  }
  /** Skips to the first token on a later line than `line`. */
  private skipLine(line: number): void {
    while (this.peek().kind !== "eof" && this.peek().line <= line) this.next();
  }

  parseGraph(): Graph {
    const g: Graph = { name: "", inputs: [], weights: [], nodes: [], outputs: [] };
    try {
      if (!this.isWord("graph")) this.fail(`expected \`graph @name {\`, found ${describe(this.peek())}`);
      this.next();
      g.name = this.expect("weight", "the graph's name `@name`").text;
      this.expectPunct("{", "to open the graph body");
    } catch (e) {
      if (!(e instanceof LineError)) throw e;
      this.diags.push(e.diagnostic);
      return g;
    }
    let statements = 0;
    while (!this.isPunct("}")) {
      const first = this.peek();
      if (++statements > LIMITS.irStatements) {
        this.diags.push(
          error(E_IR_LIMIT, `more than ${LIMITS.irStatements} statements, over the limit`, span(this.file, first.line, first.col, first.endCol)),
        );
        return g;
      }
      if (first.kind === "eof") {
        this.diags.push(error(E_IR_SYNTAX, "missing `}` at the end of the graph", span(this.file, first.line, first.col, first.endCol)));
        return g;
      }
      try {
        this.parseStatement(g);
      } catch (e) {
        if (!(e instanceof LineError)) throw e;
        this.diags.push(e.diagnostic);
        this.skipLine(first.line);
      }
    }
    this.next();
    const extra = this.peek();
    if (extra.kind !== "eof")
      this.diags.push(error(E_IR_SYNTAX, `unexpected ${describe(extra)} after the graph`, span(this.file, extra.line, extra.col, extra.endCol)));
    return g;
  }

  private parseStatement(g: Graph): void {
    const first = this.peek();
    if (first.kind === "value") return void g.nodes.push(this.parseNode());
    if (first.kind === "word" && first.text === "input") return void g.inputs.push(this.parseInput());
    if (first.kind === "word" && first.text === "weight") return void g.weights.push(this.parseWeight());
    if (first.kind === "word" && first.text === "output") return void g.outputs.push(this.parseOutput());
    this.fail(`expected \`input\`, \`weight\`, \`output\` or \`%id = op(...)\`, found ${describe(first)}`);
  }

  private parseInput(): Input {
    const first = this.next();
    const name = this.expect("value", "an input name `%name`").text;
    this.expectPunct(":", "before the input's type");
    const type = this.parseType();
    return { name, type, span: this.parseSpan(first) };
  }

  private parseWeight(): WeightDecl {
    const first = this.next();
    const name = this.expect("weight", "a weight name `@name`").text;
    this.expectPunct(":", "before the weight's role");
    const roleTok = this.expect("word", "a weight role (table, weight, bias)");
    if (!ROLES.includes(roleTok.text as WeightRole))
      this.fail(`unknown weight role \`${roleTok.text}\`; expected one of ${ROLES.join(", ")}`, roleTok);
    const typeTok = this.peek();
    const type = this.parseType();
    if (type.kind !== "tensor" || type.shape.some((d) => d === BATCH))
      this.fail("a weight's type is a tensor with static dimensions, e.g. f32[100,16]", typeTok);
    const attrs = this.isPunct("{") ? this.parseAttrs() : {};
    return { name, role: roleTok.text as WeightRole, dtype: type.dtype, shape: type.shape as number[], attrs, span: this.parseSpan(first) };
  }

  private parseOutput(): Output {
    const first = this.next();
    const nameTok = this.next();
    if (nameTok.kind !== "word" && nameTok.kind !== "string") this.fail(`expected an output name, found ${describe(nameTok)}`, nameTok);
    this.expectPunct("=", "after the output name");
    const value = this.expect("value", "the output's value `%id`").text;
    return { name: nameTok.text, value, span: this.parseSpan(first) };
  }

  private parseNode(): Node {
    const first = this.next();
    this.expectPunct("=", `after \`%${first.text}\``);
    const opTok = this.next();
    if (opTok.kind !== "word" && opTok.kind !== "string") this.fail(`expected an op name, found ${describe(opTok)}`, opTok);
    this.expectPunct("(", "to open the operand list");
    const inputs: string[] = [];
    while (!this.isPunct(")")) {
      if (inputs.length > 0) this.expectPunct(",", "between operands");
      const t = this.next();
      if (inputs.length === LIMITS.irOperands)
        throw new LineError(error(E_IR_LIMIT, `more than ${LIMITS.irOperands} operands, over the limit`, span(this.file, t.line, t.col, t.endCol)));
      if (t.kind === "value") inputs.push(`%${t.text}`);
      else if (t.kind === "weight") inputs.push(`@${t.text}`);
      else if (t.kind === "string") inputs.push(t.text);
      else this.fail(`expected an operand \`%value\` or \`@weight\`, found ${describe(t)}`, t);
    }
    this.next();
    const attrs = this.isPunct("{") ? this.parseAttrs() : {};
    let type: Type | null = null;
    if (this.isPunct(":")) {
      this.next();
      type = this.parseType();
    }
    return { id: first.text, op: opTok.text, inputs, attrs, type, span: this.parseSpan(first) };
  }

  /** `f32[B,13]`, `bags[26]`, `weighted_bags[2]`. */
  private parseType(): Type {
    const head = this.expect("word", "a type such as f32[B,13] or bags[26]");
    this.expectPunct("[", `after \`${head.text}\``);
    const dims: (number | typeof BATCH)[] = [];
    while (!this.isPunct("]")) {
      if (dims.length > 0) this.expectPunct(",", "between dimensions");
      const t = this.peek();
      if (t.kind === "word" && t.text === BATCH) dims.push((this.next(), BATCH));
      else if (t.kind === "number" || this.isPunct("-") || (t.kind === "word" && NUMBER_WORDS.has(t.text))) dims.push(this.parseNumber());
      else this.fail(`expected a dimension (a size or B), found ${describe(t)}`, t);
    }
    const close = this.next();
    if (head.text === "bags" || head.text === "weighted_bags") {
      const count = dims[0];
      if (dims.length !== 1 || typeof count !== "number") this.fail(`${head.text}[...] takes one feature count, e.g. ${head.text}[26]`, close);
      return { kind: "bags", count, weighted: head.text === "weighted_bags" };
    }
    if (!DTYPES.includes(head.text as DType))
      this.fail(`unknown element type \`${head.text}\`; expected one of ${DTYPES.join(", ")}, bags, weighted_bags`, head);
    return { kind: "tensor", dtype: head.text as DType, shape: dims } satisfies TensorType;
  }

  private parseAttrs(): Attrs {
    const attrs: Attrs = {};
    this.next();
    while (!this.isPunct("}")) {
      if (Object.keys(attrs).length > 0) this.expectPunct(",", "between attributes");
      const key = this.next();
      if (key.kind !== "word" && key.kind !== "string") this.fail(`expected an attribute name, found ${describe(key)}`, key);
      if (Object.prototype.hasOwnProperty.call(attrs, key.text)) this.fail(`attribute \`${key.text}\` is given twice`, key);
      this.expectPunct("=", `after attribute \`${key.text}\``);
      // Defined, not assigned: `{__proto__=[1]}` is an attribute the verifier rejects, not the object's prototype.
      Object.defineProperty(attrs, key.text, { value: this.parseValue(), enumerable: true, writable: true, configurable: true });
    }
    this.next();
    return attrs;
  }

  /** A number as the printer writes one: digits, `inf` or `nan`, after at most one `-` (so 10,000 minus signs are one error, not 10,000 frames). */
  private parseNumber(): number {
    const minus = this.isPunct("-") ? this.next() : undefined;
    const t = this.next();
    if (t.kind === "number") return minus ? -Number(t.text) : Number(t.text);
    if (t.kind === "word" && NUMBER_WORDS.has(t.text)) return (minus ? -1 : 1) * NUMBER_WORDS.get(t.text)!;
    return this.fail(minus ? "expected a number after `-`" : `expected a number, found ${describe(t)}`, t);
  }

  /** An attribute value; lists nest at most LIMITS.depth deep. */
  private parseValue(depth = 1): AttrValue {
    const t = this.peek();
    if (t.kind === "number" || this.isPunct("-")) return this.parseNumber();
    this.next();
    if (t.kind === "string") return t.text;
    if (t.kind === "punct" && t.text === "[") {
      if (depth > LIMITS.depth)
        throw new LineError(
          error(E_IR_LIMIT, `lists nested more than ${LIMITS.depth} deep, over the limit`, span(this.file, t.line, t.col, t.endCol)),
        );
      const items: AttrValue[] = [];
      while (!this.isPunct("]")) {
        if (items.length > 0) this.expectPunct(",", "between list items");
        items.push(this.parseValue(depth + 1));
      }
      this.next();
      return items;
    }
    if (t.kind === "word") {
      if (NUMBER_WORDS.has(t.text)) return NUMBER_WORDS.get(t.text)!;
      const words: Record<string, AttrValue> = { true: true, false: false, null: null };
      return Object.hasOwn(words, t.text) ? words[t.text]! : t.text;
    }
    return this.fail(`expected an attribute value, found ${describe(t)}`, t);
  }

  /** `loc("file":L:C-EL:EC)`, or the statement's own position in the IR text. */
  private parseSpan(first: Token): Span {
    if (!this.isWord("loc")) {
      const last = this.tokens[this.pos - 1]!;
      return span(this.file, first.line, first.col, last.endCol, last.line);
    }
    this.next();
    this.expectPunct("(", "after `loc`");
    const file = this.expect("string", "a quoted file name").text;
    const nums: number[] = [];
    for (const sep of [":", ":", "-", ":"]) {
      this.expectPunct(sep, 'in `loc("file":line:col-endLine:endCol)`');
      nums.push(Number(this.expect("number", "a line or column number").text));
    }
    this.expectPunct(")", "to close `loc(`");
    const [line, col, endLine, endCol] = nums as [number, number, number, number];
    return { file, line, col, endLine, endCol };
  }
}

/** Parses IR text; throws an RmcError listing every syntax error (file:line:col of the text). */
export function parseGraph(text: string, file: string): Graph {
  const diags: Diagnostic[] = [];
  const tokens = tokenize(text, file, diags);
  const parser = new IrParser(tokens, file);
  const g = parser.parseGraph();
  const all = [...diags, ...parser.diags].sort((a, b) => a.span!.line - b.span!.line || a.span!.col - b.span!.col);
  if (all.length > 0) throw new RmcError(all);
  return g;
}
