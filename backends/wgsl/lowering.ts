// WGSL backend, step 2 of 3 (schedule → lower → artifact): the context the
// per-op lowerings share — the values' buffers and types, the weights buffers,
// and the GPU steps emitted so far. A file of its own, so that the driver
// (lower.ts) and the lowerings it calls (lower-dense.ts, lower-features.ts)
// all import it rather than each other.

import type { Graph, Node, TensorType, WeightDecl } from "../../src/ir/types.js";
import type { WeightStore } from "../../src/weights/store.js";
import type { SizeExpr } from "../../src/runtime/manifest.js";
import { type Schedule, type Step, resolveAlias, widthOf } from "../schedule.js";
import { BatchBuffers, perSample } from "./plan.js";
import { type Rendered, header } from "./render.js";
import type { WeightsBuffer } from "./weights.js";

/** One GPU dispatch of the plan. */
export interface GpuStep {
  /** Shader name, unique in the artifact (also its file name, with .wgsl). */
  name: string;
  rendered: Rendered;
  dispatch: [SizeExpr, SizeExpr, SizeExpr];
  nodes: string[];
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
