// The wire formats of `rmc serve`: the KServe v2 / Triton HTTP inference
// protocol (JSON tensors, and the binary tensor data extension: a JSON header
// of `Inference-Header-Content-Length` bytes followed by the tensors' bytes),
// and a plain JSON form of samples for curl users. A bags input is three
// tensors in KServe form: `NAME.lengths` (INT32 or INT64, [count, B],
// key-major as TorchRec's KJT), `NAME.values` (INT32 or INT64, [N]) and, for
// weighted bags, `NAME.weights` (FP32, [N]). Everything a client can get
// wrong is a ProtocolError (400) naming the field and the problem.

import type { BagsInput, DenseOrBags } from "../runtime/inputs.js";
import type { InputSignature, OutputSignature } from "../runtime/manifest.js";
import type { SampleObject } from "../runtime/samples.js";
import { setOwn } from "../runtime/names.js";

/** A request the server cannot take: the HTTP status and a message naming the field. */
export class ProtocolError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** One tensor of the KServe metadata and requests. */
export interface TensorSpec {
  name: string;
  datatype: "FP32" | "INT32" | "INT64";
  shape: number[];
}

/** The model's inputs as KServe tensors (-1: the batch, or the number of ids). */
export function inputTensors(signature: readonly InputSignature[]): TensorSpec[] {
  return signature.flatMap((i): TensorSpec[] =>
    i.kind === "dense"
      ? [{ name: i.name, datatype: "FP32", shape: [-1, i.width] }]
      : [
          { name: `${i.name}.lengths`, datatype: "INT32", shape: [i.count, -1] },
          { name: `${i.name}.values`, datatype: "INT64", shape: [-1] },
          ...(i.weighted ? [{ name: `${i.name}.weights`, datatype: "FP32" as const, shape: [-1] }] : []),
        ],
  );
}

export const outputTensors = (outputs: readonly OutputSignature[]): TensorSpec[] =>
  outputs.map((o) => ({ name: o.name, datatype: "FP32", shape: [-1, o.width] }));

/** A parsed request: the typed inputs, the outputs wanted in binary, its id and timeout. */
export interface InferRequest {
  inputs: Record<string, DenseOrBags> | readonly SampleObject[];
  id?: string;
  /** Outputs to return as binary data (the extension), by name. */
  binary: Set<string>;
  timeoutMs?: number;
  /** "kserve" answers KServe JSON; "samples" answers `{ outputs: { name: [[…], …] } }`. */
  form: "kserve" | "samples";
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

/** The JSON header and, with the binary extension, the bytes after it. */
export function splitBody(body: Buffer, headerLength: string | undefined): { json: unknown; binary: Buffer } {
  let length = body.length;
  if (headerLength !== undefined) {
    length = Number(headerLength);
    if (!Number.isSafeInteger(length) || length < 0 || length > body.length)
      throw new ProtocolError(
        `Inference-Header-Content-Length is ${JSON.stringify(headerLength)}: it must be a byte count within the body's ${body.length} bytes`,
      );
  }
  const text = body.subarray(0, length).toString("utf8");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ProtocolError(`the request body is not JSON: ${(e as Error).message}`);
  }
  return { json, binary: body.subarray(length) };
}

/** Reads a KServe v2 request or a plain one (a sample object, an array of them, or `{ samples: [...] }`). */
export function parseInfer(json: unknown, binary: Buffer, signature: readonly InputSignature[], query: Record<string, unknown>): InferRequest {
  const timeoutUs = query.timeout_us !== undefined ? Number(query.timeout_us) : undefined;
  if (isObject(json) && Array.isArray(json.inputs)) return parseKserve(json, binary, signature);
  if (timeoutUs !== undefined && !(timeoutUs > 0))
    throw new ProtocolError(`timeout_us must be a positive number of microseconds, not ${String(query.timeout_us)}`);
  const samples = Array.isArray(json) ? json : isObject(json) && Array.isArray(json.samples) ? json.samples : isObject(json) ? [json] : undefined;
  if (!samples || samples.length === 0)
    throw new ProtocolError("the body must be a KServe v2 request ({ inputs: [...] }), a sample object, or an array of sample objects");
  for (const s of samples as unknown[]) checkFinite(s);
  return {
    inputs: samples as SampleObject[],
    binary: new Set(),
    form: "samples",
    ...(timeoutUs !== undefined ? { timeoutMs: timeoutUs / 1000 } : {}),
  };
}

