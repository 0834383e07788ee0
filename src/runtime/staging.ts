// Runtime, both engines: tables placed outside the model's memory
// (place-tables) are read by the kernels from a staging table. Before each
// call the Stager gathers the batch's distinct ids of every such table, finds
// each row — in a part kept in memory (a hot part, read whole at load) or
// through the embedding store (src/store: the artifact's files, or a Redis
// Cluster) — writes those rows, in first-seen order, into the table's
// staging area (`sink`: Wasm memory, or a GPU buffer) and hands the engine
// the batch with each id replaced by its row's place there. So the kernels
// read staged rows like any table, and the results are the interpreter's bit
// for bit. A batch with more distinct ids than a staging area holds is cut
// into pieces that fit.

import { RmcError, error } from "../diagnostics/index.js";
import { logicalTables, routeRow, type LogicalTable } from "../ir/tables.js";
import type { Node, WeightDecl } from "../ir/types.js";
import { indexCrcs, type StoreManifest, type StoreTable } from "../store/format.js";
import type { EmbeddingStore, StoreStats } from "../store/store.js";
import { RUNTIME_CODES as C } from "./codes.js";
import type { ArtifactFiles } from "./host/files.js";
import type { PreparedBags, PreparedBatch } from "./inputs.js";
import { sliceBatch } from "./inputs.js";
import type { Manifest } from "./manifest.js";
import { isNode } from "./host/platform.js";

/** How a model reaches its store. */
export interface StagingOptions {
  /** Bytes of rows the store's cache keeps (default 256 MiB). */
  cacheBytes: number;
  /** Redis Cluster nodes (`host:port`), for tables placed in Redis. */
  redis?: readonly string[];
  /** Per-call timeout of store reads, in milliseconds. */
  timeoutMs?: number;
}

/** One staging area, as the engine lays it out. */
export interface StagingSlot {
  table: string;
  rows: number;
  rowBytes: number;
}

/** What staging did so far: the store's own statistics, and the rows staged. */
export interface StagingStats extends StoreStats {
  /** Calls staged, and the distinct rows they staged. */
  calls: number;
  staged: number;
  /** Wall time of staging (store reads included), in milliseconds. */
  stageMs: number;
}

interface Staged {
  table: LogicalTable;
  slot: number;
  capacity: number;
  rowBytes: number;
  /** (input index in the signature, feature) pairs that read it. */
  reads: { input: number; feature: number }[];
  /** Per part of `table`: its store entry and, for a part kept in memory, its rows. */
  parts: { entry: StoreTable; resident?: Uint8Array }[];
}

/** Writes `count` staged rows (`bytes`, packed) into staging area `slot`. */
export type StagingSink = (slot: number, bytes: Uint8Array) => void | Promise<void>;

export class Stager {
  private counters = { calls: 0, staged: 0, stageMs: 0 };

  private constructor(
    private readonly staged: Staged[],
    private readonly store: EmbeddingStore | undefined,
  ) {}

  /** The staging of an artifact's store-placed tables, or undefined when every table is in memory. */
  static async open(manifest: Manifest, files: ArtifactFiles, slots: readonly StagingSlot[], opts: StagingOptions): Promise<Stager | undefined> {
    const store = manifest.store;
    if (slots.length === 0) return undefined;
    // Without the store, the staging areas would stay zero and the kernels would read zeros for those tables.
    if (!store)
      throw new RmcError(
        error(
          C.manifestInvalid,
          `${files.where("manifest.json")}: staging tables (${slots.map((x) => x.table).join(", ")}) but no \`store\` section`,
        ),
      );
    const entries = new Map(store.tables.map((t) => [t.name, t]));
    const staged = await stagedTables(manifest, files, slots, entries);
    const crcs = new Map<string, Uint32Array>();
    for (const t of store.tables)
      if (t.placement !== "memory") crcs.set(t.name, indexCrcs(await files.readChecked(t.index, manifest.files[t.index]!), t.blocks));
    return new Stager(staged, await openStore(store, files, crcs, opts));
  }

  /** The batch in pieces whose distinct ids fit every staging area (one piece when it fits). */
  pieces(batch: PreparedBatch): PreparedBatch[] {
    const fits = (b: PreparedBatch): boolean => this.staged.every((s) => distinctIds(s, b).size <= s.capacity);
    if (fits(batch)) return [batch];
    const out: PreparedBatch[] = [];
    const cut = (start: number, end: number): void => {
      const piece = sliceBatch(batch, start, end);
      if (fits(piece)) return void out.push(piece);
      if (end - start === 1) {
        const s = this.staged.find((x) => distinctIds(x, piece).size > x.capacity)!;
        throw new RmcError(
          error(
            C.stagingFull,
            `sample ${start} reads ${distinctIds(s, piece).size} distinct rows of table ${s.table.name}, more than its staging area holds (${s.capacity})`,
            undefined,
            "compile with a larger --staging-rows",
          ),
        );
      }
      const mid = (start + end) >> 1;
      cut(start, mid);
      cut(mid, end);
    };
    cut(0, batch.size);
    return out;
  }

