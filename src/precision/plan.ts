// Precision plans: the JSON a search writes (`--plan-out`), users read and
// edit, and `--plan` applies again, e.g. when the model is retrained. Also
// the fixed modes (fp32, fp16, int8) expressed as plans, so every way of
// choosing precisions ends in the same record and report.

import { readFileSync } from "node:fs";
import { RmcError, error } from "../diagnostics/index.js";
import type { Graph } from "../ir/types.js";
import { writeFileAtomic } from "../util/fs.js";
import { LIMITS, jsonTooDeepAt, lineCol } from "../ir/limits.js";
import type { NeByOutput } from "./evaluate.js";
import type { RowRange } from "../quant/rowwise.js";
import { type Decision, type PinOrigin, decide, pinDecision } from "./decision.js";

export type { PinOrigin } from "./decision.js";
import { PRECISIONS_OF, applyAssignment, precisionUnits, type Unit, type UnitKind } from "./units.js";
import { applyHotColdSplits } from "../ir/table-parts.js";
import { splitBytes } from "./table-options.js";

export const PLAN_FORMAT = "rmc-precision-plan/1";

/** assign-precision emits its plan as `precision-plan`; callers read it typed. */
declare module "../pipeline/pass.js" {
  interface PassOutputs {
    "precision-plan": PrecisionPlan;
  }
}

export interface PrecisionPlan {
  format: typeof PLAN_FORMAT;
  model: string;
  /** How it was made: auto (search), fp32 / fp16 / int8 (fixed), plan (applied from a file), repair. */
  mode: string;
  budget?: number;
  target: string;
  act: "dynamic" | "static";
  calibMethod: string;
  /** How int4/int2 tables chose their rows' ranges (absent in plans made before it existed: minmax). */
  rowRange?: RowRange;
  baseline?: NeByOutput;
  final?: NeByOutput;
  /** Worst NE delta (%) against the fp32 model on the calibration data. */
  neDelta?: number;
  /** The standard error of neDelta (%): per-sample KL's spread over √n. */
  neDeltaError?: number;
  /**
   * auto, for a target with a variant that may fuse multiply-adds (Wasm's relaxed SIMD): neDelta and its error with
   * every f32 multiply-add fused (the interpreter's fma mode), and the changes the search undid because of it.
   */
  fma?: { neDelta: number; neDeltaError: number; undone: number };
  /** auto: how long the search took (wall and CPU seconds), its evaluations, and whether its time limit cut the choosing short. */
  search?: { seconds: number; cpuSeconds: number; evaluations: number; timedOut?: boolean };
  /** auto: a plan written while the search was still running (`--plan-out` is rewritten with each better plan; the last one is the result). */
  checkpoint?: boolean;
  /** auto: calibration rows held back from the choosing to check it, and the changes undone there. */
  heldBack?: { rows: number; undone: number };
  decisions: Decision[];
  /** Static activation scales of int8 layers, by node id. */
  actScales?: Record<string, number>;
  /** SmoothQuant α the int8 layers were calibrated with (0: none). */
  smoothAlpha?: number;
  /** Per-input-channel smoothing factors of int8 layers, by node id. */
  smooth?: Record<string, number[]>;
}

/**
 * What a fixed mode assigns to tables and layers that are not pinned. Cross
 * layers have no integer kernels: fp16 is the lowest they take, so the int8
 * and int4 modes give them fp16.
 */
const MODES: Record<string, Record<UnitKind, string>> = {
  fp32: { table: "fp32", linear: "fp32", cross: "fp32" },
  fp16: { table: "fp16", linear: "fp16", cross: "fp16" },
  int8: { table: "int8", linear: "int8", cross: "fp16" },
  /** int8 tables with int8a7 layers (7-bit activation codes: the relaxed variant's fastest integer kernel). */
  int8a7: { table: "int8", linear: "int8a7", cross: "fp16" },
  /** int4 tables (7x smaller than fp32: what lets full-size tables fit a Wasm memory) with int8 layers. */
  int4: { table: "int4", linear: "int8", cross: "fp16" },
};

export const FIXED_MODES = Object.keys(MODES);

