// The CLI side of precision choice: the `--precision/--plan/--calib` flags of
// `rmc compile`, the pipeline step they add, the calibration batches they
// read, the pins that PyTorch-prequantized tables impose, and the report and
// plan files written afterwards.

import { produce } from "immer";
import { RmcError } from "../diagnostics/index.js";
import type { Graph } from "../ir/types.js";
import type { Batch } from "../data/batch.js";
import { dataSchema } from "../data/schema.js";
import { readBatches } from "../data/tsv.js";
import { COLUMNS_FLAG, columnMap, dataFlag, dataSources } from "./data.js";
import { writeFileAtomic } from "../util/fs.js";
import { formatPlanMarkdown, formatPlanTable } from "../precision/report.js";
import { writePlan, type PrecisionPlan } from "../precision/plan.js";
import { type MemoryPlanSummary, formatMemoryMarkdown } from "./memory.js";
import { choiceFlag, numberFlag, type FlagSpec, type ParsedArgs } from "./args.js";
import { ROW_RANGES } from "../quant/rowwise.js";
import { CALIBRATION_METHODS } from "../quant/calibrate.js";
import type { CliIO } from "./command.js";
import type { PrecisionRequest } from "../driver/index.js";
import { parseOptionValue } from "../pipeline/index.js";
import type { PassControl } from "../pipeline/pass.js";
import { E_SEARCH_TIME, parseDuration } from "../precision/control.js";

/** What `--precision` takes. */
const PRECISION_MODES = ["fp32", "fp16", "int8", "int8a7", "int4", "auto"] as const;

export const PRECISION_FLAGS: Record<string, FlagSpec> = {
  precision: {
    type: "string",
    value: "MODE",
    doc: "fp32, fp16, int8, int8a7 (int8 tables, int8a7 layers), int4 (int4 tables, int8 layers), or auto (search under --ne-budget on --calib data)",
  },
  "ne-budget": { type: "string", value: "PCT", doc: "auto: largest NE increase over fp32, in percent", default: "0.05" },
  calib: { ...dataFlag("calibration data (Criteo layout; labels optional)"), multiple: true },
  columns: COLUMNS_FLAG,
  "calib-rows": { type: "string", value: "N", doc: "calibration samples to read", default: "4096" },
  act: { type: "string", value: "MODE", doc: "int8 activations: dynamic or static (calibrated)", default: "dynamic" },
  "calib-method": { type: "string", value: "M", doc: "static ranges: minmax, percentile, l2 or kl", default: "percentile" },
  smooth: { type: "string", value: "ALPHA", doc: "int8 layers: SmoothQuant α (per-channel scale migration; 0: off)", default: "0.5" },
  "row-range": {
    type: "string",
    value: "R",
    doc: "int4/int2 table rows: minmax (FBGEMM's rule) or l2 (least-squares refit, lower error)",
    default: "l2",
  },
  plan: { type: "string", value: "FILE", doc: "apply a precision plan file (from --plan-out)" },
  "plan-out": {
    type: "string",
    value: "FILE",
    doc: "write the chosen plan as JSON (auto: also each better plan while searching, so Ctrl-C leaves the best so far)",
  },
  "search-time": { type: "string", value: "LIMIT", doc: "auto: stop choosing after LIMIT (30s, 2m, 500ms) and keep the best plan so far" },
  report: {
    type: "string",
    value: "FILE",
    doc: "write the compile report: FILE.html (one offline page: pipeline, graph, plan, errors, memory, files, timings) or FILE.md",
  },
  pin: { type: "string", multiple: true, value: "NODE=P", doc: "pin a table or layer (IR id, e.g. top.0=fp32), like @precision" },
};

/** `--ne-budget 0.05` or `0.05%`: percent, as the assign-precision option reads it. */
function percentFlag(args: ParsedArgs, name: string, cmd: string): number {
  const parsed = parseOptionValue({ type: "percent" }, String(args.flags[name]));
  if ("error" in parsed) throw new RmcError(`rmc ${cmd}: --${name} ${parsed.error}`, "E0903");
  return parsed.value as number;
}

