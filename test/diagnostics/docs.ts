// Test helper: docs/language.md's table of diagnostic codes, generated from
// src/diagnostics/codes.ts — one markdown table per stage between two marker
// comments, so the docs say exactly what the code table says.
// codes.test.ts checks it; `npm run docs:codes` rewrites it.

import { CODES, STAGES, type Code, type Stage } from "../../src/diagnostics/index.js";

export const BEGIN = "<!-- codes:begin -->";
export const END = "<!-- codes:end -->";

const SEVERITY: Record<string, string> = { W: " (warning)", N: " (note)" };

/** The generated section, markers included. */
export function codesMarkdown(): string {
  const out = [BEGIN, "<!-- generated from src/diagnostics/codes.ts by `npm run docs:codes`; do not edit by hand -->"];
  for (const stage of Object.keys(STAGES) as Stage[]) {
    const codes = (Object.keys(CODES) as Code[]).filter((c) => CODES[c].stage === stage);
    if (codes.length === 0) continue;
    out.push("", `### ${STAGES[stage].title}`, "", "| Code | Meaning |", "|---|---|");
    for (const c of codes) out.push(`| ${c} | ${CODES[c].meaning}${SEVERITY[c[0]!] ?? ""} |`);
  }
  out.push("", END);
  return out.join("\n");
}

/** `doc` with its generated section replaced by the current one; an error when the markers are missing. */
export function withCodesTable(doc: string): string {
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/language.md has no ${BEGIN} ... ${END} section for the code table`);
  return doc.slice(0, start) + codesMarkdown() + doc.slice(end + END.length);
}
