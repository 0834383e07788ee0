// The soak (bench/soak.ts) in short, as CI runs it: about 25 s of random
// valid and broken requests through predict (worker threads) and `rmc serve`,
// run as the built script (build/bench/soak.js, from `npx tsc -p
// tsconfig.json`). Every valid answer must match the interpreter, every broken
// request must be refused with its code, and resident memory must not grow
// without bound (a generous limit: a short run still sees V8 and the
// allocator settle; the long runs are in BENCHMARKS.md).

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";

const SCRIPT = "build/bench/soak.js";

interface Summary {
  predict: number;
  http: number;
  refused: number;
  wrong: number;
  unclean: number;
  requests: number;
  warm: { rssMiB: number; requests: number };
  last: { rssMiB: number; heapMiB: number; requests: number };
  samples: { rssMiB: number; heapMiB: number }[];
}

describe("soak, short", () => {
  it("answers every valid request right and refuses every broken one, in bounded memory", { timeout: 180_000 }, () => {
    expect(existsSync(SCRIPT), `${SCRIPT} is missing: build first (npx tsc -p tsconfig.json)`).toBe(true);
    const child = spawnSync(process.execPath, ["--expose-gc", SCRIPT, "--minutes", "0.4", "--report-s", "4", "--concurrency", "3"], {
      encoding: "utf8",
      timeout: 170_000,
    });
    expect(child.status, child.stderr).toBe(0);
    const line = child.stdout.split("\n").find((l) => l.startsWith("SOAK "));
    expect(line, child.stdout).toBeDefined();
    const s = JSON.parse(line!.slice(5)) as Summary;
    expect(s.wrong, child.stdout).toBe(0);
    expect(s.unclean, child.stdout).toBe(0);
    // Both drivers ran, and about a fifth of the requests were broken ones, refused.
    expect(s.predict).toBeGreaterThan(1000);
    expect(s.http).toBeGreaterThan(100);
    expect(s.refused).toBeGreaterThan(s.requests / 10);
    expect(s.refused).toBeLessThan(s.requests / 3);
    // Bounded: after the warm-up, RSS grows by less than 64 MiB, and the heap after a GC stays under 256 MiB.
    expect(s.last.requests).toBeGreaterThan(s.warm.requests);
    expect(s.last.rssMiB - s.warm.rssMiB).toBeLessThan(64);
    expect(Math.max(...s.samples.map((x) => x.heapMiB))).toBeLessThan(256);
  });
});
