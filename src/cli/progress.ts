// Progress reporting for long CLI work (data generation, statistics, runs,
// the precision search, verify --repair, the backend's modules): a single
// self-overwriting line on stderr with counts, rate and an ETA when it is a
// terminal, and nothing at all otherwise, so logs, pipes and --json stay clean.

/** A progress line; `update` is cheap to call often (it redraws at most 10 times a second). */
export interface Progress {
  /** `done` units so far; `total` replaces the total given at the start (a phase whose size is known only now). */
  update(done: number, total?: number): void;
  done(): void;
}

const silent: Progress = { update() {}, done() {} };

/** `1m05s`, `42s`, `1h02m`: a duration for an ETA. */
export function formatDuration(secs: number): string {
  const s = Math.max(0, Math.round(secs));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** The text of a progress line: counts, percent, rate and the time left at that rate (when the total is known). */
export function progressText(label: string, n: number, total: number | undefined, unit: string, secs: number): string {
  const rate = secs > 0 ? n / secs : 0;
  const of = total ? `/${total.toLocaleString("en-US")}` : "";
  const pct = total ? ` ${((100 * n) / total).toFixed(1)}%` : "";
  const eta = total && rate > 0 && n < total ? `, ETA ${formatDuration((total - n) / rate)}` : "";
  const shown = rate >= 10 ? Math.round(rate).toLocaleString("en-US") : rate.toFixed(1);
  return `${label}: ${n.toLocaleString("en-US")}${of} ${unit}${pct} (${shown}/s${eta})`;
}

/** Starts a progress line for `label`, out of `total` units (if known). */
export function progress(label: string, total?: number, unit = "rows", stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return silent;
  const start = Date.now();
  let last = 0;
  let of = total;
  return {
    update(n, newTotal) {
      if (newTotal !== undefined) of = newTotal;
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      stream.write(`\r${progressText(label, n, of, unit, (now - start) / 1000)}\x1b[K`);
    },
    done() {
      stream.write("\r\x1b[K");
    },
  };
}

/** What a phased task reports (the precision search, a repair round): its phase, and units done of the phase's total. */
export type ProgressSink = (phase: string, done: number, total: number) => void;

/** A ProgressSink drawing one line per phase on stderr (a terminal only); `finish` clears it. */
export function phasedProgress(label: string, unit: string, stream: NodeJS.WriteStream = process.stderr): { sink: ProgressSink; finish(): void } {
  if (!stream.isTTY) return { sink: () => {}, finish: () => {} };
  let phase: string | undefined;
  let bar: Progress = silent;
  return {
    sink(p, done, total) {
      if (p !== phase) {
        bar.done();
        phase = p;
        bar = progress(`${label}: ${p}`, total, unit, stream);
      }
      bar.update(done, total);
    },
    finish: () => bar.done(),
  };
}
