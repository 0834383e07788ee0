// The units the precision search decides on: every embedding table (storage
// fp32 / fp16 / int8 / int4 / int2, row-wise), every linear layer (fp32 /
// fp16 / bf16 / int8) and every cross layer (fp32 / fp16 / bf16). For each:
// where it is in the source, whether a user pinned it, its size at each
// precision, and its share of the model's work. Pins, fixed modes, plans and
// calibration treat every kind alike.
// Also the one function that writes a choice of precisions into the IR.

import { produce } from "immer";
import type { Graph, Node, WeightDecl } from "../ir/types.js";
import { refName, weightInputs } from "../ir/types.js";
import { rowBytes, type RowFormat, type RowRange } from "../quant/rowwise.js";
import { pinOf, precisionOf } from "../ir/attrs.js";

export type UnitKind = "table" | "linear" | "cross";

export interface Unit {
  /** Table weight name (`emb.3.weight`), linear or cross layer node id (`top.0`, `crossed.1`). */
  id: string;
  kind: UnitKind;
  /** Source line, for reports. */
  line: number;
  /** The user's pin, if any (it always wins). */
  pinned?: string;
  /** Precisions the unit may take, highest first. */
  options: readonly string[];
  /** Bytes at a precision. */
  bytes(precision: string): number;
  /** Multiply-adds (layers) or values read (tables) per sample: its share of the work. */
  work: number;
  /** [outputs, inputs] of a layer, [rows, dim] of a table: what a target's cost estimate may depend on. */
  shape: readonly [number, number];
}

export const TABLE_PRECISIONS = ["fp32", "fp16", "int8", "int4", "int2"] as const;
export const LINEAR_PRECISIONS = ["fp32", "fp16", "bf16", "int8", "int8a7"] as const;
export const CROSS_PRECISIONS = ["fp32", "fp16", "bf16"] as const;

/** The precisions a unit of `kind` may take. */
export const PRECISIONS_OF: Record<UnitKind, readonly string[]> = { table: TABLE_PRECISIONS, linear: LINEAR_PRECISIONS, cross: CROSS_PRECISIONS };

/** Bits per value, for ordering: a precision is "lower" when it has fewer bits. */
export const BITS: Record<string, number> = { fp32: 32, fp16: 16, bf16: 16, int8: 8, int8a7: 8, int4: 4, int2: 2 };

function tableUnit(decl: WeightDecl, reader: Node | undefined): Unit {
  const [rows, dim] = decl.shape as [number, number];
  const pin = pinOf(decl) ?? (reader ? pinOf(reader) : undefined);
  return {
    id: decl.name,
    kind: "table",
    line: decl.span.line,
    ...(pin ? { pinned: pin } : {}),
    options: TABLE_PRECISIONS,
    bytes: (p) => rows * (p === "fp32" ? dim * 4 : rowBytes(p as RowFormat, dim)),
    work: dim,
    shape: [rows, dim],
  };
}

function linearUnit(node: Node, decls: Map<string, WeightDecl>): Unit {
  const [w, b] = weightInputs(node).map((n) => decls.get(n)!);
  const [out, inF] = w!.shape as [number, number];
  const biasBytes = b ? out * 4 : 0;
  const per: Record<string, number> = { fp32: 4, fp16: 2, bf16: 2, int8: 1, int8a7: 1 };
  const pin = pinOf(node);
  return {
    id: node.id,
    kind: "linear",
    line: node.span.line,
    ...(pin ? { pinned: pin } : {}),
    options: LINEAR_PRECISIONS,
    bytes: (p) => out * inF * per[p]! + biasBytes + (p === "int8" ? out * 4 : p === "int8a7" ? out * 8 : 0),
    work: out * inF,
    shape: [out, inF],
  };
}

