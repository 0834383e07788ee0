// HTML helpers of the compile report: escaping, and tables built from rows,
// so every section writes text through one escaper.

/** Text as HTML (element content and attribute values). */
export const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** A table: a header row and body rows of cells, each cell text (escaped) or `{ html }` (trusted markup of ours). */
export function table(header: readonly string[], rows: readonly (readonly (string | { html: string })[])[], cls = ""): string {
  const cell = (c: string | { html: string }, tag: string) => `<${tag}>${typeof c === "string" ? esc(c) : c.html}</${tag}>`;
  return [
    `<table${cls ? ` class="${cls}"` : ""}>`,
    `<thead><tr>${header.map((h) => cell(h, "th")).join("")}</tr></thead>`,
    `<tbody>${rows.map((r) => `<tr>${r.map((c) => cell(c, "td")).join("")}</tr>`).join("\n")}</tbody>`,
    "</table>",
  ].join("\n");
}

/** Bytes as KiB/MiB with two decimals (the report's one unit rule). */
export function bytes(b: number): string {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(2)} GiB`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(2)} MiB`;
  if (b >= 1024) return `${(b / 1024).toFixed(2)} KiB`;
  return `${b} B`;
}

/** A signed percentage with four decimals, or "" when absent. */
export const pct = (x: number | undefined): string => (x === undefined ? "" : `${x >= 0 ? "+" : ""}${x.toFixed(4)}%`);
