// Opening the Redis Cluster store for a loaded model (Node only; the runtime
// imports it dynamically, so browser bundles never see ioredis).

import { RmcError, error } from "../diagnostics/index.js";
import type { StoreManifest } from "./format.js";
import type { EmbeddingStore } from "./store.js";

export async function openRedisStore(
  _store: StoreManifest,
  _crcs: ReadonlyMap<string, Uint32Array>,
  _opts: { cacheBytes: number; redis?: readonly string[]; timeoutMs?: number },
): Promise<EmbeddingStore> {
  throw new RmcError(error("E1744", "the Redis Cluster store is not part of this build yet"));
}
