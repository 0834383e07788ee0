// place-tables: decides where each embedding table's rows live — in the
// model's memory (as before), in a file of the artifact read on demand
// (`file`), or in a Redis Cluster (`redis`) — so that what stays in memory
// fits the target and a memory budget. It writes `placement=file|redis` on
// the table declarations it moves out (a hot/cold table: its cold parts; its
// hot part stays in memory); the backends then compile those tables as a
// staging area the runtime fills per call (src/runtime/staging.ts). Runs
// after assign-precision (sizes are at the chosen precisions) and before
// split-tables (a store-placed table needs no splitting for a buffer limit).
// The placement goes to the caller as `placement` (rmc compile prints it and
// the report and capacity plan read it).

import { RmcError, didYouMean, type Code } from "../src/diagnostics/index.js";
import { layerPrecision, precisionOf } from "../src/ir/attrs.js";
import { nodeTables, type LogicalTable } from "../src/ir/tables.js";
import type { Graph, WeightDecl } from "../src/ir/types.js";
import { weightInputs } from "../src/ir/types.js";
import type { Pass, PassContext } from "../src/pipeline/pass.js";
import { BUILTIN_TARGETS, targetNamed } from "../src/target/index.js";
import { storedRowBytes } from "./split-tables.js";

type Options = { memoryBudget: number; store: string; target: string; tables: string; minBytes: number };

/** What place-tables decided, for reports and the capacity plan. */
export interface PlacementSummary {
  /** Bytes the memory budget allowed, and the bytes of weights left in memory. */
  budget: number;
  memoryBytes: number;
  /** Every logical table: where its rows are and how many bytes are where. */
  tables: {
    table: string;
    rows: number;
    precision: string;
    placement: "memory" | "file" | "redis";
    memoryBytes: number;
    storeBytes: number;
    why: string;
  }[];
}

declare module "../src/pipeline/pass.js" {
  interface PassOutputs {
    placement: PlacementSummary;
  }
}

/** Diagnostic codes of this pass. */
export const PLACE_CODES = { option: "E1934", note: "N1935" } as const satisfies Record<string, Code>;

/** Room the budget keeps for workspaces, staging and code when it is the target's own memory. */
const TARGET_RESERVE = 0.25;

/** A table that may move out of memory: a whole table, a row-split one (all its parts) or a hot/cold one (its cold parts). */
interface Candidate {
  table: LogicalTable;
  precision: string;
  /** The declarations that would move, and their bytes. */
  movable: WeightDecl[];
  bytes: number;
  /** Bytes that stay in memory whatever happens (a hot part). */
  resident: number;
}

