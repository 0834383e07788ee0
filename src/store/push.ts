// `rmc store push|check|drop`: moving an artifact's Redis-placed store tables
// into a Redis Cluster, checking them there, and taking them out again. The
// artifact's rows files are the source (the backends wrote them with
// write.ts); each block becomes one string value under blockKey(), and the
// version's meta key, written last, is what makes a version readable
// (redis.ts refuses a version without it). Node only, like redis.ts.
//
// Every block is verified before it leaves: its sha256 against the index,
// whose own sha256 the manifest records, so what reaches the cluster is what
// was compiled. Files are streamed a batch of blocks at a time (a few MiB,
// a few batches in flight), never loaded whole. Push is idempotent: it SETs
// every block again (same version, same bytes), so a re-run repairs what a
// failed one left. Versions never share a key, so two coexist until dropped.

import { createHash } from "node:crypto";
import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Cluster } from "ioredis";
import { RmcError, error, type Code } from "../diagnostics/index.js";
import {
  STORE_FORMAT,
  VERSIONS_KEY,
  blockKey,
  blockOffset,
  blockRange,
  indexSha256,
  versionKey,
  type StoreManifest,
  type StoreTable,
} from "./format.js";
import { STORE_CODES } from "./store.js";
import { closeCluster, clusterWhere, connectCluster, pipelined, withDeadline, type ClusterConfig } from "./cluster.js";
import { getValues, parseMeta, type VersionMeta } from "./redis.js";

/** The Redis half of an artifact's store: its version, its Redis-placed tables and their index files. */
export interface StoreArtifact {
  dir: string;
  version: string;
  tables: StoreTable[];
  /** Per table, its index file's bytes (sha256 and CRC-32 per block). */
  index: Map<string, Uint8Array>;
}

export interface TransferProgress {
  blocks: number;
  totalBlocks: number;
  bytes: number;
  totalBytes: number;
}

/** One block of one table, as reports name them. */
export interface BlockRef {
  table: string;
  block: number;
}

export interface PushReport {
  version: string;
  where: string;
  tables: number;
  blocks: number;
  bytes: number;
  ms: number;
  /** Replica acknowledgements that had not come when the meta key was written (replicas catch up; reads ask a master on a miss). */
  replicasBehind: number;
}

export interface CheckReport {
  version: string;
  where: string;
  tables: number;
  blocks: number;
  bytes: number;
  /** The version's meta key: written whole, absent, or unreadable / not this artifact's. */
  meta: "complete" | "missing" | "incomplete";
  missing: BlockRef[];
  corrupt: BlockRef[];
}

export interface DropReport {
  version: string;
  where: string;
  /** Keys deleted, the meta key included. */
  keys: number;
}

export interface StoreCommandOptions {
  /** Longest one batch may wait on the cluster, retries included (default 10000). */
  timeoutMs?: number;
  /** Retries of a transient error per batch (default 3). */
  retries?: number;
  /** Bytes of blocks read and sent per batch (default 4 MiB). */
  batchBytes?: number;
}

/** Batches in flight at once: enough to keep every node busy while the next batch is read. */
const DEPTH = 4;

const fail = (code: Code, message: string, hint?: string): RmcError => new RmcError(error(code, message, undefined, hint));

