// WGSL backend kernel: embedding bags over tables of one storage format that
// share one weights buffer (a node's tables, split only where WebGPU's binding
// limit forces it). One invocation per (sample, table, element): it walks the
// sample's bag in id order, dequantizes each row's element exactly as the
// interpreter (FBGEMM bytes read from u32 words, so rows need no alignment)
// and pools it: sum, mean (correctly rounded division by the count) or max
// (Math.max's ±0 rule); an empty bag gives zeros. A table split by rows
// (split-tables) is pooled from the rows its parts gathered (gather.ts), in
// the same order, so results do not change.

import { type Binding, type Rendered, DEQUANT, DIV_RN, F16_TO_F32, PARAMS, WG, declareBindings, shader, u32Array } from "../render.js";

/** How a table's rows are stored: f32 or fp16 values, or FBGEMM row-wise bytes. */
export type TableFormat = "fp32" | "fp16" | "int8" | "int4" | "int2";

export interface BagTable {
  rows: number;
  /** The bag feature of the bags input it reads. */
  feature: number;
  /** Byte offset of row 0 in the tables buffer (a multiple of 4). */
  byteAt: number;
  /** First output column of its pooled vector. */
  col: number;
}

export interface EmbeddingSpec {
  pool: "sum" | "mean" | "max";
  weighted: boolean;
  dim: number;
  format: TableFormat;
  /** Output row width (tables × dim of the whole node). */
  outW: number;
  tables: BagTable[];
  buffers: { offsets: string; ids: string; weights?: string; tables: string; out: string };
  /** Rows were gathered (kernels/gather.ts): `tables` holds row p of the ids at p·dim, as f32, so id p is read, not ids[p]. */
  gathered?: boolean;
}

/** Byte, u16 and u32 reads from the `tbl` binding (rows need no alignment). */
export const BYTES = `fn byte_at(a: u32) -> u32 { return (tbl[a >> 2u] >> ((a & 3u) * 8u)) & 0xffu; }
fn u16_at(a: u32) -> u32 { return byte_at(a) | (byte_at(a + 1u) << 8u); }
fn u32_at(a: u32) -> u32 { return u16_at(a) | (u16_at(a + 2u) << 16u); }`;

const MAX_JS = `fn max_js(a: f32, b: f32) -> f32 {
  if (b != b || b > a || (b == a && bitcast<u32>(a) == 0x80000000u)) { return b; }
  return a;
}`;

/** The WGSL functions `row_value` needs for a table format (byte reads, fp16 decoding, dequantization), for `shader`. */
export function rowHelpers(format: TableFormat): (string | false)[] {
  const quantized = format !== "fp32" && format !== "fp16";
  return [quantized && BYTES, (format === "fp16" || format === "int4" || format === "int2") && F16_TO_F32, quantized && DEQUANT];
}

/** WGSL reading element d of row `id` of table t (byte offset BASE[t]) as f32. */
export function rowValue(format: TableFormat, dim: number): string {
  const sig = "fn row_value(t: u32, id: u32, d: u32) -> f32 {";
  switch (format) {
    case "fp32":
      return `${sig}\n  return bitcast<f32>(tbl[(BASE[t] >> 2u) + id * ${dim}u + d]);\n}`;
    case "fp16":
      return `${sig}\n  let e = (BASE[t] >> 1u) + id * ${dim}u + d;\n  return f16_to_f32((tbl[e >> 1u] >> ((e & 1u) * 16u)) & 0xffffu);\n}`;
    case "int8":
      return `${sig}\n  let r = BASE[t] + id * ${dim + 8}u;\n  return dequant(byte_at(r + d), bitcast<f32>(u32_at(r + ${dim}u)), bitcast<f32>(u32_at(r + ${dim + 4}u)));\n}`;
    default: {
      const bits = format === "int4" ? 4 : 2;
      const per = 8 / bits;
      const packed = Math.ceil(dim / per);
      return `${sig}
  let r = BASE[t] + id * ${packed + 4}u;
  let q = (byte_at(r + d / ${per}u) >> ((d % ${per}u) * ${bits}u)) & ${(1 << bits) - 1}u;
  return dequant(q, f16_to_f32(u16_at(r + ${packed}u)), f16_to_f32(u16_at(r + ${packed + 2}u)));
}`;
    }
  }
}

/** Renders one embedding-bag step; dispatch: (ceil(tables·dim/64), B, 1). */
export function renderEmbedding(spec: EmbeddingSpec, head: string): Rendered {
  const b = spec.buffers;
  const bindings: Binding[] = [
    { buffer: b.offsets, ident: "offsets", access: "read", elem: "u32" },
    { buffer: b.ids, ident: "ids", access: "read", elem: "u32" },
    ...(spec.weighted && b.weights ? [{ buffer: b.weights, ident: "wts", access: "read" as const, elem: "f32" as const }] : []),
    { buffer: b.tables, ident: "tbl", access: "read", elem: "u32" },
    { buffer: b.out, ident: "out", access: "read_write", elem: "f32" },
  ];
  const D = spec.dim;
  const pool = spec.pool === "max" ? "if (p == start) { acc = v; } else { acc = max_js(acc, v); }" : "acc = acc + v;";
  const body = `${u32Array(
    "BASE",
    spec.tables.map((t) => t.byteAt),
  )}
${u32Array(
  "ROWS",
  spec.tables.map((t) => t.rows),
)}
${u32Array(
  "FEAT",
  spec.tables.map((t) => t.feature),
)}
${u32Array(
  "COL",
  spec.tables.map((t) => t.col),
)}

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let j = gid.x;
  let b = gid.y;
  if (j >= ${spec.tables.length * D}u || b >= params.batch) { return; }
  let t = j / ${D}u;
  let d = j % ${D}u;
  let bag = FEAT[t] * params.batch + b;
  let start = offsets[bag];
  let end = offsets[bag + 1u];
  var acc = 0.0;
  for (var p = start; p < end; p = p + 1u) {
    ${spec.gathered ? "let id = p; // gathered: row of the p-th id" : "let id = min(ids[p], ROWS[t] - 1u); // the runtime checked the ids; never read past a table anyway"}
    var v = row_value(t, id, d);${spec.weighted ? "\n    v = rn(wts[p] * v);" : ""}
    ${pool}
  }${spec.pool === "mean" ? "\n  if (end > start) { acc = div_rn(acc, f32(end - start)); }" : ""}
  out[b * ${spec.outW}u + COL[t] + d] = acc;
}`;
  const wgsl = shader(
    head,
    PARAMS,
    declareBindings(bindings),
    ...rowHelpers(spec.format),
    spec.pool === "mean" && DIV_RN,
    spec.pool === "max" && MAX_JS,
    rowValue(spec.format, D),
    body,
  );
  return { wgsl, bindings };
}
