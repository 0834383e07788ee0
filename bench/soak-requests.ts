// The soak's requests (bench/soak.ts): a pool of valid batches of
// examples/dlrm_kaggle_small.rmdl with the interpreter's predictions, computed
// once, and broken variants of them, each with the error code the runtime must
// give (or, over HTTP, a 400 from `rmc serve`). Broken requests are built from
// valid ones, so every kind of mistake meets every batch shape.

import { isBags, type Bags, type Batch } from "../src/data/batch.js";
import { dataSchema } from "../src/data/schema.js";
import { InputSampler, rawToBatch } from "../src/data/synth.js";
import { interpret } from "../src/interp/interpreter.js";
import type { Graph } from "../src/ir/types.js";
import type { InputSignature } from "../src/runtime/index.js";
import { Rng } from "../src/util/rng.js";
import type { WeightStore } from "../src/weights/store.js";

/** A request as predict takes it. */
export type Request = Record<string, unknown>;

/** A valid request, its KServe v2 JSON body, and what the interpreter predicts for it. */
export interface Valid {
  size: number;
  request: Request;
  body: string;
  want: Float32Array;
}

/** A broken request, the code predict must refuse it with, and its HTTP body (undefined where JSON cannot say it). */
export interface Invalid {
  kind: string;
  request: Request;
  code: string;
  body?: string;
}

const SIZES = [1, 1, 1, 2, 3, 5, 8, 16, 31, 64, 200];

const asRequest = (b: Batch): Request =>
  Object.fromEntries(Object.entries(b.inputs).map(([name, v]) => [name, isBags(v) ? { lengths: v.lengths, values: v.values } : v]));

/** The KServe v2 tensors of a request: dense [B, width], sparse.lengths [count, B], sparse.values [N]. */
function kserve(dense: ArrayLike<number>, width: number, bags: { lengths: ArrayLike<number>; values: ArrayLike<number> }, count: number): string {
  const size = dense.length / width;
  return JSON.stringify({
    inputs: [
      { name: "dense", datatype: "FP32", shape: [size, width], data: Array.from(dense) },
      { name: "sparse.lengths", datatype: "INT32", shape: [count, bags.lengths.length / count], data: Array.from(bags.lengths) },
      { name: "sparse.values", datatype: "INT64", shape: [bags.values.length], data: Array.from(bags.values) },
    ],
  });
}

/** `n` valid requests of mixed batch sizes, with the interpreter's `ctr` for each. */
export function validPool(graph: Graph, weights: WeightStore, n: number, seed: number): Valid[] {
  const schema = dataSchema(graph);
  const sampler = new InputSampler(schema, { idsPerBag: [0, 4] });
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const size = SIZES[i % SIZES.length]!;
    const batch = rawToBatch(schema, sampler.sample(rng, size));
    const bags = batch.inputs.sparse as Bags;
    const dense = batch.inputs.dense as Float32Array;
    return {
      size,
      request: asRequest(batch),
      body: kserve(dense, dense.length / size, bags, bags.count),
      want: interpret(graph, weights, batch).outputs.ctr!,
    };
  });
}

/** Broken variants of valid requests: ids out of range or not integers, wrong widths, lengths and names. */
export function invalidPool(valid: readonly Valid[], signature: readonly InputSignature[], seed: number): Invalid[] {
  const sparse = signature.find((s) => s.kind === "bags")! as Extract<InputSignature, { kind: "bags" }>;
  const width = (signature.find((s) => s.kind === "dense")! as Extract<InputSignature, { kind: "dense" }>).width;
  const rng = new Rng(seed);
  const out: Invalid[] = [];
  for (const v of valid) {
    const dense = v.request.dense as Float32Array;
    const { lengths, values } = v.request.sparse as { lengths: Int32Array; values: Int32Array };
    const body = (d: ArrayLike<number>, l: ArrayLike<number>, ids: ArrayLike<number>) => kserve(d, width, { lengths: l, values: ids }, sparse.count);
    if (values.length > 0) {
      // The feature of id k: the first f whose ids end past k.
      const k = rng.int(values.length);
      let f = 0;
      for (let seen = 0; ; f++) {
        for (let b = 0; b < v.size; b++) seen += lengths[f * v.size + b]!;
        if (seen > k) break;
      }
      const rows = sparse.features[f]!.rows;
      for (const [kind, id] of [
        ["id = rows", rows],
        ["id = -1", -1],
        ["id = 2^31 - 1", 2 ** 31 - 1],
      ] as const) {
        const ids = Int32Array.from(values);
        ids[k] = id;
        out.push({ kind, request: { dense, sparse: { lengths, values: ids } }, code: "E1715", body: body(dense, lengths, ids) });
      }
      const fraction = Array.from(values);
      fraction[k] = 0.5;
      out.push({ kind: "id 0.5", request: { dense, sparse: { lengths, values: fraction } }, code: "E1714" });
      out.push({
        kind: "values one short",
        request: { dense, sparse: { lengths, values: values.subarray(1) } },
        code: "E1713",
        body: body(dense, lengths, values.subarray(1)),
      });
    }
    const negative = Int32Array.from(lengths);
    negative[rng.int(negative.length)] = -1;
    out.push({ kind: "length -1", request: { dense, sparse: { lengths: negative, values } }, code: "E1713", body: body(dense, negative, values) });
    out.push({ kind: "dense one short", request: { dense: dense.subarray(1), sparse: { lengths, values } }, code: "E1711" });
    out.push({ kind: "no sparse", request: { dense }, code: "E1710" });
    out.push({ kind: "extra input", request: { ...v.request, dens: dense }, code: "E1710" });
  }
  return out;
}
