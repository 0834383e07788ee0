// Wasm backend, step 3 of 4: the memory plan of one workspace. Every value
// that `forward` reads or writes gets a buffer at a fixed offset per unit of
// batch capacity (so one plan serves any capacity chosen at load time), and
// activation buffers whose lifetimes do not overlap share bytes (first fit
// over a free list, in schedule order). Inputs and outputs get buffers of
// their own that live through the whole call.

import type { Graph, TensorType } from "../../src/ir/types.js";
import type { Schedule, Step } from "./schedule.js";
import { resolveAlias, widthOf } from "./schedule.js";
import { int8ScratchBytes } from "./kernels/gemm-int8.js";

/** Bytes per sample of a buffer holding `elements` f32/i32 per sample, rounded to 16 for aligned vectors. */
const slot = (elements: number): number => Math.ceil((elements * 4) / 16) * 16;

export interface BufferPlan {
  /** Byte offset per unit of capacity, from the end of the header. */
  offset: number;
  /** Bytes per unit of capacity. */
  size: number;
}

export interface MemoryPlan {
  /** Buffers by value id: dense inputs, node outputs, scratch (`<step>#scratch`). */
  values: Map<string, BufferPlan>;
  /** For each bags input: its lengths and its computed offsets (prefix sums). */
  bags: Map<string, { lengths: BufferPlan; offsets: BufferPlan; slot: number }>;
  /** Total bytes per unit of capacity. */
  perSample: number;
  /** Header: 8 bytes per bags input (ids and weights addresses), then fixed scratch. */
  headerBytes: number;
  /** Fixed (capacity-independent) scratch in the header, by step id: absolute offset from the workspace base. */
  fixed: Map<string, number>;
  /** Peak bytes per sample of activations (reused buffers), for reports. */
  activationBytes: number;
}

/** Extra per-sample scratch a step needs (cross layers keep W·x before the epilogue; int8 layers their quantized input rows). */
function scratchOf(step: Step, types: Map<string, TensorType>): number {
  if (step.op === "linear" && step.precision === "int8") return int8ScratchBytes(widthOf(types.get(step.reads[0]!)!));
  if (step.op !== "cross_layer") return 0;
  const d = widthOf(step.node.type as TensorType);
  const rank = step.node.attrs.rank as number;
  return slot(d) + (rank > 0 ? slot(rank) : 0);
}

/** Fixed scratch a step needs once per call: the dot interaction's transposed features, plus a vector of slack for its 4-wide reads past the last feature. */
function fixedOf(step: Step, types: Map<string, TensorType>): number {
  if (step.op !== "interact" || step.node.attrs.op === "cat") return 0;
  const d = widthOf(types.get(step.reads[0]!)!);
  const f = step.reads.reduce((n, id) => n + widthOf(types.get(id)!) / d, 0);
  return (Math.ceil(f / 4) * 4 * d + 4) * 4;
}

/** A first-fit allocator over byte ranges of the per-sample area. */
class Arena {
  private free: { at: number; size: number }[] = [];
  end = 0;
  alloc(size: number): number {
    const i = this.free.findIndex((f) => f.size >= size);
    if (i < 0) {
      this.end += size;
      return this.end - size;
    }
    const f = this.free[i]!;
    const at = f.at;
    if (f.size === size) this.free.splice(i, 1);
    else this.free[i] = { at: f.at + size, size: f.size - size };
    return at;
  }
  release(at: number, size: number): void {
    this.free.push({ at, size });
    this.free.sort((a, b) => a.at - b.at);
    // merge neighbours so large buffers can reuse several freed ones
    for (let i = 0; i + 1 < this.free.length; )
      if (this.free[i]!.at + this.free[i]!.size === this.free[i + 1]!.at) {
        this.free[i]!.size += this.free[i + 1]!.size;
        this.free.splice(i + 1, 1);
      } else i++;
  }
}

/** Plans one workspace for the schedule. */
export function planMemory(graph: Graph, sched: Schedule): MemoryPlan {
  const types = new Map<string, TensorType>();
  for (const i of graph.inputs) if (i.type.kind === "tensor") types.set(i.name, i.type);
  for (const n of graph.nodes) if (n.type?.kind === "tensor") types.set(n.id, n.type);
  const values = new Map<string, BufferPlan>();
  const bags = new Map<string, { lengths: BufferPlan; offsets: BufferPlan; slot: number }>();
  const arena = new Arena();
  const pinned = (size: number): BufferPlan => ({ offset: arena.alloc(size), size });

  // Inputs and outputs first: written before / read after the call, never shared.
  let slotIndex = 0;
  for (const input of graph.inputs) {
    if (input.type.kind === "bags") bags.set(input.name, { lengths: pinned(slot(input.type.count)), offsets: pinned(slot(input.type.count + 1)), slot: slotIndex++ });
    else values.set(input.name, pinned(slot(widthOf(input.type))));
  }
  const outputs = new Set(graph.outputs.map((o) => resolveAlias(sched.aliases, o.value)));
  for (const id of outputs) if (!values.has(id)) values.set(id, pinned(slot(widthOf(types.get(id)!))));
  const pinnedEnd = arena.end;

  // Last use of each value, in step order.
  const lastUse = new Map<string, number>();
  sched.steps.forEach((s, i) => s.reads.forEach((r) => lastUse.set(resolveAlias(sched.aliases, r), i)));
  const fixed = new Map<string, number>();
  let fixedBytes = 0;
  sched.steps.forEach((step, i) => {
    if (!values.has(step.id)) values.set(step.id, { offset: arena.alloc(slot(widthOf(types.get(step.id)!))), size: slot(widthOf(types.get(step.id)!)) });
    const scratch = scratchOf(step, types);
    if (scratch > 0) {
      const at = arena.alloc(scratch);
      values.set(`${step.id}#scratch`, { offset: at, size: scratch });
      arena.release(at, scratch);
    }
    const f = Math.ceil(fixedOf(step, types) / 16) * 16;
    if (f > 0) {
      fixed.set(step.id, fixedBytes);
      fixedBytes += f;
    }
    // Free what this step read for the last time (never inputs' or outputs' pinned buffers).
    for (const r of new Set(step.reads.map((x) => resolveAlias(sched.aliases, x))))
      if (lastUse.get(r) === i && !outputs.has(r) && values.has(r) && values.get(r)!.offset >= pinnedEnd) arena.release(values.get(r)!.offset, values.get(r)!.size);
  });
  const headerSlots = Math.ceil((slotIndex * 8) / 16) * 16;
  for (const [k, v] of fixed) fixed.set(k, headerSlots + v);
  return { values, bags, perSample: arena.end, headerBytes: headerSlots + fixedBytes, fixed, activationBytes: arena.end - pinnedEnd };
}