/** Decisions of a fixed mode: every unit not pinned gets the mode's precision for its kind. */
export function modeDecisions(graph: Graph, mode: string, origins?: ReadonlyMap<string, PinOrigin>): Decision[] {
  const m = MODES[mode]!;
  return precisionUnits(graph).map((u) => (u.pinned ? pinDecision(u, origins) : decide(u, m[u.kind], "mode", `--precision ${mode}`)));
}

/**
 * The graph with the decisions (and static scales) written in. Pins are
 * already in a model's IR, so they are skipped unless `includePins` (for a
 * graph whose precisions were stripped, as `rmc verify` rebuilds one).
 */
export function applyDecisions(
  graph: Graph,
  decisions: readonly Decision[],
  calibration: { actScales?: Record<string, number>; smooth?: Record<string, number[]> } = {},
  includePins = false,
  rowRange?: RowRange,
): Graph {
  // A split table whose parts the graph has already (an artifact's IR): its parts get their precisions.
  const parts = decisions.flatMap((d) =>
    graph.weights.filter((w) => d.split && w.attrs.part_of === d.unit).map((w) => [w.name, w.attrs.hot ? d.precision : d.split!.cold] as const),
  );
  const assigned = applyAssignment(graph, {
    ...(rowRange ? { rowRange } : {}),
    precision: new Map([
      ...decisions.filter((d) => (includePins || d.source !== "pin") && !d.split).map((d) => [d.unit, d.precision] as const),
      ...parts,
    ]),
    ...(calibration.actScales ? { actScale: new Map(Object.entries(calibration.actScales)) } : {}),
    ...(calibration.smooth ? { smooth: new Map(Object.entries(calibration.smooth)) } : {}),
  });
  // Tables the search split hot/cold become their parts again, each at its precision.
  const splits = new Map(
    decisions
      .filter((d) => d.split)
      .map((d) => [d.unit, { hot: d.split!.hot, hotPrecision: d.precision, coldPrecision: d.split!.cold, rowRange: rowRange ?? "minmax" }]),
  );
  return applyHotColdSplits(assigned, splits);
}

