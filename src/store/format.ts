// The store format: how the rows of store-placed embedding tables are laid out
// outside the model's memory, byte for byte, and how the manifest describes
// them. The backends write it (streaming, block by block), `rmc store push`
// copies it into a Redis Cluster, and the runtime's stores (file.ts,
// redis.ts) read it back. Rows are FBGEMM's row formats (docs/numerics.md),
// the same bytes the table would have in memory.
//
// A store table's rows file holds `rows` rows of `rowBytes` bytes, in row
// order, cut into blocks of `blockRows` rows (the last may be shorter): block
// b is rows [b·blockRows, min(rows, (b+1)·blockRows)) at byte offset
// b·blockRows·rowBytes. Its index file holds, per block, 32 bytes of sha256
// and 4 bytes of CRC-32 (little-endian) of the block's bytes: sha256 for
// `rmc store check` and `push`, CRC-32 for every read at run time (cheap
// enough per block). The manifest checksums the index file like any file, so
// the chain manifest → index → block covers every byte. In Redis a block is
// one string value under `rmc:<version>:<table>:<block>`.

/** The store section's format tag. */
export const STORE_FORMAT = "rmc-store/1";

/** Where a table's rows live: in the model's memory, in a file of the artifact, or in a Redis Cluster. */
export type Placement = "memory" | "file" | "redis";
export const PLACEMENTS: readonly Placement[] = ["memory", "file", "redis"];

/** Bytes of index per block: sha256 then CRC-32. */
export const INDEX_ENTRY_BYTES = 36;

/**
 * Target bytes of one block: one page. Cold ids of a Zipf tail are scattered, so
 * a block usually serves one row: its size is the read (and network) amplification.
 * bench:store measured 16 KiB blocks at 4x the bytes and about 3x the fetch time of 4 KiB ones.
 */
export const BLOCK_BYTES = 4 * 1024;

/** Rows per block for rows of `rowBytes` bytes. */
export const blockRowsFor = (rowBytes: number): number => Math.max(1, Math.floor(BLOCK_BYTES / rowBytes));

/** One part of a staged table (a whole table, a hot part kept in memory, or a part placed outside memory). */
export interface StoreTable {
  /** The weight's name in the IR (a part's own name, e.g. `emb.0.weight.cold0`). */
  name: string;
  /** `memory`: a part that stays in memory (a hot part), read whole at load; `file`/`redis`: read per call. */
  placement: Placement;
  /** Its row format: fp32 or one of FBGEMM's (fp16, int8, int4, int2). */
  format: string;
  dim: number;
  rows: number;
  rowBytes: number;
  blockRows: number;
  blocks: number;
  /** The rows file (in the artifact; for Redis placement, what `rmc store push` reads). */
  file: string;
  /** The index file: per block, sha256 and CRC-32. */
  index: string;
}

/** The manifest's `store` section. */
export interface StoreManifest {
  format: typeof STORE_FORMAT;
  /**
   * The store's version: sha256 (hex, first 16 digits) over every table's
   * name, format, shape and index. Two artifacts with the same rows share a
   * version; any change of a row gives another, so Redis can hold several
   * versions side by side during a rollout and a model never reads another's.
   */
  version: string;
  tables: StoreTable[];
  /** Rows each staged table holds per call (the staging area the kernels read). */
  stagingRows: number;
}

/** The Redis key of one block. No braces: a `{…}` would make Redis hash every key of a version to one slot. */
export const blockKey = (version: string, table: string, block: number): string => `rmc:${version}:${table}:${block}`;

/** The key that says a version is pushed whole (a JSON of its tables and block counts, written last). */
export const versionKey = (version: string): string => `rmc:${version}:meta`;

/** The set of versions a cluster holds (for a clear error when a model finds another version's rows). */
export const VERSIONS_KEY = "rmc:versions";

/** Row range of block `b`. */
export function blockRange(t: Pick<StoreTable, "rows" | "blockRows">, b: number): [number, number] {
  const start = b * t.blockRows;
  return [start, Math.min(t.rows, start + t.blockRows)];
}

/** Byte offset of block `b` in the rows file. */
export const blockOffset = (t: Pick<StoreTable, "blockRows" | "rowBytes">, b: number): number => b * t.blockRows * t.rowBytes;

/** Each block's CRC-32 from an index file's bytes. */
export function indexCrcs(index: Uint8Array, blocks: number): Uint32Array {
  if (index.length !== blocks * INDEX_ENTRY_BYTES) throw new Error(`a store index of ${index.length} bytes for ${blocks} blocks`);
  const view = new DataView(index.buffer, index.byteOffset, index.byteLength);
  const out = new Uint32Array(blocks);
  for (let b = 0; b < blocks; b++) out[b] = view.getUint32(b * INDEX_ENTRY_BYTES + 32, true);
  return out;
}

/** Block `b`'s sha256 (hex) from an index file's bytes. */
export function indexSha256(index: Uint8Array, b: number): string {
  let hex = "";
  for (let i = 0; i < 32; i++) hex += index[b * INDEX_ENTRY_BYTES + i]!.toString(16).padStart(2, "0");
  return hex;
}
