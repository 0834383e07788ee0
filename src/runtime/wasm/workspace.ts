// Runtime, Wasm engine: the workspaces in linear memory (../manifest.ts
// describes the layout) — one per thread after the weights — sized for a batch
// capacity and an id capacity per bags input, grown (memory.grow, then new
// bases) when a batch needs more. Also copies a slice of a checked batch in,
// with its KJT re-packed for the slice's samples, and copies outputs out into
// fresh arrays.

import { RmcError, error } from "../../diagnostics/index.js";
import type { InputSignature, OutputSignature, WasmLayout } from "../manifest.js";
import { RUNTIME_CODES as C } from "../codes.js";
import { INITIAL_IDS_PER_BAG, bagOffsets, type PreparedBatch } from "../inputs.js";
import { MAX_PAGES, PAGE_BYTES, type WasmMemory } from "../host/platform.js";

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/** Where everything sits for one capacity: per-input offsets are relative to a workspace's base. */
export interface WorkspacePlan {
  /** Samples per workspace; a multiple of 16 so every `offset * cap` buffer stays 16-byte aligned. */
  cap: number;
  /** Ids each workspace holds, per input (0 for dense inputs). */
  idCaps: number[];
  idsAt: number[];
  weightsAt: number[];
  /** Bytes of one workspace. */
  bytes: number;
  bases: number[];
  /** First byte after the last workspace. */
  end: number;
}

/** Lays out `threads` workspaces for a capacity, given ids room per input. */
export function planWorkspaces(layout: WasmLayout, inputs: readonly InputSignature[], threads: number, cap: number, idCaps: number[]): WorkspacePlan {
  const idsAt: number[] = [];
  const weightsAt: number[] = [];
  let cursor = align16(layout.headerBytes + layout.perSample * cap);
  inputs.forEach((input, i) => {
    idsAt.push(cursor);
    cursor += input.kind === "bags" ? align16(4 * idCaps[i]!) : 0;
    weightsAt.push(input.kind === "bags" && input.weighted ? cursor : 0);
    cursor += input.kind === "bags" && input.weighted ? align16(4 * idCaps[i]!) : 0;
  });
  const bytes = align16(cursor);
  const first = align16(layout.workspaceBase);
  const bases = Array.from({ length: threads }, (_, t) => first + t * bytes);
  return { cap, idCaps, idsAt, weightsAt, bytes, bases, end: first + threads * bytes };
}

/** Ids room per input for a capacity: the default per bag, or more when asked. */
export const idCapsFor = (inputs: readonly InputSignature[], cap: number, atLeast: readonly number[] = []): number[] =>
  inputs.map((input, i) => (input.kind === "bags" ? Math.max(INITIAL_IDS_PER_BAG * input.count * cap, atLeast[i] ?? 0) : 0));

const roundCap = (n: number): number => Math.max(16, align16(n));
const fits = (plan: WorkspacePlan): boolean => plan.end <= MAX_PAGES * PAGE_BYTES;

/** The first of some candidate capacities whose plan fits in 32-bit memory; E1708 when none does. */
export function fittingPlan(
  layout: WasmLayout,
  inputs: readonly InputSignature[],
  threads: number,
  candidates: { cap: number; ids: readonly number[] }[],
): WorkspacePlan {
  for (const c of candidates) {
    const plan = planWorkspaces(layout, inputs, threads, roundCap(c.cap), idCapsFor(inputs, roundCap(c.cap), c.ids));
    if (fits(plan)) return plan;
  }
  const last = candidates[candidates.length - 1]!;
  const message = `a batch of ${last.cap} samples on ${threads} thread(s) needs more than the 4 GiB that 32-bit WebAssembly can address`;
  throw new RmcError(error(C.memoryLimit, message, undefined, "predict in smaller batches, or load with fewer threads"));
}

/** The workspaces of a loaded model, over its memory. */
export class Workspaces {
  plan: WorkspacePlan;
  private buffer: ArrayBufferLike | undefined;
  private f32: Float32Array<ArrayBufferLike> = new Float32Array(0);
  private i32: Int32Array<ArrayBufferLike> = new Int32Array(0);

  constructor(
    readonly memory: WasmMemory,
    private readonly layout: WasmLayout,
    private readonly inputs: readonly InputSignature[],
    private readonly outputs: readonly OutputSignature[],
    plan: WorkspacePlan,
  ) {
    this.plan = plan;
    this.growMemoryTo(plan.end);
  }

