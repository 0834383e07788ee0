// Line diffs for IR dumps: `--print-ir-after-change` and the compile report
// show what a pass changed as a unified diff of the dump before and after it.
// Myers' O(ND) algorithm (greedy furthest-reaching D-paths, with the trace
// kept to walk the edit script back) between the common first and last
// lines; passes change a few lines of a long dump, so D stays small. A dump
// rewritten wholesale is capped (MAX_EDITS) rather than allowed O(D²) memory.

/** One line of an edit script: kept, removed from `a`, or added from `b`. */
export interface DiffLine {
  kind: " " | "-" | "+";
  text: string;
}

/** Past this many edits the middle of a diff is shown as removed-then-added: bounded time and memory on rewritten dumps. */
export const MAX_EDITS = 2000;

/**
 * An edit script turning lines `a` into lines `b`, in order: the shortest one
 * when it takes at most `maxEdits` edits, else one that keeps the common
 * first and last lines and replaces what lies between.
 */
export function diffLines(a: readonly string[], b: readonly string[], maxEdits = MAX_EDITS): DiffLine[] {
  // Common first and last lines cost nothing to keep; Myers runs on what lies between.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const same = (lines: readonly string[]): DiffLine[] => lines.map((text) => ({ kind: " ", text }));
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const middle = myers(midA, midB, maxEdits) ?? [
    ...midA.map((text): DiffLine => ({ kind: "-", text })),
    ...midB.map((text): DiffLine => ({ kind: "+", text })),
  ];
  return [...same(a.slice(0, head)), ...middle, ...same(a.slice(a.length - tail))];
}

/** Myers' shortest edit script, or undefined when it needs more than `maxEdits` edits. */
function myers(a: readonly string[], b: readonly string[], maxEdits: number): DiffLine[] | undefined {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  // The frontier before round d, diagonals -d..d only (what round d and the walk back read): O(D²) memory, not O(D·(N+M)).
  const trace: Int32Array[] = [];
  let done = max === 0;
  for (let d = 0; d <= max && !done; d++) {
    if (d > maxEdits) return undefined;
    trace.push(v.slice(offset - d, offset + d + 1));
    for (let k = -d; k <= d; k += 2) {
      // Step down (insert) from diagonal k+1 or right (delete) from k-1, whichever reaches further.
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) (x++, y++);
      v[offset + k] = x;
      if (x >= n && y >= m) {
        done = true;
        break;
      }
    }
  }
  // Walk back through the saved frontiers, from (n, m) to (0, 0).
  const out: DiffLine[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const at = (k: number) => trace[d]![k + d]!;
    const k = x - y;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) (out.push({ kind: " ", text: a[--x]! }), y--);
    if (d > 0) {
      if (down) out.push({ kind: "+", text: b[--y]! });
      else out.push({ kind: "-", text: a[--x]! });
    }
  }
  return out.reverse();
}

/** Splits text into lines, without the empty line after a final newline. */
const linesOf = (s: string): string[] => (s === "" ? [] : s.replace(/\n$/, "").split("\n"));

/**
 * A unified diff (`--- a`, `+++ b`, `@@ -l,n +l,n @@` hunks with `context`
 * unchanged lines around each change), or "" when the texts are equal.
 */
export function unifiedDiff(before: string, after: string, names: { a: string; b: string }, context = 3): string {
  const script = diffLines(linesOf(before), linesOf(after));
  const changed = script.map((l, i) => (l.kind !== " " ? i : -1)).filter((i) => i >= 0);
  if (changed.length === 0) return "";
  // Group changes whose context windows touch into one hunk.
  const hunks: [number, number][] = [];
  for (const i of changed) {
    const last = hunks[hunks.length - 1];
    if (last && i - last[1] <= 2 * context) last[1] = i;
    else hunks.push([i, i]);
  }
  // Line numbers (1-based) in a and b at each script position.
  const aAt = new Int32Array(script.length + 1);
  const bAt = new Int32Array(script.length + 1);
  for (let i = 0; i < script.length; i++) {
    aAt[i + 1] = aAt[i]! + (script[i]!.kind !== "+" ? 1 : 0);
    bAt[i + 1] = bAt[i]! + (script[i]!.kind !== "-" ? 1 : 0);
  }
  const out = [`--- ${names.a}`, `+++ ${names.b}`];
  for (const [first, last] of hunks) {
    const s = Math.max(0, first - context);
    const e = Math.min(script.length, last + context + 1);
    const aLen = aAt[e]! - aAt[s]!;
    const bLen = bAt[e]! - bAt[s]!;
    // An empty range is numbered by the line before it, as diff(1) does.
    const range = (start: number, len: number) => `${len === 0 ? start : start + 1}${len === 1 ? "" : `,${len}`}`;
    out.push(`@@ -${range(aAt[s]!, aLen)} +${range(bAt[s]!, bLen)} @@`);
    for (let i = s; i < e; i++) out.push(`${script[i]!.kind}${script[i]!.text}`);
  }
  return out.join("\n") + "\n";
}
