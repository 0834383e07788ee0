// The row cache of the embedding stores: least recently used rows of
// store-placed tables, within a byte budget (`load(dir, { cache: "512MiB" })`).
// A Map keeps insertion order, so a hit re-inserts its row and the oldest
// entry is always first to go. Keys are numbers (table index · 2³³ + row), not
// strings: a batch asks for thousands of rows. Rows are copied in and out, so
// a caller's buffer is never kept. The budget counts each entry's bookkeeping
// too (ENTRY_OVERHEAD), so a cache of small rows does not outgrow it.

/** Bytes a cached row costs besides its data (the Map entry and the array object), counted against the budget. */
export const ENTRY_OVERHEAD = 96;

/** LRU rows by (table, row), at most `budget` bytes in all. */
export class RowCache {
  private readonly rows = new Map<number, Uint8Array>();
  private readonly tables = new Map<string, number>();
  private bytes = 0;

  constructor(readonly budget: number) {}

  private key(table: string, row: number): number {
    let t = this.tables.get(table);
    if (t === undefined) this.tables.set(table, (t = this.tables.size));
    return t * 2 ** 33 + row;
  }

  /** Copies the cached row into `out` at `offset`; false when it is not cached. */
  copyTo(table: string, row: number, out: Uint8Array, offset: number): boolean {
    const key = this.key(table, row);
    const hit = this.rows.get(key);
    if (!hit) return false;
    this.rows.delete(key);
    this.rows.set(key, hit);
    out.set(hit, offset);
    return true;
  }

  /** Keeps a copy of a row, evicting the least recently used rows until it fits; a row over the budget is not kept. */
  put(table: string, row: number, bytes: Uint8Array): void {
    const cost = bytes.length + ENTRY_OVERHEAD;
    if (cost > this.budget) return;
    const key = this.key(table, row);
    const old = this.rows.get(key);
    if (old) {
      this.rows.delete(key);
      this.bytes -= old.length + ENTRY_OVERHEAD;
    }
    while (this.bytes + cost > this.budget) {
      const first = this.rows.keys().next();
      if (first.done) break;
      this.bytes -= this.rows.get(first.value)!.length + ENTRY_OVERHEAD;
      this.rows.delete(first.value);
    }
    this.rows.set(key, bytes.slice());
    this.bytes += cost;
  }

  /** Bytes held, bookkeeping included. */
  get size(): number {
    return this.bytes;
  }

  /** Rows held. */
  get count(): number {
    return this.rows.size;
  }
}
