// Wasm backend, step 3 of 4: the memory plan of one workspace. Every value
// that `forward` reads or writes gets a buffer at a fixed offset per unit of
// batch capacity (so one plan serves any capacity chosen at load time), and
// activation buffers whose lifetimes do not overlap share bytes (first fit
// over a free list, in schedule order). Inputs and outputs get buffers of
// their own that live through the whole call. The plan-memory pass writes
// this plan into the IR (`buffer` and `scratch` on each node); IR that
// carries one is compiled with it, after checking that no two buffers in use
// at once share a byte.

import { RmcError, error, type Diagnostic, type Code } from "../../src/diagnostics/index.js";
import type { Graph, Node, TensorType } from "../../src/ir/types.js";
import type { Schedule, Step } from "../schedule.js";
import { resolveAlias, widthOf } from "../schedule.js";
import { int8ScratchBytes } from "./kernels/gemm-int8.js";
import { i7ScratchBytes } from "./kernels/gemm-i7.js";

/** Diagnostic code: the memory plan written in the IR cannot be used. */
export const E_IR_PLAN = "E1808" satisfies Code;

/** Bytes per sample of a buffer holding `elements` f32/i32 per sample, rounded to 16 for aligned vectors. */
const slot = (elements: number): number => Math.ceil((elements * 4) / 16) * 16;

/** Bytes per sample of a value's buffer: f32 rows, or (i8 codes of a folded quantization) the reading layer's scratch records. */
export const bufferBytes = (t: TensorType): number => (t.dtype === "i8" ? int8ScratchBytes(widthOf(t)) : slot(widthOf(t)));

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
  /** Bytes per sample of the buffers of their own at the start: inputs, bags lengths and offsets, outputs. */
  pinnedBytes: number;
}

/** Extra per-sample scratch a step needs (cross layers keep W·x before the epilogue; int8 layers their quantized input rows). */
function scratchOf(step: Step, types: Map<string, TensorType>): number {
  const input = types.get(step.reads[0]!);
  if (step.op === "linear" && step.precision === "int8a7") return i7ScratchBytes(widthOf(input!));
  if (step.op === "linear" && step.precision === "int8") return input?.dtype === "i8" ? 0 : int8ScratchBytes(widthOf(input!));
  if (step.op !== "cross_layer") return 0;
  const d = widthOf(step.node.type as TensorType);
  const rank = step.node.attrs.rank as number;
  return slot(d) + (rank > 0 ? slot(rank) : 0);
}

/**
 * Fixed scratch a step needs once per call: the dot interaction's transposed
 * features, a vector of slack for its 4-wide reads past the last feature, and
 * the staging area its last two rows are stored in whole vectors before their
 * columns are copied out (two rows of at most f columns, plus a vector).
 */
function fixedOf(step: Step, types: Map<string, TensorType>): number {
  if (step.op !== "interact" || step.node.attrs.op === "cat") return 0;
  const d = widthOf(types.get(step.reads[0]!)!);
  const tail = typeof step.node.attrs.tail === "number" ? step.node.attrs.tail : 0;
  const f = step.reads.slice(0, step.reads.length - tail).reduce((n, id) => n + widthOf(types.get(id)!) / d, 0);
  return (Math.ceil(f / 4) * 4 * d + 4) * 4 + (2 * f + 4) * 4;
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
    for (let i = 0; i + 1 < this.free.length;)
      if (this.free[i]!.at + this.free[i]!.size === this.free[i + 1]!.at) {
        this.free[i]!.size += this.free[i + 1]!.size;
        this.free.splice(i + 1, 1);
      } else i++;
  }
}

/** Plans one workspace for the schedule: from the IR's `buffer`/`scratch` attributes when it has them (plan-memory), else by liveness here. */
export function planMemory(graph: Graph, sched: Schedule): MemoryPlan {
  const planned = livenessPlan(graph, sched);
  return graph.nodes.some((n) => n.attrs.buffer !== undefined) ? adoptIrPlan(graph, sched, planned) : planned;
}

/** Plans one workspace by liveness: first fit over a free list, in schedule order. */
export function livenessPlan(graph: Graph, sched: Schedule): MemoryPlan {
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
    if (input.type.kind === "bags")
      bags.set(input.name, { lengths: pinned(slot(input.type.count)), offsets: pinned(slot(input.type.count + 1)), slot: slotIndex++ });
    else values.set(input.name, pinned(slot(widthOf(input.type))));
  }
  const outputs = new Set(graph.outputs.map((o) => resolveAlias(sched.aliases, o.value)));
  for (const id of outputs) if (!values.has(id)) values.set(id, pinned(bufferBytes(types.get(id)!)));
  const pinnedEnd = arena.end;

  // Last use of each value, in step order.
  const lastUse = new Map<string, number>();
  sched.steps.forEach((s, i) => s.reads.forEach((r) => lastUse.set(resolveAlias(sched.aliases, r), i)));
  const fixed = new Map<string, number>();
  let fixedBytes = 0;
  sched.steps.forEach((step, i) => {
    const bytes = bufferBytes(types.get(step.id)!);
    if (!values.has(step.id)) values.set(step.id, { offset: arena.alloc(bytes), size: bytes });
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
      if (lastUse.get(r) === i && !outputs.has(r) && values.has(r) && values.get(r)!.offset >= pinnedEnd)
        arena.release(values.get(r)!.offset, values.get(r)!.size);
  });
  const headerSlots = Math.ceil((slotIndex * 8) / 16) * 16;
  for (const [k, v] of fixed) fixed.set(k, headerSlots + v);
  return {
    values,
    bags,
    perSample: arena.end,
    headerBytes: headerSlots + fixedBytes,
    fixed,
    activationBytes: arena.end - pinnedEnd,
    pinnedBytes: pinnedEnd,
  };
}

