// What a user controls of a running precision search and sees of it: the
// `--search-time` limit (a duration: 30s, 2m, 500ms, 1h; a bare number is
// seconds) and the one-line progress report (step, candidate, NE and bytes of
// the plan so far, time left).

import { RmcError } from "../diagnostics/index.js";
import type { SearchProgress } from "./search.js";

/** Error code: a search time that is not a duration. */
export const E_SEARCH_TIME = "E1940";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration in milliseconds from `30s`, `2m`, `500ms`, `1h` or a number of seconds; "" or "0": no limit (0). */
export function parseDuration(text: string, what = "--search-time"): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (text.trim() === "") return 0;
  if (!m) throw new RmcError(`${what} must be a duration such as 30s, 2m or 500ms, got \`${text}\``, E_SEARCH_TIME);
  return Number(m[1]) * UNITS[m[2] ?? "s"]!;
}

const secs = (ms: number): string =>
  ms >= 60_000 ? `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s` : `${(ms / 1000).toFixed(1)} s`;

/** The progress line: where the search is, the plan so far, and about how long it has left. */
export function progressLine(p: SearchProgress): string {
  const kib = (p.bytes / 1024).toFixed(1);
  return `precision search: ${p.step} ${p.evaluations}/${Math.max(p.total, p.evaluations)} · ${p.candidate} · NE ${p.neDelta >= 0 ? "+" : ""}${p.neDelta.toFixed(4)}% · ${kib} KiB · ${secs(p.elapsedMs)}, ETA ${secs(p.etaMs)}`;
}
