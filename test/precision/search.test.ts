// The precision search and plans on the small DLRM with trained-looking
// weights and data drawn from the model itself: the result stays within the
// NE budget it measures, user pins win, precisions the target runs slower are
// never chosen, an impossible budget still returns a valid plan (the pins),
// the search is deterministic, and a written plan reapplies to the same IR.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MARGIN_SE, searchPrecision } from "../../src/precision/search.js";
import { interpret } from "../../src/interp/interpreter.js";
import { ExpectedNE, measureNE } from "../../src/precision/evaluate.js";
import { applyAssignment, precisionUnits } from "../../src/precision/units.js";
import { PLAN_FORMAT, applyDecisions, readPlan, writePlan, type PrecisionPlan } from "../../src/precision/plan.js";
import { rowBytes } from "../../src/quant/rowwise.js";
import { planSummary } from "../../src/precision/report.js";
import { WASM_TARGET } from "../../src/target/index.js";
import { graph, labelled, searchOpts, weights } from "./small-model.js";

const calib = labelled(1, 768);
const opts = searchOpts;

describe("units", () => {
  it("know their sizes at every precision (FBGEMM row sizes for tables)", () => {
    const units = new Map(precisionUnits(graph).map((u) => [u.id, u]));
    const emb0 = units.get("emb.0.weight")!; // [1000, 16]
    expect(emb0.bytes("fp32")).toBe(1000 * 64);
    expect(emb0.bytes("int8")).toBe(1000 * (16 + 8));
    expect(emb0.bytes("int4")).toBe(1000 * rowBytes("int4", 16));
    expect(rowBytes("int4", 16)).toBe(12);
    const top0 = units.get("top.0")!; // linear 367 -> 64 with bias
    expect(top0.bytes("int8")).toBe(64 * 367 + 64 * 4 + 64 * 4);
    expect(units.size).toBe(26 + 4);
  });

  it("write fp32 as no attribute, so an assigned fp32 never looks like a pin", () => {
    const g = applyAssignment(graph, {
      precision: new Map([
        ["emb.3.weight", "int4"],
        ["top.0", "int8"],
      ]),
    });
    expect(g.weights.find((w) => w.name === "emb.3.weight")!.attrs.precision).toBe("int4");
    const back = applyAssignment(g, {
      precision: new Map([
        ["emb.3.weight", "fp32"],
        ["top.0", "fp32"],
      ]),
    });
    expect(back).toEqual(graph);
  });
});

describe("expected NE", () => {
  it("is 0 for the fp32 model itself and grows with coarser tables", () => {
    const ev = new ExpectedNE(graph, weights, calib);
    expect(ev.delta(graph)).toBe(0);
    const at = (p: string) =>
      ev.delta(
        applyAssignment(graph, {
          precision: new Map(
            precisionUnits(graph)
              .filter((u) => u.kind === "table")
              .map((u) => [u.id, p]),
          ),
        }),
      );
    const [int8, int4, int2] = [at("int8"), at("int4"), at("int2")];
    expect(int8).toBeGreaterThan(0);
    expect(int4).toBeGreaterThan(int8);
    expect(int2).toBeGreaterThan(int4);
  });
});

describe("expected NE's standard error", () => {
  it("is the spread of per-sample KL over √n, in the delta's units (checked by hand on the int4 model)", () => {
    const ev = new ExpectedNE(graph, weights, calib);
    const g4 = applyAssignment(graph, {
      precision: new Map(
        precisionUnits(graph)
          .filter((u) => u.kind === "table")
          .map((u) => [u.id, "int4"]),
      ),
    });
    const d = ev.delta(g4);
    const clamp = (p: number) => Math.min(1 - 1e-7, Math.max(1e-7, p));
    const kls: number[] = [];
    let h = 0;
    for (const b of calib) {
      const p = interpret(graph, weights, b).outputs.ctr!;
      const q = interpret(g4, weights, b).outputs.ctr!;
      p.forEach((pv, i) => {
        const [x, y] = [clamp(pv), clamp(q[i]!)];
        kls.push(x * Math.log(x / y) + (1 - x) * Math.log((1 - x) / (1 - y)));
        h -= x * Math.log(x) + (1 - x) * Math.log(1 - x);
      });
    }
    const n = kls.length;
    const mean = kls.reduce((s, v) => s + v, 0) / n;
    const sd = Math.sqrt(kls.reduce((s, v) => s + (v - mean) ** 2, 0) / n);
    expect(d).toBeCloseTo((100 * mean) / (h / n), 10);
    expect(ev.lastError).toBeCloseTo((100 * sd) / Math.sqrt(n) / (h / n), 10);
    expect(ev.lastError).toBeGreaterThan(0);
    expect(ev.delta(graph)).toBe(0);
    expect(ev.lastError).toBe(0);
  });
});

