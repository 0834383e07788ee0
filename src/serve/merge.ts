// The server's batching, data half: requests already checked against the
// model's signature (runtime/inputs.ts prepareBatch, so a bad request fails
// alone) joined into one batch — dense rows end to end, bags re-packed
// key-major (every request's lengths and ids of feature 0, then feature 1, …)
// — and a batch's outputs cut back into each request's share, in order.

import type { BagsInput, DenseOrBags, PreparedBatch, PreparedBags } from "../runtime/inputs.js";
import type { InputSignature, OutputSignature } from "../runtime/manifest.js";
import { setOwn } from "../runtime/names.js";

/** Checked requests joined into the typed inputs of one predict call (inputs by name, in signature order). */
export function mergeRequests(signature: readonly InputSignature[], parts: readonly PreparedBatch[]): Record<string, DenseOrBags> {
  const total = parts.reduce((s, p) => s + p.size, 0);
  const out: Record<string, DenseOrBags> = {};
  signature.forEach((input, i) => {
    if (input.kind === "dense") {
      const data = new Float32Array(total * input.width);
      let at = 0;
      for (const p of parts) {
        const src = (p.inputs[i] as { data: ArrayLike<number> }).data;
        data.set(ArrayBuffer.isView(src) ? (src as Float32Array) : Float32Array.from(src), at);
        at += p.size * input.width;
      }
      setOwn(out, input.name, data);
      return;
    }
    const bags = parts.map((p) => p.inputs[i] as PreparedBags);
    const ids = bags.reduce((s, b) => s + b.ids.length, 0);
    const lengths = new Int32Array(input.count * total);
    const values = new Int32Array(ids);
    const weights = input.weighted ? new Float32Array(ids) : undefined;
    let l = 0;
    let v = 0;
    for (let f = 0; f < input.count; f++)
      bags.forEach((b, r) => {
        const n = parts[r]!.size;
        for (let s = 0; s < n; s++) lengths[l++] = b.lengths[f * n + s]!;
        const from = b.starts[f]!;
        const to = b.starts[f + 1]!;
        values.set(b.ids.subarray(from, to), v);
        if (weights && b.weights) for (let k = from; k < to; k++) weights[v + k - from] = b.weights[k]!;
        v += to - from;
      });
    const merged: BagsInput = { lengths, values, ...(weights ? { weights } : {}) };
    setOwn(out, input.name, merged);
  });
  return out;
}

/** The outputs of a merged call cut into each request's rows, in order. */
export function splitOutputs(
  outputs: readonly OutputSignature[],
  results: Record<string, Float32Array>,
  sizes: readonly number[],
): Record<string, Float32Array>[] {
  const out: Record<string, Float32Array>[] = sizes.map(() => ({}));
  for (const o of outputs) {
    let at = 0;
    sizes.forEach((n, r) => {
      setOwn(out[r]!, o.name, results[o.name]!.subarray(at * o.width, (at + n) * o.width));
      at += n;
    });
  }
  return out;
}
