// Front end, stage 1: the tokens of the .rmdl language and the lexer that
// makes them. Every token type carries a human-readable label, which the
// parser's error messages use ("expected `)`, found a number"). Lexing errors
// (characters no token matches) become E0101 diagnostics here.

import { createToken, Lexer, type IToken, type TokenType } from "chevrotain";
import type { Diagnostic } from "../diagnostics/index.js";
import { CODES } from "./codes.js";
import { LIMITS } from "../ir/limits.js";

/** Names: letters, digits and `_`, not starting with a digit. No dots, so generated ids never clash with user names. */
export const Ident = createToken({ name: "Ident", pattern: /[A-Za-z_][A-Za-z0-9_]*/, label: "a name" });

const keyword = (word: string): TokenType =>
  createToken({ name: word[0]!.toUpperCase() + word.slice(1), pattern: new RegExp(word), longer_alt: Ident, label: `\`${word}\`` });

/** Keywords; each yields to `Ident` when a longer name begins with it (`inputs`). */
export const Model = keyword("model");
export const Input = keyword("input");
export const Table = keyword("table");
export const Output = keyword("output");
export const True = keyword("true");
export const False = keyword("false");

/** Integers (possibly negative, so `dim: -4` gets a semantic error rather than a syntax error) and decimals (rejected later with a clear message). */
export const NumberLit = createToken({ name: "NumberLit", pattern: /-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/, label: "a number" });

const punct = (name: string, text: string): TokenType => createToken({ name, pattern: text, label: `\`${text}\`` });

/** Punctuation. */
export const LCurly = punct("LCurly", "{");
export const RCurly = punct("RCurly", "}");
export const LParen = punct("LParen", "(");
export const RParen = punct("RParen", ")");
export const LBracket = punct("LBracket", "[");
export const RBracket = punct("RBracket", "]");
export const Comma = punct("Comma", ",");
export const Colon = punct("Colon", ":");
export const Equals = punct("Equals", "=");
export const At = punct("At", "@");

const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED, line_breaks: true });
const LineComment = createToken({ name: "LineComment", pattern: /\/\/[^\n]*/, group: Lexer.SKIPPED });
const BlockComment = createToken({ name: "BlockComment", pattern: /\/\*[\s\S]*?\*\//, group: Lexer.SKIPPED, line_breaks: true });
/** A `/*` with no closing `*\/`: swallowing the rest of the file keeps it one error instead of many. */
const UnclosedComment = createToken({ name: "UnclosedComment", pattern: /\/\*[\s\S]*/, group: "unclosed", line_breaks: true });

/** Every token type, in lexing priority order (comments before anything that could start with `/`). */
export const ALL_TOKENS: TokenType[] = [
  WhiteSpace,
  LineComment,
  BlockComment,
  UnclosedComment,
  Model,
  Input,
  Table,
  Output,
  True,
  False,
  Ident,
  NumberLit,
  LCurly,
  RCurly,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Colon,
  Equals,
  At,
];

const lexer = new Lexer(ALL_TOKENS, { positionTracking: "full", ensureOptimizations: false });

/** Tokens of one source text, plus E0101 diagnostics for anything that is not a token. */
export interface LexResult {
  tokens: IToken[];
  diagnostics: Diagnostic[];
  /** Source offsets of the characters that were dropped, so the statements holding them can be skipped. */
  errorOffsets: number[];
  /** An unclosed `/*` swallowed the rest of the file. */
  unclosedComment: boolean;
}

/** Hints for characters people tend to type by habit from other languages. */
const CHAR_HINTS: Record<string, string> = {
  ";": "statements end at the end of a line; remove the `;`",
  ".": "names cannot contain `.`; use `_` instead",
  "#": "comments start with `//`",
  '"': "the language has no strings; enum values are bare names, e.g. `act: relu`",
  "'": "the language has no strings; enum values are bare names, e.g. `act: relu`",
  "-": "`-` is only allowed as the sign of a number",
};

/** Splits `text` into tokens; never throws. */
export function lex(text: string, file: string): LexResult {
  const result = lexer.tokenize(text);
  const diagnostics: Diagnostic[] = [];
  // Past LIMITS.errors only a count: each diagnostic quotes its source line, and 10,000 of them would be gigabytes.
  for (const e of result.errors.slice(0, LIMITS.errors)) {
    const ch = text.slice(e.offset, e.offset + e.length);
    const line = e.line ?? 1;
    const col = e.column ?? 1;
    const first = ch[0] ?? "";
    const shown = ch.length > 1 ? `characters \`${ch}\`` : `character \`${first}\``;
    diagnostics.push({
      code: CODES.unexpectedChar,
      severity: "error",
      message: `unexpected ${shown}`,
      span: { file, line, col, endLine: line, endCol: col + (ch.includes("\n") ? 1 : ch.length) },
      ...(CHAR_HINTS[first] ? { hint: CHAR_HINTS[first] } : {}),
    });
  }
  for (const t of result.groups["unclosed"] ?? []) {
    diagnostics.push({
      code: CODES.unexpectedChar,
      severity: "error",
      message: "this `/*` comment is never closed",
      span: { file, line: t.startLine ?? 1, col: t.startColumn ?? 1, endLine: t.startLine ?? 1, endCol: (t.startColumn ?? 1) + 2 },
      hint: "close it with `*/`",
    });
  }
  const more = result.errors.length - LIMITS.errors;
  if (more > 0) {
    const last = diagnostics[diagnostics.length - 1]!;
    diagnostics.push({ code: last.code, severity: "error", message: `and ${more} more unexpected characters after this one`, span: last.span! });
  }
  const errorOffsets = [...result.errors.map((e) => e.offset), ...(result.groups["unclosed"] ?? []).map((t) => t.startOffset)];
  return { tokens: result.tokens, diagnostics, errorOffsets, unclosedComment: (result.groups["unclosed"] ?? []).length > 0 };
}
