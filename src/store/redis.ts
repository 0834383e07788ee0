// The Redis store: rows of `placement: "redis"` tables read at run time from
// a Redis Cluster that `rmc store push` filled (push.ts), one string value
// per block under `rmc:<version>:<table>:<block>`. BlockStore does the rest
// (row cache, CRC-32 of every block against the artifact's index, stats).
// Node only: the runtime loads it with `await import()`, so the browser path
// never reaches ioredis.
//
// What a read promises: the right bytes or an RmcError, within timeoutMs.
// Blocks are read as pipelines grouped by node (cluster.ts), from any live
// copy (replica reads, on by default: replicas share the read load and keep
// answering while a dead master fails over); a block a replica lacks is
// asked again of its master before it counts as missing (E1740). The whole
// call runs under one deadline (E1743), retries included, so a cluster that
// stops answering fails the call instead of hanging it.

import type { Cluster } from "ioredis";
import { crc32 } from "node:zlib";
import { RmcError, error } from "../diagnostics/index.js";
import { VERSIONS_KEY, blockKey, blockRange, versionKey, type StoreTable } from "./format.js";
import { BlockStore, STORE_CODES } from "./store.js";
import { closeCluster, clusterWhere, connectCluster, parseNodes, pipelined, withDeadline, type ClusterConfig } from "./cluster.js";

export interface RedisStoreOptions {
  /** Some of the cluster's nodes, as `host:port` (the client finds the others). */
  nodes: string[];
  /** The artifact's store version (manifest.store.version): the cluster must hold it whole. */
  version: string;
  /** The tables this store serves (those of manifest.store.tables placed in Redis). */
  tables: readonly StoreTable[];
  /** Per table, each block's CRC-32 from the artifact's index file. */
  crcs: ReadonlyMap<string, Uint32Array>;
  /** The row cache's budget in bytes. */
  cacheBytes: number;
  /** Longest a getRows call (or open) may wait on the cluster, retries included; default 2000. */
  timeoutMs?: number;
  /** Times a transient error (MOVED, ASK, CLUSTERDOWN, a lost connection) is retried within the timeout; default 2. */
  retries?: number;
  /** Read from replicas as well as masters; default true. */
  replicaReads?: boolean;
}

/** What `rmc store push` writes last under versionKey(version): the version is whole once it is there. */
export interface VersionMeta {
  version: string;
  tables: { name: string; format: string; rowBytes: number; blockRows: number; blocks: number }[];
  complete: boolean;
}

/** Values of `keys` (null where absent): from any copy first, misses again from the master. */
export async function getValues(cluster: Cluster, keys: readonly string[], retries: number): Promise<(Buffer | null)[]> {
  const values = await pipelined<Buffer | null>(cluster, keys, (p, i) => p.getBuffer(keys[i]!), retries);
  const misses = values.flatMap((v, i) => (v === null ? [i] : []));
  if (misses.length === 0) return values;
  const again = await pipelined<Buffer | null>(
    cluster,
    misses.map((i) => keys[i]!),
    (p, k) => p.getrangeBuffer(keys[misses[k]!]!, 0, -1),
    retries,
  );
  // GETRANGE answers "" for an absent key: absent stays null (a block is never empty).
  misses.forEach((i, k) => (values[i] = again[k]!.length ? again[k]! : null));
  return values;
}

/** The versions the cluster lists, each marked when it is not pushed whole: for the message of a version mismatch. */
export async function describeVersions(cluster: Cluster, retries: number): Promise<string> {
  const versions = ((await cluster.smembers(VERSIONS_KEY)) as string[]).sort();
  if (versions.length === 0) return "it holds no rmc store version";
  const metas = await getValues(cluster, versions.map(versionKey), retries);
  const state = (m: Buffer | null) => (m === null ? " (dropped or half pushed)" : parseMeta(m)?.complete ? "" : " (incomplete)");
  return `it holds version${versions.length > 1 ? "s" : ""} ${versions.map((v, i) => `${v}${state(metas[i]!)}`).join(", ")}`;
}

export function parseMeta(bytes: Buffer): VersionMeta | undefined {
  try {
    const m = JSON.parse(bytes.toString("utf8")) as VersionMeta;
    return typeof m === "object" && m !== null && Array.isArray(m.tables) ? m : undefined;
  } catch {
    return undefined;
  }
}

export class RedisStore extends BlockStore {
  readonly where: string;