/** Reads the manifest's store section and the index files of its Redis-placed tables, checking the index against the manifest. */
export async function readStoreArtifact(dir: string, withIndex = true): Promise<StoreArtifact> {
  let text: string;
  try {
    text = await readFile(join(dir, "manifest.json"), "utf8");
  } catch (e) {
    const enoent = (e as NodeJS.ErrnoException).code === "ENOENT";
    throw fail(
      "E1700",
      `${dir}: ${enoent ? "no manifest.json (is it an rmc artifact folder?)" : `manifest.json is unreadable (${(e as Error).message})`}`,
    );
  }
  let m: { store?: StoreManifest; files?: Record<string, { sha256: string; bytes: number }> };
  try {
    m = JSON.parse(text) as typeof m;
  } catch (e) {
    throw fail("E1701", `${dir}/manifest.json is not valid JSON (${(e as Error).message})`);
  }
  const store = m.store;
  if (!store || store.format !== STORE_FORMAT || !Array.isArray(store.tables) || typeof store.version !== "string")
    throw fail(
      "E1746",
      `${dir}: the artifact has no ${STORE_FORMAT} store section`,
      "compile the model with tables placed in Redis (store placement)",
    );
  const tables = store.tables.filter((t) => t.placement === "redis");
  if (tables.length === 0)
    throw fail(
      "E1746",
      `${dir}: no table of the artifact's store is placed in Redis (${store.tables.length} file-placed)`,
      "nothing to push: its store is files",
    );
  const index = new Map<string, Uint8Array>();
  for (const t of tables) {
    const ints = [t.rows, t.rowBytes, t.blockRows, t.blocks];
    if (!ints.every((n) => Number.isInteger(n) && n >= 0) || t.blocks !== Math.ceil(t.rows / t.blockRows) || typeof t.index !== "string")
      throw fail("E1701", `${dir}/manifest.json: store table ${t.name} is not well formed (rows, rowBytes, blockRows, blocks)`);
    if (!withIndex) continue;
    let bytes: Uint8Array;
    try {
      bytes = await readFile(join(dir, t.index));
    } catch (e) {
      throw fail("E1703", `${dir}: the index of store table ${t.name} (${t.index}) cannot be read (${(e as Error).message})`);
    }
    const listed = m.files && Object.hasOwn(m.files, t.index) ? m.files[t.index] : undefined;
    if (bytes.length !== t.blocks * 36)
      throw fail("E1704", `${dir}/${t.index}: ${bytes.length} bytes, not ${t.blocks * 36} (36 per block of ${t.name})`);
    if (!listed) throw fail("E1701", `${dir}/manifest.json lists no file ${t.index} (the index of store table ${t.name})`);
    if (createHash("sha256").update(bytes).digest("hex") !== listed.sha256)
      throw fail(
        "E1705",
        `${dir}/${t.index}: its sha256 is not the manifest's (the index of ${t.name} was changed)`,
        "recompile the artifact or restore the file",
      );
    index.set(t.name, bytes);
  }
  return { dir, version: store.version, tables, index };
}

const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

/** Runs `work` on a fresh client with masters only (writes, and checks of the authoritative copy), closing it after. */
async function withCluster<T>(nodes: readonly string[], opts: StoreCommandOptions, work: (c: Cluster, cfg: ClusterConfig) => Promise<T>): Promise<T> {
  const cfg: ClusterConfig = { timeoutMs: opts.timeoutMs ?? 10_000, retries: opts.retries ?? 3, replicaReads: false };
  const cluster = await connectCluster(nodes, cfg);
  try {
    return await work(cluster, cfg);
  } catch (e) {
    if (e instanceof RmcError) throw e;
    throw fail(STORE_CODES.read, `${clusterWhere(nodes)}: ${(e as Error).message}`, "is the cluster healthy? (redis-cli --cluster check)");
  } finally {
    await closeCluster(cluster);
  }
}

/** The blocks of a table in batches of about `batchBytes`: [first, end) pairs. */
function batches(t: StoreTable, batchBytes: number): [number, number][] {
  const per = Math.max(1, Math.floor(batchBytes / (t.blockRows * t.rowBytes)));
  const out: [number, number][] = [];
  for (let b = 0; b < t.blocks; b += per) out.push([b, Math.min(t.blocks, b + per)]);
  return out;
}

const tableBytes = (t: StoreTable) => t.rows * t.rowBytes;

