// Redis Cluster plumbing shared by the Redis store (redis.ts, reads at run
// time) and `rmc store push|check|drop` (push.ts): node addresses, the
// ioredis Cluster client with bounded timeouts, and one command per key sent
// as pipelines grouped by the node group that serves each key's slot. Node
// only (ioredis needs sockets): the runtime reaches it through a dynamic
// import of redis.ts, never from the browser path.
//
// Why the grouping: ioredis sends a cluster pipeline whole to one node and
// refuses one whose keys' slots are served by different node groups ("All
// keys in the pipeline should belong to the same slots allocation group").
// Block keys carry no hash tag, so a call's blocks spread over every master;
// grouping by `cluster.slots[slot]` (the group's master and replicas, the
// very list ioredis compares) gives one pipeline per group, all in flight
// at once, and a read costs one round trip per node, not per block.

import { Cluster, type ChainableCommander, type Redis } from "ioredis";
import { RmcError, error } from "../diagnostics/index.js";
import { STORE_CODES } from "./store.js";

/** How a client talks to the cluster: per-call timeout, retries of transient errors, replica reads. */
export interface ClusterConfig {
  timeoutMs: number;
  retries: number;
  replicaReads: boolean;
}

/** `Redis Cluster 127.0.0.1:7000,127.0.0.1:7001`: where rows come from, in messages. */
export const clusterWhere = (nodes: readonly string[]): string => `Redis Cluster ${nodes.join(",")}`;

const NODE = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Checks `host:port` addresses; a bad one is E1744 showing the form expected (`hint`). */
export function parseNodes(
  nodes: readonly string[],
  hint = "expected host:port, e.g. 127.0.0.1:7000",
  what = (n: string) => `\`${n}\` is not a Redis node address`,
): { host: string; port: number }[] {
  if (nodes.length === 0) throw configError("no Redis node given", hint);
  return nodes.map((n) => {
    const m = NODE.exec(n);
    const port = Number(m?.[2]);
    if (!m || port < 1 || port > 65535) throw configError(what(n), hint);
    return { host: m[1]!.replace(/^\[|\]$/g, ""), port };
  });
}

/** The nodes of `redis://host:port[,host:port…]` (the CLI's --redis); E1744 when it is not of that form. */
export function parseRedisUrl(url: string): string[] {
  const m = /^rediss?:\/\/(.+)$/.exec(url.trim());
  const form = "expected redis://host:port[,host:port…], e.g. redis://127.0.0.1:7000,127.0.0.1:7001";
  if (!m) throw configError(`--redis \`${url}\` is not a Redis Cluster address`, form);
  if (url.startsWith("rediss:")) throw configError(`--redis \`${url}\`: TLS (rediss://) is not supported`, form);
  const nodes = m[1]!.replace(/\/$/, "").split(",");
  parseNodes(nodes, form, (n) => `--redis \`${url}\`: \`${n}\` is not host:port`);
  return nodes;
}

const configError = (message: string, hint: string) => new RmcError(error(STORE_CODES.config, message, undefined, hint));