  private constructor(
    private readonly cluster: Cluster,
    private readonly version: string,
    private readonly cfg: ClusterConfig,
    nodes: readonly string[],
    crcs: ReadonlyMap<string, Uint32Array>,
    cacheBytes: number,
  ) {
    super(crcs, crc32, cacheBytes);
    this.where = clusterWhere(nodes);
  }

  /** Connects and checks that the cluster holds `version` whole, with these tables' blocks; E1742 naming the versions it holds otherwise. */
  static async open(o: RedisStoreOptions): Promise<RedisStore> {
    const cfg: ClusterConfig = { timeoutMs: o.timeoutMs ?? 2000, retries: o.retries ?? 2, replicaReads: o.replicaReads ?? true };
    parseNodes(o.nodes);
    if (!(cfg.timeoutMs > 0) || !Number.isInteger(cfg.retries) || cfg.retries < 0)
      throw new RmcError(
        error(STORE_CODES.config, `Redis store: timeoutMs must be > 0 and retries a whole number >= 0 (got ${cfg.timeoutMs} and ${cfg.retries})`),
      );
    const cluster = await connectCluster(o.nodes, cfg);
    const store = new RedisStore(cluster, o.version, cfg, o.nodes, o.crcs, o.cacheBytes);
    try {
      await withDeadline(store.checkVersion(o.tables), cfg.timeoutMs, () => `${store.where}: reading store version ${o.version}`);
    } catch (e) {
      cluster.disconnect();
      throw store.readError(e, `store version ${o.version}`);
    }
    return store;
  }

  private async checkVersion(tables: readonly StoreTable[]): Promise<void> {
    const [bytes] = await getValues(this.cluster, [versionKey(this.version)], this.cfg.retries);
    const meta = bytes ? parseMeta(bytes) : undefined;
    let why: string | undefined;
    if (!meta || meta.version !== this.version) why = `holds no store version ${this.version}`;
    else if (!meta.complete) why = `holds store version ${this.version} only in part (its push did not finish)`;
    else
      for (const t of tables) {
        const m = meta.tables.find((x) => x.name === t.name);
        if (!m) why ??= `holds store version ${this.version} without table ${t.name}`;
        else if (m.blocks !== t.blocks || m.blockRows !== t.blockRows || m.rowBytes !== t.rowBytes)
          why ??= `holds table ${t.name} of store version ${this.version} in ${m.blocks} blocks of ${m.blockRows} ${m.rowBytes}-byte rows, not the artifact's ${t.blocks} of ${t.blockRows} ${t.rowBytes}-byte rows`;
      }
    if (why === undefined) return;
    throw new RmcError(
      error(
        STORE_CODES.version,
        `${this.where} ${why}: ${await describeVersions(this.cluster, this.cfg.retries)}`,
        undefined,
        `push this artifact's store first: rmc store push DIST --redis redis://${this.where.replace(/^Redis Cluster /, "")}`,
      ),
    );
  }

  protected async readBlocks(table: StoreTable, blocks: readonly number[]): Promise<Uint8Array[]> {
    if (this.cluster.status === "end") throw new RmcError(error(STORE_CODES.read, `${this.where}: the store is closed`));
    const keys = blocks.map((b) => blockKey(this.version, table.name, b));
    const what = () => `${this.where}: reading ${blocks.length} block${blocks.length > 1 ? "s" : ""} of table ${table.name}`;
    let values: (Buffer | null)[];
    try {
      values = await withDeadline(getValues(this.cluster, keys, this.cfg.retries), this.cfg.timeoutMs, what);
    } catch (e) {
      throw this.readError(e, `block ${blocks[0]} of table ${table.name}${blocks.length > 1 ? ` (of ${blocks.length} blocks read together)` : ""}`);
    }
    return values.map((v, k) => {
      if (v) return v;
      const b = blocks[k]!;
      const [start, end] = blockRange(table, b);
      throw new RmcError(
        error(
          STORE_CODES.read,
          `${this.where}: block ${b} of table ${table.name} (rows ${start}..${end - 1}) is missing: no key ${keys[k]}`,
          undefined,
          "the cluster lost it or it was never pushed: run rmc store check, then rmc store push",
        ),
      );
    });
  }

  /** An RmcError as is; anything else (a Redis error that outlived the retries) as E1740 naming what was read. */
  private readError(e: unknown, what: string): RmcError {
    if (e instanceof RmcError) return e;
    return new RmcError(
      error(
        STORE_CODES.read,
        `${this.where}: cannot read ${what}: ${(e as Error).message}`,
        undefined,
        "is the cluster healthy? (redis-cli --cluster check)",
      ),
    );
  }

  async close(): Promise<void> {
    await closeCluster(this.cluster);
  }
}
