// The EmbeddingStore: rows of store-placed tables for a set of row ids, from
// wherever they live. One interface, two places: file.ts (positional reads of
// the artifact's rows files, one machine) and redis.ts (a Redis Cluster, many
// machines). Both are built on BlockStore, which owns what they share: the
// LRU row cache with a byte budget, the CRC-32 check of every block read
// against the artifact's index (a corrupted block is refused, naming its
// table and block), merging the rows asked for into block reads, and the
// statistics the runtime reports apart from compute time.

import { RmcError, error } from "../diagnostics/index.js";
import { blockRange, type StoreTable } from "./format.js";
import { RowCache } from "./cache.js";

/** What a store did so far: requests, what the cache answered, what was read and how long it took. */
export interface StoreStats {
  /** getRows calls. */
  requests: number;
  /** Rows asked for, and of those the ones the cache held. */
  rows: number;
  hits: number;
  /** Blocks read from the file or the cluster, and their bytes. */
  blocks: number;
  bytes: number;
  /** Wall time spent waiting for reads, in milliseconds. */
  fetchMs: number;
}

/** Rows of store-placed tables, by row id. */
export interface EmbeddingStore {
  /** Where the rows come from, for messages ("file store dist/store/…", "Redis Cluster 127.0.0.1:7000"). */
  readonly where: string;
  /** Copies rows `rows[i]` of `table` to `out` at `i * table.rowBytes`; rejects with an RmcError naming the table and block when one cannot be read or is corrupted. */
  getRows(table: StoreTable, rows: ArrayLike<number>, out: Uint8Array): Promise<void>;
  stats(): StoreStats;
  close(): Promise<void>;
}

/** Diagnostic codes of the stores. */
export const STORE_CODES = { read: "E1740", corrupt: "E1741", version: "E1742", timeout: "E1743", config: "E1744" } as const;

/** A CRC-32 of bytes (IEEE), as the index records it. */
export type Crc32 = (bytes: Uint8Array) => number;

/**
 * The shared half of every store: cache, merging, verification, statistics.
 * A subclass reads whole blocks (`readBlocks`), in the order asked.
 */
export abstract class BlockStore implements EmbeddingStore {
  abstract readonly where: string;
  private readonly cache: RowCache;
  private readonly counters: StoreStats = { requests: 0, rows: 0, hits: 0, blocks: 0, bytes: 0, fetchMs: 0 };

  constructor(
    /** Per table, each block's CRC-32 from the artifact's index file. */
    private readonly crcs: ReadonlyMap<string, Uint32Array>,
    private readonly crc32: Crc32,
    cacheBytes: number,
  ) {
    this.cache = new RowCache(cacheBytes);
  }

  /** Reads blocks `blocks` of `table` whole (the last block of a table may be short). */
  protected abstract readBlocks(table: StoreTable, blocks: readonly number[]): Promise<Uint8Array[]>;

  async getRows(table: StoreTable, rows: ArrayLike<number>, out: Uint8Array): Promise<void> {
    const rb = table.rowBytes;
    this.counters.requests++;
    this.counters.rows += rows.length;
    // Rows the cache lacks, by block: each block is read once per call, whatever number of its rows is wanted.
    const wanted = new Map<number, number[]>();
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      if (this.cache.copyTo(table.name, row, out, i * rb)) {
        this.counters.hits++;
        continue;
      }
      const b = Math.floor(row / table.blockRows);
      const list = wanted.get(b);
      if (list) list.push(i);
      else wanted.set(b, [i]);
    }
    if (wanted.size === 0) return;
    const blocks = [...wanted.keys()].sort((a, b) => a - b);
    const t0 = performance.now();
    const bytes = await this.readBlocks(table, blocks);
    this.counters.fetchMs += performance.now() - t0;
    blocks.forEach((b, k) => {
      const data = bytes[k]!;
      this.verify(table, b, data);
      this.counters.blocks++;
      this.counters.bytes += data.length;
      const [start] = blockRange(table, b);
      for (const i of wanted.get(b)!) {
        const row = rows[i]!;
        const src = data.subarray((row - start) * rb, (row - start + 1) * rb);
        out.set(src, i * rb);
        this.cache.put(table.name, row, src);
      }
    });
  }

  /** Refuses a block whose bytes are not the ones the artifact's index recorded. */
  private verify(table: StoreTable, b: number, data: Uint8Array): void {
    const [start, end] = blockRange(table, b);
    const want = this.crcs.get(table.name)?.[b];
    const size = (end - start) * table.rowBytes;
    if (data.length !== size || want === undefined || this.crc32(data) >>> 0 !== want)
      throw new RmcError(
        error(
          STORE_CODES.corrupt,
          `${this.where}: block ${b} of table ${table.name} (rows ${start}..${end - 1}) is ${data.length !== size ? `${data.length} bytes, not ${size}` : "corrupted: its CRC-32 is not the one the artifact's index records"}`,
          undefined,
          "the rows do not belong to this artifact: re-push it (rmc store push) or restore its store files",
        ),
      );
  }

  stats(): StoreStats {
    return { ...this.counters };
  }

  abstract close(): Promise<void>;
}
