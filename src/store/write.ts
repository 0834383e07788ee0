// Writing a store table: its rows, streamed in row order into the rows file
// block by block, each block's sha256 and CRC-32 into the index file, and the
// whole file's sha256 on the way (so a multi-gigabyte table is hashed while
// it is written, never read back). Node only: backends call it from the
// compile step.

import { createHash, type Hash } from "node:crypto";
import { closeSync, openSync, writeSync } from "node:fs";
import { crc32 } from "node:zlib";
import { INDEX_ENTRY_BYTES, blockRowsFor, type StoreTable } from "./format.js";

/** Streams one table's rows into `rowsPath` and its block index into `indexPath`. */
export class StoreTableWriter {
  readonly blockRows: number;
  private readonly rowsFd: number;
  private readonly indexFd: number;
  private readonly block: Uint8Array;
  private fill = 0;
  private rowsWritten = 0;
  private blocks = 0;
  private readonly fileHash: Hash = createHash("sha256");
  private readonly indexHash: Hash = createHash("sha256");

  constructor(
    private readonly table: Omit<StoreTable, "blockRows" | "blocks">,
    rowsPath: string,
    indexPath: string,
  ) {
    this.blockRows = blockRowsFor(table.rowBytes);
    this.block = new Uint8Array(this.blockRows * table.rowBytes);
    this.rowsFd = openSync(rowsPath, "w");
    this.indexFd = openSync(indexPath, "w");
  }

  /** Appends rows (a whole number of rows' bytes), in row order. */
  write(bytes: Uint8Array): void {
    const rb = this.table.rowBytes;
    if (bytes.length % rb !== 0) throw new Error(`store write of ${bytes.length} bytes is not a whole number of ${rb}-byte rows`);
    let at = 0;
    while (at < bytes.length) {
      const take = Math.min(bytes.length - at, this.block.length - this.fill);
      this.block.set(bytes.subarray(at, at + take), this.fill);
      this.fill += take;
      at += take;
      if (this.fill === this.block.length) this.flush();
    }
    this.rowsWritten += bytes.length / rb;
  }

  private flush(): void {
    if (this.fill === 0) return;
    const data = this.block.subarray(0, this.fill);
    writeSync(this.rowsFd, data);
    this.fileHash.update(data);
    const entry = new Uint8Array(INDEX_ENTRY_BYTES);
    entry.set(createHash("sha256").update(data).digest(), 0);
    new DataView(entry.buffer).setUint32(32, crc32(data) >>> 0, true);
    writeSync(this.indexFd, entry);
    this.indexHash.update(entry);
    this.blocks++;
    this.fill = 0;
  }

  /** Writes the last block and closes both files; the table's entry, and both files' sha256. */
  finish(): { table: StoreTable; rowsSha256: string; indexSha256: string } {
    this.flush();
    closeSync(this.rowsFd);
    closeSync(this.indexFd);
    if (this.rowsWritten !== this.table.rows) throw new Error(`store table ${this.table.name}: wrote ${this.rowsWritten} rows of ${this.table.rows}`);
    return {
      table: { ...this.table, blockRows: this.blockRows, blocks: this.blocks },
      rowsSha256: this.fileHash.digest("hex"),
      indexSha256: this.indexHash.digest("hex"),
    };
  }

  /** Closes the files without finishing (a failed compile removes the whole folder). */
  abort(): void {
    for (const fd of [this.rowsFd, this.indexFd])
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
  }
}

/** The store's version: a content hash over every table's description and index sha256, in table order. */
export function storeVersion(tables: readonly { table: StoreTable; indexSha256: string }[]): string {
  const h = createHash("sha256");
  for (const { table: t, indexSha256 } of tables) h.update(JSON.stringify([t.name, t.format, t.dim, t.rows, t.rowBytes, t.blockRows, indexSha256]));
  return h.digest("hex").slice(0, 16);
}
