// Split tables in the reference interpreter: the same outputs, bit for bit,
// before and after splitting by rows, by columns and into hot and cold parts
// (sum, mean and max pooling, weighted bags, a quantized table), hot rows that
// really are the most frequent ones, out-of-range ids still named with the
// table, and the precision search seeing hot and cold parts as separate units.

import { describe, expect, it } from "vitest";
import { interpret } from "../../src/interp/interpreter.js";
import { RmcError } from "../../src/diagnostics/index.js";
import { precisionUnits } from "../../src/precision/units.js";
import { isBags } from "../../src/data/batch.js";
import { printGraph } from "../../src/ir/print.js";
import { parseGraph } from "../../src/ir/parse.js";
import { MODEL, PIPELINES, batches, expectIdentical, model, partNames, run, weightsFor } from "./helpers.js";

describe("split tables in the interpreter", () => {
  for (const pool of ["sum", "mean", "max"])
    for (const weighted of [false, true])
      it(`${pool}${weighted ? ", weighted" : ""}: rows, cols and hot/cold splits give the unsplit outputs exactly`, () => {
        const g = model(MODEL(pool, weighted));
        const weights = weightsFor(g);
        const calib = batches(g, [64, 64]);
        const test = batches(g, [1, 17, 40], 3);
        for (const [mode, pipeline] of Object.entries(PIPELINES)) {
          if (mode === "mixed") continue;
          const split = run(g, pipeline, calib);
          expect(partNames(split).length, mode).toBeGreaterThan(1);
          for (const b of test) expectIdentical(interpret(split, weights, b).outputs, interpret(g, weights, b).outputs);
        }
      });

  it("a quantized (int8) table split by rows and hot/cold reads the same rows as unsplit", () => {
    const g = model(MODEL(), (x) => {
      for (const w of x.weights) if (w.role === "table") w.attrs.precision = "int8";
    });
    const weights = weightsFor(g);
    const calib = batches(g, [64]);
    for (const pipeline of [PIPELINES.rows, PIPELINES.hotcold]) {
      const split = run(g, pipeline, calib);
      expect(split.weights.filter((w) => w.attrs.part_of !== undefined).every((w) => w.attrs.precision === "int8")).toBe(true);
      for (const b of batches(g, [23], 5)) expectIdentical(interpret(split, weights, b).outputs, interpret(g, weights, b).outputs);
    }
  });

  it("the hot part holds the most frequent ids of the calibration data", () => {
    const g = model();
    const calib = batches(g, [256]);
    const split = run(g, "split-tables{hot=4,tables=emb.0.weight}", calib);
    const hot = split.weights.find((w) => w.name === "emb.0.weight.hot")!;
    const counts = new Map<number, number>();
    const bags = calib[0]!.inputs.sparse!;
    if (!isBags(bags)) throw new Error("bags expected");
    let p = 0;
    for (let i = 0; i < bags.batch; i++)
      for (let k = 0; k < bags.lengths[i]!; k++, p++) counts.set(bags.values[p]!, (counts.get(bags.values[p]!) ?? 0) + 1);
    const top = [...counts]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, 4)
      .map(([id]) => id)
      .sort((a, b) => a - b);
    expect(hot.attrs.hot).toEqual(top);
    expect(hot.shape).toEqual([4, 8]);
    expect(split.weights.find((w) => w.name === "emb.0.weight.cold")!.attrs.cold).toEqual([0, 196]);
  });

  it("hot and cold parts are separate precision units, and the options set their precisions", () => {
    const g = model();
    const split = run(g, PIPELINES.mixed, batches(g, [64]));
    const units = precisionUnits(split)
      .filter((u) => u.kind === "table")
      .map((u) => [u.id, u.pinned ?? "fp32"]);
    expect(units).toContainEqual(["emb.0.weight.hot", "fp32"]);
    expect(units.filter(([id]) => id!.startsWith("emb.0.weight.cold"))).toEqual([
      ["emb.0.weight.cold.p0", "int8"],
      ["emb.0.weight.cold.p1", "int8"],
    ]);
  });

  it("an out-of-range id names the table as declared, with its full rows", () => {
    const g = model();
    const split = run(g, PIPELINES.rows);
    const b = batches(g, [2])[0]!;
    const bags = b.inputs.sparse;
    if (!bags || !isBags(bags)) throw new Error("bags expected");
    bags.lengths.fill(0);
    bags.lengths[0] = 1;
    bags.values = Int32Array.of(200);
    const e = (() => {
      try {
        interpret(split, weightsFor(g), b);
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(RmcError);
    expect((e as RmcError).message).toContain("table @emb.0.weight with 200 rows");
  });
});

describe("split tables and the precision pass", () => {
  it("a later assign-precision keeps the hot and cold parts' precisions (pins) and sets the rest", () => {
    const g = model();
    const split = run(
      g,
      "split-tables{hot=8,hot-precision=fp32,cold-precision=int4,tables=emb.0.weight},assign-precision{mode=int8}",
      batches(g, [64]),
    );
    const precision = (name: string) => split.weights.find((w) => w.name === name)!.attrs.precision;
    expect(precision("emb.0.weight.hot")).toBe("fp32");
    expect(precision("emb.0.weight.cold")).toBe("int4");
    expect(precision("emb.1.weight")).toBe("int8");
  });
});

describe("split tables in the IR dump", () => {
  it("each part shows what it holds, and the dump parses back to the same graph", () => {
    const g = model();
    const split = run(
      g,
      "split-tables{max-bytes=2KiB,hot=4,tables=emb.0.weight;emb.2.weight},split-tables{max-bytes=1KiB,mode=cols,tables=emb.1.weight}",
      batches(g, [64]),
    );
    const text = printGraph(split);
    const hot = split.weights.find((w) => w.name === "emb.0.weight.hot")!.attrs.hot as number[];
    expect(text).toContain(`weight @emb.0.weight.hot: table f32[4,8] {part_of=emb.0.weight, hot=[${hot.join(",")}]}`);
    expect(text).toMatch(/weight @emb\.0\.weight\.cold\.p0: table f32\[\d+,8\] \{part_of=emb\.0\.weight, cold=\[0,\d+\]\}/);
    expect(text).toContain("weight @emb.1.weight.c0: table f32[50,4] {part_of=emb.1.weight, cols=[0,4]}");
    expect(text).toMatch(/parts=\[\d+,2,\d+\]/);
    expect(parseGraph(text, "split.ir")).toEqual(split);
  });
});
