// Runtime: checks a batch (typed arrays by input name) against the model's
// signature and puts it in the form the workspace writer copies from, before
// anything touches Wasm memory, so a bad request never disturbs the loaded
// model. Ids are checked (and clamped or wrapped, per the feature's policy)
// here too: the compiled code trusts them and never bounds-checks a gather.

import { RmcError, didYouMean, error, type Code, type Diagnostic } from "../diagnostics/index.js";
import type { InputSignature } from "./manifest.js";
import { RUNTIME_CODES as C } from "./codes.js";

/** A bags input: TorchRec KJT layout, lengths key-major (`lengths[f * B + b]`), values in the same order. */
export interface BagsInput {
  /** Int32Array, or BigInt64Array as onnxruntime and PyTorch hand int64 tensors over (read once into numbers). */
  lengths: Int32Array | BigInt64Array | ArrayLike<number | bigint>;
  /** Int32Array, or BigInt64Array / BigUint64Array for 64-bit (hashed) ids, reduced exactly per the feature's policy. */
  values: Int32Array | BigInt64Array | BigUint64Array | ArrayLike<number | bigint>;
  /** One weight per id, for weighted bags only. */
  weights?: Float32Array | ArrayLike<number>;
}

/** One input's data: dense `[B * width]` row-major values, or bags. */
export type DenseOrBags = Float32Array | ArrayLike<number> | BagsInput;

/** A checked input, ready to copy into a workspace. */
export type PreparedInput = { kind: "dense"; width: number; data: ArrayLike<number> } | PreparedBags;

/**
 * A checked bags input. `starts[f]` is the first id of feature f (key-major:
 * its ids are `ids[starts[f], starts[f+1])`); the per-bag offsets, which only
 * slicing and the WebGPU engine need, come from `bagOffsets`. (A typed array
 * per call costs microseconds to allocate; a short plain array does not.)
 */
export interface PreparedBags {
  kind: "bags";
  count: number;
  lengths: ArrayLike<number>;
  starts: number[];
  ids: Int32Array;
  weights?: ArrayLike<number>;
}

/** Per-bag offsets already computed, by prepared input (a batch split over threads asks once per slice). */
const offsetsOf = new WeakMap<PreparedBags, Int32Array>();

/** Prefix sums of a checked bags input's lengths (`[count * size + 1]`): bag k's ids are `ids[offsets[k], offsets[k+1])`. Computed once per input. */
export function bagOffsets(input: PreparedBags, size: number): Int32Array {
  const known = offsetsOf.get(input);
  if (known) return known;
  const offsets = new Int32Array(input.count * size + 1);
  let total = 0;
  for (let k = 0; k < input.count * size; k++) {
    total += input.lengths[k]!;
    offsets[k + 1] = total;
  }
  offsetsOf.set(input, offsets);
  return offsets;
}

/** A checked batch: its size and one entry per signature input, in signature order. */
export interface PreparedBatch {
  size: number;
  inputs: PreparedInput[];
}

/** Ids that samples [start, end) of a batch hold, per input. */
export function idsInSlice(batch: PreparedBatch, start: number, end: number): number[] {
  return batch.inputs.map((input) => {
    if (input.kind === "dense") return 0;
    if (start === 0 && end === batch.size) return input.starts[input.count]!;
    const offsets = bagOffsets(input, batch.size);
    let n = 0;
    for (let f = 0; f < input.count; f++) n += offsets[f * batch.size + end]! - offsets[f * batch.size + start]!;
    return n;
  });
}

/** Ids room per bag feature per sample that an engine's buffers start with (Wasm workspaces, WebGPU per-call buffers). */
export const INITIAL_IDS_PER_BAG = 8;

const fail = (code: Code, message: string, hint?: string): never => {
  throw new RmcError(error(code, message, undefined, hint));
};
const isArrayLike = (x: unknown): x is ArrayLike<unknown> =>
  (Array.isArray(x) || ArrayBuffer.isView(x)) && typeof (x as { length?: unknown }).length === "number";

/**
 * Checks names, shapes and ids of a batch; throws an RmcError (E171x) on the
 * first kind of problem found. Each input, and each element of an array that
 * is not already the typed array the model takes, is read exactly once, into
 * an array of its own: what is checked is what is computed, even for an
 * array whose getters answer differently on a second read.
 */
