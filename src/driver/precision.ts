// A precision choice as typed data — mode, budget, activation scheme,
// calibration, row ranges, a plan file, pins — and the assign-precision
// step it becomes, with the target the search must estimate speed for.

import type { PipelineStep } from "../pipeline/index.js";
import type { CalibrationMethod } from "../quant/calibrate.js";
import type { RowRange } from "../quant/rowwise.js";

/** What `rmc compile --precision/--plan/--pin` asks for. */
export interface PrecisionRequest {
  /** Fixed precisions, `auto` (the search under `budget`) or `plan` (apply `plan`). */
  mode: "fp32" | "fp16" | "int8" | "int8a7" | "int4" | "auto" | "plan";
  /** auto: largest NE increase over fp32, in percent (default 0.05). */
  budget?: number;
  /** int8 activations (default dynamic). */
  act?: "dynamic" | "static";
  calibMethod?: CalibrationMethod;
  /** SmoothQuant α for int8 layers (default 0.5; 0: off). */
  smooth?: number;
  rowRange?: RowRange;
  /** mode plan: the plan file. */
  plan?: string;
  /** auto: stop choosing after this long (`30s`, `2m`, `500ms`) and keep the best plan found so far. */
  searchTime?: string;
  /** Extra pins, as `@precision` in the model: [table or layer id, precision]. */
  pins?: readonly (readonly [string, string])[];
}

/** The assign-precision step for `request`, its speed estimate that of `target`. */
export function precisionStep(request: PrecisionRequest, target: string): PipelineStep {
  const options: Record<string, string> = { mode: request.mode, target };
  if (request.budget !== undefined) options.budget = String(request.budget);
  if (request.act !== undefined) options.act = request.act;
  if (request.calibMethod !== undefined) options["calib-method"] = request.calibMethod;
  if (request.smooth !== undefined) options.smooth = String(request.smooth);
  if (request.rowRange !== undefined) options["row-range"] = request.rowRange;
  if (request.plan !== undefined) options.plan = request.plan;
  if (request.searchTime !== undefined) options["search-time"] = request.searchTime;
  if (request.pins?.length) options.pins = request.pins.map(([id, p]) => `${id}:${p}`).join(";");
  return { name: "assign-precision", options };
}