/** Dense values must be finite: NaN or ±Infinity in a request is a client's mistake, not a prediction. */
function checkFinite(sample: unknown, where = "sample"): void {
  if (!isObject(sample)) return;
  for (const [name, v] of Object.entries(sample))
    if (Array.isArray(v) && v.every((x) => typeof x === "number")) {
      const bad = v.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) throw new ProtocolError(`${where}: input \`${name}\` value ${bad} is ${String(v[bad])}, not a finite number`);
    }
}

function parseKserve(req: Record<string, unknown>, binary: Buffer, signature: readonly InputSignature[]): InferRequest {
  const tensors = new Map<string, ArrayLike<number> | BigInt64Array>();
  let at = 0;
  (req.inputs as unknown[]).forEach((t, i) => {
    if (!isObject(t) || typeof t.name !== "string") throw new ProtocolError(`inputs[${i}] must be an object with a name`);
    if (tensors.has(t.name)) throw new ProtocolError(`inputs[${i}]: tensor \`${t.name}\` is given twice`);
    const dt = t.datatype;
    if (dt !== "FP32" && dt !== "INT32" && dt !== "INT64")
      throw new ProtocolError(`inputs[${i}] (\`${t.name}\`): datatype ${JSON.stringify(dt)} is not FP32, INT32 or INT64`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0))
      throw new ProtocolError(`inputs[${i}] (\`${t.name}\`): shape must be a list of sizes, got ${JSON.stringify(t.shape)}`);
    const count = (t.shape as number[]).reduce((a, b) => a * b, 1);
    const size = isObject(t.parameters) ? t.parameters.binary_data_size : undefined;
    let data: ArrayLike<number> | BigInt64Array;
    if (size !== undefined) {
      const width = dt === "INT64" ? 8 : 4;
      if (!Number.isSafeInteger(size) || (size as number) !== count * width || at + (size as number) > binary.length)
        throw new ProtocolError(
          `inputs[${i}] (\`${t.name}\`): binary_data_size ${String(size)} does not match its shape (${count} × ${width} bytes) or the bytes sent`,
        );
      const bytes = new Uint8Array(binary.subarray(at, at + (size as number)));
      at += size as number;
      data = dt === "FP32" ? new Float32Array(bytes.buffer) : dt === "INT32" ? new Int32Array(bytes.buffer) : new BigInt64Array(bytes.buffer);
    } else {
      const flat = Array.isArray(t.data) ? (t.data as unknown[]).flat(Infinity) : undefined;
      if (!flat || !flat.every((x) => typeof x === "number"))
        throw new ProtocolError(`inputs[${i}] (\`${t.name}\`): data must be a list of numbers (or use binary_data_size)`);
      if (flat.length !== count)
        throw new ProtocolError(`inputs[${i}] (\`${t.name}\`): shape ${JSON.stringify(t.shape)} holds ${count} values but data has ${flat.length}`);
      data = flat as number[];
    }
    tensors.set(t.name, data);
  });
  if (at !== binary.length) throw new ProtocolError(`${binary.length - at} bytes of binary data follow the tensors that claim them`);
  const inputs: Record<string, DenseOrBags> = {};
  for (const input of signature) {
    if (input.kind === "dense") {
      const d = floats(take(tensors, input.name), input.name);
      for (let k = 0; k < d.length; k++)
        if (!Number.isFinite(d[k]!)) throw new ProtocolError(`tensor \`${input.name}\` value ${k} is ${String(d[k])}, not a finite number`);
      setOwn(inputs, input.name, d);
      continue;
    }
    const bags: BagsInput = {
      lengths: ids(take(tensors, `${input.name}.lengths`), `${input.name}.lengths`),
      values: ids(take(tensors, `${input.name}.values`), `${input.name}.values`),
    };
    if (input.weighted) bags.weights = floats(take(tensors, `${input.name}.weights`), `${input.name}.weights`);
    setOwn(inputs, input.name, bags);
  }
  const extra = [...tensors.keys()].find((name) => !inputTensors(signature).some((s) => s.name === name));
  if (extra)
    throw new ProtocolError(
      `unknown input tensor \`${extra}\`: the model takes ${inputTensors(signature)
        .map((s) => s.name)
        .join(", ")}`,
    );
  const params = isObject(req.parameters) ? req.parameters : {};
  const timeout = params.timeout;
  if (timeout !== undefined && !(typeof timeout === "number" && timeout > 0))
    throw new ProtocolError(`parameters.timeout must be a positive number of microseconds, not ${JSON.stringify(timeout)}`);
  const binaryOut = new Set<string>();
  if (Array.isArray(req.outputs))
    for (const o of req.outputs)
      if (isObject(o) && typeof o.name === "string" && isObject(o.parameters) && o.parameters.binary_data === true) binaryOut.add(o.name);
  if (params.binary_data_output === true) binaryOut.add("*");
  return {
    inputs,
    binary: binaryOut,
    form: "kserve",
    ...(typeof req.id === "string" ? { id: req.id } : {}),
    ...(typeof timeout === "number" ? { timeoutMs: timeout / 1000 } : {}),
  };
}