  /** Makes room for slices of `samples` samples with `ids` ids per input; re-lays out (growing memory) if needed. */
  ensure(samples: number, ids: readonly number[]): void {
    const { cap, idCaps, bases } = this.plan;
    if (samples <= cap && ids.every((n, i) => n <= idCaps[i]!)) return;
    const roomy = {
      cap: Math.max(cap, samples > cap ? 2 * cap : cap, samples),
      ids: ids.map((n, i) => Math.max(idCaps[i]!, n > idCaps[i]! ? 2 * n : n)),
    };
    const exact = { cap: Math.max(cap, samples), ids };
    this.plan = fittingPlan(this.layout, this.inputs, bases.length, [roomy, exact]);
    this.growMemoryTo(this.plan.end);
  }

  private growMemoryTo(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE_BYTES));
  }

  private views(): { f32: Float32Array<ArrayBufferLike>; i32: Int32Array<ArrayBufferLike> } {
    // Growing replaces (non-shared) or extends (shared) the buffer; views must follow it.
    if (this.buffer !== this.memory.buffer) {
      this.buffer = this.memory.buffer;
      this.f32 = new Float32Array(this.buffer);
      this.i32 = new Int32Array(this.buffer);
    }
    return { f32: this.f32, i32: this.i32 };
  }

  /** Copies samples [start, end) of a batch into workspace `t`, header included (addresses may pass 2 GiB: word indexes use `>>>`). */
  writeSlice(t: number, batch: PreparedBatch, start: number, end: number): void {
    const { f32, i32 } = this.views();
    const ws = this.plan.bases[t]!;
    const data = ws + this.layout.headerBytes;
    const n = end - start;
    batch.inputs.forEach((input, i) => {
      const buffer = this.layout.buffers.inputs.find((b) => b.name === this.inputs[i]!.name)!;
      if (input.kind === "dense" && buffer.kind === "dense") {
        copyInto(f32, (data + buffer.offset * this.plan.cap) >>> 2, input.data, start * input.width, end * input.width);
        return;
      }
      if (input.kind !== "bags" || buffer.kind !== "bags") return;
      const lengthsAt = (data + buffer.lengthsOffset * this.plan.cap) >>> 2;
      const idsAt = ws + this.plan.idsAt[i]!;
      const weightsAt = input.weights ? ws + this.plan.weightsAt[i]! : 0;
      i32[(ws + 8 * buffer.headerSlot) >>> 2] = idsAt;
      i32[(ws + 8 * buffer.headerSlot + 4) >>> 2] = weightsAt;
      if (n === batch.size) {
        // The whole batch: lengths and ids are already contiguous in the workspace's order, one copy each.
        copyInto(i32, lengthsAt, input.lengths, 0, input.count * n);
        copyInto(i32, idsAt >>> 2, input.ids, 0, input.starts[input.count]!);
        if (input.weights) copyInto(f32, weightsAt >>> 2, input.weights, 0, input.starts[input.count]!);
        return;
      }
      const offsets = bagOffsets(input, batch.size);
      let cursor = 0;
      for (let f = 0; f < input.count; f++) {
        copyInto(i32, lengthsAt + f * n, input.lengths, f * batch.size + start, f * batch.size + end);
        const from = offsets[f * batch.size + start]!;
        const to = offsets[f * batch.size + end]!;
        copyInto(i32, (idsAt >>> 2) + cursor, input.ids, from, to);
        if (input.weights) copyInto(f32, (weightsAt >>> 2) + cursor, input.weights, from, to);
        cursor += to - from;
      }
    });
  }

  /** Copies samples [start, end) of every output from workspace `t` into `results` (fresh arrays, never views of memory). */
  readSlice(t: number, results: Record<string, Float32Array>, start: number, end: number): void {
    const { f32 } = this.views();
    const data = this.plan.bases[t]! + this.layout.headerBytes;
    for (const output of this.outputs) {
      const buffer = this.layout.buffers.outputs.find((b) => b.name === output.name)!;
      const from = (data + buffer.offset * this.plan.cap) >>> 2;
      results[output.name]!.set(f32.subarray(from, from + (end - start) * output.width), start * output.width);
    }
  }
}

/** Copies `source[from, to)` into `target` at `at`, fast for typed arrays, element-wise for plain ones. */
function copyInto(
  target: Float32Array<ArrayBufferLike> | Int32Array<ArrayBufferLike>,
  at: number,
  source: ArrayLike<number>,
  from: number,
  to: number,
): void {
  if (ArrayBuffer.isView(source)) target.set((source as Float32Array).subarray(from, to), at);
  else for (let k = from; k < to; k++) target[at + k - from] = source[k]!;
}
