// The row cache of the embedding stores: least recently used rows of
// store-placed tables, within a byte budget (`load(dir, { cache: "512MiB" })`).
// Built to stay out of the garbage collector's way, since a cache of a
// million rows must not cost every call a longer GC: rows live in slabs (one
// per table, in chunks of CHUNK_BYTES), the recency list is typed arrays of
// entry numbers, and each table finds its rows through a Map from row number
// to entry number (small integers both, so V8 stores them unboxed). A hit
// moves its entry to the front, the back is evicted first, and an evicted
// row's slot is reused by its table. Rows are copied in and out, so a
// caller's buffer is never kept. The budget counts each entry's bookkeeping
// too (ENTRY_OVERHEAD), so a cache of small rows does not outgrow it. A
// table's slab keeps the slots of its peak (reused, not returned), so when
// traffic moves from one table to another the memory held can exceed the
// budget by the first table's free slots.

/** Bytes a cached row costs besides its data (its Map entry and list links), counted against the budget. */
export const ENTRY_OVERHEAD = 96;

/** Bytes of one slab chunk (at least one row). */
const CHUNK_BYTES = 1 << 20;

const NONE = -1;

/** One table's rows: where each cached row's entry is, and the slab that holds the bytes. */
class TableRows {
  readonly entryOf = new Map<number, number>();
  private readonly chunks: Uint8Array[] = [];
  private readonly free: number[] = [];
  private used = 0;
  readonly perChunk: number;

  constructor(
    readonly index: number,
    readonly rowBytes: number,
  ) {
    this.perChunk = Math.max(1, Math.floor(CHUNK_BYTES / rowBytes));
  }

  alloc(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    const slot = this.used++;
    if (slot % this.perChunk === 0) this.chunks.push(new Uint8Array(this.perChunk * this.rowBytes));
    return slot;
  }

  release(slot: number): void {
    this.free.push(slot);
  }

  /** The chunk and byte offset of `slot`. */
  at(slot: number): [Uint8Array, number] {
    return [this.chunks[Math.floor(slot / this.perChunk)]!, (slot % this.perChunk) * this.rowBytes];
  }
}

/** LRU rows by (table, row), at most `budget` bytes in all. */
export class RowCache {
  private readonly tables = new Map<string, TableRows>();
  private readonly byIndex: TableRows[] = [];
  // Entry e: its table (index into byIndex), row, slot, and links (most recently used at `head`).
  private table = new Int32Array(0);
  private row = new Float64Array(0);
  private slot = new Int32Array(0);
  private prev = new Int32Array(0);
  private next = new Int32Array(0);
  private readonly freeEntries: number[] = [];
  private entries = 0;
  private head = NONE;
  private tail = NONE;
  private bytes = 0;
  private live = 0;

  constructor(readonly budget: number) {}

  private unlink(e: number): void {
    const p = this.prev[e]!;
    const n = this.next[e]!;
    if (p !== NONE) this.next[p] = n;
    else this.head = n;
    if (n !== NONE) this.prev[n] = p;
    else this.tail = p;
  }

  private pushFront(e: number): void {
    this.prev[e] = NONE;
    this.next[e] = this.head;
    if (this.head !== NONE) this.prev[this.head] = e;
    this.head = e;
    if (this.tail === NONE) this.tail = e;
  }

  private evict(e: number): void {
    this.unlink(e);
    const t = this.byIndex[this.table[e]!]!;
    t.entryOf.delete(this.row[e]!);
    t.release(this.slot[e]!);
    this.freeEntries.push(e);
    this.bytes -= t.rowBytes + ENTRY_OVERHEAD;
    this.live--;
  }

  /** A free entry number, growing the arrays (doubling) when none is. */
  private newEntry(): number {
    const reused = this.freeEntries.pop();
    if (reused !== undefined) return reused;
    if (this.entries === this.slot.length) {
      const size = Math.max(1024, this.entries * 2);
      const grow = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
        const b = make(size);
        b.set(a);
        return b;
      };
      this.table = grow(this.table, (n) => new Int32Array(n));
      this.row = grow(this.row, (n) => new Float64Array(n));
      this.slot = grow(this.slot, (n) => new Int32Array(n));
      this.prev = grow(this.prev, (n) => new Int32Array(n));
      this.next = grow(this.next, (n) => new Int32Array(n));
    }
    return this.entries++;
  }

  /** Copies the cached row into `out` at `offset`; false when it is not cached. */
  copyTo(table: string, row: number, out: Uint8Array, offset: number): boolean {
    if (this.live === 0) return false;
    const t = this.tables.get(table);
    const e = t?.entryOf.get(row);
    if (e === undefined) return false;
    if (e !== this.head) {
      this.unlink(e);
      this.pushFront(e);
    }
    const [chunk, at] = t!.at(this.slot[e]!);
    out.set(chunk.subarray(at, at + t!.rowBytes), offset);
    return true;
  }

  /** Keeps a copy of a row, evicting the least recently used rows until it fits; a row over the budget is not kept. */
  put(table: string, row: number, bytes: Uint8Array): void {
    const cost = bytes.length + ENTRY_OVERHEAD;
    if (cost > this.budget) return;
    let t = this.tables.get(table);
    if (!t) {
      t = new TableRows(this.byIndex.length, bytes.length);
      this.tables.set(table, t);
      this.byIndex.push(t);
    }
    if (bytes.length !== t.rowBytes) return; // a table's rows are all one size; anything else is not a row of it
    const old = t.entryOf.get(row);
    if (old !== undefined) this.evict(old);
    while (this.bytes + cost > this.budget && this.tail !== NONE) this.evict(this.tail);
    const e = this.newEntry();
    this.table[e] = t.index;
    this.row[e] = row;
    this.slot[e] = t.alloc();
    const [chunk, at] = t.at(this.slot[e]!);
    chunk.set(bytes, at);
    t.entryOf.set(row, e);
    this.pushFront(e);
    this.bytes += cost;
    this.live++;
  }

  /** Bytes held, bookkeeping included. */
  get size(): number {
    return this.bytes;
  }

  /** Rows held. */
  get count(): number {
    return this.live;
  }
}