/** A buffer in use from step `from` to step `to` (inclusive; inputs and outputs: the whole call). */
interface Use {
  what: string;
  /** The step's value id, for steps' buffers and scratch. */
  id?: string;
  at: BufferPlan;
  from: number;
  to: number;
}

/**
 * The plan written in the IR by plan-memory, in place of the liveness plan's
 * choices for node values and scratch (inputs, outputs' buffers of their own,
 * bags and fixed scratch are laid out as always). Every step must have its
 * buffer, each big enough, and no two buffers in use at once may overlap.
 */
function adoptIrPlan(graph: Graph, sched: Schedule, computed: MemoryPlan): MemoryPlan {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const values = new Map(computed.values);
  const problems: Diagnostic[] = [];
  const hint = "run plan-memory as the last pass, after every pass that changes the graph";
  const problem = (message: string, node?: Node) =>
    problems.push(error(E_IR_PLAN, `the memory plan in the IR cannot be used: ${message}`, node?.span, hint));
  const read = (node: Node, attr: "buffer" | "scratch", need: number): BufferPlan | undefined => {
    const v = node.attrs[attr];
    if (v === undefined && need === 0) return undefined;
    if (!Array.isArray(v) || v.length !== 2) return void problem(`%${node.id} has no ${attr} (it needs ${need} bytes per sample)`, node);
    const [offset, size] = v as [number, number];
    if (size < need || offset % 16 !== 0)
      return void problem(`%${node.id}: ${attr}=[${offset},${size}] must be 16-byte aligned and hold ${need} bytes per sample`, node);
    return { offset, size };
  };
  for (const step of sched.steps) {
    const node = byId.get(step.id)!;
    const buffer = read(node, "buffer", bufferBytes(node.type as TensorType));
    if (buffer) values.set(step.id, buffer);
    const scratch = read(node, "scratch", computed.values.get(`${step.id}#scratch`)?.size ?? 0);
    if (scratch) values.set(`${step.id}#scratch`, scratch);
  }
  const uses = problems.length > 0 ? [] : bufferUses(graph, sched, values, computed);
  for (let i = 0; i < uses.length; i++)
    for (let j = i + 1; j < uses.length; j++) {
      const [a, b] = [uses[i]!, uses[j]!];
      const bytes = a.at.offset < b.at.offset + b.at.size && b.at.offset < a.at.offset + a.at.size;
      if (bytes && a.from <= b.to && b.from <= a.to)
        problem(
          `${a.what} [${a.at.offset},${a.at.size}] and ${b.what} [${b.at.offset},${b.at.size}] share bytes while both are in use`,
          byId.get(b.id ?? ""),
        );
    }
  if (problems.length > 0) throw new RmcError(problems);
  const perSample = Math.max(computed.pinnedBytes, ...uses.map((u) => u.at.offset + u.at.size));
  return { ...computed, values, perSample, activationBytes: perSample - computed.pinnedBytes };
}

/** Every buffer with the steps during which it is in use. */
function bufferUses(graph: Graph, sched: Schedule, values: Map<string, BufferPlan>, computed: MemoryPlan): Use[] {
  const end = sched.steps.length;
  const outputs = new Set(graph.outputs.map((o) => resolveAlias(sched.aliases, o.value)));
  const lastUse = new Map<string, number>();
  sched.steps.forEach((s, i) => s.reads.forEach((r) => lastUse.set(resolveAlias(sched.aliases, r), i)));
  const uses: Use[] = [];
  for (const [name, b] of computed.bags)
    uses.push({ what: `lengths of ${name}`, at: b.lengths, from: -1, to: end }, { what: `offsets of ${name}`, at: b.offsets, from: -1, to: end });
  for (const i of graph.inputs) if (values.has(i.name)) uses.push({ what: `input ${i.name}`, at: values.get(i.name)!, from: -1, to: end });
  sched.steps.forEach((s, i) => {
    uses.push({ what: `%${s.id}`, id: s.id, at: values.get(s.id)!, from: i, to: outputs.has(s.id) ? end : (lastUse.get(s.id) ?? i) });
    const scratch = values.get(`${s.id}#scratch`);
    if (scratch) uses.push({ what: `scratch of %${s.id}`, id: s.id, at: scratch, from: i, to: i });
  });
  return uses;
}