/** A plan file, parsed and of the right format (its decisions are checked against a model by `checkPlan`). */
export function loadPlan(path: string): PrecisionPlan {
  let plan: PrecisionPlan;
  try {
    const text = readFileSync(path, "utf8");
    const deep = jsonTooDeepAt(text);
    if (deep >= 0) {
      const { line, col } = lineCol(text, deep);
      const span = { file: path, line, col, endLine: line, endCol: col + 1 };
      throw new RmcError(error("E1915", `the plan nests lists and objects more than ${LIMITS.jsonDepth} deep, over the limit`, span));
    }
    plan = JSON.parse(text) as PrecisionPlan;
  } catch (e) {
    if (e instanceof RmcError) throw e;
    throw new RmcError(`cannot read plan ${path}: ${(e as Error).message}`, "E1903");
  }
  if (plan?.format !== PLAN_FORMAT || !Array.isArray(plan.decisions))
    throw new RmcError(`${path} is not an rmc precision plan (expected "format": "${PLAN_FORMAT}" and a "decisions" list)`, "E1903");
  const problem = planProblem(plan);
  if (problem) throw new RmcError(`${path}: ${problem}`, "E1903");
  return plan;
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

/** What is malformed in a plan's decisions and calibration maps (they are read into Maps, so any key is just a key). */
function planProblem(plan: PrecisionPlan): string | undefined {
  const bad = plan.decisions.findIndex((d) => !isRecord(d) || typeof d.unit !== "string" || typeof d.precision !== "string");
  if (bad >= 0) return `decision ${bad} needs a \`unit\` and a \`precision\` (strings)`;
  if (plan.actScales !== undefined && (!isRecord(plan.actScales) || !Object.values(plan.actScales).every((v) => typeof v === "number")))
    return "`actScales` must map node ids to numbers";
  if (
    plan.smooth !== undefined &&
    (!isRecord(plan.smooth) || !Object.values(plan.smooth).every((v) => Array.isArray(v) && v.every((x) => typeof x === "number")))
  )
    return "`smooth` must map node ids to lists of numbers";
  return undefined;
}

/** The command-line pins a plan recorded (`--pin` when it was made): applied again, they win over the model's pins as they did then. */
export const planPins = (plan: PrecisionPlan): [string, string][] =>
  plan.decisions.filter((d) => d.source === "pin" && d.pin === "command line").map((d) => [d.unit, d.precision]);

/** Reads and checks a plan file against a model (with its command-line pins applied): see checkPlan. */
export function readPlan(path: string, graph: Graph, origins?: ReadonlyMap<string, PinOrigin>): { plan: PrecisionPlan; warnings: string[] } {
  return checkPlan(loadPlan(path), path, graph, origins);
}

/** Checks a plan against a model: unknown units and impossible precisions are errors, missing units stay fp32. */
export function checkPlan(
  plan: PrecisionPlan,
  path: string,
  graph: Graph,
  origins?: ReadonlyMap<string, PinOrigin>,
): { plan: PrecisionPlan; warnings: string[] } {
  const units = new Map(precisionUnits(graph).map((u) => [u.id, u]));
  const problems = plan.decisions.flatMap((d, i) => {
    const u = units.get(d.unit);
    if (!u) return [error("E1904", `${path}: decision ${i} names \`${d.unit}\`, which is not a table or linear layer of model ${graph.name}`)];
    const allowed = PRECISIONS_OF[u.kind];
    if (!allowed.includes(d.precision))
      return [error("E1904", `${path}: \`${d.unit}\` cannot be ${d.precision} (a ${u.kind} takes ${allowed.join(", ")})`)];
    return [];
  });
  problems.push(...plan.decisions.flatMap((d, i) => splitProblem(d, i, units.get(d.unit)!, path)));
  if (problems.length) throw new RmcError(problems);
  const named = new Set(plan.decisions.map((d) => d.unit));
  const warnings = [...units.values()]
    .filter((u) => !named.has(u.id))
    .map((u) => `${u.id} (line ${u.line}) is not in the plan ${path}: it stays ${u.pinned ?? "fp32"}`);
  for (const d of plan.decisions) {
    const u = units.get(d.unit)!;
    if (u.pinned && u.pinned !== d.precision && !origins?.has(d.unit))
      warnings.push(`${d.unit} is pinned to ${u.pinned} in the model; the plan's ${d.precision} is ignored`);
  }
  const decisions = plan.decisions.map((d): Decision => {
    const u = units.get(d.unit)!;
    if (u.pinned) return pinDecision(u, origins);
    const made = { ...decide(u, d.precision, "plan", `from ${path}`), ...(d.neDeltaAlone !== undefined ? { neDeltaAlone: d.neDeltaAlone } : {}) };
    if (!d.split) return made;
    const split = {
      hot: [...d.split.hot].sort((a, b) => a - b),
      cold: d.split.cold,
      ...(d.split.lookups !== undefined ? { lookups: d.split.lookups } : {}),
    };
    return { ...made, split, bytesAfter: splitBytes(u.shape[0], u.shape[1], split.hot.length, d.precision, split.cold) };
  });
  return { plan: { ...plan, decisions }, warnings };
}

/** What is wrong with a decision's hot/cold split for its unit, if anything (E1941). */
function splitProblem(d: Decision, i: number, u: Unit, path: string) {
  if (d.split === undefined) return [];
  const s = d.split as Partial<NonNullable<Decision["split"]>>;
  const bad = (why: string) => [error("E1941", `${path}: decision ${i} (\`${d.unit}\`) has a hot/cold split that ${why}`)];
  if (u.kind !== "table") return bad("only a table can have");
  if (typeof s.cold !== "string" || !PRECISIONS_OF.table.includes(s.cold))
    return bad(`needs a \`cold\` precision (${PRECISIONS_OF.table.join(", ")})`);
  const rows = u.shape[0];
  if (!Array.isArray(s.hot) || s.hot.length === 0 || s.hot.length >= rows || !s.hot.every((id) => Number.isInteger(id) && id >= 0 && id < rows))
    return bad(`needs \`hot\`: 1 to ${rows - 1} row ids in 0..${rows - 1}`);
  if (new Set(s.hot).size !== s.hot.length) return bad("repeats a hot row id");
  return [];
}

/** Writes a plan as pretty JSON (atomically). */
export function writePlan(path: string, plan: PrecisionPlan): void {
  writeFileAtomic(path, JSON.stringify(plan, null, 2) + "\n");
}
