// Line diffs for IR dumps: `--print-ir-after-change` and the compile report
// show what a pass changed as a unified diff of the dump before and after it.
// Myers' O(ND) algorithm (greedy furthest-reaching D-paths, with the trace
// kept to walk the edit script back); passes change a few lines of a long
// dump, so D stays small and the diff is fast on big graphs.

/** One line of an edit script: kept, removed from `a`, or added from `b`. */
export interface DiffLine {
  kind: " " | "-" | "+";
  text: string;
}

/** The shortest edit script turning lines `a` into lines `b`, in order. */
export function diffLines(a: readonly string[], b: readonly string[]): DiffLine[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let done = false;
  for (let d = 0; d <= max && !done; d++) {
    trace.push(v.slice());
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
    const vd = trace[d]!;
    const k = x - y;
    const down = k === -d || (k !== d && vd[offset + k - 1]! < vd[offset + k + 1]!);
    const prevK = down ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : vd[offset + prevK]!;
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
