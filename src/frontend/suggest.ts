// Front end: "did you mean" for the front end's messages. It extends the
// shared edit-distance suggestion (src/diagnostics.ts) with swapped adjacent
// letters (`f23` → `f32`, `inptu` → `input`), the most common typo in short names.

import { didYouMean } from "../diagnostics.js";

/** True when `a` is `b` with two neighbouring characters swapped. */
function oneSwapApart(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  const i = [...a].findIndex((ch, k) => ch !== b[k]);
  return i >= 0 && i + 1 < a.length && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
}

/** `did you mean \`x\`?` for the candidate closest to `word`, or undefined when none is close. */
export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  const list = [...candidates];
  const close = didYouMean(word, list);
  if (close) return close;
  const swapped = list.find((c) => oneSwapApart(word, c));
  return swapped === undefined ? undefined : `did you mean \`${swapped}\`?`;
}
