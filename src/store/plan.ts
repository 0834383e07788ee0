// The capacity plan of a model's store: from the tables place-tables put
// outside memory (their rows, formats and blocks) and, when there is
// calibration data, from the ids it looks up — how many bytes each Redis
// master holds, how many rows and network bytes a request costs with a cold
// cache, how often the hot part answers, and whether (and how) the cluster
// fits a number of hosts of a given memory. `rmc compile --report`, `rmc
// store plan` and docs/scale.md print it.

import type { Batch } from "../data/batch.js";
import { isBags } from "../data/batch.js";
import { precisionOf } from "../ir/attrs.js";
import { nodeTables, routeRow, type LogicalTable } from "../ir/tables.js";
import type { Graph } from "../ir/types.js";
import { rowBytes, type RowFormat } from "../quant/rowwise.js";
import { blockRowsFor } from "./format.js";

/** Redis's own cost per key (the key string, its dict entry and object headers), measured on Redis 7 with `MEMORY USAGE`: roughly. */
export const REDIS_KEY_OVERHEAD = 112;
/** A host keeps this share of its memory for the OS, the Redis process and fork headroom. */
const HOST_HEADROOM = 0.25;

/** How the cluster would be laid out. */
export interface ClusterShape {
  masters: number;
  /** Replicas of each master. */
  replicas: number;
  /** Hosts and their memory, to check the fit (optional). */
  hosts?: number;
  hostMemory?: number;
  /** Samples per predict call, for the per-batch figures (default 512). */
  batch?: number;
}

/** One store-placed table in the plan. */
export interface PlannedTable {
  table: string;
  format: string;
  rows: number;
  rowBytes: number;
  blocks: number;
  bytes: number;
  /** From calibration data: ids looked up per sample, the share the hot part answers, distinct store rows and blocks per batch. */
  lookupsPerSample?: number;
  hotShare?: number;
  rowsPerBatch?: number;
  blocksPerBatch?: number;
}

export interface CapacityPlan {
  placement: string;
  tables: PlannedTable[];
  storeBytes: number;
  keys: number;
  /** Bytes per master (rows + per-key overhead), and in the whole cluster with its replicas. */
  perMaster: number;
  cluster: number;
  shape: Required<Pick<ClusterShape, "masters" | "replicas" | "batch">> & Pick<ClusterShape, "hosts" | "hostMemory">;
  /** From calibration: per request (one sample), store rows and network bytes with a cold cache; the hot part's share of lookups. */
  perRequest?: { rows: number; bytes: number; hotShare: number };
  /** Given hosts: Redis nodes per host, bytes per host, and whether that fits (with headroom); else the hosts it needs. */
  fit?: { nodesPerHost: number; bytesPerHost: number; fits: boolean; hostsNeeded: number; note: string };
}

const storedRowBytes = (format: string, dim: number): number => (format === "fp32" ? dim * 4 : rowBytes(format as RowFormat, dim));

/** The plan for `graph`'s store-placed tables (place-tables' `placement` attributes) on a cluster of `shape`. */
export function capacityPlan(graph: Graph, shape: ClusterShape, calibration?: readonly Batch[]): CapacityPlan | undefined {
  const decls = new Map(graph.weights.map((w) => [w.name, w]));
  const batch = shape.batch ?? 512;
  const tables: PlannedTable[] = [];
  let placement = "";
  const seen = new Set<string>();
  for (const n of graph.nodes) {
    if (n.op !== "embedding_bag") continue;
    const source = n.inputs[0]!.slice(1);
    for (const t of nodeTables(n, decls)) {
      const stored = t.parts.filter((p) => p.decl.attrs.placement === "file" || p.decl.attrs.placement === "redis");
      if (stored.length === 0 || seen.has(t.name)) continue;
      seen.add(t.name);
      placement = String(stored[0]!.decl.attrs.placement);
      const format = precisionOf(stored[0]!.decl, n);
      const rb = storedRowBytes(format, t.dim);
      const rows = stored.reduce((s, p) => s + p.decl.shape[0]!, 0);
      const blocks = stored.reduce((s, p) => s + Math.ceil(p.decl.shape[0]! / blockRowsFor(rb)), 0);
      const entry: PlannedTable = { table: t.name, format, rows, rowBytes: rb, blocks, bytes: rows * rb };
      if (calibration?.length) Object.assign(entry, lookups(t, source, rb, calibration, batch));
      tables.push(entry);
    }
  }
  if (tables.length === 0) return undefined;
  const storeBytes = tables.reduce((s, t) => s + t.bytes, 0);
  const keys = tables.reduce((s, t) => s + t.blocks, 0);
  const masters = Math.max(1, shape.masters);
  const perMaster = Math.ceil((storeBytes + keys * REDIS_KEY_OVERHEAD) / masters);
  const cluster = perMaster * masters * (1 + shape.replicas);
  const plan: CapacityPlan = { placement, tables, storeBytes, keys, perMaster, cluster, shape: { ...shape, masters, batch } };
  if (tables.every((t) => t.rowsPerBatch !== undefined)) {
    const rows = tables.reduce((s, t) => s + t.rowsPerBatch!, 0) / batch;
    const bytes = (tables.reduce((s, t) => s + t.blocksPerBatch! * blockRowsFor(t.rowBytes) * t.rowBytes, 0) / batch) | 0;
    const looked = tables.reduce((s, t) => s + t.lookupsPerSample!, 0);
    const hot = tables.reduce((s, t) => s + t.lookupsPerSample! * t.hotShare!, 0);
    plan.perRequest = { rows, bytes, hotShare: looked ? hot / looked : 0 };
  }
  if (shape.hosts !== undefined && shape.hostMemory !== undefined) plan.fit = fitOnHosts(plan, shape.hosts, shape.hostMemory);
  return plan;
}

