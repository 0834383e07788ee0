// Recognising rmc's embedding-bag construction in an ONNX graph (import side
// of lower.ts's decodeBags + lowerPooling). A probe reads the parameters off
// the graph — which table, which bag feature, pool mode, id policy, which bags
// input and its feature count — and the exact subgraph those parameters give
// is then rebuilt and matched node for node, so a graph that only looks
// similar is refused rather than misread.

import { OnnxBuilder } from "./builder.js";
import { type BagsDecode, bagsInputNames, decodeBags, lowerPooling } from "./lower.js";
import { type GraphIndex, type Match, matchTemplate } from "./match.js";
import { DT, type NodeProto } from "./proto.js";

/** One pooled table as found in a file. */
export interface FoundPooling {
  /** The table's initializer. */
  table: string;
  feature: number;
  pool: "sum" | "mean" | "max";
  ids: "error" | "clamp" | "modulo";
  /** The bags input (the name before `_ids` / `_offsets`). */
  bags: string;
  count: number;
  weighted: boolean;
  match: Match;
}

const POOL_OF_ROOT: Record<string, FoundPooling["pool"]> = { ReduceSum: "sum", Div: "mean", Where: "max" };

/** True if `tensor` could be a pooled table (the last node of a pooling); cheap, for choosing a recogniser. */
export function looksLikePooling(g: GraphIndex, tensor: string): boolean {
  const root = g.nodeOf(tensor);
  return !!root && Object.hasOwn(POOL_OF_ROOT, root.opType ?? "") && tableGather(g, g.upstream(tensor, 24)) !== undefined;
}

/** The Gather that reads a table: data is a 2-D float initializer. */
function tableGather(g: GraphIndex, nodes: NodeProto[]): NodeProto | undefined {
  return nodes.find((n) => {
    if (n.opType !== "Gather") return false;
    const t = g.initializers.get(n.input?.[0] ?? "");
    return !!t && t.dataType === DT.FLOAT && (t.dims ?? []).length === 2;
  });
}

/**
 * Reads the pooling whose result is `tensor`: the pooled table, or a sentence
 * saying what does not fit. `counts` gives feature counts recorded in the
 * file's metadata (used when present).
 */
export function findPooling(g: GraphIndex, tensor: string, counts: ReadonlyMap<string, number>): FoundPooling | string {
  const root = g.nodeOf(tensor);
  const pool = Object.hasOwn(POOL_OF_ROOT, root?.opType ?? "") ? POOL_OF_ROOT[root!.opType!] : undefined;
  if (!root || !pool) return "it is no ReduceSum / Div / Where ending an embedding-bag pooling";
  const up = g.upstream(tensor, 160);
  const gather = tableGather(g, up);
  if (!gather) return "no Gather from a [rows, dim] table feeds it";
  const table = gather.input![0]!;
  const idsTensor = gather.input![1]!;
  const policyNode = g.nodeOf(idsTensor);
  const ids = policyNode?.opType === "Clip" ? "clamp" : policyNode?.opType === "Mod" ? "modulo" : "error";
  const pick = ids === "error" ? policyNode : g.nodeOf(policyNode!.input![0]!);
  const feature = pick?.opType === "Gather" ? g.numbers(pick.input![1]!) : undefined;
  if (!feature || feature.length !== 1) return `the ids of table \`${table}\` are not picked from a bags input by a constant feature index`;
  const bags = bagsInputOf(g, up);
  if (!bags) return `no \`NAME_ids\` / \`NAME_offsets\` graph inputs feed table \`${table}\``;
  const count = counts.get(bags) ?? countOf(g, up);
  if (count === undefined) return `cannot tell how many features bags input \`${bags}\` has (no Reshape to [count, -1])`;
  const weighted = g.inputs.has(bagsInputNames(bags).weights);
  const rows = Number(g.initializers.get(table)!.dims![0]);
  const found = { table, feature: feature[0]!, pool, ids, bags, count, weighted } as const;
  const match = matchPooling(g, tensor, { ...found, rows });
  return typeof match === "string" ? match : { ...found, match };
}

/** Builds the subgraph these parameters give and matches it at `tensor`. */
function matchPooling(g: GraphIndex, tensor: string, p: Omit<FoundPooling, "match"> & { rows: number }): Match | string {
  const t = new OnnxBuilder();
  const io = bagsInputNames(p.bags);
  const decode: BagsDecode = decodeBags(t, p.bags, p.count);
  const root = lowerPooling(t, decode, {
    table: "?table",
    rows: p.rows,
    feature: t.int64([p.feature], []),
    pool: p.pool,
    weighted: p.weighted,
    ids: p.ids,
  });
  const holes = new Set(["?table", io.ids, io.offsets, io.weights]);
  const m = matchTemplate(g, t, root, tensor, holes);
  if (typeof m === "string") return m;
  for (const [hole, to] of m.bound) if (hole !== "?table" && hole !== to) return `\`${to}\` stands where graph input \`${hole}\` is expected`;
  if (m.bound.get("?table") !== p.table) return `the pooled rows do not come from table \`${p.table}\``;
  return m;
}

/** The bags input the nodes read: a graph input `X_offsets` with a matching `X_ids`. */
function bagsInputOf(g: GraphIndex, nodes: NodeProto[]): string | undefined {
  for (const n of nodes)
    for (const i of n.input ?? []) {
      if (!i.endsWith("_offsets") || !g.inputs.has(i)) continue;
      const base = i.slice(0, -"_offsets".length);
      if (g.inputs.has(bagsInputNames(base).ids)) return base;
    }
  return undefined;
}

/** The feature count from the decode's Reshape to [count, -1]. */
function countOf(g: GraphIndex, nodes: NodeProto[]): number | undefined {
  for (const n of nodes) {
    if (n.opType !== "Reshape") continue;
    const shape = g.numbers(n.input?.[1] ?? "");
    if (shape && shape.length === 2 && shape[1] === -1 && shape[0]! > 0) return shape[0];
  }
  return undefined;
}
