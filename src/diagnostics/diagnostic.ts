// Diagnostics: the one way every stage (front end, verifier, passes, weights,
// data, CLI) reports a problem to a user. A diagnostic carries a code, a
// message, the source span it is about and an optional hint; `formatDiagnostic`
// renders it as `file:line:col: error E0101: ...`, the source line and a caret.
// `Span` lives here, not in the IR, so that this folder imports nothing of rmc's.
// rmc's own constructors take a `Code` from codes.ts; a Diagnostic's code stays
// a string, since plugin passes push diagnostics with codes of their own.

import type { Code } from "./codes.js";

/** A source range: 1-based line and column; `endCol` is exclusive. */
export interface Span {
  file: string;
  line: number;
  col: number;
  endLine: number;
  endCol: number;
}

export type Severity = "error" | "warning" | "note";

export interface Diagnostic {
  code: string;
  severity: Severity;
  message: string;
  span?: Span;
  hint?: string;
}

/**
 * An error meant for the user (bad input, bad flag, bad file), as opposed to a
 * bug in rmc. The CLI prints its diagnostics and exits non-zero, never a stack.
 */
export class RmcError extends Error {
  readonly diagnostics: Diagnostic[];
  /** The code of its first error (of its first diagnostic if none is an error), e.g. `E0905`: what a script tests. */
  readonly code: string;
  constructor(diagnostics: Diagnostic[] | Diagnostic | string, code: Code = "E0001") {
    const list =
      typeof diagnostics === "string"
        ? [{ code, severity: "error" as const, message: diagnostics }]
        : Array.isArray(diagnostics)
          ? diagnostics
          : [diagnostics];
    super(list.map((d) => d.message).join("\n"));
    this.name = "RmcError";
    this.diagnostics = list;
    this.code = (list.find((d) => d.severity === "error") ?? list[0])?.code ?? code;
  }
}

/** Shorthand for an error diagnostic. */
export const error = (code: Code, message: string, span?: Span, hint?: string): Diagnostic => ({
  code,
  severity: "error",
  message,
  ...(span ? { span } : {}),
  ...(hint ? { hint } : {}),
});

export const hasErrors = (ds: readonly Diagnostic[]): boolean => ds.some((d) => d.severity === "error");

/** Where to find source text for spans, by file name. */
export type SourceLookup = (file: string) => string | undefined;

/** Characters of a source line shown under a diagnostic; longer lines are cut to a window around the span. */
const MAX_SHOWN = 240;

/**
 * Renders a diagnostic. With the source at hand it shows the line and a caret
 * (`^~~~`) under the span; without it, just the location and message.
 */
export function formatDiagnostic(d: Diagnostic, sources?: SourceLookup): string {
  const where = d.span && d.span.line > 0 ? `${d.span.file}:${d.span.line}:${d.span.col}: ` : d.span ? `${d.span.file}: ` : "";
  const lines = [`${where}${d.severity} ${d.code}: ${d.message}`];
  const text = d.span && d.span.line > 0 ? sources?.(d.span.file) : undefined;
  if (d.span && text !== undefined) {
    const full = text.split(/\r?\n/)[d.span.line - 1];
    if (full !== undefined) {
      // A very long line (a crafted or generated file) is shown as a window around the span, not whole.
      const from = full.length > MAX_SHOWN ? Math.max(0, d.span.col - 1 - MAX_SHOWN / 2) : 0;
      const src = (from > 0 ? "…" : "") + full.slice(from, from + MAX_SHOWN) + (from + MAX_SHOWN < full.length ? "…" : "");
      const col = d.span.col - from + (from > 0 ? 1 : 0);
      const gutter = String(d.span.line);
      const width = d.span.endLine === d.span.line ? Math.max(1, d.span.endCol - d.span.col) : Math.max(1, src.length - col + 1);
      lines.push(`${gutter} | ${src}`);
      const shown = full.length > MAX_SHOWN ? Math.max(1, Math.min(width, src.length - col + 1)) : width;
      lines.push(`${" ".repeat(gutter.length)} | ${" ".repeat(Math.max(0, col - 1))}^${"~".repeat(shown - 1)}`);
    }
  }
  if (d.hint) lines.push(`  hint: ${d.hint}`);
  return lines.join("\n");
}

/** Renders many diagnostics, errors and warnings in source order, with a count line. */
export function formatDiagnostics(ds: readonly Diagnostic[], sources?: SourceLookup): string {
  const sorted = [...ds].sort((a, b) => (a.span?.line ?? 0) - (b.span?.line ?? 0) || (a.span?.col ?? 0) - (b.span?.col ?? 0));
  const errors = ds.filter((d) => d.severity === "error").length;
  const warnings = ds.filter((d) => d.severity === "warning").length;
  const summary = [errors ? `${errors} error${errors > 1 ? "s" : ""}` : "", warnings ? `${warnings} warning${warnings > 1 ? "s" : ""}` : ""]
    .filter(Boolean)
    .join(", ");
  return sorted.map((d) => formatDiagnostic(d, sources)).join("\n\n") + (summary ? `\n\n${summary}` : "");
}

/**
 * Edit distance for "did you mean" suggestions: insertions, deletions,
 * substitutions and swaps of two neighbouring characters each cost 1 (optimal
 * string alignment), since a swap (`f23` for `f32`) is the commonest typo.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  return d[a.length]![b.length]!;
}

/** Names longer than this are not compared for suggestions. */
const MAX_SUGGESTED = 1024;

/** The candidate closest to `word`, if it is close enough to be a plausible typo. */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  // The distance table is |word| × |candidate|: a crafted 20-million-character name gets no suggestion rather than a hang.
  if (word.length > MAX_SUGGESTED) return undefined;
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    // The lengths' difference bounds the distance from below: such a candidate cannot beat the best one.
    if (c.length > MAX_SUGGESTED || Math.abs(c.length - word.length) >= bestD) continue;
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

/** `did you mean \`x\`?` for the closest candidate, or undefined. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const s = suggest(word, candidates);
  return s === undefined ? undefined : `did you mean \`${s}\`?`;
}
