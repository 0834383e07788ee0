// WGSL backend: the per-call ("batch") buffers of the dispatch plan. Inputs
// and outputs get buffers of their own; activations and scratch share a pool
// of buffers by liveness: a value takes a free buffer (the smallest that
// fits, else the largest, grown) and gives it back after its last reader, so
// the planned memory per sample stays near the widest live set, as the Wasm
// backend's workspace plan does with byte ranges.

import type { SizeExpr, WgslBuffer } from "../../src/runtime/manifest.js";

interface Pooled {
  name: string;
  perSample: number;
  free: boolean;
}

/** Batch buffers by name: pinned ones (inputs, outputs) and a reuse pool. */
export class BatchBuffers {
  private readonly pinnedSizes = new Map<string, SizeExpr>();
  private readonly pool: Pooled[] = [];

  /** A buffer of its own, never shared (graph inputs and outputs, bag offsets and ids). */
  pin(name: string, size: SizeExpr): string {
    this.pinnedSizes.set(name, size);
    return name;
  }

  /** A pooled buffer of at least `perSample` bytes per sample. */
  take(perSample: number): string {
    const free = this.pool.filter((p) => p.free);
    const fits = free.filter((p) => p.perSample >= perSample).sort((a, b) => a.perSample - b.perSample)[0];
    const chosen = fits ?? free.sort((a, b) => b.perSample - a.perSample)[0];
    if (chosen) {
      chosen.free = false;
      chosen.perSample = Math.max(chosen.perSample, perSample);
      return chosen.name;
    }
    const name = `act.${this.pool.length}`;
    this.pool.push({ name, perSample, free: false });
    return name;
  }

  /** Returns a pooled buffer (pinned buffers are never returned). */
  give(name: string): void {
    const p = this.pool.find((x) => x.name === name);
    if (p) p.free = true;
  }

  /** Planned bytes per sample of the pooled buffers (activations and scratch). */
  pooledBytesPerSample(): number {
    return this.pool.reduce((n, p) => n + p.perSample, 0);
  }

  /** Every batch buffer for the manifest: pinned ones first, then the pool. */
  list(): WgslBuffer[] {
    return [
      ...[...this.pinnedSizes].map(([name, size]) => ({ name, kind: "batch" as const, size })),
      ...this.pool.map((p) => ({ name: p.name, kind: "batch" as const, size: { perSample: p.perSample, fixed: 0 } })),
    ];
  }
}

/** A size of `bytes` per sample. */
export const perSample = (bytes: number): SizeExpr => ({ perSample: bytes, fixed: 0 });
/** A count independent of the batch. */
export const fixed = (n: number): SizeExpr => ({ perSample: 0, fixed: n });
/** ceil(B / div): one workgroup per `div` samples. */
export const perSamples = (div: number): SizeExpr => (div === 1 ? { perSample: 1, fixed: 0 } : { perSample: 1, fixed: 0, div });
