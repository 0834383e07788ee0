// ONNX protobuf plumbing shared by the exporter (export.ts) and the importer
// (import.ts): the onnx-proto message classes, the data types and attribute
// kinds rmc uses, and conversions between tensor protos and typed arrays.
// int64 values come back from protobufjs as Long objects; `toNumber` and
// `int64Values` turn them into plain numbers (ids and shapes fit easily).

import onnxProto from "onnx-proto";
import type { onnx as OnnxTypes } from "onnx-proto";
import { RmcError, error, type Code } from "../diagnostics/index.js";

/** The onnx-proto message classes (a CommonJS package, so reached through its default export). */
export const onnx = onnxProto.onnx;

export type ModelProto = OnnxTypes.IModelProto;
export type GraphProto = OnnxTypes.IGraphProto;
export type NodeProto = OnnxTypes.INodeProto;
export type TensorProto = OnnxTypes.ITensorProto;
export type AttributeProto = OnnxTypes.IAttributeProto;
export type ValueInfoProto = OnnxTypes.IValueInfoProto;

/** The opset rmc writes (and the lowest it reads: ReduceSum's axes are an input from 13, ReduceMax's an attribute until 18). */
export const OPSET = 17;
/** ONNX IR version 8 goes with opset 17. */
export const IR_VERSION = 8;

/** ONNX element types (TensorProto.DataType) that rmc reads or writes. */
export const DT = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11 } as const;
/** ONNX attribute kinds (AttributeProto.AttributeType) that rmc reads or writes. */
export const AT = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

/** Error codes of the ONNX tools: bad file, unsupported graph, weight shape conflict, export limits. */
export const ONNX_CODES = { badFile: "E2001", unsupported: "E2002", shape: "E2003", exportLimit: "E2004" } as const satisfies Record<string, Code>;

/** Anything protobufjs hands back for an int64 field. */
type Int64Like = number | { toNumber(): number } | null | undefined;

/** A protobufjs int64 (number or Long) as a number. */
export const toNumber = (v: Int64Like): number => (v === null || v === undefined ? 0 : typeof v === "number" ? v : v.toNumber());

/** Tensor element values of any type rmc reads, as numbers. */
export interface TensorValues {
  dtype: number;
  dims: number[];
  data: Float32Array | Int32Array | Uint8Array | Int8Array | number[];
}

const ELEMENT_BYTES: Record<number, number> = {
  [DT.FLOAT]: 4,
  [DT.UINT8]: 1,
  [DT.INT8]: 1,
  [DT.INT32]: 4,
  [DT.INT64]: 8,
  [DT.BOOL]: 1,
  [DT.DOUBLE]: 8,
};

/** Reads a tensor proto's values (raw_data or the typed repeated fields); undefined for element types rmc never reads. */
export function tensorValues(t: TensorProto): TensorValues | undefined {
  const dtype = t.dataType ?? 0;
  const dims = (t.dims ?? []).map(toNumber);
  const count = dims.reduce((a, b) => a * b, 1);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  if (raw && ELEMENT_BYTES[dtype] !== undefined && raw.length !== count * ELEMENT_BYTES[dtype]!) return undefined;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  switch (dtype) {
    case DT.FLOAT: {
      if (!view) return { dtype, dims, data: Float32Array.from(t.floatData ?? []) };
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return { dtype, dims, data: out };
    }
    case DT.INT64: {
      if (!view) return { dtype, dims, data: (t.int64Data ?? []).map(toNumber) };
      return { dtype, dims, data: Array.from({ length: count }, (_, i) => Number(view.getBigInt64(i * 8, true))) };
    }
    case DT.INT32:
      return {
        dtype,
        dims,
        data: view ? Int32Array.from({ length: count }, (_, i) => view.getInt32(i * 4, true)) : Int32Array.from(t.int32Data ?? []),
      };
    case DT.UINT8:
    case DT.BOOL:
      return { dtype, dims, data: raw ? raw.slice() : Uint8Array.from(t.int32Data ?? []) };
    case DT.INT8:
      return { dtype, dims, data: raw ? new Int8Array(raw.slice().buffer) : Int8Array.from(t.int32Data ?? []) };
    default:
      return undefined;
  }
}

/** A float32 tensor proto (little-endian raw data). */
export function floatTensor(name: string, dims: readonly number[], values: Float32Array, docString?: string): TensorProto {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return { name, dataType: DT.FLOAT, dims: [...dims], rawData: bytes, ...(docString ? { docString } : {}) };
}

/** An int64 tensor proto (little-endian raw data). */
export function int64Tensor(name: string, dims: readonly number[], values: readonly number[]): TensorProto {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return { name, dataType: DT.INT64, dims: [...dims], rawData: bytes };
}

/** A uint8 tensor proto. */
export const uint8Tensor = (name: string, dims: readonly number[], values: Uint8Array): TensorProto => ({
  name,
  dataType: DT.UINT8,
  dims: [...dims],
  rawData: values,
});

/** An attribute value as rmc writes them: an int, a list of ints, or a string. */
export type AttrInput = number | readonly number[] | string;

/** Builds an attribute proto; numbers are ints (rmc writes no float attributes). */
export function attribute(name: string, v: AttrInput): AttributeProto {
  if (typeof v === "string") return { name, type: AT.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === "number") return { name, type: AT.INT, i: v };
  return { name, type: AT.INTS, ints: [...v] };
}

/** A node's attribute as a plain value (ints and floats as numbers, lists as arrays, strings decoded), or undefined. */
export function attrValue(node: NodeProto, name: string): number | number[] | string | TensorProto | undefined {
  const a = (node.attribute ?? []).find((x) => x.name === name);
  if (!a) return undefined;
  switch (a.type) {
    case AT.INT:
      return toNumber(a.i);
    case AT.FLOAT:
      return a.f ?? 0;
    case AT.INTS:
      return (a.ints ?? []).map(toNumber);
    case AT.FLOATS:
      return [...(a.floats ?? [])];
    case AT.STRING:
      return new TextDecoder().decode(a.s ?? new Uint8Array());
    case AT.TENSOR:
      return a.t ?? undefined;
    default:
      return undefined;
  }
}

/** Encodes a model; protobufjs writes fields in declaration order, so equal models give equal bytes. */
export const encodeModel = (m: ModelProto): Uint8Array => onnx.ModelProto.encode(m).finish();

/** Decodes model bytes; anything protobufjs cannot read, or a file without a graph, is an RmcError naming the file. */
export function decodeModel(bytes: Uint8Array, file: string): ModelProto {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new RmcError(
      error(
        ONNX_CODES.badFile,
        `${file}: not an ONNX model (${(e as Error).message})`,
        undefined,
        "give a .onnx file written by torch.onnx.export, onnx.save or `rmc export-onnx`",
      ),
    );
  }
  if (!model.graph || (model.graph.node ?? []).length === 0)
    throw new RmcError(
      error(
        ONNX_CODES.badFile,
        `${file}: not an ONNX model (no graph or an empty one)`,
        undefined,
        "give a .onnx file written by torch.onnx.export, onnx.save or `rmc export-onnx`",
      ),
    );
  return model;
}
