// The precision search's hot/cold splits, time limit and checkpoints on the
// small DLRM with trained-looking weights and data drawn from the model: it
// splits tables by itself (hot: the ids with the most lookups × the cold
// precision's squared rounding error, each split explained,
// the parts in the graph it returns, its figures those of that graph), an
// explicit split-tables step and a pin are kept, a time limit still returns a
// plan within the budget, and each better plan is handed over as it is found.

import { describe, expect, it } from "vitest";
import { runPipeline } from "../../src/pipeline/index.js";
import { createPassRegistry } from "../../passes/index.js";
import { MARGIN_SE, searchPrecision } from "../../src/precision/search.js";
import { ExpectedNE } from "../../src/precision/evaluate.js";
import { precisionUnits } from "../../src/precision/units.js";
import { roundTripRow, type RowFormat } from "../../src/quant/rowwise.js";
import { graph, labelled, searchOpts, weights, written } from "./small-model.js";

const opts = searchOpts;

describe("hot/cold splits chosen by the search", () => {
  const batches = labelled(21, 1024);
  const seen: number[] = [];
  const progress: string[] = [];
  const r = searchPrecision(graph, weights, batches, {
    ...opts,
    checkpoint: (c) => seen.push(c.decisions.reduce((n, d) => n + d.bytesAfter, 0)),
    progress: (p) => progress.push(p.step),
  });
  const units = new Map(precisionUnits(graph).map((u) => [u.id, u]));

  it("splits some tables by itself, says why, writes the parts, and measures what it wrote", () => {
    const split = r.decisions.filter((d) => d.split);
    expect(split.length).toBeGreaterThan(0);
    for (const d of split) {
      const rows = units.get(d.unit)!.shape[0];
      expect(d.split!.hot.length).toBeLessThanOrEqual(rows / 4);
      expect(d.why).toMatch(
        new RegExp(
          `the ${d.split!.hot.length} rows with the most lookups × ${d.split!.cold} rounding error \\([\\d.]+% of calibration lookups\\) at ${d.precision}, the other ${rows - d.split!.hot.length} at ${d.split!.cold}`,
        ),
      );
      expect(d.bytesAfter).toBeLessThan(d.bytesBefore);
      // The parts are in the graph, the hot one holding exactly the hot ids.
      const hot = r.graph.weights.find((w) => w.name === `${d.unit}.hot`)!;
      expect(hot.attrs).toMatchObject({ part_of: d.unit, hot: d.split!.hot, precision: d.precision });
      expect(r.graph.weights.find((w) => w.name === `${d.unit}.cold`)!.attrs.precision).toBe(d.split!.cold);
      // The hot ids gain most from being hot: lookups in the three batches the search chooses on (the fourth
      // is held back) times the squared error the cold precision's rounding puts into the row.
      const feature = Number(d.unit.split(".")[1]);
      const counts = new Map<number, number>();
      for (const b of batches.slice(0, 3)) {
        const bags = b.inputs.sparse as { values: Int32Array; lengths: Int32Array; batch: number };
        let at = 0;
        for (let i = 0; i < bags.lengths.length; i++) {
          if (Math.floor(i / bags.batch) === feature)
            for (let k = 0; k < bags.lengths[i]!; k++) counts.set(bags.values[at + k]!, (counts.get(bags.values[at + k]!) ?? 0) + 1);
          at += bags.lengths[i]!;
        }
      }
      const table = weights.get(d.unit)!;
      const gain = (id: number): number => {
        const row = new Float32Array(table.shape[1]!);
        table.readRow(id, row);
        const trip = row.slice();
        roundTripRow(d.split!.cold as RowFormat, trip);
        return (counts.get(id) ?? 0) * trip.reduce((e, v, k) => e + (v - row[k]!) ** 2, 0);
      };
      const least = Math.min(...d.split!.hot.map(gain));
      const others = [...counts.keys()].filter((id) => !d.split!.hot.includes(id)).map(gain);
      expect(least).toBeGreaterThan(0);
      expect(Math.max(0, ...others)).toBeLessThanOrEqual(least);
    }
    // What it reports is what the graph it returns measures, on every calibration row, within the budget.
    expect(new ExpectedNE(graph, weights, batches).delta(r.graph)).toBe(r.finalDelta);
    expect(r.finalDelta + MARGIN_SE * r.finalError).toBeLessThanOrEqual(opts.budget + 1e-9);
    const bytes = (x: typeof r) => x.decisions.reduce((n, d) => n + d.bytesAfter, 0);
    // Without splits the same budget buys less.
    expect(bytes(searchPrecision(graph, weights, batches, { ...opts, splits: false }))).toBeGreaterThan(bytes(r));
  });

  it("leaves an explicit split-tables step's parts as they are, and a pinned table whole", () => {
    const pre = runPipeline(
      written,
      "canonicalize,infer-shapes,dce,split-tables{hot=32,tables=emb.0.weight}",
      createPassRegistry(),
      { out: () => {} },
      { weights, calibration: batches },
    );
    const pinned = { ...pre, weights: pre.weights.map((w) => (w.name === "emb.2.weight" ? { ...w, attrs: { ...w.attrs, precision: "int8" } } : w)) };
    const s = searchPrecision(pinned, weights, batches, opts);
    expect(s.decisions.some((d) => d.unit === "emb.0.weight")).toBe(false);
    expect(s.decisions.filter((d) => d.unit.startsWith("emb.0.weight.")).map((d) => d.unit)).toEqual(["emb.0.weight.hot", "emb.0.weight.cold"]);
    expect(s.decisions.find((d) => d.unit.startsWith("emb.0.weight."))!.split).toBeUndefined();
    expect(s.graph.weights.find((w) => w.name === "emb.0.weight.hot")!.attrs.hot).toEqual(
      pre.weights.find((w) => w.name === "emb.0.weight.hot")!.attrs.hot,
    );
    expect(s.decisions.find((d) => d.unit === "emb.2.weight")).toMatchObject({ precision: "int8", source: "pin" });
    expect(s.decisions.find((d) => d.unit === "emb.2.weight")!.split).toBeUndefined();
    expect(s.graph.weights.some((w) => w.name.startsWith("emb.2.weight."))).toBe(false);
  });

  it("given a time limit, returns the best plan found within it, within the budget (never nothing)", () => {
    // A third of a search with everything warm (the first search also paid for the JIT and the tables' quantization).
    const warm = searchPrecision(graph, weights, batches, opts).ms;
    for (const timeLimitMs of [1, Math.max(20, warm / 3)]) {
      const t = searchPrecision(graph, weights, batches, { ...opts, timeLimitMs });
      expect(t.timedOut).toBe(true);
      expect(t.decisions.length).toBe(r.decisions.length);
      expect(t.finalDelta + MARGIN_SE * t.finalError).toBeLessThanOrEqual(opts.budget + 1e-9);
      expect(new ExpectedNE(graph, weights, batches).delta(t.graph)).toBe(t.finalDelta);
      if (timeLimitMs === 1)
        expect(t.decisions.filter((d) => d.kind === "table").every((d) => d.why === "not reached before the search's time limit")).toBe(true);
    }
  });

  it("hands over each better plan as it goes (each smaller), and reports progress at every step", () => {
    expect(seen.length).toBeGreaterThan(1);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeLessThan(seen[i - 1]!);
    for (const step of ["layers", "tables", "plan", "held-back"]) expect(progress).toContain(step);
  });
});
