// `rmc store plan MODEL.rmdl …`: the capacity plan of a model's store without
// compiling it — no weights needed, only the model's shapes (and, for the
// per-request figures, calibration data): the pipeline `rmc compile` runs up
// to table placement (its precision step and place-tables), then the plan of
// src/store/plan.ts. docs/scale.md's MLPerf-size plan is its output.

import { compilePipeline, compilerRegistry, findBackend } from "../../driver/index.js";
import { runPipelineWithReport } from "../../pipeline/index.js";
import { capacityPlan, formatCapacityMarkdown } from "../../store/plan.js";
import type { FlagSpec, ParsedArgs } from "../args.js";
import type { CliIO } from "../command.js";
import { loadModel, userPipeline } from "../model.js";
import { precisionRequest, readCalibration } from "../precision.js";
import { clusterShape, formatPlacementMarkdown, placementRequest } from "./compile.js";
import { RmcError } from "../../diagnostics/index.js";

/** Flags `rmc store plan` adds to the store command's own. */
export const PLAN_FLAGS: Record<string, FlagSpec> = {
  precision: { type: "string", value: "MODE", doc: "plan: the tables' precision (fp32, fp16, int8, int4)" },
  target: { type: "string", value: "NAME", doc: "plan: whose memory the budget is taken from", default: "wasm" },
  store: { type: "string", value: "KIND", doc: "plan: file or redis", default: "redis" },
  "memory-budget": { type: "string", value: "SIZE", doc: "plan: weights the model's memory holds (default: 3/4 of the target's)" },
  "store-tables": { type: "string", value: "LIST", doc: "plan: tables placed in the store whatever the budget" },
  calib: { type: "string", value: "FILE", doc: "plan: data for the per-request figures (lookups, hot share)" },
  "calib-rows": { type: "string", value: "N", doc: "plan: calibration samples to read", default: "4096" },
  masters: { type: "string", value: "N", doc: "plan: Redis masters", default: "3" },
  replicas: { type: "string", value: "N", doc: "plan: replicas per master", default: "1" },
  hosts: { type: "string", value: "N", doc: "plan: hosts the cluster runs on (with --host-memory)" },
  "host-memory": { type: "string", value: "SIZE", doc: "plan: memory of each host" },
};

/** Prints the placement and the capacity plan of `model` as Markdown. */
export async function planStore(model: string, args: ParsedArgs, io: CliIO): Promise<number> {
  const cmd = "store plan";
  const graph0 = loadModel(model, io);
  const backend = await findBackend((args.flags.target as string) ?? "wasm");
  const precision = precisionRequest(
    { ...args, flags: { "ne-budget": "0.05", act: "dynamic", "calib-method": "percentile", smooth: "0", "row-range": "minmax", ...args.flags } },
    cmd,
  );
  if (precision?.mode === "auto") throw new RmcError("rmc store plan: --precision auto needs weights: compile with --report instead", "E0906");
  const calibration = await readCalibration(graph0, args, cmd);
  const steps = compilePipeline(
    { passes: userPipeline(args), ...(precision ? { precision } : {}), placement: placementRequest(args, cmd), targetPasses: false },
    backend,
  );
  const report = runPipelineWithReport(
    graph0,
    steps.filter((s) => s.name !== "split-tables"),
    compilerRegistry(),
    { out: () => {} },
    {
      ...(calibration ? { calibration } : {}),
      target: backend,
    },
  );
  const plan = capacityPlan(report.graph, clusterShape(args, cmd), calibration);
  io.out(formatPlacementMarkdown(report.outputs.placement));
  io.out(plan ? `\n${formatCapacityMarkdown(plan)}` : "\nEvery table fits the memory budget: nothing is placed in a store.\n");
  return 0;
}
