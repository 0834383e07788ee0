// Front end, stage 2 (errors): turns chevrotain's recognition errors into
// messages that speak the language's terms ("expected a layer size after `[`,
// found `}`") and into located E0102 diagnostics. The message provider is
// made for one parser and reads the tokens of its parse under way from it (for
// context such as the enclosing call); `syntaxDiagnostics` runs after a parse.

import { EOF, type IParserErrorMessageProvider, type IRecognitionException, type IToken, type TokenType } from "chevrotain";
import { didYouMean, type Diagnostic } from "../diagnostics/index.js";
import type { Span } from "../ir/types.js";
import { CODES } from "./codes.js";

const KEYWORDS = ["model", "input", "table", "output"];

/** `the end of the file`, `the number 5`, `` `foo` ``. */
export function describeToken(t: IToken | undefined): string {
  if (!t || t.tokenType === EOF) return "the end of the file";
  if (t.tokenType.name === "NumberLit") return `the number ${t.image}`;
  if (KEYWORDS.includes(t.image) && t.tokenType.name !== "Ident") return `the keyword \`${t.image}\``;
  return `\`${t.image}\``;
}

const labelOf = (t: TokenType): string => t.LABEL ?? t.name;

/** The index of the token starting at `offset`, by binary search. */
function indexAt(tokens: readonly IToken[], offset: number): number {
  let lo = 0;
  let hi = tokens.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const o = tokens[mid]!.startOffset;
    if (o === offset) return mid;
    if (o < offset) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** What the elements of the list that `[` at `open` starts are, judged from the call and key around it. */
function listNoun(tokens: readonly IToken[], open: number): string {
  const before = tokens[open - 1];
  const key = before?.image === ":" ? tokens[open - 2]?.image : undefined;
  if (key === "rows") return "a row count";
  let depth = 0;
  for (let i = open - 1; i > 0; i--) {
    const img = tokens[i]!.image;
    if (img === ")" || img === "]") depth++;
    else if ((img === "(" || img === "[") && depth > 0) depth--;
    else if (img === "(") return tokens[i - 1]?.image === "mlp" && key === undefined ? "a layer size" : "a list element";
  }
  return "a list element";
}

/** The noun for the list element expected around token index `at` (the token before the error), if we are inside a list. */
function enclosingListNoun(tokens: readonly IToken[], at: number): string | undefined {
  let depth = 0;
  for (let i = at; i >= 0; i--) {
    const img = tokens[i]!.image;
    if (img === ")" || img === "]") depth++;
    else if (img === "(" && depth-- === 0) return undefined;
    else if (img === "[" && depth-- === 0) return listNoun(tokens, i);
  }
  return undefined;
}

function nounAt(tokens: readonly IToken[], previous: IToken | undefined): string {
  const at = previous ? indexAt(tokens, previous.startOffset) : -1;
  return (at >= 0 ? enclosingListNoun(tokens, at) : undefined) ?? "a list element";
}

/** What a failed CONSUME wanted, phrased for the rule it was in. */
function expectedToken(tokens: readonly IToken[], rule: string, expected: TokenType, previous: IToken | undefined): string {
  const prev = previous?.image;
  const want = expected.name;
  switch (`${rule}.${want}`) {
    case "model.Ident":
      return "the model's name after `model`";
    case "model.LCurly":
      return "`{` after the model name";
    case "model.RCurly":
      return "a statement or the `}` that closes the model";
    case "inputDecl.Ident":
      return prev === ":" ? "a type (`f32`, `bags` or `weighted_bags`) after `:`" : "the input's name after `input`";
    case "inputDecl.Colon":
      return "`:` after the input name";
    case "inputDecl.LBracket":
      return "`[` after the type (e.g. `f32[13]`)";
    case "inputDecl.NumberLit":
      return "a feature count after `[`";
    case "tableDecl.Ident":
      return "the table's name after `table`";
    case "tableDecl.NumberLit":
      return "the number of tables after `[`";
    case "tableDecl.Colon":
      return "`:` after the table name";
    case "outputDecl.Ident":
      return "the output's name after `output`";
    case "assignment.Equals":
      return `\`=\` after \`${prev}\``;
    case "annotation.Ident":
      return "the annotation's name after `@` (e.g. `@precision(fp16)`)";
    case "call.RParen":
      return prev === "(" ? "an argument or `)`" : "`,` or `)` after an argument";
    case "ref.NumberLit":
      return "an index (a number) after `[`";
    case "list.RBracket":
      return prev === "[" || prev === "," ? `${nounAt(tokens, previous)} or \`]\`` : `\`,\` or \`]\` after ${nounAt(tokens, previous)}`;
    default:
      return labelOf(expected);
  }
}

/** What a failed OR wanted. */
function expectedAlternative(tokens: readonly IToken[], rule: string, previous: IToken | undefined): string {
  const prev = previous?.image;
  if (rule === "item") return "a statement (`input`, `table`, `output`, `NAME = ...` or `@precision(...)`)";
  if (rule === "expression") {
    if (prev === "[" || (prev === "," && enclosingListNoun(tokens, indexAt(tokens, previous!.startOffset)) !== undefined))
      return `${nounAt(tokens, previous)} after \`${prev}\``;
    return `a value (a name, a call, a number or a list)${prev ? ` after \`${prev}\`` : ""}`;
  }
  return "something else";
}

/** The message provider for a parser; `tokens` gives the tokens of the parse under way (the parser's own input). */
export function syntaxMessages(tokens: () => readonly IToken[]): IParserErrorMessageProvider {
  return {
    buildMismatchTokenMessage: ({ expected, actual, previous, ruleName }) =>
      `expected ${expectedToken(tokens(), ruleName, expected, previous)}, found ${describeToken(actual)}`,
    buildNotAllInputParsedMessage: ({ firstRedundant }) => `expected \`model NAME { ... }\` (one per file), found ${describeToken(firstRedundant)}`,
    buildNoViableAltMessage: ({ actual, previous, ruleName }) =>
      ruleName === "expression" && actual[1]?.image === "="
        ? `expected a value after \`${previous.image}\`, found the next statement (\`${actual[0]!.image} = ...\`)`
        : `expected ${expectedAlternative(tokens(), ruleName, previous)}, found ${describeToken(actual[0])}`,
    buildEarlyExitMessage: ({ actual, ruleName }) => `expected ${ruleName}, found ${describeToken(actual[0])}`,
  };
}