export function prepareBatch(signature: readonly InputSignature[], batch: Record<string, DenseOrBags>): PreparedBatch {
  if (typeof batch !== "object" || batch === null || ArrayBuffer.isView(batch))
    fail(C.batchShape, "predict expects an object of inputs by name (or an array of sample objects)");
  checkNames(signature, Object.keys(batch), "");
  const given = signature.map((input) => ownCopy(input, batch[input.name]));
  const sizes = signature.map((input, i) => batchSizeOf(input, given[i] as DenseOrBags | undefined));
  const known = signature
    .map((input, i) => ({ name: input.name, size: sizes[i] }))
    .filter((s): s is { name: string; size: number } => s.size !== undefined);
  const size = known[0]?.size ?? 0;
  const other = known.find((s) => s.size !== size);
  if (other) fail(C.batchSize, `inputs disagree on the batch size: ${known[0]!.name} has ${size} samples, ${other.name} ${other.size}`);
  const inputs = signature.map((input, i): PreparedInput => {
    const data = given[i]!;
    if (input.kind === "dense") return { kind: "dense", width: input.width, data: data as Float32Array };
    return prepareBags(input, data as BagsInput, size);
  });
  return { size, inputs };
}

/** Ids as 64-bit integers (TorchRec's int64 ids, hashed ids): taken as they are, reduced exactly per the feature's policy. */
type BigIds = BigInt64Array | BigUint64Array;
const isBigIds = (x: unknown): x is BigIds => x instanceof BigInt64Array || x instanceof BigUint64Array;

/** One input read once: typed arrays of the model's own types as they are, anything else element by element into a copy. */
function ownCopy(input: InputSignature, data: unknown): unknown {
  if (input.kind === "dense") return isArrayLike(data) && !(data instanceof Float32Array) ? floats(data, `input \`${input.name}\` value`) : data;
  if (typeof data !== "object" || data === null) return data;
  const { lengths, values, weights } = data as Record<string, unknown>;
  const copy: Record<string, unknown> = {
    lengths: isArrayLike(lengths) && !(lengths instanceof Int32Array) ? integers(lengths, `input \`${input.name}\` length`) : lengths,
    values: isArrayLike(values) && !(values instanceof Int32Array) && !isBigIds(values) ? integers(values, `input \`${input.name}\` id`) : values,
  };
  if (weights !== undefined)
    copy.weights = isArrayLike(weights) && !(weights instanceof Float32Array) ? floats(weights, `input \`${input.name}\` weight`) : weights;
  return copy;
}

/** Elements as f32, each read once; `what` names one in the error ("input `x` value"). */
function floats(data: ArrayLike<unknown>, what: string): Float32Array {
  const n = data.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (typeof v !== "number") fail(C.denseWidth, `${what} ${i} is not a number`);
    out[i] = v as number;
  }
  return out;
}

/** Elements as numbers (checked as integers later, where the message can name the feature and sample), each read once. */
function integers(data: ArrayLike<unknown>, what: string): Float64Array {
  const n = data.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (typeof v === "bigint") {
      // 64-bit lengths (onnxruntime and PyTorch hand int64 tensors over as BigInt64Array) are read as numbers: no length is near 2^53.
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER))
        fail(
          what.endsWith("length") ? C.bagsShape : C.idNotInteger,
          isBigIds(data)
            ? `${what} ${i} is ${v}, beyond 2^53`
            : `${what} ${i} is ${v}, beyond 2^53 in a plain array: pass 64-bit ids as a BigInt64Array, which is read exactly`,
        );
      out[i] = Number(v);
    } else if (typeof v === "number") out[i] = v;
    else fail(C.bagsShape, `${what} ${i} is not a number`);
  }
  return out;
}

/** Unknown and missing input names, all reported at once; `where` prefixes messages (e.g. "sample 3: "). */
export function checkNames(signature: readonly InputSignature[], given: readonly string[], where: string): void {
  const names = signature.map((input) => input.name);
  const problems: Diagnostic[] = [];
  for (const name of given)
    if (!names.includes(name)) {
      const hint = didYouMean(name, names);
      problems.push(error(C.batchShape, `${where}unknown input \`${name}\` (the model's inputs: ${names.join(", ")})${hint ? `; ${hint}` : ""}`));
    }
  for (const name of names) if (!given.includes(name)) problems.push(error(C.batchShape, `${where}missing input \`${name}\``));
  if (problems.length) throw new RmcError(problems);
}

