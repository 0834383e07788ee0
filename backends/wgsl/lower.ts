// WGSL backend, step 2 of 3 (schedule → lower → artifact): turns the schedule
// (backends/wasm/schedule.ts: one entry per kernel, relu folded, flatten as
// an alias) into GPU steps — each a rendered shader, its bindings and its
// workgroup counts — plus the weights buffers and the per-call buffers they
// bind. The lowering of each op family lives in lower-dense.ts (linear and
// cross layers) and lower-features.ts (embedding bags, interaction, concat,
// elementwise); this file holds the shared context and the driver.

import type { Graph, Node, TensorType, WeightDecl } from "../../src/ir/types.js";
import type { WeightStore } from "../../src/weights/store.js";
import type { SizeExpr, WgslLayout } from "../../src/runtime/manifest.js";
import { type Schedule, type Step, resolveAlias, widthOf } from "../schedule.js";
import { BatchBuffers, perSample } from "./plan.js";
import type { Rendered } from "./render.js";
import { header } from "./render.js";
import type { WeightsBuffer } from "./weights.js";
import { lowerCrossLayer, lowerLinear } from "./lower-dense.js";
import { lowerConcat, lowerElementwise, lowerEmbeddingBag, lowerInteract } from "./lower-features.js";

/** One GPU dispatch of the plan. */
export interface GpuStep {
  /** Shader name, unique in the artifact (also its file name, with .wgsl). */
  name: string;
  rendered: Rendered;
  dispatch: [SizeExpr, SizeExpr, SizeExpr];
  nodes: string[];
}

/** Everything the artifact writer needs from the lowering. */
export interface Lowered {
  steps: GpuStep[];
  weights: WeightsBuffer[];
  batch: BatchBuffers;
  inputs: WgslLayout["inputs"];
  outputs: WgslLayout["outputs"];
}

/** What the per-op lowerings share: buffers of values, weights, and the steps emitted so far. */
export class Lowering {
  readonly steps: GpuStep[] = [];
  readonly weights: WeightsBuffer[] = [];
  readonly batch = new BatchBuffers();
  private readonly buffers = new Map<string, string>();
  private readonly decls: Map<string, WeightDecl>;
  private readonly types = new Map<string, TensorType>();
  private readonly outputNames = new Map<string, string>();
  /** Bags inputs' buffers by input name. */
  readonly bags = new Map<string, { offsets: string; ids: string; weights?: string }>();

  constructor(
    readonly graph: Graph,
    readonly sched: Schedule,
    readonly store: WeightStore,
    /** WebGPU's maxStorageBufferBindingSize the plan is made for. */
    readonly bindingLimit: number,
  ) {
    this.decls = new Map(graph.weights.map((w) => [w.name, w]));
    for (const n of graph.nodes) if (n.type?.kind === "tensor") this.types.set(n.id, n.type);
    for (const i of graph.inputs) if (i.type.kind === "tensor") this.types.set(i.name, i.type);
    for (const o of graph.outputs) {
      const id = this.resolve(o.value);
      if (!this.outputNames.has(id)) this.outputNames.set(id, o.name);
    }
  }

  /** A value id after flatten aliases (and without a leading %). */
  resolve(id: string): string {
    return resolveAlias(this.sched.aliases, id.startsWith("%") ? id.slice(1) : id);
  }

  /** Features per sample of a value. */
  width(id: string): number {
    return widthOf(this.types.get(this.resolve(id))!);
  }

  /** The tensor type of a value (after flatten aliases), if known. */
  typeOf(id: string): TensorType | undefined {
    return this.types.get(this.resolve(id));
  }

  decl(name: string): WeightDecl {
    return this.decls.get(name)!;
  }

  /** The buffer holding a value. */
  bufferOf(id: string): string {
    const b = this.buffers.get(this.resolve(id));
    if (!b) throw new Error(`internal: value %${id} has no buffer yet`);
    return b;
  }

  /** Binds a value to a buffer (inputs, or an alias the caller chose). */
  setBuffer(id: string, buffer: string): void {
    this.buffers.set(id, buffer);
  }

  /** The buffer a step writes its result to: the output's own buffer for graph outputs, else one from the pool. */
  resultBuffer(step: Step): string {
    const output = this.outputNames.get(step.id);
    const bytes = this.width(step.id) * 4;
    const name = output !== undefined ? this.batch.pin(`output.${output}`, perSample(bytes)) : this.batch.take(bytes);
    this.buffers.set(step.id, name);
    return name;
  }

  isOutput(id: string): boolean {
    return this.outputNames.has(this.resolve(id));
  }

  /** Adds one dispatch; `suffix` tells apart the several shaders of one IR step. */
  emit(step: Step, suffix: string, summary: string, render: (head: string) => Rendered, dispatch: [SizeExpr, SizeExpr, SizeExpr]): void {
    const safe = step.id.replace(/[^A-Za-z0-9_.-]/g, "_");
    const name = `${String(this.steps.length).padStart(2, "0")}-${step.op}-${safe}${suffix ? `-${suffix}` : ""}`;
    const nodes = this.nodesOf(step);
    this.steps.push({ name, rendered: render(header(name, summary, nodes)), dispatch, nodes: nodes.map((n) => n.id) });
  }

  /** The IR nodes a step computes: the node, and a relu folded into it. */
  private nodesOf(step: Step): Node[] {
    const folded = step.id !== step.node.id ? this.graph.nodes.find((n) => n.id === step.id) : undefined;
    return folded ? [step.node, folded] : [step.node];
  }
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
