// Runtime: batches written as plain objects, one per sample (handy in apps
// and REPLs), turned into the typed KJT form that inputs.ts checks. Each
// sample is checked here for its own shape so a message can name its index;
// ids keep their given values (in a Float64Array) so inputs.ts can still
// report non-integer or out-of-range ids with the sample they came from.

import { RmcError, error, type Code } from "../diagnostics/index.js";
import type { InputSignature } from "./manifest.js";
import { RUNTIME_CODES as C } from "./codes.js";
import { checkNames, type BagsInput } from "./inputs.js";
import { setOwn } from "./names.js";

/** One input of one sample: dense values, one id list per bag feature, or for weighted bags `[id, weight]` pairs per feature. */
export type SampleValue = ArrayLike<number> | ArrayLike<ArrayLike<number>> | ArrayLike<readonly [number, number]>[];

/** A plain-object sample: `{ dense: number[] | Float32Array, sparse: number[][] }` (weighted bags: `[id, weight][][]`). */
export type SampleObject = Record<string, SampleValue>;

const fail = (message: string, code: Code = C.batchShape): never => {
  throw new RmcError(error(code, message));
};
const isList = (x: unknown): x is ArrayLike<unknown> => Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView));

/** Converts an array of sample objects into typed inputs by name. */
export function samplesToBatch(signature: readonly InputSignature[], samples: readonly SampleObject[]): Record<string, Float32Array | BagsInput> {
  samples.forEach((sample, i) => {
    if (typeof sample !== "object" || sample === null || isList(sample)) fail(`sample ${i} is not an object of inputs by name`);
    checkNames(signature, Object.keys(sample), `sample ${i}: `);
  });
  const batch: Record<string, Float32Array | BagsInput> = {};
  for (const input of signature)
    setOwn(batch, input.name, input.kind === "dense" ? denseFromSamples(input.name, input.width, samples) : bagsFromSamples(input, samples));
  return batch;
}

function denseFromSamples(name: string, width: number, samples: readonly SampleObject[]): Float32Array {
  const out = new Float32Array(samples.length * width);
  samples.forEach((sample, i) => {
    const row = sample[name];
    if (!isList(row) || row.length !== width)
      fail(`sample ${i}: input \`${name}\` has ${isList(row) ? row.length : "no"} values, expected ${width}`, C.denseWidth);
    for (let j = 0; j < width; j++) {
      const value = (row as ArrayLike<unknown>)[j];
      if (typeof value !== "number") fail(`sample ${i}: input \`${name}\` value ${j} is not a number`, C.denseWidth);
      out[i * width + j] = value as number;
    }
  });
  return out;
}

function bagsFromSamples(input: Extract<InputSignature, { kind: "bags" }>, samples: readonly SampleObject[]): BagsInput {
  const { name, count, weighted } = input;
  const size = samples.length;
  const lengths = new Int32Array(count * size);
  const perFeature = new Array<number>(count).fill(0);
  samples.forEach((sample, i) => {
    const bags = sample[name];
    if (!isList(bags) || bags.length !== count)
      fail(`sample ${i}: input \`${name}\` has ${isList(bags) ? bags.length : "no"} bags, expected ${count} (one id list per feature)`, C.bagsShape);
    for (let f = 0; f < count; f++) {
      const bag = (bags as ArrayLike<unknown>)[f];
      if (!isList(bag)) return fail(`sample ${i}: input \`${name}\` feature ${f} is not a list of ids`, C.bagsShape);
      for (let k = 0; k < bag.length; k++) checkEntry(bag[k], weighted, `sample ${i}: input \`${name}\` feature ${f}`);
      lengths[f * size + i] = bag.length;
      perFeature[f]! += bag.length;
    }
  });
  const values = new Float64Array(perFeature.reduce((a, b) => a + b, 0));
  const weights = weighted ? new Float32Array(values.length) : undefined;
  let cursor = 0;
  for (let f = 0; f < count; f++)
    for (let i = 0; i < size; i++) {
      const bag = (samples[i]![name] as ArrayLike<unknown>)[f] as ArrayLike<number | readonly [number, number]>;
      for (let k = 0; k < bag.length; k++, cursor++) {
        const entry = bag[k]!;
        if (typeof entry === "number") values[cursor] = entry;
        else [values[cursor], weights![cursor]] = [entry[0], entry[1]];
      }
    }
  return { lengths, values, ...(weights ? { weights } : {}) };
}

function checkEntry(entry: unknown, weighted: boolean, where: string): void {
  const isPair = isList(entry) && entry.length === 2 && typeof entry[0] === "number" && typeof entry[1] === "number";
  if (weighted && !isPair) fail(`${where}: expected [id, weight] pairs (the input is weighted), found ${JSON.stringify(entry)}`, C.bagsShape);
  if (!weighted && typeof entry !== "number")
    fail(
      `${where}: expected ids (numbers), found ${JSON.stringify(entry)}${isPair ? "; the input is not weighted, so give ids without weights" : ""}`,
      C.bagsShape,
    );
}