export const placeTables: Pass<Options> = {
  name: "place-tables",
  summary: "Place embedding tables (or their cold parts) in the model's memory, a file of the artifact or a Redis Cluster, to fit a memory budget",
  requires: ["precision"],
  provides: ["placement"],
  options: {
    memoryBudget: { type: "bytes", default: 0, doc: "largest weights in memory (0: three quarters of the target's memory)" },
    store: { type: "enum", values: ["file", "redis"], default: "file", doc: "where tables that do not fit go" },
    target: { type: "string", default: "wasm", doc: "whose memory limit applies when memory-budget is 0" },
    tables: { type: "string", default: "", doc: "place these tables in the store whatever the budget, `;`-separated" },
    minBytes: { type: "bytes", default: 1 << 20, doc: "tables smaller than this stay in memory (a store read costs more than it saves)" },
  },
  run(graph: Graph, ctx: PassContext<Options>): Graph {
    const o = ctx.options;
    if (!ctx.target && !BUILTIN_TARGETS.has(o.target) && o.memoryBudget === 0)
      throw new RmcError(`place-tables: unknown target \`${o.target}\`: give memory-budget for other targets`, PLACE_CODES.option);
    const budget = o.memoryBudget > 0 ? o.memoryBudget : Math.floor(targetNamed(o.target, ctx).limits.maxMemoryBytes * (1 - TARGET_RESERVE));
    const candidates = tablesOf(graph);
    const forced = new Set(o.tables.split(";").filter(Boolean));
    for (const name of forced)
      if (!candidates.some((c) => c.table.name === name)) {
        const dym = didYouMean(
          name,
          candidates.map((c) => c.table.name),
        );
        throw new RmcError(`place-tables: \`${name}\` is not a table that can be placed in a store${dym ? ` (${dym})` : ""}`, PLACE_CODES.option);
      }
    let memory = denseBytes(graph) + candidates.reduce((s, c) => s + c.bytes + c.resident, 0);
    const moved = new Set<string>();
    const why = new Map<string, string>();
    for (const c of candidates)
      if (forced.has(c.table.name)) {
        moved.add(c.table.name);
        memory -= c.bytes;
        why.set(c.table.name, `placed by tables=${c.table.name}`);
      }
    // Largest first: each move frees the most memory for one more table read through the store.
    for (const c of [...candidates].sort((a, b) => b.bytes - a.bytes)) {
      if (memory <= budget) break;
      if (moved.has(c.table.name) || c.bytes < o.minBytes) continue;
      moved.add(c.table.name);
      memory -= c.bytes;
      why.set(c.table.name, `${mib(c.bytes)} moved out: the weights were over the ${mib(budget)} memory budget`);
    }
    const summary: PlacementSummary = {
      budget,
      memoryBytes: memory,
      tables: candidates.map((c) => {
        const out = moved.has(c.table.name);
        return {
          table: c.table.name,
          rows: c.table.rows,
          precision: c.precision,
          placement: out ? (o.store as "file" | "redis") : "memory",
          memoryBytes: out ? c.resident : c.bytes + c.resident,
          storeBytes: out ? c.bytes : 0,
          why: why.get(c.table.name) ?? (memory <= budget ? "fits the memory budget" : "too small to be worth a store read"),
        };
      }),
    };
    ctx.emit("placement", summary);
    for (const t of summary.tables.filter((x) => x.placement !== "memory"))
      ctx.diagnostics.push({
        code: PLACE_CODES.note,
        severity: "note",
        message: `place-tables: ${t.table} (${t.rows} rows, ${t.precision}): ${mib(t.storeBytes)} in the ${t.placement} store; ${t.why}`,
      });
    const names = new Set(candidates.filter((c) => moved.has(c.table.name)).flatMap((c) => c.movable.map((d) => d.name)));
    const unchanged = graph.weights.every((w) => (names.has(w.name) ? w.attrs.placement === o.store : w.attrs.placement === undefined));
    if (unchanged) return graph;
    return ctx.produce(graph, (g) => {
      for (const w of g.weights) {
        if (names.has(w.name)) w.attrs.placement = o.store;
        else delete w.attrs.placement;
      }
    });
  },
};

const mib = (b: number): string => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : `${(b / 2 ** 20).toFixed(1)} MiB`);

/** Bytes of a weight in memory at its precision (tables by their row format; matrices by element size). */
function declBytes(decl: WeightDecl, precision: string): number {
  if (decl.role === "table") return decl.shape[0]! * storedRowBytes(precision, decl.shape[1]!);
  const n = decl.shape.reduce((a, b) => a * b, 1);
  return n * (precision === "int8" ? 1 : precision === "fp16" || precision === "bf16" ? 2 : 4);
}

/** Bytes of every weight that is not an embedding table. */
function denseBytes(graph: Graph): number {
  const decls = new Map(graph.weights.map((w) => [w.name, w]));
  let bytes = 0;
  for (const n of graph.nodes) {
    if (n.op === "embedding_bag") continue;
    for (const name of weightInputs(n)) {
      const d = decls.get(name);
      if (d && d.role !== "table") bytes += declBytes(d, n.op === "linear" || n.op === "cross_layer" ? layerPrecision(graph, n) : "fp32");
    }
  }
  return bytes;
}

/** Every logical table that may be placed in a store (column-split tables may not: a row spans their parts). */
function tablesOf(graph: Graph): Candidate[] {
  const decls = new Map(graph.weights.map((w) => [w.name, w]));
  const seen = new Map<string, Candidate>();
  for (const n of graph.nodes) {
    if (n.op !== "embedding_bag") continue;
    for (const t of nodeTables(n, decls)) {
      if (seen.has(t.name) || t.layout === "cols") continue;
      const precisions = new Set(t.parts.map((p) => precisionOf(p.decl, n)));
      // One staging area per table holds rows of one format: parts stored at different precisions stay in memory.
      if (precisions.size > 1) continue;
      const precision = [...precisions][0]!;
      const movable = t.layout === "hot" ? t.parts.slice(1).map((p) => p.decl) : t.parts.map((p) => p.decl);
      const bytes = movable.reduce((s, d) => s + declBytes(d, precision), 0);
      const resident = t.layout === "hot" ? declBytes(t.parts[0]!.decl, precision) : 0;
      seen.set(t.name, { table: t, precision, movable, bytes, resident });
    }
  }
  return [...seen.values()];
}
