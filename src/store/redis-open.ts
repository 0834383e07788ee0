// Opening the Redis Cluster store for a loaded model (Node only; the runtime
// imports it dynamically, so browser bundles never see ioredis): the
// artifact's Redis-placed tables, their block checksums and the load options.

import type { StoreManifest } from "./format.js";
import { RedisStore } from "./redis.js";
import type { EmbeddingStore } from "./store.js";

export async function openRedisStore(
  store: StoreManifest,
  crcs: ReadonlyMap<string, Uint32Array>,
  opts: { cacheBytes: number; redis?: readonly string[]; timeoutMs?: number },
): Promise<EmbeddingStore> {
  return RedisStore.open({
    nodes: [...(opts.redis ?? [])],
    version: store.version,
    tables: store.tables.filter((t) => t.placement === "redis"),
    crcs,
    cacheBytes: opts.cacheBytes,
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
  });
}
