// Fixed-memory sketches for `rmc data-stats` on files of any size: a
// HyperLogLog for the number of distinct ids per column, and Space-Saving for
// the most frequent ids with counts and an error bound. Both take string keys
// (the raw hex ids as written), so they need no model.

import { mix32 } from "../util/rng.js";

/** Two independent 32-bit hashes of a string (FNV-1a and a multiply-rotate variant, each finished by murmur3's mixer), written to `out`. */
export function hash64Into(s: string, out: Uint32Array): void {
  let a = 0x811c9dc5;
  let b = 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0xcc9e2d51);
    b = (b << 15) | (b >>> 17);
  }
  out[0] = mix32(a ^ s.length);
  out[1] = mix32(Math.imul(b, 0x1b873593) ^ 0x27d4eb2f);
}

/** `hash64Into` as a pair. */
export function hash64(s: string): [number, number] {
  const out = new Uint32Array(2);
  hash64Into(s, out);
  return [out[0]!, out[1]!];
}

/**
 * HyperLogLog (Flajolet et al. 2007) over a 64-bit hash: `2^precision`
 * registers, relative error about 1.04 / sqrt(2^precision) (0.8% at 14),
 * from a handful of ids to billions.
 */
export class HyperLogLog {
  private readonly registers: Uint8Array;
  private readonly m: number;
  private readonly indexShift: number;
  private readonly lowMask: number;

  constructor(readonly precision = 14) {
    if (!(Number.isInteger(precision) && precision >= 4 && precision <= 18))
      throw new RangeError(`HyperLogLog precision must be 4..18, got ${precision}`);
    this.m = 1 << precision;
    this.registers = new Uint8Array(this.m);
    this.indexShift = 32 - precision;
    this.lowMask = this.indexShift === 32 ? 0xffffffff : (1 << this.indexShift) - 1;
  }

  private readonly scratch = new Uint32Array(2);

  add(key: string): void {
    hash64Into(key, this.scratch);
    this.addHash(this.scratch[0]!, this.scratch[1]!);
  }

  /** Adds a precomputed 64-bit hash given as two 32-bit halves. */
  addHash(hi: number, lo: number): void {
    const index = hi >>> this.indexShift;
    // Leading zeros of the remaining 64 - precision bits: hi's low bits, then lo.
    const rest = hi & this.lowMask;
    const zeros = rest !== 0 ? Math.clz32(rest) - this.precision : lo !== 0 ? this.indexShift + Math.clz32(lo) : this.indexShift + 32;
    const rank = zeros + 1;
    if (rank > this.registers[index]!) this.registers[index] = rank;
  }

  /**
   * Estimated number of distinct keys added. Ertl's improved estimator (2017):
   * the classic harmonic mean with its two range corrections built in — empty
   * registers through sigma, saturated ones through tau — so there is no bias
   * bump where classic HLL switches from linear counting to the raw estimate.
   */
  estimate(): number {
    const m = this.m;
    const q = 64 - this.precision;
    const histogram = new Float64Array(q + 2);
    for (let i = 0; i < m; i++) histogram[this.registers[i]!]!++;
    let z = m * tau(1 - histogram[q + 1]! / m);
    for (let k = q; k >= 1; k--) z = 0.5 * (z + histogram[k]!);
    z += m * sigma(histogram[0]! / m);
    return (m * m) / (2 * Math.LN2 * z);
  }
}

/** sigma(x) = x + sum_k x^(2^k) 2^(k-1): accounts for empty registers. */
function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  for (;;) {
    x *= x;
    const next = z + x * y;
    y += y;
    if (next === z) return z;
    z = next;
  }
}

/** tau(x) = (1 - x - sum_k (1 - x^(2^-k))^2 2^-k) / 3: accounts for saturated registers. */
function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  for (;;) {
    x = Math.sqrt(x);
    y *= 0.5;
    const next = z - (1 - x) ** 2 * y;
    if (next === z) return z / 3;
    z = next;
  }
}

/** A heavy hitter: `count` over-estimates the true count by at most `error`. */
export interface HeavyHitter {
  key: string;
  count: number;
  error: number;
}

/**
 * Space-Saving (Metwally et al. 2005): keeps `capacity` counters; an unseen key
 * evicts the smallest counter and inherits its count as its error bound. Every
 * key with true frequency above total/capacity is guaranteed to be kept.
 * Counters live in a binary min-heap so updates cost O(log capacity).
 */
export class SpaceSaving {
  /** A binary min-heap on count; each entry knows its heap position so swaps touch no map. */
  private readonly heap: { key: string; count: number; error: number; at: number }[] = [];
  private readonly byKey = new Map<string, { key: string; count: number; error: number; at: number }>();
  /** Items seen. */
  total = 0;

  constructor(readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError(`Space-Saving capacity must be a positive integer, got ${capacity}`);
  }

  add(key: string, times = 1): void {
    this.total += times;
    const seen = this.byKey.get(key);
    if (seen !== undefined) {
      seen.count += times;
      this.siftDown(seen.at);
      return;
    }
    const heap = this.heap;
    if (heap.length < this.capacity) {
      const entry = { key, count: times, error: 0, at: heap.length };
      heap.push(entry);
      this.byKey.set(key, entry);
      this.siftUp(entry.at);
      return;
    }
    // Reuse the minimum (the heap root) for the new key.
    const root = heap[0]!;
    this.byKey.delete(root.key);
    root.key = key;
    root.error = root.count;
    root.count += times;
    this.byKey.set(key, root);
    this.siftDown(0);
  }

  /** The `k` largest counters, largest first (ties by key, for stable output). */
  top(k: number): HeavyHitter[] {
    const all = this.heap.map(({ key, count, error }) => ({ key, count, error }));
    all.sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return all.slice(0, k);
  }

  private place(i: number, entry: { key: string; count: number; error: number; at: number }): void {
    this.heap[i] = entry;
    entry.at = i;
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const entry = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.count <= entry.count) break;
      this.place(i, heap[parent]!);
      i = parent;
    }
    this.place(i, entry);
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const entry = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && heap[r]!.count < heap[l]!.count ? r : l;
      if (heap[child]!.count >= entry.count) break;
      this.place(i, heap[child]!);
      i = child;
    }
    this.place(i, entry);
  }
}
