// The precision search's interface (search.ts): its options, the progress it
// reports, the checkpoints it hands on and its result.

import type { Graph } from "../ir/types.js";
import type { RowRange } from "../quant/rowwise.js";
import type { CalibrationMethod } from "../quant/calibrate.js";
import type { CostModel } from "../target/target.js";
import type { Decision, PinOrigin } from "./decision.js";
import type { NeByOutput } from "./evaluate.js";

/** Where the search is (evaluations so far of about `total`), the plan so far's NE delta (%) and bytes, time taken and left. */
export interface SearchProgress {
  step: "layers" | "tables" | "plan" | "greedy" | "held-back";
  candidate: string;
  evaluations: number;
  total: number;
  neDelta: number;
  bytes: number;
  elapsedMs: number;
  etaMs: number;
}

export interface SearchOptions {
  /** NE may rise by at most this much, in percent of the fp32 model's NE. */
  budget: number;
  /** The target, named in the reasons. */
  target: string;
  /** The target's speed estimate: a precision it rates slower than fp32 for a unit is never taken there. */
  cost: CostModel;
  /** int8 activations: calibrated static scales, or dynamic per row. */
  act: "dynamic" | "static";
  calibMethod: CalibrationMethod;
  /** SmoothQuant α for int8 layers (0: no smoothing). */
  smooth: number;
  /** How int4/int2 tables choose their rows' ranges (default minmax). */
  rowRange?: RowRange;
  /** Which pins came from the command line (for the reasons in the plan). */
  pins?: ReadonlyMap<string, PinOrigin>;
  /** Weigh hot/cold splits of tables (default true). */
  splits?: boolean;
  /** The largest part a target buffer holds: cold parts over it are split by rows. */
  maxPartBytes?: number;
  /** Stop choosing after this many milliseconds and return the best plan found so far (0 or absent: no limit). */
  timeLimitMs?: number;
  /** Called after every evaluation. */
  progress?: (p: SearchProgress) => void;
  /** Called with each better plan as it is found (e.g. to write it, so an interrupt leaves it behind). */
  checkpoint?: (c: Checkpoint) => void;
  /** The graph whose tables' row counts bytes, splits and costs are counted with, when `graph` holds only their touched rows (touched-rows.ts). */
  sizes?: Graph;
  /** Rows the sensitivities are measured on, at most (default SENSE_ROWS). */
  senseRows?: number;
  /** The target may run the plan with fused f32 multiply-adds (Wasm's relaxed-SIMD variant): check it in that mode too (fma-check.ts). */
  fma?: boolean;
  /** Layers kept at fp32, with the reason: those whose change the held-back rows undid (the search then runs again without it). */
  forbid?: ReadonlyMap<string, string>;
}

/** A plan the search has found so far: within the budget on the rows it chooses on (not yet checked on the held-back ones). */
export interface Checkpoint {
  decisions: Decision[];
  neDelta: number;
  neDeltaError: number;
  smooth: ReadonlyMap<string, number[]>;
  actScale?: ReadonlyMap<string, number>;
}

export interface SearchResult {
  graph: Graph;
  decisions: Decision[];
  /** NE on the calibration labels of the fp32 model and of the result, when the data has labels (for reports). */
  baseline?: NeByOutput;
  final?: NeByOutput;
  /** Expected NE change of the result against the fp32 model (see ExpectedNE), in percent. */
  finalDelta: number;
  /** The standard error of finalDelta (the spread of per-sample KL over √n, same units). */
  finalError: number;
  evaluations: number;
  /** Changes undone because the plan was over the budget on the held-back calibration rows. */
  undone: number;
  /** Calibration rows held back from the choosing to check its result (0: too few batches to hold any back). */
  heldRows: number;
  /** The choosing stopped at the time limit. */
  timedOut: boolean;
  /** With `fma`: the result's expected NE change (%) and its error with every f32 multiply-add fused, and changes undone for it. */
  fma?: { delta: number; error: number; undone: number };
  /** Wall time of the search, ms, and the CPU time it took (user + system). */
  ms: number;
  cpuMs: number;
}