/** The number of samples an input holds, or undefined when its shape cannot tell (zero width or count). */
function batchSizeOf(input: InputSignature, data: DenseOrBags | undefined): number | undefined {
  if (input.kind === "dense") {
    if (!isArrayLike(data)) return fail(C.batchShape, `input \`${input.name}\` must be a Float32Array of [batch × ${input.width}] values`);
    if (input.width === 0) return data.length === 0 ? undefined : fail(C.denseWidth, `input \`${input.name}\` has width 0 but ${data.length} values`);
    if (data.length % input.width !== 0)
      fail(C.denseWidth, `input \`${input.name}\` has ${data.length} values, not a multiple of its width ${input.width}`);
    return data.length / input.width;
  }
  const bags = data as BagsInput | undefined;
  if (typeof bags !== "object" || bags === null || !isArrayLike(bags.lengths) || !isArrayLike(bags.values))
    return fail(C.batchShape, `input \`${input.name}\` must be bags: { lengths, values${input.weighted ? ", weights" : ""} } (KJT layout)`);
  if (input.count === 0) return undefined;
  if (bags.lengths.length % input.count !== 0)
    fail(
      C.bagsShape,
      `input \`${input.name}\` has ${bags.lengths.length} lengths, not a multiple of its ${input.count} features (lengths are [features × batch])`,
    );
  return bags.lengths.length / input.count;
}

function prepareBags(input: Extract<InputSignature, { kind: "bags" }>, bags: BagsInput, size: number): PreparedInput {
  const { name, count } = input;
  if (bags.lengths.length !== count * size)
    fail(C.bagsShape, `input \`${name}\` has ${bags.lengths.length} lengths, expected ${count * size} (${count} features × ${size} samples)`);
  // The message's place is built only on failure: this loop runs for every bag of every call.
  const at = (i: number) => `feature ${Math.floor(i / Math.max(size, 1))}, sample ${i % Math.max(size, 1)}`;
  const lengths = bags.lengths as ArrayLike<number>; // ownCopy read 64-bit lengths into numbers
  const integers = lengths instanceof Int32Array;
  const starts: number[] = [0];
  let total = 0;
  for (let f = 0; f < count; f++) {
    for (let i = f * size; i < (f + 1) * size; i++) {
      const length = lengths[i]!;
      if (!integers && !Number.isInteger(length)) fail(C.bagsShape, `input \`${name}\` ${at(i)}: length ${length} is not an integer`);
      if (length < 0) fail(C.bagsShape, `input \`${name}\` ${at(i)}: length ${length} is negative`);
      total += length;
    }
    starts.push(total);
  }
  if (total !== bags.values.length) fail(C.bagsShape, `input \`${name}\`: lengths add up to ${total} ids, but values has ${bags.values.length}`);
  if (input.weighted && bags.weights === undefined) fail(C.bagsShape, `input \`${name}\` is weighted: pass \`weights\`, one per id`);
  if (!input.weighted && bags.weights !== undefined) fail(C.bagsShape, `input \`${name}\` is not weighted: drop \`weights\``);
  if (bags.weights !== undefined && (!isArrayLike(bags.weights) || bags.weights.length !== total))
    fail(
      C.bagsShape,
      `input \`${name}\`: weights must have one entry per id (${total}), not ${isArrayLike(bags.weights) ? bags.weights.length : "none"}`,
    );
  const ids = resolveIds(input, bags.values as ArrayLike<number> | BigIds, lengths, starts, size); // ownCopy made plain arrays numbers;
  return { kind: "bags", count, lengths, starts, ids, ...(bags.weights !== undefined ? { weights: bags.weights } : {}) };
}

/**
 * Checks every id against its feature's table and applies the feature's policy.
 * Returns the caller's Int32Array when nothing needs changing, else a copy:
 * the caller's arrays are never written.
 */
