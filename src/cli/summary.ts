// One-line and tabular summaries of a model for CLI output: node, weight and
// parameter counts, and its inputs and outputs.

import { formatType, type Graph } from "../ir/types.js";

const numElements = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** Human-readable count: 1.2K, 33.8M, 2.2G. */
export function humanCount(n: number): string {
  for (const [unit, v] of [
    ["G", 1e9],
    ["M", 1e6],
    ["K", 1e3],
  ] as const)
    if (n >= v) return `${(n / v).toFixed(n >= 10 * v ? 1 : 2)}${unit}`;
  return String(n);
}

/** Bytes as B, KiB, MiB, GiB. */
export function humanBytes(n: number): string {
  for (const [unit, v] of [
    ["GiB", 2 ** 30],
    ["MiB", 2 ** 20],
    ["KiB", 2 ** 10],
  ] as const)
    if (n >= v) return `${(n / v).toFixed(2)} ${unit}`;
  return `${n} B`;
}

/** `model dlrm: 12 nodes, 34 weights (1.2M params, 26 tables with 33.8M rows); inputs ...; outputs ...` */
export function describeGraph(g: Graph): string {
  const params = g.weights.reduce((s, w) => s + numElements(w.shape), 0);
  const tables = g.weights.filter((w) => w.role === "table");
  const rows = tables.reduce((s, w) => s + w.shape[0]!, 0);
  const ins = g.inputs.map((i) => `${i.name}: ${formatType(i.type)}`).join(", ");
  const node = (id: string) => g.nodes.find((n) => n.id === id);
  const outs = g.outputs
    .map(
      (o) =>
        `${o.name}: ${(() => {
          const t = node(o.value)?.type;
          return t ? formatType(t) : "?";
        })()}`,
    )
    .join(", ");
  return `model ${g.name}: ${g.nodes.length} nodes, ${g.weights.length} weights (${humanCount(params)} parameters, ${humanBytes(params * 4)} as f32; ${tables.length} tables, ${humanCount(rows)} rows); inputs ${ins}; outputs ${outs}`;
}
