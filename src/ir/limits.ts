// The stated limits of rmc's inputs: how deep, how long and how large a model
// (.rmdl), a textual IR file, a safetensors header or a JSON file rmc reads
// may be. Each parser checks its input against these before it recurses or
// allocates, and reports a located error past one, so a crafted file gets an
// error in milliseconds rather than a stack overflow or a runaway allocation.
// docs/language.md#limits lists them; real models are far inside every one.

/** Limits of the .rmdl language and of textual IR. */
export const LIMITS = {
  /** `(` and `[` open at once in one statement (.rmdl), and `[` in one attribute value (IR text). */
  depth: 256,
  /** Characters in one name or number of a .rmdl file. */
  nameLength: 256,
  /** Characters in one name of IR text (passes add suffixes to the model's names). */
  irNameLength: 1024,
  /** Arguments of one call (.rmdl): `concat` and `interact` read one operand each. */
  operands: 1024,
  /** Items of one list (.rmdl): layer widths, row counts. */
  listItems: 4096,
  /** Tables of one table array, bag features of one input, layers of one cross network. */
  count: 4096,
  /** Statements of one model (.rmdl), and its nodes, counting each layer of an `mlp` or `cross` as one. */
  nodes: 10_000,
  /** Any one size: an input width, a table's rows or dim, a layer width, a rank (it must fit an i32 index). */
  size: 2 ** 31 - 1,
  /** Statements (inputs, weights, nodes, outputs) of one IR file. */
  irStatements: 100_000,
  /** Operands of one node of IR text. */
  irOperands: 8192,
  /** Errors reported for one file before the rest are counted, not listed. */
  errors: 100,
  /** Nesting of `[` and `{` in a JSON file rmc reads (a safetensors header, a precision plan, a manifest). */
  jsonDepth: 64,
} as const;

/**
 * The offset of the first `[` or `{` that opens a level deeper than
 * `maxDepth`, outside strings; -1 when there is none. A cheap scan that runs
 * before JSON.parse, so a 100,000-deep document is refused before anything
 * walks it recursively (JSON.stringify in a message, a recursive check).
 */
export function jsonTooDeepAt(text: string, maxDepth: number = LIMITS.jsonDepth): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return -1;
}

/** The 1-based line and column of `offset` in `text`. */
export function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) [line, start] = [line + 1, i + 1];
  return { line, col: offset - start + 1 };
}