  /** Stages the rows of `batch` (one piece) through `sink`; the batch with each staged table's ids replaced by their rows' places. */
  async stage(batch: PreparedBatch, sink: StagingSink): Promise<PreparedBatch> {
    const t0 = performance.now();
    const inputs = [...batch.inputs];
    const copied = new Set<number>();
    for (const s of this.staged) {
      const where = distinctIds(s, batch);
      const bytes = new Uint8Array(where.size * s.rowBytes);
      await this.fetchRows(s, [...where.keys()], bytes);
      await sink(s.slot, bytes);
      for (const { input, feature } of s.reads) {
        const bags = inputs[input] as PreparedBags;
        if (!copied.has(input)) {
          inputs[input] = { ...bags, ids: bags.ids.slice() };
          copied.add(input);
        }
        const ids = (inputs[input] as PreparedBags).ids;
        for (let k = bags.starts[feature]!; k < bags.starts[feature + 1]!; k++) ids[k] = where.get(ids[k]!)!;
      }
      this.counters.staged += where.size;
    }
    this.counters.calls++;
    this.counters.stageMs += performance.now() - t0;
    return { size: batch.size, inputs };
  }

  /** Rows `ids` of a staged table into `out`, in order: from parts kept in memory, or through the store. */
  private async fetchRows(s: Staged, ids: readonly number[], out: Uint8Array): Promise<void> {
    const rb = s.rowBytes;
    const wanted = new Map<number, { rows: number[]; at: number[] }>();
    ids.forEach((id, k) => {
      const r = routeRow(s.table, id)!;
      const part = s.parts[r.part]!;
      if (part.resident) return void out.set(part.resident.subarray(r.row * rb, (r.row + 1) * rb), k * rb);
      let w = wanted.get(r.part);
      if (!w) wanted.set(r.part, (w = { rows: [], at: [] }));
      w.rows.push(r.row);
      w.at.push(k);
    });
    for (const [p, w] of wanted) {
      const got = new Uint8Array(w.rows.length * rb);
      await this.store!.getRows(s.parts[p]!.entry, w.rows, got);
      w.at.forEach((k, j) => out.set(got.subarray(j * rb, (j + 1) * rb), k * rb));
    }
  }

  stats(): StagingStats {
    const store = this.store?.stats() ?? { requests: 0, rows: 0, hits: 0, blocks: 0, bytes: 0, fetchMs: 0 };
    return { ...store, ...this.counters };
  }

  async close(): Promise<void> {
    await this.store?.close();
  }
}

/** Each distinct id a staged table's readers name in `batch`, with its place in the staging area (first seen, first placed). */
function distinctIds(s: Staged, batch: PreparedBatch): Map<number, number> {
  const where = new Map<number, number>();
  for (const { input, feature } of s.reads) {
    const bags = batch.inputs[input] as PreparedBags;
    for (let k = bags.starts[feature]!; k < bags.starts[feature + 1]!; k++) {
      const id = bags.ids[k]!;
      if (!where.has(id)) where.set(id, where.size);
    }
  }
  return where;
}