function take(tensors: Map<string, ArrayLike<number> | BigInt64Array>, name: string): ArrayLike<number> | BigInt64Array {
  const t = tensors.get(name);
  if (t === undefined) throw new ProtocolError(`input tensor \`${name}\` is missing`);
  return t;
}

/** Values of a dense or weights tensor: numbers, not 64-bit integers. */
function floats(t: ArrayLike<number> | BigInt64Array, name: string): ArrayLike<number> {
  if (t instanceof BigInt64Array) throw new ProtocolError(`tensor \`${name}\` must be FP32, not INT64`);
  return t;
}

/** Ids as numbers: an INT64 tensor's values must fit 32 bits (a table's rows do). */
function ids(t: ArrayLike<number> | BigInt64Array, name: string): ArrayLike<number> {
  if (!(t instanceof BigInt64Array)) return t as ArrayLike<number>;
  const out = new Int32Array(t.length);
  for (let k = 0; k < t.length; k++) {
    const v = t[k]!;
    if (v < -2147483648n || v > 2147483647n)
      throw new ProtocolError(`tensor \`${name}\` value ${k} is ${v}, beyond 32 bits: no table has that many rows`);
    out[k] = Number(v);
  }
  return out;
}

/** A KServe v2 response: JSON, or with binary outputs the header and the bytes after it. */
export function inferResponse(
  model: string,
  version: string,
  outputs: readonly OutputSignature[],
  values: Record<string, Float32Array>,
  size: number,
  req: InferRequest,
): { body: Buffer | string; headerLength?: number } {
  if (req.form === "samples") {
    const byName: Record<string, number[][]> = {};
    for (const o of outputs)
      setOwn(
        byName,
        o.name,
        Array.from({ length: size }, (_, b) => Array.from(values[o.name]!.subarray(b * o.width, (b + 1) * o.width))),
      );
    return { body: JSON.stringify({ model_name: model, model_version: version, outputs: byName }) };
  }
  const blobs: Buffer[] = [];
  const tensors = outputs.map((o) => {
    const v = values[o.name]!;
    const spec = { name: o.name, datatype: "FP32", shape: [size, o.width] };
    if (!req.binary.has(o.name) && !req.binary.has("*")) return { ...spec, data: Array.from(v) };
    blobs.push(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    return { ...spec, parameters: { binary_data_size: v.byteLength } };
  });
  const json = JSON.stringify({ model_name: model, model_version: version, ...(req.id !== undefined ? { id: req.id } : {}), outputs: tensors });
  if (blobs.length === 0) return { body: json };
  const head = Buffer.from(json, "utf8");
  return { body: Buffer.concat([head, ...blobs]), headerLength: head.length };
}
