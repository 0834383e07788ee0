// Worker threads under Node flags: `node --max-old-space-size=3072 rmc run
// DIST` used to fail before the first row ("Initiated Worker with invalid
// execArgv flags"), because workers inherited every flag of the process and
// Node refuses per-process ones in a worker. Now workers start with the flags
// they accept, and the heap limit reaches them as resourceLimits.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { workerResourceLimits } from "../../src/runtime/host/node.js";
import { rmc } from "../cli/helpers.js";
import { builtCli, smallArtifact } from "./helpers.js";

describe("worker threads and Node flags", () => {
  it("the built CLI predicts with worker threads under --max-old-space-size and --expose-gc, as the interpreter does", async () => {
    const a = await smallArtifact(400);
    const want = join(a.root, "interp.tsv");
    const r = await rmc("run", a.model, "--weights", a.weights, "--data", a.data, "--predictions", want);
    expect(r.code, r.err).toBe(0);
    const got = join(a.root, "threads.tsv");
    // One batch of 400 samples: split over both threads (32 samples a thread at least).
    const child = builtCli(
      ["--max-old-space-size=3072", "--expose-gc", "--no-warnings"],
      ["run", a.dist, "--data", a.data, "--threads", "2", "--predictions", got],
    );
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
    expect(child.stdout).toContain("wasm artifact, 2 threads");
    expect(readFileSync(got, "utf8")).toBe(readFileSync(want, "utf8"));
  });

  it("the process's heap limit becomes the workers' resourceLimits", () => {
    expect(workerResourceLimits(["--max-old-space-size=3072", "--expose-gc"])).toEqual({ maxOldGenerationSizeMb: 3072 });
    expect(workerResourceLimits(["--max_old_space_size=100", "--max-old-space-size=200"])).toEqual({ maxOldGenerationSizeMb: 200 });
    expect(workerResourceLimits(["--enable-source-maps"])).toBeUndefined();
  });
});