describe("auto search", () => {
  const result = searchPrecision(graph, weights, calib, opts);

  it("ends within the budget it measured, with a margin of two standard errors, and lowers something", () => {
    expect(MARGIN_SE).toBe(2);
    expect(result.finalDelta + MARGIN_SE * result.finalError).toBeLessThanOrEqual(opts.budget);
    expect(result.finalError).toBeGreaterThan(0);
    expect(new ExpectedNE(graph, weights, calib).delta(result.graph)).toBe(result.finalDelta);
    expect(result.baseline!.ctr).toBe(measureNE(graph, weights, calib).ctr); // labelled NE, for the report
    const lowered = result.decisions.filter((d) => d.precision !== "fp32");
    expect(lowered.length).toBeGreaterThan(10);
    const before = result.decisions.reduce((s, d) => s + d.bytesBefore, 0);
    const after = result.decisions.reduce((s, d) => s + d.bytesAfter, 0);
    expect(before / after).toBeGreaterThan(2);
  });

  it("never picks what the target runs slower (fp16/bf16 dense layers on wasm, int8 for layers this narrow), and explains every decision", () => {
    // Wasm's estimate: int8 pays per input and per output for (de)quantizing, so only the wide 367→64 layer gains.
    const cost = WASM_TARGET.cost;
    expect(cost("linear", "int8", [64, 367])).toBeLessThan(1);
    for (const shape of [
      [64, 13],
      [16, 64],
      [1, 64],
    ] as const)
      expect(cost("linear", "int8", shape)).toBeGreaterThan(1);
    for (const d of result.decisions) {
      if (d.kind === "linear") expect(["fp32", "int8"]).toContain(d.precision);
      if (["bottom.0", "bottom.1", "top.1"].includes(d.unit))
        expect(d).toMatchObject({ precision: "fp32", why: "lower precisions are not faster on wasm" });
      expect(d.why.length).toBeGreaterThan(10);
      if (d.precision !== "fp32") expect(d.neDeltaCumulative!).toBeLessThanOrEqual(opts.budget);
    }
  });

  it("is deterministic", () => {
    expect(searchPrecision(graph, weights, calib, opts).decisions).toEqual(result.decisions);
  });

  it("keeps user pins, even against the budget", () => {
    const pinned = applyAssignment(graph, {
      precision: new Map([
        ["emb.2.weight", "int2"],
        ["top.1", "fp32"],
      ]),
    });
    const withPin = { ...pinned, weights: pinned.weights.map((w) => (w.name === "emb.2.weight" ? { ...w, attrs: { precision: "int2" } } : w)) };
    const r = searchPrecision(withPin, weights, calib, opts);
    const d = r.decisions.find((x) => x.unit === "emb.2.weight")!;
    expect(d).toMatchObject({ precision: "int2", source: "pin" });
  });

  it("returns the pins-only plan when no change fits (a negative budget)", () => {
    const r = searchPrecision(graph, weights, calib, { ...opts, budget: -100 });
    expect(r.decisions.every((d) => d.precision === "fp32")).toBe(true);
    expect(r.graph).toEqual(graph);
  });
});

