// Pass `assign-precision`: chooses the storage precision of every embedding
// table and the arithmetic of every linear layer. Modes: fp32, fp16, int8
// (fixed), auto (the accuracy-aware search of src/precision/search.ts, under
// an NE budget, on the caller's calibration data), plan (apply a plan file).
// User pins always win. Runs after canonicalize (it decides per linear layer).
// The plan, with a reason for every decision, is handed back via ctx.emit.

import { RmcError, didYouMean } from "../src/diagnostics/index.js";
import type { Graph } from "../src/ir/types.js";
import type { Pass, PassContext } from "../src/pipeline/pass.js";
import { ExpectedNE } from "../src/precision/evaluate.js";
import {
  FIXED_MODES,
  PLAN_FORMAT,
  applyDecisions,
  checkPlan,
  loadPlan,
  modeDecisions,
  planPins,
  type PinOrigin,
  type PrecisionPlan,
} from "../src/precision/plan.js";
import { calibrateLayers, type Checkpoint, type SearchProgress } from "../src/precision/search.js";
import { searchTouched } from "../src/precision/touched-rows.js";
import { parseDuration, progressLine } from "../src/precision/control.js";
import { targetNamed } from "../src/target/index.js";
import { CALIBRATION_METHODS, type CalibrationMethod } from "../src/quant/calibrate.js";
import { ROW_RANGES, type RowRange } from "../src/quant/rowwise.js";
import { PRECISIONS_OF, precisionUnits } from "../src/precision/units.js";
import { produce } from "immer";

const MODES = [...FIXED_MODES, "auto", "plan"];
const ACTS = ["dynamic", "static"];
const METHODS = CALIBRATION_METHODS;

type Options = {
  mode: string;
  budget: number;
  plan: string;
  act: string;
  calibMethod: string;
  target: string;
  pins: string;
  smooth: number;
  rowRange: string;
  searchTime: string;
};

function needData(
  ctx: PassContext<Options>,
  why: string,
): { weights: NonNullable<PassContext["weights"]>; calibration: NonNullable<PassContext["calibration"]> } {
  if (!ctx.weights || !ctx.calibration || ctx.calibration.length === 0)
    throw new RmcError(`assign-precision: ${why} needs weights and calibration data (rmc compile --calib DATA.tsv)`, "E1906");
  return { weights: ctx.weights, calibration: ctx.calibration };
}