/** The precision choice the flags ask for, or undefined when none is (the model's own pins apply). */
export function precisionRequest(args: ParsedArgs, cmd: string): PrecisionRequest | undefined {
  const mode = args.flags.precision as string | undefined;
  const plan = args.flags.plan as string | undefined;
  const pins = ((args.flags.pin as string[] | undefined) ?? []).map((p) => {
    const at = p.indexOf("=");
    return [at < 0 ? p : p.slice(0, at), at < 0 ? "" : p.slice(at + 1)] as const;
  });
  if (mode === undefined && plan === undefined && pins.length === 0) return undefined;
  if (mode !== undefined && plan !== undefined) throw new RmcError(`rmc ${cmd}: give --precision or --plan, not both`, "E0906");
  return {
    mode: plan !== undefined ? "plan" : (choiceFlag(args, "precision", cmd, PRECISION_MODES) ?? "fp32"),
    budget: percentFlag(args, "ne-budget", cmd),
    act: choiceFlag(args, "act", cmd, ["dynamic", "static"] as const)!,
    calibMethod: choiceFlag(args, "calib-method", cmd, CALIBRATION_METHODS)!,
    smooth: numberFlag(args, "smooth", cmd)!,
    rowRange: choiceFlag(args, "row-range", cmd, ROW_RANGES)!,
    ...(plan !== undefined ? { plan } : {}),
    ...(pins.length ? { pins } : {}),
    ...(typeof args.flags["search-time"] === "string" ? { searchTime: checkDuration(String(args.flags["search-time"]), cmd) } : {}),
  };
}

/** `--search-time` checked here, so a bad one is reported before the calibration data is read. */
function checkDuration(text: string, cmd: string): string {
  try {
    parseDuration(text);
  } catch (e) {
    if (e instanceof RmcError) throw new RmcError(`rmc ${cmd}: ${e.message}`, E_SEARCH_TIME);
    throw e;
  }
  return text;
}

/** The search's progress line on stderr when a terminal; each better plan to `--plan-out` (≤ every 200 ms), for Ctrl-C. */
export function searchControl(args: ParsedArgs, stderr: NodeJS.WriteStream = process.stderr): PassControl & { done(): void } {
  const planOut = typeof args.flags["plan-out"] === "string" ? args.flags["plan-out"] : undefined;
  let shown = false;
  let written = 0;
  let latest: PrecisionPlan | undefined;
  return {
    ...(stderr.isTTY
      ? {
          progress: (line: string) => {
            stderr.write(`\r\x1b[K${line.slice(0, Math.max(20, (stderr.columns ?? 120) - 1))}`);
            shown = true;
          },
        }
      : {}),
    ...(planOut
      ? {
          checkpoint: (name: string, value: unknown) => {
            if (name !== "precision-plan") return;
            latest = value as PrecisionPlan;
            if (performance.now() - written < 200) return;
            writePlan(planOut, latest);
            written = performance.now();
            latest = undefined;
          },
        }
      : {}),
    done() {
      if (shown) stderr.write("\r\x1b[K");
      shown = false;
    },
  };
}

/** Calibration batches from `--calib` (the first `--calib-rows` samples), or undefined. */
export async function readCalibration(graph: Graph, args: ParsedArgs, cmd: string): Promise<Batch[] | undefined> {
  if (args.flags.calib === undefined) return undefined;
  const sources = dataSources(args, "calib", cmd);
  const limit = numberFlag(args, "calib-rows", cmd, { integer: true, min: 1 })!;
  const columns = columnMap(args, cmd);
  const batches: Batch[] = [];
  // Batches of 256: from 1,024 rows on there are four, and the search holds one back to check its choice.
  for await (const b of readBatches(sources, dataSchema(graph), { batchSize: 256, limit, ...(columns ? { columns } : {}) })) batches.push(b);
  if (batches.length === 0) throw new RmcError(`${sources.join(" ")}: no samples`, "E1912");
  return batches;
}

/** Pins each PyTorch-prequantized table to its stored format; a conflicting user pin is an error. */
export function pinPrequantized(graph: Graph, prequantized: ReadonlyMap<string, string> | undefined): Graph {
  if (!prequantized || prequantized.size === 0) return graph;
  for (const w of graph.weights) {
    const f = prequantized.get(w.name);
    const pin = w.attrs.precision;
    if (f && pin !== undefined && pin !== f)
      throw new RmcError({
        code: "E1908",
        severity: "error",
        message: `table ${w.name} is stored prequantized as ${f} in the weights file but pinned @precision(${String(pin)})`,
        span: w.span,
        hint: "remove the pin (prequantized tables keep their format) or give fp32 weights",
      });
  }
  return produce(graph, (g) => {
    for (const w of g.weights) {
      const f = prequantized.get(w.name);
      if (f) w.attrs.precision = f;
    }
  });
}

/** Prints the plan table and writes --plan-out / --report files (the report with the memory plan, when there is one). */
export function reportPlan(plan: PrecisionPlan, args: ParsedArgs, io: CliIO, memory?: MemoryPlanSummary, extra = ""): void {
  io.out(formatPlanTable(plan));
  if (typeof args.flags["plan-out"] === "string") writePlan(args.flags["plan-out"], plan);
  if (typeof args.flags.report === "string")
    writeFileAtomic(
      args.flags.report,
      `# Precision report: ${plan.model}\n\n${formatPlanMarkdown(plan)}${memory ? `\n${formatMemoryMarkdown(memory)}` : ""}${extra}`,
    );
}