/** Copies every block of every Redis-placed table into the cluster, then the version's meta key; resolves with what was sent. */
export async function pushStore(
  dir: string,
  nodes: readonly string[],
  onProgress?: (p: TransferProgress) => void,
  opts: StoreCommandOptions = {},
): Promise<PushReport> {
  const art = await readStoreArtifact(dir);
  const where = clusterWhere(nodes);
  const t0 = performance.now();
  const total = { blocks: 0, totalBlocks: 0, bytes: 0, totalBytes: 0 };
  for (const t of art.tables) {
    total.totalBlocks += t.blocks;
    total.totalBytes += tableBytes(t);
  }
  return withCluster(nodes, opts, async (cluster, cfg) => {
    for (const t of art.tables) await pushTable(cluster, cfg, where, art, t, opts.batchBytes ?? 4 << 20, total, onProgress);
    const replicasBehind = await waitReplicas(cluster, cfg.timeoutMs);
    const meta: VersionMeta = {
      version: art.version,
      tables: art.tables.map((t) => ({ name: t.name, format: t.format, rowBytes: t.rowBytes, blockRows: t.blockRows, blocks: t.blocks })),
      complete: true,
    };
    await withDeadline(
      (async () => {
        await cluster.set(versionKey(art.version), JSON.stringify(meta));
        await cluster.sadd(VERSIONS_KEY, art.version);
      })(),
      cfg.timeoutMs,
      () => `${where}: writing the meta key of store version ${art.version}`,
    );
    return {
      version: art.version,
      where,
      tables: art.tables.length,
      blocks: total.blocks,
      bytes: total.bytes,
      ms: performance.now() - t0,
      replicasBehind,
    };
  });
}

async function pushTable(
  cluster: Cluster,
  cfg: ClusterConfig,
  where: string,
  art: StoreArtifact,
  t: StoreTable,
  batchBytes: number,
  total: TransferProgress,
  onProgress?: (p: TransferProgress) => void,
): Promise<void> {
  const path = join(art.dir, t.file);
  let fh;
  try {
    fh = await open(path, "r");
  } catch (e) {
    throw fail("E1703", `${path}: the rows of store table ${t.name} cannot be read (${(e as Error).message})`);
  }
  const inflight: Promise<void>[] = [];
  let failure: unknown;
  try {
    const size = (await fh.stat()).size;
    if (size !== tableBytes(t))
      throw fail("E1704", `${path}: ${size} bytes, not ${tableBytes(t)} (${t.rows} rows of ${t.rowBytes} bytes of ${t.name})`);
    for (const [first, end] of batches(t, batchBytes)) {
      const offset = blockOffset(t, first);
      const len = Math.min(tableBytes(t), blockOffset(t, end)) - offset;
      const buf = Buffer.allocUnsafe(len);
      for (let at = 0; at < len;) {
        const { bytesRead } = await fh.read(buf, at, len - at, offset + at);
        if (bytesRead === 0) throw fail("E1704", `${path}: ended early, at byte ${offset + at}`);
        at += bytesRead;
      }
      const keys: string[] = [];
      const values: Buffer[] = [];
      for (let b = first; b < end; b++) {
        const [start, stop] = blockRange(t, b);
        const value = buf.subarray((start - first * t.blockRows) * t.rowBytes, (stop - first * t.blockRows) * t.rowBytes);
        if (sha256(value) !== indexSha256(art.index.get(t.name)!, b))
          throw fail(
            STORE_CODES.corrupt,
            `${path}: block ${b} of table ${t.name} (rows ${start}..${stop - 1}) is not the one the artifact's index records`,
            "the rows file was changed or damaged: recompile the artifact or restore the file",
          );
        keys.push(blockKey(art.version, t.name, b));
        values.push(value);
      }
      const sent = withDeadline(
        pipelined(cluster, keys, (p, i) => p.set(keys[i]!, values[i]!), cfg.retries),
        cfg.timeoutMs,
        () => `${where}: writing blocks ${first}..${end - 1} of table ${t.name}`,
      ).then(() => {
        total.blocks += end - first;
        total.bytes += len;
        onProgress?.({ ...total });
      });
      // Handled at once (a batch that fails while another is awaited is no unhandled rejection), rethrown below.
      inflight.push(sent.catch((e) => void (failure ??= e)));
      if (inflight.length >= DEPTH) await inflight.shift();
      if (failure) throw failure;
    }
    await Promise.all(inflight);
    if (failure) throw failure;
  } finally {
    await Promise.all(inflight);
    await fh.close();
  }
}

/** Waits for each master's replicas to acknowledge the writes so far (WAIT); how many acknowledgements are still missing. */
async function waitReplicas(cluster: Cluster, timeoutMs: number): Promise<number> {
  const replicas = new Map<string, number>();
  for (const group of cluster.slots) if (group?.length) replicas.set(group[0]!, group.length - 1);
  let behind = 0;
  await Promise.all(
    cluster.nodes("master").map(async (node) => {
      const want = replicas.get(`${node.options.host}:${node.options.port}`) ?? 0;
      if (want === 0) return;
      const acked = await node.wait(want, Math.max(1, Math.floor(timeoutMs / 2))).catch(() => 0);
      behind += Math.max(0, want - acked);
    }),
  );
  return behind;
}