function resolveIds(
  input: Extract<InputSignature, { kind: "bags" }>,
  values: ArrayLike<number> | BigIds,
  lengths: ArrayLike<number>,
  starts: number[],
  size: number,
): Int32Array {
  if (isBigIds(values)) return resolveBigIds(input, values, lengths, starts, size);
  let out = values instanceof Int32Array ? undefined : Int32Array.from(values);
  const integers = values instanceof Int32Array;
  for (let f = 0; f < input.count; f++) {
    const { rows, ids: policy } = input.features[f]!;
    // A feature's ids are contiguous (key-major): one range check per id, and the sample is found only on failure.
    let inRange = true;
    for (let k = starts[f]!; k < starts[f + 1]!; k++) {
      const id = values[k]!;
      if (!(id >= 0 && id < rows && (integers || Number.isInteger(id)))) {
        inRange = false;
        break;
      }
    }
    if (inRange) continue;
    let k = starts[f]!;
    for (let b = 0; b < size; b++)
      for (let end = k + lengths[f * size + b]!; k < end; k++) {
        const id = values[k]!;
        if (id >= 0 && id < rows && Number.isInteger(id)) continue;
        const at = `input \`${input.name}\` feature ${f}, sample ${b}`;
        if (!Number.isInteger(id)) fail(C.idNotInteger, `${at}: id ${id} is not an integer`);
        if (policy === "error")
          fail(
            C.idOutOfRange,
            `${at}: id ${id} is outside the table's ${rows} rows (ids must be in [0, ${rows}))`,
            "map ids into the table's rows before predict, or compile with the id policy `clamp` or `modulo`",
          );
        out ??= Int32Array.from(values);
        out[k] = policy === "clamp" ? Math.min(Math.max(id, 0), rows - 1) : ((id % rows) + rows) % rows;
      }
  }
  return out ?? (values as Int32Array);
}

/** resolveIds for 64-bit ids: every id into a new Int32Array, out-of-range ones reduced in BigInt, so `modulo` stays exact past 2^53. */
function resolveBigIds(
  input: Extract<InputSignature, { kind: "bags" }>,
  values: BigIds,
  lengths: ArrayLike<number>,
  starts: number[],
  size: number,
): Int32Array {
  const out = new Int32Array(values.length);
  for (let f = 0; f < input.count; f++) {
    const { rows, ids: policy } = input.features[f]!;
    const r = BigInt(rows);
    let k = starts[f]!;
    for (let b = 0; b < size; b++)
      for (let end = k + lengths[f * size + b]!; k < end; k++) {
        const id = values[k]!;
        if (id >= 0n && id < r) {
          out[k] = Number(id);
          continue;
        }
        if (policy === "error" || rows === 0)
          fail(
            C.idOutOfRange,
            `input \`${input.name}\` feature ${f}, sample ${b}: id ${id} is outside the table's ${rows} rows (ids must be in [0, ${rows}))`,
            "map ids into the table's rows before predict, or compile with the id policy `clamp` or `modulo`",
          );
        out[k] = policy === "clamp" ? (id < 0n ? 0 : rows - 1) : Number(((id % r) + r) % r);
      }
  }
  return out;
}

/** Samples [start, end) of a checked batch as a checked batch of their own (bags re-packed key-major for the slice). */
export function sliceBatch(batch: PreparedBatch, start: number, end: number): PreparedBatch {
  const size = end - start;
  const inputs = batch.inputs.map((input): PreparedInput => {
    if (input.kind === "dense") return { ...input, data: sliceOf(input.data, start * input.width, end * input.width) };
    const from = bagOffsets(input, batch.size);
    const lengths = new Int32Array(input.count * size);
    const starts = [0];
    for (let f = 0; f < input.count; f++) {
      for (let b = 0; b < size; b++) lengths[f * size + b] = input.lengths[f * batch.size + start + b]!;
      starts.push(starts[f]! + from[f * batch.size + end]! - from[f * batch.size + start]!);
    }
    const ids = new Int32Array(starts[input.count]!);
    const weights = input.weights ? new Float32Array(ids.length) : undefined;
    for (let f = 0; f < input.count; f++) {
      const first = from[f * batch.size + start]!;
      const last = from[f * batch.size + end]!;
      ids.set(input.ids.subarray(first, last), starts[f]!);
      if (weights) weights.set(sliceOf(input.weights!, first, last), starts[f]!);
    }
    return { kind: "bags", count: input.count, lengths, starts, ids, ...(weights ? { weights } : {}) };
  });
  return { size, inputs };
}

/** Elements [from, to) of an array or typed array, without copying a typed array. */
const sliceOf = (data: ArrayLike<number>, from: number, to: number): ArrayLike<number> =>
  ArrayBuffer.isView(data) ? (data as Float32Array).subarray(from, to) : Array.prototype.slice.call(data, from, to);