/** A DCNv2 cross layer: its weight matrices (full [d,d], or low rank [r,d] and [d,r]) at its precision, its bias in f32. */
function crossUnit(node: Node, decls: Map<string, WeightDecl>): Unit {
  const ws = weightInputs(node).map((n) => decls.get(n)!);
  const matrices = ws.filter((w) => w.role === "weight");
  const bias = ws.filter((w) => w.role === "bias").reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
  const elements = matrices.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
  const d = matrices[0]!.shape[matrices[0]!.shape.length - 1]!;
  const pin = pinOf(node);
  return {
    id: node.id,
    kind: "cross",
    line: node.span.line,
    ...(pin ? { pinned: pin } : {}),
    options: CROSS_PRECISIONS,
    bytes: (p) => elements * (p === "fp32" ? 4 : 2) + bias,
    work: elements,
    shape: [d, d],
  };
}

/** Every table, linear and cross layer of a canonicalized graph, in graph order. */
export function precisionUnits(graph: Graph): Unit[] {
  const decls = new Map(graph.weights.map((w) => [w.name, w]));
  const readerOf = new Map<string, Node>();
  for (const n of graph.nodes) for (const ref of n.inputs) if (ref.startsWith("@")) readerOf.set(refName(ref), n);
  const tables = graph.weights.filter((w) => w.role === "table").map((w) => tableUnit(w, readerOf.get(w.name)));
  const layers = graph.nodes
    .filter((n) => n.op === "linear" || n.op === "cross_layer")
    .map((n) => (n.op === "linear" ? linearUnit(n, decls) : crossUnit(n, decls)));
  return [...tables, ...layers];
}

/** A precision for some units, and static activation scales for int8 layers that have one. */
export interface Assignment {
  precision: Map<string, string>;
  actScale?: Map<string, number>;
  /** Per-input-channel smoothing factors of int8 layers, by node id. */
  smooth?: Map<string, number[]>;
  /** How int4/int2 tables choose their rows' ranges (`row_range`; minmax is written as no attribute); undefined: as they are. */
  rowRange?: RowRange;
}

/**
 * The graph with the assignment written into it: tables get
 * `attrs.precision`, layers `attrs.precision` (and `act_scale` for static
 * int8, `smooth` for smoothed int8); fp32 means no attribute. Units not in the assignment keep what they
 * have (pins, or nothing = fp32). Returns the same graph when nothing changes.
 */
export function applyAssignment(graph: Graph, a: Assignment): Graph {
  const readerOf = new Map<string, Node>();
  for (const n of graph.nodes) for (const ref of n.inputs) if (ref.startsWith("@")) readerOf.set(refName(ref), n);
  return produce(graph, (g) => {
    // fp32 is written as no attribute, so an assigned fp32 never reads as a user's pin later.
    for (const w of g.weights) {
      const p = a.precision.get(w.name);
      if (p === "fp32") delete w.attrs.precision;
      else if (p !== undefined && w.attrs.precision !== p) w.attrs.precision = p;
      // The row range means something to n-bit tables only.
      const stored = precisionOf(w as WeightDecl, readerOf.get(w.name));
      const nbit = w.role === "table" && (stored === "int4" || stored === "int2");
      const range = nbit ? (a.rowRange ?? (w.attrs.row_range as RowRange | undefined)) : undefined;
      if (range === "l2") w.attrs.row_range = "l2";
      else if (w.attrs.row_range !== undefined) delete w.attrs.row_range;
    }
    for (const n of g.nodes) {
      const p = a.precision.get(n.id);
      if (p === undefined) continue;
      if (p === "fp32") delete n.attrs.precision;
      else if (n.attrs.precision !== p) n.attrs.precision = p;
      const s = a.actScale?.get(n.id);
      if (p === "int8" && s !== undefined) n.attrs.act_scale = s;
      else if (n.attrs.act_scale !== undefined) delete n.attrs.act_scale;
      const sm = a.smooth?.get(n.id);
      if (p === "int8" && sm !== undefined) n.attrs.smooth = sm;
      else if (n.attrs.smooth !== undefined) delete n.attrs.smooth;
    }
  });
}
