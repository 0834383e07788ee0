// plan-memory, the Wasm target's own pass (registered with its backend,
// backends/index.ts): assigns every value a buffer in the Wasm workspace by
// liveness — values whose lifetimes do not overlap share bytes (first fit over
// a free list, in schedule order; backends/wasm/plan.ts) — and writes the plan
// into the IR: `buffer=[offset, bytes]` and, for layers that need it,
// `scratch=[offset, bytes]` on each node that the Wasm backend runs as a
// kernel call, both per sample of batch capacity. The backend then compiles
// with this plan after checking that no two buffers in use at once share a
// byte (E1808), so the plan in the dumps is the one that runs. The planned
// peak goes to the caller as `memory-plan` (rmc compile prints it). Must run
// last: any pass after it that changes the graph makes the plan stale, and
// the backend rejects it.

import { livenessPlan } from "./plan.js";
import { schedule } from "../schedule.js";
import type { AttrValue, Graph } from "../../src/ir/types.js";
import type { Pass } from "../../src/pipeline/pass.js";

/** plan-memory emits its summary as `memory-plan`; callers read it typed. */
declare module "../../src/pipeline/pass.js" {
  interface PassOutputs {
    "memory-plan": MemoryPlanSummary;
  }
}

/** The planned workspace, per sample of batch capacity, for reports. */
export interface MemoryPlanSummary {
  /** Bytes per sample of the whole workspace data: inputs, bags lengths and offsets, outputs, then activations. */
  perSampleBytes: number;
  /** Of those, the reused activation buffers and scratch (the peak of live activations). */
  activationBytes: number;
  /** Fixed bytes of the workspace header (bags offsets slots, interaction scratch). */
  headerBytes: number;
  /** Activation bytes per sample without reuse (every buffer its own), to show what liveness saved. */
  unsharedBytes: number;
}

/** The plan's `buffer`/`scratch` attribute values by node id. */
function planAttrs(graph: Graph): { attrs: Map<string, { buffer: number[]; scratch?: number[] }>; summary: MemoryPlanSummary } {
  const sched = schedule(graph, "wasm");
  const plan = livenessPlan(graph, sched);
  const attrs = new Map<string, { buffer: number[]; scratch?: number[] }>();
  let unshared = 0;
  const pinnedIds = new Set(graph.outputs.map((o) => o.value));
  for (const step of sched.steps) {
    const b = plan.values.get(step.id)!;
    const s = plan.values.get(`${step.id}#scratch`);
    attrs.set(step.id, { buffer: [b.offset, b.size], ...(s ? { scratch: [s.offset, s.size] } : {}) });
    unshared += (pinnedIds.has(step.id) ? 0 : b.size) + (s?.size ?? 0);
  }
  return {
    attrs,
    summary: { perSampleBytes: plan.perSample, activationBytes: plan.activationBytes, headerBytes: plan.headerBytes, unsharedBytes: unshared },
  };
}

const same = (a: AttrValue | undefined, b: number[] | undefined): boolean =>
  (a === undefined && b === undefined) || (Array.isArray(a) && b !== undefined && a.length === b.length && a.every((v, i) => v === b[i]));

export const planMemory: Pass = {
  name: "plan-memory",
  summary: "Assign activation buffers in the Wasm workspace by liveness and write them as `buffer`/`scratch` (run last)",
  // Last: every pass that changes the graph after it would make the plan stale (the backend rejects a stale plan, E1808).
  requires: ["precision", "split", "epilogues", "fused-bags", "fused-interaction", "folded-quant"],
  provides: ["memory-plan"],
  options: {},
  run(graph, ctx) {
    // Plan from scratch: a plan already in the IR may be stale.
    const { attrs, summary } = planAttrs(graph);
    ctx.emit("memory-plan", summary);
    const unchanged = graph.nodes.every((n) => same(n.attrs.buffer, attrs.get(n.id)?.buffer) && same(n.attrs.scratch, attrs.get(n.id)?.scratch));
    if (unchanged) return graph;
    return ctx.produce(graph, (g) => {
      for (const n of g.nodes) {
        const a = attrs.get(n.id);
        delete n.attrs.buffer;
        delete n.attrs.scratch;
        if (a) n.attrs.buffer = a.buffer;
        if (a?.scratch) n.attrs.scratch = a.scratch;
      }
    });
  },
};
