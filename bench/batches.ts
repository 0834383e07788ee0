// Benchmark inputs shared by bench/run.ts and the peer benchmark: a pool of
// synthetic samples for a model (Zipf ids, `idsPerBag` ids in every bag) and
// its first `b` samples as a batch of their own.

import type { Batch } from "../src/data/batch.js";
import type { Graph } from "../src/ir/types.js";
import { dataSchema } from "../src/data/schema.js";
import { InputSampler, rawToBatch } from "../src/data/synth.js";
import { Rng } from "../src/util/rng.js";

/** `size` samples with `idsPerBag` ids per bag, seeded by idsPerBag (the same pool every run). */
export function samplePool(model: Graph, idsPerBag: number, size = 512): Batch {
  const schema = dataSchema(model);
  return rawToBatch(schema, new InputSampler(schema, { idsPerBag }).sample(new Rng(idsPerBag), size));
}

/** The first `b` samples of a batch (dense rows and KJT bags re-cut). */
export function slice(batch: Batch, b: number): Batch {
  const inputs: Batch["inputs"] = {};
  for (const [name, v] of Object.entries(batch.inputs)) {
    if (v instanceof Float32Array) {
      inputs[name] = v.slice(0, (v.length / batch.size) * b);
      continue;
    }
    const lengths = new Int32Array(v.count * b);
    const values: number[] = [];
    let at = 0;
    for (let f = 0; f < v.count; f++)
      for (let s = 0; s < batch.size; s++) {
        const n = v.lengths[f * batch.size + s]!;
        if (s < b) {
          lengths[f * b + s] = n;
          for (let k = 0; k < n; k++) values.push(v.values[at + k]!);
        }
        at += n;
      }
    inputs[name] = { count: v.count, batch: b, lengths, values: Int32Array.from(values) };
  }
  return { size: b, inputs };
}