export const assignPrecision: Pass<Options> = {
  name: "assign-precision",
  summary: "Choose each table's and layer's precision: fp32, fp16, int8, auto (search under an NE budget) or a plan file",
  requires: ["canonical"],
  provides: ["precision"],
  options: {
    mode: { type: "enum", values: MODES, default: "fp32", doc: "fixed precisions, auto (search under the budget) or plan (apply a plan file)" },
    budget: { type: "percent", default: 0.05, doc: "auto: largest NE increase over the fp32 model, in percent" },
    plan: { type: "string", default: "", doc: "plan: the plan file to apply" },
    act: { type: "enum", values: ACTS, default: "dynamic", doc: "int8 activations: dynamic (per row) or static (calibrated)" },
    calibMethod: { type: "enum", values: METHODS, default: "percentile", doc: "static activation ranges" },
    target: { type: "string", default: "wasm", doc: "whose speed estimate rules out slower precisions" },
    pins: { type: "string", default: "", doc: "extra pins, `node:precision;table:precision` (as @precision in the model)" },
    smooth: { type: "number", default: 0.5, doc: "int8 layers: SmoothQuant α for per-channel scale migration, from calibration data (0: off)" },
    searchTime: {
      type: "string",
      default: "",
      doc: "auto: stop choosing after this long (30s, 2m, 500ms) and keep the best plan so far (default: no limit)",
    },
    rowRange: {
      type: "enum",
      values: ROW_RANGES,
      default: "l2",
      doc: "int4/int2 tables: each row's range by minmax (FBGEMM's rule) or l2 (least-squares refit, lower error)",
    },
  },
  run(input: Graph, ctx: PassContext<Options>): Graph {
    const o = ctx.options;
    const mode = o.plan && o.mode === "fp32" ? "plan" : o.mode;
    // A plan's command-line pins are applied again (they won over the model's pins when it was made); `pins` win over both.
    const saved = mode === "plan" && o.plan ? loadPlan(o.plan) : undefined;
    const { graph, origins } = applyPins(input, [...(saved ? planPins(saved) : []), ...parsePins(o.pins)], ctx);
    const target = targetNamed(o.target, ctx);
    const act = o.act as "dynamic" | "static";
    const method = o.calibMethod as CalibrationMethod;
    const rowRange = o.rowRange as RowRange;
    const base = { format: PLAN_FORMAT, model: graph.name, mode, target: o.target, act, calibMethod: o.calibMethod, smoothAlpha: o.smooth } as const;
    let plan: PrecisionPlan;
    let out: Graph;
    if (mode === "auto") {
      const { weights, calibration } = needData(ctx, "--precision auto");
      const timeLimitMs = parseDuration(o.searchTime, "assign-precision: search-time");
      const control = ctx.control;
      const r = searchTouched(graph, weights, calibration, {
        ...(timeLimitMs > 0 ? { timeLimitMs } : {}),
        ...(control?.progress ? { progress: (p: SearchProgress) => control.progress!(progressLine(p)) } : {}),
        ...(control?.checkpoint
          ? {
              checkpoint: (c: Checkpoint) =>
                control.checkpoint!("precision-plan", {
                  ...base,
                  rowRange,
                  budget: o.budget,
                  checkpoint: true,
                  neDelta: c.neDelta,
                  neDeltaError: c.neDeltaError,
                  decisions: c.decisions,
                  ...checkpointCalibration(c),
                } satisfies PrecisionPlan),
            }
          : {}),
        budget: o.budget,
        target: target.name,
        cost: target.cost,
        act,
        calibMethod: method,
        smooth: o.smooth,
        rowRange,
        pins: origins,
        maxPartBytes: target.limits.maxBufferBytes,
        ...(target.fusedMultiplyAdd ? { fma: true } : {}),
      });
      out = r.graph;
      plan = {
        ...base,
        rowRange,
        budget: o.budget,
        ...(r.baseline ? { baseline: r.baseline, final: r.final } : {}),
        neDelta: r.finalDelta,
        neDeltaError: r.finalError,
        ...(r.fma ? { fma: { neDelta: r.fma.delta, neDeltaError: r.fma.error, undone: r.fma.undone } } : {}),
        ...(r.heldRows > 0 ? { heldBack: { rows: r.heldRows, undone: r.undone } } : {}),
        search: { seconds: r.ms / 1000, cpuSeconds: r.cpuMs / 1000, evaluations: r.evaluations, ...(r.timedOut ? { timedOut: true } : {}) },
        decisions: r.decisions,
        ...calibrationOf(out),
      };
    } else {
      let decisions;
      let warned = false;
      if (mode === "plan") {
        if (!saved) throw new RmcError("assign-precision: mode plan needs a plan file (--plan FILE)", "E1906");
        const read = checkPlan(saved, o.plan, graph, origins);
        for (const w of read.warnings) ctx.diagnostics.push({ code: "W1907", severity: "warning", message: w });
        decisions = read.plan.decisions;
        warned = read.warnings.length > 0;
      } else decisions = modeDecisions(graph, mode, origins);
      const int8 = decisions.some((d) => d.kind === "linear" && d.precision === "int8");
      const haveData = !!ctx.weights && !!ctx.calibration?.length;
      // Calibrate on data when there is some; a plan file otherwise brings its own calibration.
      if (int8 && act === "static" && !haveData && !saved?.actScales) needData(ctx, "--act static");
      const cal =
        int8 && haveData ? calibrateLayers(graph, ctx.weights!, ctx.calibration!, { alpha: o.smooth, statics: act === "static", method }) : undefined;
      if (int8 && !haveData && !saved?.smooth && o.smooth > 0)
        ctx.diagnostics.push({
          code: "W1911",
          severity: "warning",
          message: "int8 layers are not smoothed: smoothing is calibrated on data (--calib FILE)",
        });
      const calibration = cal
        ? { ...(cal.actScale ? { actScales: Object.fromEntries(cal.actScale) } : {}), smooth: Object.fromEntries(cal.smooth) }
        : { ...(saved?.actScales ? { actScales: saved.actScales } : {}), ...(saved?.smooth ? { smooth: saved.smooth } : {}) };
      // A plan file keeps the row range it was made with (minmax before plans recorded one).
      const range = saved ? (saved.rowRange ?? "minmax") : rowRange;
      out = applyDecisions(graph, decisions, calibration, false, range);
      plan = { ...base, rowRange: range, decisions, ...calibrationOf(out) };
      if (ctx.weights && ctx.calibration?.length) {
        const fp32 = applyDecisions(
          graph,
          modeDecisions(graph, "fp32").map((d) => ({ ...d, precision: "fp32", source: "mode" as const })),
          {},
          true,
        );
        const ev = new ExpectedNE(fp32, ctx.weights, ctx.calibration);
        plan = { ...plan, neDelta: ev.delta(out), neDeltaError: ev.lastError };
      }
      // A plan applied as it was written (no new pins, nothing it had to give up, its own calibration) is recorded
      // as it was written, so `--plan` rebuilds an artifact byte for byte, manifest included.
      if (saved && !warned && !o.pins && !cal) plan = saved;
    }
    ctx.emit("precision-plan", plan);
    return out;
  },
};

