// WGSL backend, step 2 of 3 (schedule → lower → artifact): turns the schedule
// (backends/wasm/schedule.ts: one entry per kernel, relu folded, flatten as
// an alias) into GPU steps — each a rendered shader, its bindings and its
// workgroup counts — plus the weights buffers and the per-call buffers they
// bind. The lowering of each op family lives in lower-dense.ts (linear and
// cross layers) and lower-features.ts (embedding bags, interaction, concat,
// elementwise), over the context they share (lowering.ts); this file is the
// driver.

import type { Graph } from "../../src/ir/types.js";
import type { WeightStore } from "../../src/weights/store.js";
import type { SizeExpr, WgslLayout } from "../../src/runtime/manifest.js";
import { type Schedule, type Step, widthOf } from "../schedule.js";
import { type BatchBuffers, perSample } from "./plan.js";
import type { WeightsBuffer } from "./weights.js";
import { type GpuStep, Lowering } from "./lowering.js";
import { lowerCrossLayer, lowerLinear } from "./lower-dense.js";
import { lowerConcat, lowerElementwise, lowerEmbeddingBag, lowerInteract } from "./lower-features.js";

/** Everything the artifact writer needs from the lowering. */
export interface Lowered {
  steps: GpuStep[];
  weights: WeightsBuffer[];
  batch: BatchBuffers;
  inputs: WgslLayout["inputs"];
  outputs: WgslLayout["outputs"];
}

/** Lowers every step of the schedule; weights are checked against the binding limit before (index.ts). */
export function lower(graph: Graph, sched: Schedule, store: WeightStore, bindingLimit: number): Lowered {
  const ctx = new Lowering(graph, sched, store, bindingLimit);
  const inputs: WgslLayout["inputs"] = graph.inputs.map((input) => {
    if (input.type.kind === "bags") {
      const ids: SizeExpr = { perSample: 0, perId: 4, fixed: 4 };
      const bags = {
        offsets: ctx.batch.pin(`${input.name}.offsets`, { perSample: 4 * input.type.count, fixed: 4 }),
        ids: ctx.batch.pin(`${input.name}.ids`, ids),
        ...(input.type.weighted ? { weights: ctx.batch.pin(`${input.name}.weights`, ids) } : {}),
      };
      ctx.bags.set(input.name, bags);
      return { name: input.name, kind: "bags" as const, ...bags };
    }
    const buffer = ctx.batch.pin(`input.${input.name}`, perSample(widthOf(input.type) * 4));
    ctx.setBuffer(input.name, buffer);
    return { name: input.name, kind: "dense" as const, buffer };
  });

  const lastUse = new Map<string, number>();
  sched.steps.forEach((s, i) => s.reads.forEach((r) => lastUse.set(ctx.resolve(r), i)));
  sched.steps.forEach((step, i) => {
    LOWER[step.op](ctx, step);
    // Pooled buffers go back after their last reader (pinned ones are never given back).
    for (const r of new Set(step.reads.map((x) => ctx.resolve(x)))) if (lastUse.get(r) === i && !ctx.bags.has(r)) ctx.batch.give(ctx.bufferOf(r));
    if (!lastUse.has(step.id) && !ctx.isOutput(step.id)) ctx.batch.give(ctx.bufferOf(step.id));
  });
  const outputs = graph.outputs.map((o) => ({ name: o.name, buffer: ctx.bufferOf(o.value) }));
  return { steps: ctx.steps, weights: ctx.weights, batch: ctx.batch, inputs, outputs };
}

const LOWER: Record<Step["op"], (ctx: Lowering, step: Step) => void> = {
  linear: lowerLinear,
  cross_layer: lowerCrossLayer,
  embedding_bag: lowerEmbeddingBag,
  interact: lowerInteract,
  concat: lowerConcat,
  relu: lowerElementwise,
  sigmoid: lowerElementwise,
  tanh: lowerElementwise,
  flatten: () => {
    throw new Error("internal: flatten is an alias, never a step");
  },
};
