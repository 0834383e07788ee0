// Checks a Batch against a graph's inputs before the reference interpreter
// touches it, so a malformed batch is an RmcError naming the input and what is
// wrong with it — never an out-of-bounds read that silently yields NaN or 0.

import { RmcError, didYouMean, error, type Code } from "../diagnostics/index.js";
import type { Input, TensorType } from "../ir/types.js";
import { formatType } from "../ir/types.js";
import { concreteShape } from "../ir/ops.js";
import { type Bags, type Batch, isBags } from "../data/batch.js";
import type { Value } from "./operands.js";

/** Error codes of the interpreter's input checks. */
export const INPUT_ERRORS = { missing: "E1501", dense: "E1502", bags: "E1503", batchSize: "E1509" } as const satisfies Record<string, Code>;

/** The batch size, checked to be a non-negative integer. */
export function checkBatchSize(batch: Batch): number {
  if (!Number.isInteger(batch.size) || batch.size < 0)
    throw new RmcError(error(INPUT_ERRORS.batchSize, `batch size must be a non-negative integer, got ${batch.size}`));
  return batch.size;
}

/** The batch's value for one graph input, checked against the input's declared type. */
export function checkInput(input: Input, batch: Batch): Value {
  const v = batch.inputs[input.name];
  const declared = formatType(input.type);
  if (v === undefined) {
    const have = Object.keys(batch.inputs);
    const msg = `missing input \`${input.name}\` (${declared}): the batch has ${have.length ? have.map((n) => `\`${n}\``).join(", ") : "no inputs"}`;
    throw new RmcError(error(INPUT_ERRORS.missing, msg, input.span, didYouMean(input.name, have)));
  }
  if (input.type.kind === "tensor") {
    if (isBags(v))
      throw new RmcError(error(INPUT_ERRORS.dense, `input \`${input.name}\` is declared ${declared} but the batch holds bags for it`, input.span));
    checkDense(input, input.type, v, batch.size);
  } else {
    if (!isBags(v))
      throw new RmcError(
        error(INPUT_ERRORS.bags, `input \`${input.name}\` is declared ${declared} but the batch holds a dense array for it`, input.span),
      );
    checkBags(input, input.type.count, input.type.weighted, v, batch.size);
  }
  return v;
}

function checkDense(input: Input, type: TensorType, v: Float32Array, size: number): void {
  const shape = concreteShape(type, size);
  const want = shape.reduce((a, b) => a * b, 1);
  if (v.length !== want)
    throw new RmcError(
      error(
        INPUT_ERRORS.dense,
        `input \`${input.name}\` has ${v.length} values, expected ${want} = [${shape.join("x")}] for ${formatType(type)} with batch size ${size}`,
        input.span,
      ),
    );
}

function checkBags(input: Input, count: number, weighted: boolean, v: Bags, size: number): void {
  const fail = (what: string): never => {
    throw new RmcError(error(INPUT_ERRORS.bags, `input \`${input.name}\` (${formatType(input.type)}): ${what}`, input.span));
  };
  if (v.count !== count) fail(`the batch holds ${v.count} bag features, the graph declares ${count}`);
  if (v.batch !== size) fail(`the bags are for ${v.batch} samples but the batch size is ${size}`);
  if (v.lengths.length !== count * size)
    fail(`lengths has ${v.lengths.length} entries, expected features x samples = ${count} x ${size} = ${count * size}`);
  let total = 0;
  for (let i = 0; i < v.lengths.length; i++) {
    const n = v.lengths[i]!;
    if (n < 0) fail(`lengths[${i}] (feature ${Math.floor(i / size)}, sample ${i % size}) is negative: ${n}`);
    total += n;
  }
  if (total !== v.values.length) fail(`lengths sum to ${total} but there are ${v.values.length} ids in values`);
  if (weighted && v.weights === undefined) fail(`weighted bags need a weights array (one weight per id), the batch has none`);
  if (!weighted && v.weights !== undefined)
    fail(`the batch has per-id weights but the input is declared unweighted; declare it weighted_bags[${count}]`);
  if (v.weights !== undefined && v.weights.length !== v.values.length)
    fail(`weights has ${v.weights.length} entries but there are ${v.values.length} ids`);
}