/** Reads every block back from the masters and compares its sha256 with the index; lists what is missing or different. */
export async function checkStore(
  dir: string,
  nodes: readonly string[],
  onProgress?: (p: TransferProgress) => void,
  opts: StoreCommandOptions = {},
): Promise<CheckReport> {
  const art = await readStoreArtifact(dir);
  const where = clusterWhere(nodes);
  const report: CheckReport = {
    version: art.version,
    where,
    tables: art.tables.length,
    blocks: 0,
    bytes: 0,
    meta: "missing",
    missing: [],
    corrupt: [],
  };
  const total = { blocks: 0, totalBlocks: 0, bytes: 0, totalBytes: 0 };
  for (const t of art.tables) {
    total.totalBlocks += t.blocks;
    total.totalBytes += tableBytes(t);
  }
  return withCluster(nodes, opts, async (cluster, cfg) => {
    const [meta] = await withDeadline(
      getValues(cluster, [versionKey(art.version)], cfg.retries),
      cfg.timeoutMs,
      () => `${where}: reading the meta key`,
    );
    const parsed = meta ? parseMeta(meta) : undefined;
    const sameTables =
      parsed?.version === art.version &&
      art.tables.every((t) =>
        parsed.tables.some((m) => m.name === t.name && m.blocks === t.blocks && m.rowBytes === t.rowBytes && m.blockRows === t.blockRows),
      );
    report.meta = meta === null ? "missing" : parsed?.complete && sameTables ? "complete" : "incomplete";
    for (const t of art.tables)
      for (const [first, end] of batches(t, opts.batchBytes ?? 4 << 20)) {
        const blocks = Array.from({ length: end - first }, (_, k) => first + k);
        const keys = blocks.map((b) => blockKey(art.version, t.name, b));
        const values = await withDeadline(
          getValues(cluster, keys, cfg.retries),
          cfg.timeoutMs,
          () => `${where}: reading blocks ${first}..${end - 1} of table ${t.name}`,
        );
        values.forEach((v, k) => {
          const b = blocks[k]!;
          if (v === null) report.missing.push({ table: t.name, block: b });
          else if (sha256(v) !== indexSha256(art.index.get(t.name)!, b)) report.corrupt.push({ table: t.name, block: b });
          else {
            report.blocks++;
            report.bytes += v.length;
          }
          total.blocks++;
          total.bytes += (blockRange(t, b)[1] - blockRange(t, b)[0]) * t.rowBytes;
        });
        onProgress?.({ ...total });
      }
    return report;
  });
}

/** Deletes every key of the artifact's store version: the meta key first (so no reader takes a half-dropped version as whole), the blocks, then its entry in the version set. */
export async function dropStore(dir: string, nodes: readonly string[], opts: StoreCommandOptions = {}): Promise<DropReport> {
  const art = await readStoreArtifact(dir, false);
  const where = clusterWhere(nodes);
  return withCluster(nodes, opts, async (cluster, cfg) => {
    const deadline = <T>(p: Promise<T>, what: string) => withDeadline(p, cfg.timeoutMs, () => `${where}: ${what}`);
    let keys = await deadline(cluster.del(versionKey(art.version)), "deleting the meta key");
    for (const t of art.tables)
      for (let first = 0; first < t.blocks; first += 4096) {
        const end = Math.min(t.blocks, first + 4096);
        const batch = Array.from({ length: end - first }, (_, k) => blockKey(art.version, t.name, first + k));
        const gone = await deadline(
          pipelined<number>(cluster, batch, (p, i) => p.unlink(batch[i]!), cfg.retries),
          `deleting blocks ${first}..${end - 1} of table ${t.name}`,
        );
        keys += gone.reduce((a, n) => a + n, 0);
      }
    await deadline(cluster.srem(VERSIONS_KEY, art.version), "updating the version set");
    return { version: art.version, where, keys };
  });
}
