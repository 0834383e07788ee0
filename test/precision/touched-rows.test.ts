// The precision search on the touched rows of each table (touched-rows.ts),
// on the small DLRM with trained-looking weights and data drawn from the
// model: it gives exactly the plan, graph and figures of the search on the
// whole tables, hot rows in table ids, while never reading a row that the
// calibration data does not look up; and with sensitivities measured on the
// first rows only, the plan is still measured on all of them.

import { describe, expect, it } from "vitest";
import type { Batch, Bags } from "../../src/data/batch.js";
import type { Tensor } from "../../src/weights/store.js";
import { MARGIN_SE, searchPrecision } from "../../src/precision/search.js";
import { ExpectedNE } from "../../src/precision/evaluate.js";
import { applyAssignment } from "../../src/precision/units.js";
import { searchTouched, touchedRows } from "../../src/precision/touched-rows.js";
import { graph, labelled, searchOpts, weights } from "./small-model.js";

const opts = { ...searchOpts, rowRange: "l2" as const };

/** The ids feature `f` looks up in the batches. */
function idsOf(batches: readonly Batch[], f: number): Set<number> {
  const out = new Set<number>();
  for (const b of batches) {
    const bags = b.inputs.sparse as Bags;
    let at = 0;
    for (let i = 0; i < bags.lengths.length; i++) {
      if (Math.floor(i / bags.batch) === f) for (let k = 0; k < bags.lengths[i]!; k++) out.add(bags.values[at + k]!);
      at += bags.lengths[i]!;
    }
  }
  return out;
}

describe("the search on touched rows", () => {
  const batches = labelled(21, 1024);
  const cut = touchedRows(graph, weights, batches);

  it("cuts each table down to exactly the rows the data looks up (a table it reads all of stays as it is)", () => {
    for (const w of graph.weights.filter((x) => x.role === "table")) {
      const ids = idsOf(batches, Number(w.name.split(".")[1]));
      const r = cut.get(w.name);
      if (r) expect([...r.ids]).toEqual([...ids].sort((a, b) => a - b));
      else expect(ids.size).toBe(w.shape[0]);
    }
    expect(cut.size).toBeGreaterThan(10);
  });

  it("gives the whole-table search's plan, graph and figures, and reads only touched rows", () => {
    // The store the touched search gets throws on any row the data does not look up.
    const guarded = new Map<string, Tensor>(weights);
    for (const [name, r] of cut) {
      const t = weights.get(name)!;
      const allowed = new Set(r.ids);
      guarded.set(name, {
        dtype: t.dtype,
        shape: t.shape,
        readRow: (i, out, offset) => {
          if (!allowed.has(i)) throw new Error(`read untouched row ${i} of ${name}`);
          t.readRow(i, out, offset);
        },
        toFloat32: () => {
          throw new Error(`read all of ${name}`);
        },
      });
    }
    const whole = searchPrecision(graph, weights, batches, opts);
    const touched = searchTouched(graph, guarded, batches, opts);
    expect(whole.decisions.some((d) => d.split)).toBe(true);
    expect(touched.decisions).toEqual(whole.decisions);
    expect(touched.graph).toEqual(whole.graph);
    expect(touched.finalDelta).toBe(whole.finalDelta);
    expect(touched.finalError).toBe(whole.finalError);
    expect(touched.evaluations).toBe(whole.evaluations);
  });
});

describe("sensitivities on the first rows, plans on all of them", () => {
  const batches = labelled(22, 2048);
  const r = searchTouched(graph, weights, batches, { ...opts, senseRows: 512 });

  it("measures each table alone on the first sensitivity rows, and the plan on every calibration row", () => {
    // Batches of 256: 1,536 search rows, the first 512 of them for sensitivities.
    const sense = batches.slice(0, 2);
    const base = new ExpectedNE(graph, weights, sense);
    // Tables are measured alone on top of the layers' choices (with their smoothing, as the plan's graph has it).
    const layers = r.decisions.filter((d) => d.kind !== "table");
    const smooth = new Map(r.graph.nodes.filter((n) => Array.isArray(n.attrs.smooth)).map((n) => [n.id, n.attrs.smooth as number[]]));
    const start = applyAssignment(graph, { precision: new Map(layers.map((d) => [d.unit, d.precision])), smooth, rowRange: "l2" });
    const whole = r.decisions.filter((d) => d.kind === "table" && d.source === "search" && !d.split && d.precision !== "fp32");
    expect(whole.length).toBeGreaterThan(0);
    for (const d of whole) {
      const one = applyAssignment(start, { precision: new Map([[d.unit, d.precision]]), rowRange: "l2" });
      expect(d.neDeltaAlone).toBeCloseTo(base.delta(one) - base.delta(start), 12);
    }
    expect(new ExpectedNE(graph, weights, batches).delta(r.graph)).toBe(r.finalDelta);
    expect(r.finalDelta + MARGIN_SE * r.finalError).toBeLessThanOrEqual(opts.budget + 1e-9);
  });
});
