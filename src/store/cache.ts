// The row cache of the embedding stores: least recently used rows of
// store-placed tables, within a byte budget (`load(dir, { cache: "512MiB" })`).
// Rows live in slabs, one set per table (its rows are all one size), in
// chunks of CHUNK_BYTES: a cache of a million rows is a few hundred buffers,
// not a million ArrayBuffers, which V8's collector would have to track one by
// one (bench:store measured a per-row `slice()` cache at a fifth of the speed
// of no cache). Recency is a doubly linked list over entries; a hit moves its
// entry to the front, the back is evicted first, and an evicted row's slot is
// reused by its table. Keys are numbers (table index · 2³³ + row), not
// strings: a batch asks for thousands of rows. Rows are copied in and out, so
// a caller's buffer is never kept. The budget counts each entry's bookkeeping
// too (ENTRY_OVERHEAD), so a cache of small rows does not outgrow it. A
// table's slab keeps the slots of its peak (they are reused, not returned), so
// when traffic moves from one table to another the memory held can exceed the
// budget by the first table's free slots.

/** Bytes a cached row costs besides its data (the Map entry and the list node), counted against the budget. */
export const ENTRY_OVERHEAD = 96;

/** Bytes of one slab chunk (at least one row). */
const CHUNK_BYTES = 1 << 20;

/** The slots of one table's rows. */
class Slab {
  private readonly chunks: Uint8Array[] = [];
  private readonly free: number[] = [];
  private used = 0;
  readonly perChunk: number;

  constructor(readonly rowBytes: number) {
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

  /** The row in `slot`, as a view. */
  row(slot: number): Uint8Array {
    const at = (slot % this.perChunk) * this.rowBytes;
    return this.chunks[Math.floor(slot / this.perChunk)]!.subarray(at, at + this.rowBytes);
  }
}

interface Entry {
  key: number;
  slab: Slab;
  slot: number;
  prev: Entry | undefined;
  next: Entry | undefined;
}

/** LRU rows by (table, row), at most `budget` bytes in all. */
export class RowCache {
  private readonly entries = new Map<number, Entry>();
  private readonly tables = new Map<string, { index: number; slabs: Map<number, Slab> }>();
  /** Most recently used first. */
  private head: Entry | undefined;
  private tail: Entry | undefined;
  private bytes = 0;

  constructor(readonly budget: number) {}

  private table(name: string): { index: number; slabs: Map<number, Slab> } {
    let t = this.tables.get(name);
    if (!t) this.tables.set(name, (t = { index: this.tables.size, slabs: new Map() }));
    return t;
  }

  private unlink(e: Entry): void {
    if (e.prev) e.prev.next = e.next;
    else this.head = e.next;
    if (e.next) e.next.prev = e.prev;
    else this.tail = e.prev;
    e.prev = e.next = undefined;
  }

  private pushFront(e: Entry): void {
    e.next = this.head;
    if (this.head) this.head.prev = e;
    this.head = e;
    this.tail ??= e;
  }

  private evict(e: Entry): void {
    this.unlink(e);
    this.entries.delete(e.key);
    e.slab.release(e.slot);
    this.bytes -= e.slab.rowBytes + ENTRY_OVERHEAD;
  }

  /** Copies the cached row into `out` at `offset`; false when it is not cached. */
  copyTo(table: string, row: number, out: Uint8Array, offset: number): boolean {
    if (this.entries.size === 0) return false;
    const e = this.entries.get(this.table(table).index * 2 ** 33 + row);
    if (!e) return false;
    if (e !== this.head) {
      this.unlink(e);
      this.pushFront(e);
    }
    out.set(e.slab.row(e.slot), offset);
    return true;
  }

  /** Keeps a copy of a row, evicting the least recently used rows until it fits; a row over the budget is not kept. */
  put(table: string, row: number, bytes: Uint8Array): void {
    const cost = bytes.length + ENTRY_OVERHEAD;
    if (cost > this.budget) return;
    const t = this.table(table);
    const key = t.index * 2 ** 33 + row;
    const old = this.entries.get(key);
    if (old) this.evict(old);
    while (this.bytes + cost > this.budget && this.tail) this.evict(this.tail);
    let slab = t.slabs.get(bytes.length);
    if (!slab) t.slabs.set(bytes.length, (slab = new Slab(bytes.length)));
    const e: Entry = { key, slab, slot: slab.alloc(), prev: undefined, next: undefined };
    slab.row(e.slot).set(bytes);
    this.entries.set(key, e);
    this.pushFront(e);
    this.bytes += cost;
  }

  /** Bytes held, bookkeeping included. */
  get size(): number {
    return this.bytes;
  }

  /** Rows held. */
  get count(): number {
    return this.entries.size;
  }
}
