// WGSL backend kernel: one part of a table split by rows or into hot and cold
// parts (split-tables). A table over WebGPU's 128 MiB binding cannot be one
// buffer, and binding every part to one pooling step would pass the 8
// storage bindings a stage may have, so each part runs this step: for every
// id of its feature that routes to it — a row range, the hot ids (binary
// search of their ascending list), or a range of the cold rows (id minus the
// hot ids below it) — it writes the row, dequantized to f32 exactly as the
// pooling kernel would, at position p of the ids (out[p·dim + d]). The
// pooling step then reads those rows in bag order (`gathered`), so the sum is
// the unsplit table's, bit for bit.

import { type Binding, type Rendered, PARAMS, WG, declareBindings, shader, u32Array } from "../render.js";
import { type TableFormat, rowHelpers, rowValue } from "./embedding.js";

/** Which ids a part holds. */
export type PartRoute =
  { kind: "rows"; start: number; end: number } | { kind: "hot"; count: number } | { kind: "cold"; start: number; end: number; count: number };

export interface GatherSpec {
  dim: number;
  format: TableFormat;
  /** The bag feature whose ids it looks up. */
  feature: number;
  /** Rows of the part (ids are clamped below it: never read past a buffer). */
  rows: number;
  route: PartRoute;
  /** `hot`: the table's hot ids (u32, ascending), for hot and cold parts. */
  buffers: { offsets: string; ids: string; tables: string; hot?: string; out: string };
}

const RANK = (count: number): string => `fn hot_rank(id: u32) -> u32 {
  var lo = 0u;
  var hi = ${count}u;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (hot[mid] < id) { lo = mid + 1u; } else { hi = mid; }
  }
  return lo;
}`;

/** WGSL deciding whether `id` is in this part (`mine`) and at which of its rows (`row`). */
function routing(route: PartRoute): string {
  if (route.kind === "rows") return `if (id >= ${route.start}u && id < ${route.end}u) { mine = true; row = id - ${route.start}u; }`;
  const hit = `let k = hot_rank(id);\n    let is_hot = k < ${route.count}u && hot[min(k, ${route.count - 1}u)] == id;`;
  if (route.kind === "hot") return `${hit}\n    if (is_hot) { mine = true; row = k; }`;
  return `${hit}\n    let c = id - k;\n    if (!is_hot && c >= ${route.start}u && c < ${route.end}u) { mine = true; row = c - ${route.start}u; }`;
}

/** Renders one part's gather step; dispatch: (ceil(dim/64), B, 1). */
export function renderGather(spec: GatherSpec, head: string): Rendered {
  const b = spec.buffers;
  const bindings: Binding[] = [
    { buffer: b.offsets, ident: "offsets", access: "read", elem: "u32" },
    { buffer: b.ids, ident: "ids", access: "read", elem: "u32" },
    { buffer: b.tables, ident: "tbl", access: "read", elem: "u32" },
    ...(b.hot ? [{ buffer: b.hot, ident: "hot", access: "read" as const, elem: "u32" as const }] : []),
    { buffer: b.out, ident: "out", access: "read_write", elem: "f32" },
  ];
  const D = spec.dim;
  const body = `${u32Array("BASE", [0])}

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let d = gid.x;
  let b = gid.y;
  if (d >= ${D}u || b >= params.batch) { return; }
  let bag = ${spec.feature}u * params.batch + b;
  for (var p = offsets[bag]; p < offsets[bag + 1u]; p = p + 1u) {
    let id = ids[p];
    var mine = false;
    var row = 0u;
    ${routing(spec.route)}
    if (mine) { out[p * ${D}u + d] = row_value(0u, min(row, ${spec.rows - 1}u), d); }
  }
}`;
  const wgsl = shader(
    head,
    PARAMS,
    declareBindings(bindings),
    ...rowHelpers(spec.format),
    spec.route.kind !== "rows" && RANK(spec.route.count),
    rowValue(spec.format, D),
    body,
  );
  return { wgsl, bindings };
}
