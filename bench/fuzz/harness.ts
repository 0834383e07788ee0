// Fuzzing harness (bench/fuzz): runs one surface — a fast-check arbitrary of
// hostile inputs plus the rmc entry point that reads them — for a number of
// cases or seconds and sorts every case into accepted, clean error (an
// RmcError with a code, no JS stack in its message), crash (anything else
// thrown), hang (over the per-case limit) or wrong answer (the surface's own
// check failed). Shared by the `npm run fuzz` runner and test/hardening/fuzz.test.ts.

import fc from "fast-check";
import { RmcError } from "../../src/diagnostics/index.js";

/** What a surface's `run` reports for an input it accepted: nothing, or why the answer is wrong. */
export type Verdict = void | { wrong: string };

export interface Surface<T> {
  name: string;
  /** Hostile inputs: real examples mutated, plus crafted extremes. */
  arb: () => fc.Arbitrary<T>;
  /** Feeds one input to rmc; throws what rmc throws. */
  run: (input: T) => Verdict | Promise<Verdict>;
  /** Whether a clean error must carry a location (a span, or a line/column/byte/offset in its message). */
  located?: boolean;
  /** Per-case time limit, for surfaces whose cases are slow by design (compiling a model); CASE_LIMIT_MS otherwise. */
  limitMs?: number;
  /** At most this many cases whatever the runner asks for (compiling a model per case takes a second or two). */
  maxCases?: number;
  /** One-time setup (compiling an artifact, say); cases wait for it. */
  setup?: () => Promise<void>;
  /** Releases what setup made. */
  teardown?: () => Promise<void>;
}

export type Kind = "accepted" | "clean" | "crash" | "hang" | "wrong" | "unclean";

/** One surface's tally, and the first few failing inputs (as text) with their reasons. */
export interface Tally {
  surface: string;
  tried: number;
  accepted: number;
  clean: number;
  /** Clean errors with a location; undefined where the surface's inputs have none to give. */
  located: number | undefined;
  crash: number;
  hang: number;
  wrong: number;
  unclean: number;
  failures: { kind: Kind; why: string; input: string }[];
}

/** A case taking longer than this counts as a hang. */
export const CASE_LIMIT_MS = 2000;

const STACK = /\n\s+at .+[(:]\d+/;
const LOCATION = /line \d+|\w:\d+(:\d+)?[: ]|column \d+|bytes? \d+|offset \d+|at \d+/i;

/** The kind of a thrown value: clean when an RmcError with a code (and a location where `located`), else a crash. */
export function classifyError(e: unknown, located: boolean): { kind: Kind; why: string; hasLocation: boolean } {
  if (!(e instanceof RmcError))
    return { kind: "crash", why: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ""}` : String(e), hasLocation: false };
  const d = e.diagnostics[0];
  if (!d || !/^E\d{4}$/.test(d.code)) return { kind: "unclean", why: `RmcError without a code: ${e.message}`, hasLocation: false };
  if (STACK.test(e.message)) return { kind: "unclean", why: `stack trace in the message: ${e.message}`, hasLocation: false };
  const hasLocation = e.diagnostics.some((x) => x.span !== undefined) || LOCATION.test(e.message);
  return { kind: "clean", why: e.message, hasLocation: hasLocation || !located };
}

/** Runs one case under the time limit: sync work is timed afterwards, async work is raced against a timer. */
export async function runCase<T>(s: Surface<T>, input: T): Promise<{ kind: Kind; why: string; hasLocation: boolean }> {
  const limit = s.limitMs ?? CASE_LIMIT_MS;
  const start = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const pending = Promise.resolve().then(() => s.run(input));
    const timeout = new Promise<"hang">((res) => (timer = setTimeout(() => res("hang"), limit)));
    const verdict = await Promise.race([pending, timeout]);
    if (verdict === "hang" || performance.now() - start > limit)
      return { kind: "hang", why: `over ${limit} ms (${Math.round(performance.now() - start)} ms)`, hasLocation: false };
    if (verdict && typeof verdict === "object") return { kind: "wrong", why: verdict.wrong, hasLocation: false };
    return { kind: "accepted", why: "", hasLocation: false };
  } catch (e) {
    if (performance.now() - start > limit) return { kind: "hang", why: `over ${limit} ms, then threw`, hasLocation: false };
    return classifyError(e, s.located ?? false);
  } finally {
    clearTimeout(timer);
  }
}

/** Short printable form of an input (bytes as hex, long text cut). */
export function show(x: unknown): string {
  const s =
    x instanceof Uint8Array
      ? `bytes(${x.length}) ${Buffer.from(x.subarray(0, 96)).toString("hex")}`
      : typeof x === "string"
        ? JSON.stringify(x)
        : JSON.stringify(x, (_, v) => (typeof v === "bigint" ? `${v}n` : ArrayBuffer.isView(v) ? Array.from(v as Uint8Array) : v));
  return s === undefined ? String(x) : s.length > 600 ? `${s.slice(0, 600)}…` : s;
}

/** Cases a chunk of generation produces at once (fc.sample), between time checks. */
const CHUNK = 200;

/** Fuzzes `s` for `cases` inputs or `seconds`, whichever ends first, from `seed`. */
export async function fuzz<T>(s: Surface<T>, cases: number, seconds: number, seed: number): Promise<Tally> {
  const t: Tally = {
    surface: s.name,
    tried: 0,
    accepted: 0,
    clean: 0,
    located: s.located ? 0 : undefined,
    crash: 0,
    hang: 0,
    wrong: 0,
    unclean: 0,
    failures: [],
  };
  cases = Math.min(cases, s.maxCases ?? Infinity);
  await s.setup?.();
  const end = performance.now() + seconds * 1000;
  const arb = s.arb();
  try {
    for (let chunk = 0; t.tried < cases && performance.now() < end; chunk++) {
      const inputs = fc.sample(arb, { numRuns: Math.min(CHUNK, cases - t.tried), seed: seed + chunk });
      for (const input of inputs) {
        if (performance.now() >= end) break;
        const r = await runCase(s, input);
        t.tried++;
        t[r.kind]++;
        if (r.kind === "clean" && r.hasLocation && t.located !== undefined) t.located++;
        if (r.kind !== "accepted" && r.kind !== "clean" && t.failures.length < 5) t.failures.push({ kind: r.kind, why: r.why, input: show(input) });
      }
    }
  } finally {
    await s.teardown?.();
  }
  return t;
}

/** Failures of a tally: crashes, hangs, wrong answers and errors without a code. */
export const failures = (t: Tally): number => t.crash + t.hang + t.wrong + t.unclean;

/** The tallies as a markdown table. */
export function table(ts: readonly Tally[]): string {
  const head = "| surface | tried | accepted | clean errors | located | crashes | hangs | wrong | errors without code |";
  const rows = ts.map(
    (t) => `| ${t.surface} | ${t.tried} | ${t.accepted} | ${t.clean} | ${t.located ?? "n/a"} | ${t.crash} | ${t.hang} | ${t.wrong} | ${t.unclean} |`,
  );
  const sum = (k: keyof Tally): number => ts.reduce((a, t) => a + ((t[k] as number | undefined) ?? 0), 0);
  const total = `| **total** | ${sum("tried")} | ${sum("accepted")} | ${sum("clean")} | ${sum("located")} | ${sum("crash")} | ${sum("hang")} | ${sum("wrong")} | ${sum("unclean")} |`;
  return [head, "|---|--:|--:|--:|--:|--:|--:|--:|--:|", ...rows, total].join("\n");
}
