// Progress reporting for long CLI work (data generation, statistics, runs):
// a single self-overwriting line on stderr when it is a terminal, and nothing
// at all otherwise, so logs and pipes stay clean.

/** A progress line; `update` is cheap to call often (it redraws at most 10 times a second). */
export interface Progress {
  update(done: number): void;
  done(): void;
}

const silent: Progress = { update() {}, done() {} };

/** Starts a progress line for `label`, out of `total` units (if known). */
export function progress(label: string, total?: number, unit = "rows", stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return silent;
  const start = Date.now();
  let last = 0;
  const draw = (n: number) => {
    const secs = (Date.now() - start) / 1000;
    const rate = secs > 0 ? Math.round(n / secs) : 0;
    const pct = total ? ` ${((100 * n) / total).toFixed(1)}%` : "";
    stream.write(
      `\r${label}: ${n.toLocaleString("en-US")}${total ? `/${total.toLocaleString("en-US")}` : ""} ${unit}${pct} (${rate.toLocaleString("en-US")}/s)   `,
    );
  };
  return {
    update(n) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      draw(n);
    },
    done() {
      stream.write("\r\x1b[K");
    },
  };
}