/** `--pin`-style pins, `id:precision;...`, in order. */
const parsePins = (pins: string): [string, string][] =>
  pins
    .split(";")
    .filter(Boolean)
    .map((p) => {
      const at = p.indexOf(":");
      return at < 0 ? [p, ""] : [p.slice(0, at), p.slice(at + 1)];
    });

/**
 * Writes command-line pins into the graph as @precision pins are written: a
 * later pin of a unit wins over an earlier one, and any of them over the
 * model's own @precision, with a note saying so. Returns where each came from.
 */
function applyPins(graph: Graph, pins: readonly [string, string][], ctx: PassContext<Options>): { graph: Graph; origins: Map<string, PinOrigin> } {
  const origins = new Map<string, PinOrigin>();
  if (pins.length === 0) return { graph, origins };
  const units = new Map(precisionUnits(graph).map((u) => [u.id, u]));
  for (const [id, precision] of pins) {
    const u = units.get(id);
    if (!u) {
      const dym = didYouMean(id, units.keys());
      throw new RmcError(
        `assign-precision: cannot pin \`${id}\`: not a table, linear or cross layer of ${graph.name}${dym ? ` (${dym})` : ""}`,
        "E1905",
      );
    }
    const allowed = PRECISIONS_OF[u.kind];
    if (!allowed.includes(precision))
      throw new RmcError(`assign-precision: pin \`${id}:${precision}\`: a ${u.kind} takes ${allowed.join(", ")}`, "E1905");
    origins.set(id, { precision, ...(u.pinned ? { over: u.pinned } : {}) });
  }
  for (const [id, o] of origins) {
    if (!o.over || o.over === o.precision) continue;
    const span = spanOf(graph, id);
    const message = `--pin ${id}=${o.precision} overrides the model's @precision(${o.over}) at line ${units.get(id)!.line}`;
    ctx.diagnostics.push({ code: "N1914", severity: "note", message, ...(span ? { span } : {}) });
  }
  const out = produce(graph, (g) => {
    for (const [id, { precision }] of origins) {
      const w = g.weights.find((x) => x.name === id);
      if (w) w.attrs.precision = precision;
      const n = g.nodes.find((x) => x.id === id);
      if (n) n.attrs.precision = precision;
    }
  });
  return { graph: out, origins };
}

/** The source span of a unit (a table's declaration or a layer's node). */
const spanOf = (g: Graph, id: string) => g.weights.find((w) => w.name === id)?.span ?? g.nodes.find((n) => n.id === id)?.span;

/** The calibration a checkpoint's int8 layers use (as calibrationOf reads it from the finished graph). */
function checkpointCalibration(c: Checkpoint): Pick<PrecisionPlan, "actScales" | "smooth"> {
  const int8 = new Set(c.decisions.filter((d) => d.precision === "int8" && d.kind === "linear").map((d) => d.unit));
  const pick = <T>(m: ReadonlyMap<string, T> | undefined) => Object.fromEntries([...(m ?? [])].filter(([id]) => int8.has(id)));
  const scales = pick(c.actScale);
  const smooth = pick(c.smooth);
  return { ...(Object.keys(scales).length ? { actScales: scales } : {}), ...(Object.keys(smooth).length ? { smooth } : {}) };
}

/** The calibration written into a graph (static scales, smoothing), for the plan file. */
function calibrationOf(g: Graph): Pick<PrecisionPlan, "actScales" | "smooth"> {
  const scales = Object.fromEntries(g.nodes.filter((n) => typeof n.attrs.act_scale === "number").map((n) => [n.id, n.attrs.act_scale as number]));
  const smooth = Object.fromEntries(g.nodes.filter((n) => Array.isArray(n.attrs.smooth)).map((n) => [n.id, n.attrs.smooth as number[]]));
  return { ...(Object.keys(scales).length ? { actScales: scales } : {}), ...(Object.keys(smooth).length ? { smooth } : {}) };
}