describe("held-back calibration rows", () => {
  it("a plan over the budget on the last quarter of the batches is backed off, and says why", () => {
    // Four batches: the search chooses on the first three; the fourth, with dense inputs ten times
    // larger, is where the chosen precisions hurt more.
    const batches = labelled(7, 1024);
    const last = batches[3]!;
    for (const [name, v] of Object.entries(last.inputs)) if (v instanceof Float32Array) last.inputs[name] = v.map((x) => x * 10);
    const r = searchPrecision(graph, weights, batches, opts);
    expect(r.undone).toBeGreaterThan(0);
    expect(r.heldRows).toBe(256);
    const summary = planSummary({
      format: PLAN_FORMAT,
      model: "m",
      mode: "auto",
      target: "wasm",
      act: "dynamic",
      calibMethod: "percentile",
      decisions: r.decisions,
      heldBack: { rows: r.heldRows, undone: r.undone },
    });
    expect(summary).toContain(`chosen without 256 held-back calibration rows, which undid ${r.undone} change`);
    const check = new ExpectedNE(graph, weights, [last]);
    expect(check.delta(r.graph) + MARGIN_SE * check.lastError).toBeLessThanOrEqual(opts.budget);
    expect(r.decisions.some((d) => /undone: on the 256 held-back calibration rows the model was at \+\d/.test(d.why))).toBe(true);
    // Without the held-back rows' verdict (the three batches alone) the plan lowers more.
    const unchecked = searchPrecision(graph, weights, batches.slice(0, 3), opts);
    const bytes = (x: typeof r) => x.decisions.reduce((n, d) => n + d.bytesAfter, 0);
    expect(bytes(r)).toBeGreaterThan(bytes(unchecked));
  });
});

describe("held-back calibration rows, when the layer change is what is over there", () => {
  it("undoes the layer, not every table change taken after it, and chooses the tables again without it", () => {
    // With α = 0.9 the 367→64 layer's int8 takes most of the budget, and on the held-back batch it is over:
    // undoing the latest changes first undid every table change before it (the plan fell back to fp32).
    const batches = labelled(7, 1024);
    const r = searchPrecision(graph, weights, batches, { ...opts, smooth: 0.9 });
    const top0 = r.decisions.find((d) => d.unit === "top.0")!;
    expect(top0.precision).toBe("fp32");
    expect(top0.why).toMatch(
      /^int8 undone: on the 256 held-back calibration rows the model was at \+[\d.]+% .* the tables were chosen again without it$/,
    );
    expect(r.undone).toBeGreaterThan(0);
    const before = r.decisions.reduce((n, d) => n + d.bytesBefore, 0);
    const after = r.decisions.reduce((n, d) => n + d.bytesAfter, 0);
    expect(before / after).toBeGreaterThan(3);
    const check = new ExpectedNE(graph, weights, [batches[3]!]);
    expect(check.delta(r.graph) + MARGIN_SE * check.lastError).toBeLessThanOrEqual(opts.budget);
  });
});

describe("plans", () => {
  it("round-trip through a file and reapply to the same IR", () => {
    const r = searchPrecision(graph, weights, calib.slice(0, 2), { ...opts, budget: 0.5 });
    const smooth = Object.fromEntries(r.graph.nodes.filter((n) => Array.isArray(n.attrs.smooth)).map((n) => [n.id, n.attrs.smooth as number[]]));
    expect(Object.keys(smooth).length).toBeGreaterThan(0); // int8 layers are smoothed
    const plan: PrecisionPlan = {
      format: PLAN_FORMAT,
      model: graph.name,
      mode: "auto",
      budget: 0.5,
      target: "wasm",
      act: "dynamic",
      calibMethod: "percentile",
      decisions: r.decisions,
      smooth,
    };
    const path = join(mkdtempSync(join(tmpdir(), "rmc-plan-")), "plan.json");
    writePlan(path, plan);
    const { plan: back, warnings } = readPlan(path, graph);
    expect(warnings).toEqual([]);
    expect(applyDecisions(graph, back.decisions, { smooth: back.smooth! })).toEqual(r.graph);
  });

  it("reject units the model does not have and precisions a unit cannot take", () => {
    const path = join(mkdtempSync(join(tmpdir(), "rmc-plan-")), "bad.json");
    writePlan(path, {
      format: PLAN_FORMAT,
      model: "x",
      mode: "plan",
      target: "wasm",
      act: "dynamic",
      calibMethod: "percentile",
      decisions: [
        { unit: "emb.99.weight", kind: "table", line: 1, precision: "int4", source: "search", bytesBefore: 0, bytesAfter: 0, why: "" },
        { unit: "top.0", kind: "linear", line: 1, precision: "int4", source: "search", bytesBefore: 0, bytesAfter: 0, why: "" },
      ],
    });
    expect(() => readPlan(path, graph)).toThrow(/emb\.99\.weight`, which is not a table or linear layer[\s\S]*`top\.0` cannot be int4/);
  });
});
