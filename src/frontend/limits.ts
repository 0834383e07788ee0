// Front end, before the parser: the token stream checked against the
// language's limits on nesting, on the length of names and numbers and on
// the number of statements (src/ir/limits.ts). chevrotain's parser recurses once per `(` or `[`, and
// later stages quote names in messages and compare them for suggestions, so a
// file past either limit is reported here, located, and not parsed at all.

import type { IToken } from "chevrotain";
import type { Diagnostic } from "../diagnostics/index.js";
import { LIMITS } from "../ir/limits.js";
import { tokenSpan } from "./ast.js";
import { CODES } from "./codes.js";

const OPENS = new Set(["LParen", "LBracket"]);
const CLOSES = new Set(["RParen", "RBracket"]);

/** Diagnostics for tokens nested past LIMITS.depth, longer than LIMITS.nameLength, or past LIMITS.nodes statements; empty when within all. */
export function tokenLimits(tokens: readonly IToken[], file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  let depth = 0;
  let deepReported = false;
  let statements = 0;
  for (const [i, t] of tokens.entries()) {
    const kind = t.tokenType.name;
    // Statements start with `input`, `table`, `output` or `NAME =` (`output NAME =` counts once), outside any brackets.
    const starts = kind === "Input" || kind === "Table" || kind === "Output" || (kind === "Equals" && tokens[i - 2]?.tokenType.name !== "Output");
    if (depth === 0 && starts && ++statements === LIMITS.nodes + 1)
      out.push({
        code: CODES.tooMany,
        severity: "error",
        message: `the model has more than ${LIMITS.nodes} statements, over the language's limit`,
        span: tokenSpan(kind === "Equals" ? (tokens[i - 1] ?? t) : t, file),
        hint: "the language's limits are listed in docs/language.md#limits",
      });
    if (t.image.length > LIMITS.nameLength && out.length < LIMITS.errors) {
      const what = kind === "NumberLit" ? "a number" : "a name";
      out.push({
        code: CODES.tooLong,
        severity: "error",
        message: `${what} of ${t.image.length} characters, over the limit of ${LIMITS.nameLength}: \`${t.image.slice(0, 24)}…\``,
        span: { ...tokenSpan(t, file), endCol: (t.startColumn ?? 1) + 1 },
      });
    }
    if (OPENS.has(kind) && ++depth > LIMITS.depth && !deepReported) {
      deepReported = true;
      out.push({
        code: CODES.tooDeep,
        severity: "error",
        message: `calls and lists nested ${LIMITS.depth + 1} deep here, over the limit of ${LIMITS.depth}`,
        span: tokenSpan(t, file),
        hint: "name the inner values in statements of their own (`h1 = relu(x)`, then `h2 = relu(h1)`)",
      });
    } else if (CLOSES.has(kind)) depth = Math.max(0, depth - 1);
  }
  return out;
}
