// Shards of split tables, for every backend's manifest: each part of a table
// that split-tables split (src/ir/tables.ts) is written to a file of its own
// and described here — which table it belongs to, what it holds of it, and
// which bag features read it — so that the runtime can load it only when a
// request first looks up one of its rows (src/runtime/shards.ts), and a
// deployment can see which rows live where.

import type { Graph } from "../src/ir/types.js";
import { nodeTables, partOf } from "../src/ir/tables.js";
import type { ShardEntry, ShardHolds } from "../src/runtime/manifest.js";

/** The file a part's bytes are written to inside the artifact. */
export const shardFile = (part: string): string => `shard.${part}.bin`;

/** One entry per part of every split table the graph reads, in declaration order; `place` says where a part's bytes go. */
export function shardEntries(graph: Graph, place: (part: string) => { offset: number } | { buffer: string }): ShardEntry[] {
  const decls = new Map(graph.weights.map((w) => [w.name, w]));
  const byName = new Map<string, ShardEntry>();
  for (const node of graph.nodes) {
    if (node.op !== "embedding_bag") continue;
    const input = node.inputs[0]!.replace(/^%/, "");
    for (const table of nodeTables(node, decls)) {
      if (table.layout === "whole") continue;
      for (const p of table.parts) {
        const name = p.decl.name;
        const known = byName.get(name);
        if (known) {
          if (!known.reads.some((r) => r.input === input && r.feature === table.feature)) known.reads.push({ input, feature: table.feature });
          continue;
        }
        byName.set(name, {
          name,
          file: shardFile(name),
          table: table.name,
          rows: table.rows,
          holds: holdsOf(p.decl),
          reads: [{ input, feature: table.feature }],
          ...place(name),
        });
      }
    }
  }
  return graph.weights.flatMap((w) => byName.get(w.name) ?? []);
}

function holdsOf(decl: Graph["weights"][number]): ShardHolds {
  const p = partOf(decl);
  if (typeof p === "string") throw new Error(`internal: ${p}`);
  if (p.kind === "hot") return { hot: [...p.hot!] };
  if (p.kind === "cols") return { cols: [p.start, p.end] };
  if (p.kind === "cold") return { cold: [p.start, p.end] };
  return { rows: [p.start, p.end] };
}