const tokenSpan = (t: IToken, file: string): Span => ({
  file,
  line: t.startLine ?? 1,
  col: t.startColumn ?? 1,
  endLine: t.endLine ?? t.startLine ?? 1,
  endCol: (t.endColumn ?? t.startColumn ?? 1) + 1,
});

/** Just after `t`: where a missing token belongs. */
const afterToken = (t: IToken, file: string): Span => {
  const line = t.endLine ?? 1;
  const col = (t.endColumn ?? 1) + 1;
  return { file, line, col, endLine: line, endCol: col + 1 };
};

/** A hint for `inptu dense: f32[13]`-style typos of a keyword, which parse as the start of an assignment. */
function keywordHint(e: IRecognitionException, previous: IToken | undefined): string | undefined {
  const rule = e.context.ruleStack.at(-1);
  if (rule !== "assignment" || !previous) return undefined;
  return didYouMean(previous.image, KEYWORDS);
}

/**
 * Located E0102 diagnostics for the parser's errors. A missing token whose
 * "found" is on a later line is pointed at the end of the line it belongs to.
 * Only the first error of a line is kept (and none on a line with a lexing
 * error): the rest are nearly always echoes of the first. `dropEofErrors`
 * (after an unclosed comment ate the rest of the file) drops "found the end
 * of the file" errors, which only echo the comment.
 */
export function syntaxDiagnostics(
  errors: readonly IRecognitionException[],
  file: string,
  linesWithLexErrors: ReadonlySet<number>,
  dropEofErrors: boolean,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seenLines = new Set<number>(linesWithLexErrors);
  for (const e of errors) {
    const previous = (e as { previousToken?: IToken }).previousToken;
    const found = e.token;
    const foundLater = found.tokenType === EOF || (previous?.endLine !== undefined && (found.startLine ?? 0) > previous.endLine);
    const span =
      foundLater && previous && previous.tokenType !== EOF && previous.endLine !== undefined
        ? afterToken(previous, file)
        : found.tokenType === EOF
          ? { file, line: 1, col: 1, endLine: 1, endCol: 1 }
          : tokenSpan(found, file);
    if (seenLines.has(span.line)) continue;
    seenLines.add(span.line);
    if (dropEofErrors && found.tokenType === EOF) continue;
    const message = foundLater && found.tokenType !== EOF ? `${e.message} on line ${found.startLine}` : e.message;
    const hint = keywordHint(e, previous);
    out.push({ code: CODES.syntax, severity: "error", message, span, ...(hint ? { hint } : {}) });
  }
  return out;
}