/** What the calibration batches look up in a table: per sample, the hot part's share, and per batch of `batch`, distinct store rows and blocks. */
function lookups(t: LogicalTable, source: string, rb: number, calibration: readonly Batch[], batch: number): Partial<PlannedTable> {
  let ids = 0;
  let hot = 0;
  let samples = 0;
  let rows = 0;
  let blocks = 0;
  let batches = 0;
  const perBlock = blockRowsFor(rb);
  for (const b of calibration) {
    const bags = b.inputs[source];
    if (!bags || !isBags(bags)) continue;
    // The ids of this table's feature, key-major: feature f's are after all of the earlier features'.
    let start = 0;
    for (let f = 0; f < t.feature; f++) for (let s = 0; s < b.size; s++) start += bags.lengths[f * b.size + s]!;
    for (let s0 = 0; s0 < b.size; s0 += batch) {
      const distinct = new Set<number>();
      const touched = new Set<number>();
      let at = start;
      for (let s = 0; s < s0; s++) at += bags.lengths[t.feature * b.size + s]!;
      for (let s = s0; s < Math.min(b.size, s0 + batch); s++)
        for (let k = 0; k < bags.lengths[t.feature * b.size + s]!; k++, at++) {
          const r = routeRow(t, bags.values[at]!);
          if (!r) continue;
          ids++;
          const part = t.parts[r.part]!;
          if (part.decl.attrs.placement !== "file" && part.decl.attrs.placement !== "redis") {
            hot++;
            continue;
          }
          const key = r.part * 2 ** 32 + r.row;
          distinct.add(key);
          touched.add(r.part * 2 ** 32 + Math.floor(r.row / perBlock));
        }
      rows += distinct.size;
      blocks += touched.size;
      batches++;
    }
    samples += b.size;
  }
  if (samples === 0) return {};
  return { lookupsPerSample: ids / samples, hotShare: ids ? hot / ids : 0, rowsPerBatch: rows / batches, blocksPerBatch: blocks / batches };
}

/** Nodes spread evenly over the hosts, a master never on its replica's host; does the busiest host fit, and how many hosts would. */
function fitOnHosts(plan: CapacityPlan, hosts: number, hostMemory: number): CapacityPlan["fit"] {
  const { masters, replicas } = plan.shape;
  const nodes = masters * (1 + replicas);
  const nodesPerHost = Math.ceil(nodes / Math.max(1, hosts));
  const bytesPerHost = nodesPerHost * plan.perMaster;
  const usable = hostMemory * (1 - HOST_HEADROOM);
  const spread = replicas === 0 || hosts >= 2;
  const fits = spread && bytesPerHost <= usable;
  const hostsNeeded = Math.max(replicas > 0 ? 2 : 1, Math.ceil(plan.cluster / usable));
  const note = !spread
    ? "a replica on its master's host protects nothing: use at least 2 hosts"
    : fits
      ? `${nodesPerHost} Redis node(s) per host, ${(100 * (bytesPerHost / hostMemory)).toFixed(0)}% of each host's memory`
      : `the busiest host would need ${gib(bytesPerHost)} of its ${gib(usable)} usable; ${hostsNeeded} hosts of ${gib(hostMemory)} would do (or more masters on more hosts)`;
  return { nodesPerHost, bytesPerHost, fits, hostsNeeded, note };
}

const gib = (b: number): string =>
  b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`;

/** The plan as Markdown (for --report and docs/scale.md). */
export function formatCapacityMarkdown(p: CapacityPlan): string {
  const lines = [
    `## Store capacity plan (${p.placement})`,
    "",
    "| table | format | rows | row bytes | blocks | bytes | lookups / sample | hot share | store rows / batch | blocks / batch |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...p.tables.map(
      (t) =>
        `| ${t.table} | ${t.format} | ${t.rows} | ${t.rowBytes} | ${t.blocks} | ${gib(t.bytes)} | ${fmt(t.lookupsPerSample)} | ${pct(t.hotShare)} | ${fmt(t.rowsPerBatch)} | ${fmt(t.blocksPerBatch)} |`,
    ),
    "",
    `- store: ${gib(p.storeBytes)} in ${p.keys} blocks (keys); with Redis's ~${REDIS_KEY_OVERHEAD} bytes per key, ${gib(p.perMaster)} per master over ${p.shape.masters} masters, ${gib(p.cluster)} in the cluster with ${p.shape.replicas} replica(s) each`,
  ];
  if (p.perRequest)
    lines.push(
      `- per request (one sample, batches of ${p.shape.batch}, cold cache): ${p.perRequest.rows.toFixed(2)} store rows, ${(p.perRequest.bytes / 1024).toFixed(1)} KiB over the network; the hot part answers ${pct(p.perRequest.hotShare)} of lookups`,
    );
  if (p.fit) lines.push(`- ${p.shape.hosts} host(s) of ${gib(p.shape.hostMemory!)}: ${p.fit.fits ? "fits" : "does not fit"}: ${p.fit.note}`);
  return lines.join("\n") + "\n";
}

const fmt = (v: number | undefined): string => (v === undefined ? "—" : v.toFixed(2));
const pct = (v: number | undefined): string => (v === undefined ? "—" : `${(100 * v).toFixed(1)}%`);
