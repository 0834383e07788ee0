// IR data model. The front end produces it, passes transform it (with immer's
// `produce`), the verifier checks it, the printer/parser give it a textual form,
// and the interpreter and backends consume it. Everything here is plain,
// JSON-serialisable data: no classes, no typed arrays, no cached analyses.

import type { Span } from "../diagnostics/index.js";

/** A source range (defined with the diagnostics that point at it). */
export type { Span };

/** The symbolic batch dimension. */
export const BATCH = "B" as const;
/** A tensor dimension: a static size or the symbolic batch size. */
export type Dim = number | typeof BATCH;

/** Element types. Activations are f32 for now; storage types come with quantization. */
export type DType = "f32" | "f16" | "bf16" | "i8" | "u8" | "i32" | "i64" | "f64";

/** A dense tensor value. Activations are batch-first: `[B, ...]`. */
export interface TensorType {
  kind: "tensor";
  dtype: DType;
  shape: Dim[];
}

/**
 * A batch of multi-hot bags: `count` sparse features, each sample holding one
 * bag (a variable-length list of row ids, optionally with per-id weights) per
 * feature. Laid out KJT-style at run time (see src/data/batch.ts).
 */
export interface BagsType {
  kind: "bags";
  count: number;
  weighted: boolean;
}

export type Type = TensorType | BagsType;

/** Attribute values: JSON scalars and lists of them. */
export type AttrValue = number | string | boolean | null | AttrValue[];
export type Attrs = Record<string, AttrValue>;

/** A graph input: a dense feature block or a set of bags. */
export interface Input {
  name: string;
  type: Type;
  span: Span;
}

/** What a weight is for; init-weights and the precision pass read it. */
export type WeightRole = "table" | "weight" | "bias";

/**
 * A weight declaration. The bytes live outside the IR in a weight store
 * (src/weights/store.ts) under the same name. Tables are `[rows, dim]`,
 * linear weights `[out, in]` (PyTorch's layout), biases `[out]`.
 */
export interface WeightDecl {
  name: string;
  role: WeightRole;
  dtype: DType;
  shape: number[];
  /** Per-weight annotations, e.g. `precision` pins on tables. */
  attrs: Attrs;
  span: Span;
}

/**
 * One operation. `inputs` lists value operands first (`%id`, naming a graph
 * input or an earlier node) and then weight operands (`@name`). `type` is null
 * only between a pass that builds a node and shape inference.
 */
export interface Node {
  id: string;
  op: string;
  inputs: string[];
  attrs: Attrs;
  type: Type | null;
  span: Span;
}

/** A named model output bound to a value. */
export interface Output {
  name: string;
  value: string;
  span: Span;
}

export interface Graph {
  name: string;
  inputs: Input[];
  weights: WeightDecl[];
  nodes: Node[];
  outputs: Output[];
}

/** `%id` → value reference; `@name` → weight reference. */
export const isValueRef = (ref: string): boolean => ref.startsWith("%");
export const isWeightRef = (ref: string): boolean => ref.startsWith("@");
export const valueRef = (id: string): string => `%${id}`;
export const weightRef = (name: string): string => `@${name}`;
/** The bare name behind a `%` or `@` reference. */
export const refName = (ref: string): string => ref.slice(1);

/** Value operands of a node (bare ids). */
export const valueInputs = (n: Node): string[] => n.inputs.filter(isValueRef).map(refName);
/** Weight operands of a node (bare names). */
export const weightInputs = (n: Node): string[] => n.inputs.filter(isWeightRef).map(refName);

export const tensor = (shape: Dim[], dtype: DType = "f32"): TensorType => ({ kind: "tensor", dtype, shape });

/**
 * A number as IR text writes it: JS's shortest round-tripping form, with
 * spellings of their own for -0, NaN and the infinities (`-0`, `nan`, `inf`,
 * `-inf`), which the parser reads back wherever a number may stand.
 */
export function printNumber(v: number): string {
  if (Number.isNaN(v)) return "nan";
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  if (Object.is(v, -0)) return "-0";
  return String(v);
}

/** `f32[B,13]`, `bags[26]`, `weighted_bags[2]`. Also the printer's and parser's form (a size that is no size, such as Infinity, prints as `inf`). */
export function formatType(t: Type): string {
  const dim = (d: Dim): string => (typeof d === "number" ? printNumber(d) : d);
  if (t.kind === "bags") return `${t.weighted ? "weighted_bags" : "bags"}[${dim(t.count)}]`;
  return `${t.dtype}[${t.shape.map(dim).join(",")}]`;
}

export function typesEqual(a: Type, b: Type): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === "bags" && b.kind === "bags") return a.count === b.count && a.weighted === b.weighted;
  const ta = a as TensorType;
  const tb = b as TensorType;
  return ta.dtype === tb.dtype && ta.shape.length === tb.shape.length && ta.shape.every((d, i) => d === tb.shape[i]);
}

/** A span for things made by a tool rather than written by a user. */
export const syntheticSpan = (file = "<generated>"): Span => ({ file, line: 0, col: 0, endLine: 0, endCol: 0 });