/** A key's cluster slot: CRC16 (XMODEM) of the key, or of its `{hash tag}`, mod 16384 (the Redis Cluster spec). */
export function keySlot(key: string): number {
  const open = key.indexOf("{");
  const close = open >= 0 ? key.indexOf("}", open + 1) : -1;
  const bytes = Buffer.from(close > open + 1 ? key.slice(open + 1, close) : key);
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

/**
 * Picks the node for a read: any live copy of the slot (replicas included)
 * for GET, the master for GETRANGE — the command a miss is asked again with,
 * since a replica may lag (a new one still syncing serves no keys yet).
 */
function pickReader(nodes: (Redis | undefined)[], command: { name: string }): Redis | Redis[] | undefined {
  if (command.name === "getrange") return nodes[0];
  const live = nodes.filter((n): n is Redis => n !== undefined && n.status === "ready");
  return live.length ? live : nodes[0];
}

/** Connects within the timeout; E1740 naming the nodes when none answers. */
export async function connectCluster(nodes: readonly string[], cfg: ClusterConfig): Promise<Cluster> {
  const startup = parseNodes(nodes);
  const cluster = new Cluster(startup, {
    lazyConnect: true,
    scaleReads: cfg.replicaReads ? pickReader : "master",
    // No queue while disconnected: a command fails at once, and our own retries and deadline decide (nothing piles up during an outage).
    enableOfflineQueue: false,
    slotsRefreshTimeout: Math.min(cfg.timeoutMs, 1000),
    // A failover's moved slots and closed connections are retried inside ioredis (100 ms apart, 16 times at most), within our deadline.
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    // Keep reconnecting in the background once every node was lost: a store outlives an outage; each call has its own deadline.
    clusterRetryStrategy: (times: number) => Math.min(100 * times, 1000),
    redisOptions: { commandTimeout: cfg.timeoutMs, connectTimeout: cfg.timeoutMs, maxRetriesPerRequest: cfg.retries },
  });
  // Errors reach callers through their commands; an unheard "error" event would only print noise.
  cluster.on("error", () => {});
  cluster.on("node error", () => {});
  try {
    await withDeadline(cluster.connect(), cfg.timeoutMs, () => `connecting to ${clusterWhere(nodes)}`);
  } catch (e) {
    cluster.disconnect();
    if (e instanceof RmcError) throw e;
    throw new RmcError(
      error(
        STORE_CODES.read,
        `${clusterWhere(nodes)}: cannot connect (${(e as Error).message})`,
        undefined,
        "is the cluster up, and are these its nodes' addresses?",
      ),
    );
  }
  return cluster;
}

/** Closes a client: QUIT when the nodes answer soon, else drops the sockets. */
export async function closeCluster(cluster: Cluster): Promise<void> {
  if (cluster.status === "end") return;
  const timer = setTimeout(() => cluster.disconnect(), 500);
  try {
    await cluster.quit();
  } catch {
    cluster.disconnect();
  } finally {
    clearTimeout(timer);
  }
}

/** Settles with `work`, or rejects with E1743 after `ms`: no call waits on the cluster longer than its timeout. */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new RmcError(
            error(
              STORE_CODES.timeout,
              `${what()} did not finish within ${ms} ms`,
              undefined,
              "is the cluster up and reachable? (the timeout is the store's timeoutMs)",
            ),
          ),
        ),
      ms,
    );
  });
  // What finishes after the deadline is dropped, not reported as unhandled.
  work.catch(() => {});
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Errors worth another try: the cluster moving slots, failing over, or a connection lost on the way. */
export function isTransient(e: unknown): boolean {
  const m = e instanceof Error ? e.message : String(e);
  return /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN|LOADING|READONLY|MASTERDOWN)\b|Connection is closed|Cluster isn't ready|None of startup nodes|ECONNREFUSED|ECONNRESET|EPIPE|Command timed out|same slots allocation group|Too many Cluster redirections/.test(
    m,
  );
}

/** Commands per pipeline: enough to fill a round trip, few enough that one slow node holds back little. */
const CHUNK = 256;

/**
 * Sends one command per key (`add(pipeline, i)` queues key i's), as one
 * pipeline per node group and chunk, all at once; the replies in key order.
 * Keys whose command failed transiently are regrouped (their slot may have
 * moved) and sent again, up to `retries` times; any other error is thrown.
 */
export async function pipelined<T>(
  cluster: Cluster,
  keys: readonly string[],
  add: (p: ChainableCommander, i: number) => void,
  retries: number,
): Promise<T[]> {
  const out: T[] = new Array(keys.length);
  let todo = keys.map((_, i) => i);
  for (let attempt = 0; ; attempt++) {
    const failed: number[] = [];
    let last: unknown;
    await Promise.all(
      groups(cluster, keys, todo).map(async (group) => {
        const p = cluster.pipeline();
        for (const i of group) add(p, i);
        let replies: [Error | null, unknown][] | null;
        try {
          replies = await p.exec();
        } catch (e) {
          if (!isTransient(e)) throw e;
          replies = null;
          last = e;
        }
        group.forEach((i, k) => {
          const [err, value] = replies?.[k] ?? [last as Error, undefined];
          if (!err) out[i] = value as T;
          else if (isTransient(err)) {
            failed.push(i);
            last = err;
          } else throw err;
        });
      }),
    );
    if (failed.length === 0) return out;
    if (attempt >= retries) throw last;
    // A failover takes a moment to settle: back off a little more each time.
    await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
    todo = failed.sort((a, b) => a - b);
  }
}

/** Key indices grouped by the node group serving their slot, in chunks of at most CHUNK. */
function groups(cluster: Cluster, keys: readonly string[], todo: readonly number[]): number[][] {
  const byNodes = new Map<string, number[]>();
  for (const i of todo) {
    const slot = keySlot(keys[i]!);
    // Unknown slot (topology still loading): a group of its own, so ioredis routes it and follows any MOVED.
    const id = cluster.slots[slot]?.join(";") ?? `?${slot}`;
    const list = byNodes.get(id);
    if (list) list.push(i);
    else byNodes.set(id, [i]);
  }
  const out: number[][] = [];
  for (const list of byNodes.values()) for (let k = 0; k < list.length; k += CHUNK) out.push(list.slice(k, k + CHUNK));
  return out;
}
