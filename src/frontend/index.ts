// The .rmdl front end: source text in, IR (src/ir/types.ts) and diagnostics
// out. Stages: lexer.ts (tokens) → parser.ts (CST, with error recovery) →
// ast.ts (typed syntax tree) → lower.ts with calls.ts (IR nodes, weights and
// types). Nothing here throws on bad input; every problem is a Diagnostic.
// A file past the language's nesting or name-length limits (limits.ts) is
// reported before the parser, which recurses once per level, ever sees it.

import { type Diagnostic, hasErrors } from "../diagnostics/index.js";
import type { Graph } from "../ir/types.js";
import { AstBuilder } from "./ast.js";
import { CODES } from "./codes.js";
import { lex } from "./lexer.js";
import { tokenLimits } from "./limits.js";
import { lowerModel } from "./lower.js";
import { parseTokens } from "./parser.js";
import { syntaxDiagnostics } from "./syntax-errors.js";

/** The front end's diagnostic codes and their meanings. */
export { CODES } from "./codes.js";
/** The ops a model may call, with their parameters (for tools such as documentation or completion). */
export { CALLS } from "./calls.js";

/** The IR of a model (undefined when any diagnostic is an error) and every diagnostic, errors and warnings. */
export interface ParseResult {
  graph: Graph | undefined;
  diagnostics: Diagnostic[];
}

/** Parses one .rmdl source into IR. graph is undefined iff there is an error diagnostic. */
export function parseModel(text: string, file: string): ParseResult {
  const lexed = lex(text, file);
  const limits = tokenLimits(lexed.tokens, file);
  if (limits.length > 0) return { graph: undefined, diagnostics: [...lexed.diagnostics, ...limits] };
  const parsed = parseTokens(lexed.tokens);
  const lexLines = new Set(lexed.diagnostics.map((d) => d.span!.line));
  const diagnostics = [...lexed.diagnostics, ...syntaxDiagnostics(parsed.errors, file, lexLines, lexed.unclosedComment)];
  const models = new AstBuilder(file, lexed.tokens, parsed.broken, lexed.errorOffsets).models(parsed.cst);
  const model = models[0];
  if (!model) {
    if (diagnostics.length === 0)
      diagnostics.push({
        code: CODES.noModel,
        severity: "error",
        message: "this file has no model",
        span: { file, line: 1, col: 1, endLine: 1, endCol: 1 },
        hint: "write `model NAME { ... }`",
      });
    return { graph: undefined, diagnostics };
  }
  for (const extra of models.slice(1))
    diagnostics.push({
      code: CODES.manyModels,
      severity: "error",
      message: `a file holds one model, but \`${extra.name}\` is a second one`,
      span: extra.nameSpan,
      hint: `put it in a file of its own; \`${model.name}\` is the model of this file`,
    });
  const lowered = lowerModel(model, file, diagnostics.length > 0);
  diagnostics.push(...lowered.diagnostics);
  return { graph: hasErrors(diagnostics) ? undefined : lowered.graph, diagnostics };
}
