// split-tables' options: each bad one is an error (E1930; an unknown target is
// E0904, as everywhere) that says what is wrong, before anything is split;
// sizes follow the table's precision; the compile command splits by the
// target's buffer limit.

import { describe, expect, it } from "vitest";
import { RmcError } from "../../src/diagnostics/index.js";
import { batches, model, partNames, run } from "./helpers.js";
import { runPipelineWithReport } from "../../src/pipeline/index.js";
import { createPassRegistry } from "../../passes/index.js";

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(RmcError);
    return (e as RmcError).diagnostics.map((d) => `${d.code} ${d.message}`).join("\n");
  }
  throw new Error("no error");
}

describe("split-tables options", () => {
  const g = model();
  const calib = batches(g, [32]);
  for (const [pipeline, message] of [
    ["split-tables{mode=diagonal}", /E1204 option `mode` of `split-tables` must be one of rows, cols, got `diagonal`/],
    ["split-tables{target=cuda}", /E0904 .*unknown target `cuda`.*max-bytes/],
    ["split-tables{hot=2,hot-bytes=1KiB}", /E1930 .*hot .* or hot-bytes .*not both/],
    ["split-tables{hot=2,mode=cols}", /E1930 .*mode=cols cannot be combined/],
    ["split-tables{cold-precision=int4}", /E1930 .*need a hot\/cold split/],
    ["split-tables{hot=2,hot-precision=int3}", /E1930 .*hot-precision must be one of fp32, .*int4.*got `int3`/],
    ["split-tables{max-bytes=4KiB,tables=emb.9.weight}", /E1930 .*`emb\.9\.weight` is not a whole table/],
    ["split-tables{max-bytes=16,mode=rows}", /E1932 .*one row of table emb\.0\.weight \(32 bytes\) is over the 16 bytes limit/],
  ] as const)
    it(`${pipeline}: an error`, () => {
      expect(errorOf(() => run(g, pipeline, calib))).toMatch(message);
    });

  it("sizes are at the table's precision: an int4 table under the limit is not split, fp32 is", () => {
    const int4 = model(undefined, (x) => {
      for (const w of x.weights) if (w.role === "table") w.attrs.precision = "int4";
    });
    // emb.0: 200 rows × 32 bytes (fp32) = 6400 bytes; × 8 bytes (int4: 4 packed + 4 scale/bias) = 1600 bytes.
    expect(partNames(run(g, "split-tables{max-bytes=2KiB}"))).toContain("emb.0.weight.p0");
    expect(partNames(run(int4, "split-tables{max-bytes=2KiB}"))).toEqual([]);
  });

  it("hot-bytes takes as many hot rows as fit (a row plus a 4-byte id each), at the hot part's precision", () => {
    // fp32 dim 8: 32 + 4 bytes a row; int8: 8 + 8 (scale, bias) + 4.
    const fp32 = run(g, "split-tables{hot-bytes=360,tables=emb.0.weight}", calib);
    expect(fp32.weights.find((w) => w.name === "emb.0.weight.hot")!.shape).toEqual([10, 8]);
    const int8 = run(g, "split-tables{hot-bytes=360,hot-precision=int8,tables=emb.0.weight}", calib);
    expect(int8.weights.find((w) => w.name === "emb.0.weight.hot")!.shape).toEqual([18, 8]);
  });

  it("hot=K leaves a table of at most K rows whole, with a note, and splits the larger ones", () => {
    const notes: string[] = [];
    const out = runPipelineWithReport(g, "split-tables{hot=50}", createPassRegistry(), { out: () => {} }, { calibration: calib });
    for (const d of out.diagnostics) notes.push(d.message);
    // Rows 200, 50, 120: the 50-row table all fits a hot part of 50.
    expect(partNames(out.graph)).toEqual(["emb.0.weight.hot", "emb.0.weight.cold", "emb.2.weight.hot", "emb.2.weight.cold"]);
    expect(notes).toContain("split-tables: emb.1.weight (50 rows) is left whole: every row fits a hot part of 50");
    expect(partNames(run(g, "split-tables{hot=49}", calib))).toContain("emb.1.weight.hot");
  });

  it("a table that fits is left alone: the pass returns the very same graph", () => {
    expect(run(g, "split-tables{target=wgsl}")).toBe(g);
  });
});