/** The staged tables as the manifest's IR describes them, with who reads them and their parts kept in memory. */
async function stagedTables(
  manifest: Manifest,
  files: ArtifactFiles,
  slots: readonly StagingSlot[],
  entries: Map<string, StoreTable>,
): Promise<Staged[]> {
  const graph = manifest.ir;
  const decls = new Map(graph.weights.map((w) => [w.name, w]));
  const inputIndex = new Map(manifest.model.inputs.map((i, k) => [i.name, k]));
  const out = new Map<string, Staged>();
  for (const n of graph.nodes) {
    if (n.op !== "embedding_bag") continue;
    const source = (n.inputs[0] ?? "").slice(1);
    for (const t of manifestTables(manifest, n, decls, files)) {
      const slot = slots.findIndex((x) => x.table === t.name);
      if (slot < 0) continue;
      let s = out.get(t.name);
      if (!s) {
        const parts = await Promise.all(
          t.parts.map(async (p) => {
            const entry = entries.get(p.decl.name);
            if (!entry) throw new RmcError(error(C.manifestInvalid, `the store lists no part ${p.decl.name} of staged table ${t.name}`));
            return entry.placement === "memory" ? { entry, resident: await files.readChecked(entry.file, manifest.files[entry.file]!) } : { entry };
          }),
        );
        const bad = parts.find((p) => p.entry.rowBytes !== slots[slot]!.rowBytes || p.entry.dim !== t.dim);
        if (bad)
          throw new RmcError(
            error(
              C.manifestInvalid,
              `${files.where("manifest.json")}: store part ${bad.entry.name} does not have the rows of staged table ${t.name}`,
            ),
          );
        s = { table: t, slot, capacity: slots[slot]!.rows, rowBytes: slots[slot]!.rowBytes, reads: [], parts };
        out.set(t.name, s);
      }
      s.reads.push({ input: inputIndex.get(source)!, feature: t.feature });
    }
  }
  const unread = slots.find((x) => !out.has(x.table));
  if (unread)
    throw new RmcError(error(C.manifestInvalid, `${files.where("manifest.json")}: staging table ${unread.table} is not a table the IR reads`));
  return [...out.values()];
}

/**
 * The logical tables of a manifest IR's embedding_bag node (ir/tables.ts), checked as verified IR would be —
 * it reads a bags input of the signature, its weights are declared and make tables of the signature's rows —
 * since a manifest's IR is trusted no more than the rest of it.
 */
function manifestTables(manifest: Manifest, n: Node, decls: ReadonlyMap<string, WeightDecl>, files: ArtifactFiles): LogicalTable[] {
  const bad = (why: string): never => {
    throw new RmcError(error(C.manifestInvalid, `${files.where("manifest.json")}: ir node %${n.id} (embedding_bag): ${why}`));
  };
  const input = manifest.model.inputs.find((i) => `%${i.name}` === n.inputs[0]);
  if (!input || input.kind !== "bags") return bad(`it must read a bags input of model.inputs first, not ${String(n.inputs[0])}`);
  const refs = n.inputs.filter((r) => r.startsWith("@"));
  const weights = refs.map((r) => decls.get(r.slice(1)) ?? bad(`it reads ${r}, which ir.weights does not declare`));
  const bags = n.attrs.bags;
  if (!Array.isArray(bags) || !bags.every((f) => Number.isInteger(f) && (f as number) >= 0 && (f as number) < input.count))
    return bad(`its bags must list features of input ${input.name}`);
  const tables = logicalTables(bags as number[], Array.isArray(n.attrs.parts) ? (n.attrs.parts as number[]) : undefined, weights);
  if (typeof tables === "string") return bad(tables);
  for (const t of tables)
    if (t.rows !== input.features[t.feature]!.rows)
      bad(`table ${t.name} has ${t.rows} rows, but model.inputs gives feature ${t.feature} of ${input.name} ${input.features[t.feature]!.rows}`);
  return tables;
}

async function openStore(
  store: StoreManifest,
  files: ArtifactFiles,
  crcs: Map<string, Uint32Array>,
  opts: StagingOptions,
): Promise<EmbeddingStore | undefined> {
  const placed = store.tables.filter((t) => t.placement !== "memory");
  if (placed.length === 0) return undefined;
  const kinds = new Set(placed.map((t) => t.placement));
  if (kinds.has("redis")) {
    if (!opts.redis?.length)
      throw new RmcError(
        error(
          C.storeConfig,
          'this model\'s tables are placed in a Redis Cluster: load it with `redis: ["host:port", …]` (rmc run --redis host:port,…)',
        ),
      );
    // ioredis is an optional peer of the runtime-only package: its absence is the user's to fix, named as such.
    const { openRedisStore } = await import("../store/redis-open.js").catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "ERR_MODULE_NOT_FOUND" || !/ioredis/.test(e.message)) throw e;
      throw new RmcError(
        error(C.storeConfig, "this model's tables are placed in a Redis Cluster, which needs the ioredis package: npm install ioredis"),
      );
    });
    return openRedisStore(store, crcs, opts);
  }
  if (!isNode())
    throw new RmcError(
      error(
        C.storeConfig,
        "this model's tables are in a file store, which needs Node (positional file reads); place them in Redis to serve from a browser",
      ),
    );
  const { FileStore } = await import("../store/file.js");
  // A rows file stays open for every call: it must be a regular file inside the artifact, like every file the runtime reads.
  const paths = new Map<string, string>();
  for (const t of placed) paths.set(t.name, files.localPath ? await files.localPath(t.file) : files.where(t.file));
  return FileStore.open(`file store ${files.where("store")}`, paths, crcs, opts.cacheBytes);
}
