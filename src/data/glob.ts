// Data paths as users write them: `day_*.gz`, `data/part-0?.parquet`. Node 20
// has no stable fs.glob, and a shell does not expand a quoted pattern (nor a
// pattern given to a program that is not run from a shell), so `--data`
// expands `*`, `?` and `[...]` itself. Matches are sorted the way people
// number files (day_2 before day_10), so Criteo's days come in order.

import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { RmcError } from "../diagnostics/index.js";

const GLOB = /[*?[]/;

/** Whether a path segment is a pattern. */
export const isGlob = (s: string): boolean => GLOB.test(s);

/** A path segment pattern as an anchored RegExp: `*` any run (not `/`), `?` one character, `[...]` a class (`[!...]` negated). */
export function globRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const close = pattern.indexOf("]", i + 2);
      if (close < 0) {
        re += "\\[";
        continue;
      }
      let body = pattern.slice(i + 1, close);
      const negated = body[0] === "!" || body[0] === "^";
      if (negated) body = body.slice(1);
      re += `[${negated ? "^" : ""}${body.replace(/[\\\]^]/g, "\\$&")}]`;
      i = close;
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Compares names with their digit runs as numbers: day_2 < day_10. */
export function naturalCompare(a: string, b: string): number {
  const split = (s: string): (string | number)[] => s.split(/(\d+)/).map((p, i) => (i % 2 ? Number(p) : p));
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i]!;
    const q = y[i]!;
    if (p === q) continue;
    if (typeof p === "number" && typeof q === "number") return p - q;
    return String(p) < String(q) ? -1 : 1;
  }
  return x.length - y.length || (a < b ? -1 : a > b ? 1 : 0);
}

const entries = (dir: string): string[] => {
  try {
    return readdirSync(dir === "" ? "." : dir);
  } catch {
    return [];
  }
};

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** The files a pattern names, in natural order; a pattern that matches nothing is an RmcError. Hidden files match only a pattern starting with `.`. */
export function expandGlob(pattern: string): string[] {
  const absolute = pattern.startsWith("/");
  const segments = pattern.split("/").filter((s, i) => s !== "" || i === 0);
  let paths = [absolute ? "/" : ""];
  for (const [i, seg] of segments.entries()) {
    if (seg === "") continue;
    const last = i === segments.length - 1;
    if (!isGlob(seg)) {
      paths = paths.map((p) => (p === "" ? seg : join(p, seg)));
      continue;
    }
    const re = globRegExp(seg);
    const next: string[] = [];
    for (const p of paths) {
      const names = entries(p)
        .filter((n) => re.test(n) && (seg.startsWith(".") || !n.startsWith(".")))
        .sort(naturalCompare);
      for (const n of names) {
        const full = p === "" ? n : join(p, n);
        if (last ? !isDir(full) : isDir(full)) next.push(full);
      }
    }
    paths = next;
  }
  if (paths.length === 0) throw new RmcError(`no file matches \`${pattern}\``, "E0770");
  return paths;
}
