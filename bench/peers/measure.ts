// Timing for the peer benchmark: every peer's samples/s on one batch, with a
// warm-up first (V8 compiles Wasm in a baseline tier and optimises hot
// functions in the background), then rounds in which the peers take turns in
// a rotating order, so machine noise (other jobs, frequency changes) falls on
// all of them alike; the figure is each peer's median round. Also the
// correctness gate: each peer's outputs against the interpreter's.

import type { PeerModel } from "./peer.js";

/** How long to warm up and to time. */
export interface Timing {
  warmMs: number;
  roundMs: number;
  rounds: number;
}

/** Calls `run` on `prepared` for about `ms` (at least once); samples/s. */
async function rate(model: PeerModel, prepared: unknown, size: number, ms: number): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  do {
    await model.run(prepared);
    n++;
  } while (performance.now() - t0 < ms);
  return (n * size) / ((performance.now() - t0) / 1000);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Median samples/s of each model on its prepared batch, interleaved round by round. */
export async function timeInterleaved(models: { model: PeerModel; prepared: unknown; scale?: number }[], size: number, t: Timing): Promise<number[]> {
  for (const m of models) await rate(m.model, m.prepared, size, t.warmMs * (m.scale ?? 1));
  const rates: number[][] = models.map(() => []);
  for (let r = 0; r < t.rounds; r++)
    for (let k = 0; k < models.length; k++) {
      const i = (k + r) % models.length;
      rates[i]!.push(await rate(models[i]!.model, models[i]!.prepared, size, t.roundMs * (models[i]!.scale ?? 1)));
    }
  return rates.map(median);
}

/** Largest |a - b|; Infinity for a length mismatch or a NaN. */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
  }
  return worst;
}
