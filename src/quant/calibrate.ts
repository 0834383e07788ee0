// Calibration of static int8 activation scales. The precision pass runs the
// model on calibration batches, feeds every value entering an int8 layer to
// that layer's RangeCollector, then turns the collected values into a range r
// (minmax, percentile, l2 or kl, docs/numerics.md) and the layer's
// `act_scale` = activationScale(r). Everything is deterministic: the same
// values in any batching give the same scale.

import { RmcError, error, type Code } from "../diagnostics/index.js";

const f32 = Math.fround;

/** How a layer's activation range is chosen from its calibration values. */
export type CalibrationMethod = "minmax" | "percentile" | "l2" | "kl";
/** The methods, in the order the CLI lists them. */
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ["minmax", "percentile", "l2", "kl"];
/** The percentile of |x| used when none is given. */
export const DEFAULT_PERCENTILE = 99.99;
/** The smallest activation scale: fp16's minimum normal, 2^-14. */
export const MIN_ACTIVATION_SCALE = 2 ** -14;
/** Error code for calibration problems (bad options, bad ranges). */
export const CALIBRATION_ERROR = "E1401" satisfies Code;

/** Options of `range`: the percentile (0 < p ≤ 100) for the percentile method. */
export interface RangeOptions {
  percentile?: number;
}

/** Candidates of the l2 search: r = max|x| · j / L2_CANDIDATES, j = 1..L2_CANDIDATES. */
const L2_CANDIDATES = 100;
/** The kl histogram: KL_BINS bins over [0, max|x|], thresholds from KL_LEVELS bins up, quantized to KL_LEVELS levels. */
const KL_BINS = 2048;
const KL_LEVELS = 128;

/**
 * The static scale for a calibrated range: max(f32(r / 127), 2^-14).
 * Why the floor: a layer that happens to see (almost) only zeros on one
 * calibration set would otherwise get a scale near 0 and an inverse near
 * infinity. The next retrain or the next day's data then moves that scale by
 * orders of magnitude (plans churn, and any input that is not tiny saturates
 * at ±127). Flooring at fp16's minimum normal keeps such layers at a fixed,
 * harmless scale across retrains, and keeps every scale a normal fp16 value
 * for backends that hold scales in fp16.
 */
export function activationScale(range: number): number {
  if (!(range >= 0) || !Number.isFinite(range))
    throw new RmcError(error(CALIBRATION_ERROR, `activation range must be a finite number ≥ 0, got ${range}`));
  return Math.max(f32(range / 127), MIN_ACTIVATION_SCALE);
}

/**
 * Collects one layer's input values across calibration batches (as |x|, in
 * a growable buffer: calibration sets are thousands of rows of widths up to
 * about a thousand), and computes their range by any method.
 */
export class RangeCollector {
  private values = new Float32Array(1024);
  private n = 0;
  private maxAbs = 0;
  private sorted: Float32Array | undefined;
  private nonFinite = 0;

  /** Values collected so far (NaN and ±Infinity are not collected; see `skipped`). */
  get count(): number {
    return this.n;
  }

  /** NaN and ±Infinity values seen and left out: they have no meaningful range, so the pass should warn. */
  get skipped(): number {
    return this.nonFinite;
  }

  /** The largest |x| collected (0 when nothing was). */
  get max(): number {
    return this.maxAbs;
  }

  /** Adds a batch of values (any shape, flattened). */
  add(values: ArrayLike<number>): void {
    if (this.n + values.length > this.values.length) {
      const grown = new Float32Array(Math.max(2 * this.values.length, this.n + values.length));
      grown.set(this.values.subarray(0, this.n));
      this.values = grown;
    }
    for (let i = 0; i < values.length; i++) {
      const a = Math.abs(f32(values[i]!));
      if (!Number.isFinite(a)) {
        this.nonFinite++;
        continue;
      }
      this.values[this.n++] = a;
      if (a > this.maxAbs) this.maxAbs = a;
    }
    this.sorted = undefined;
  }

  /** The range r of the collected values by `method` (0 when nothing was collected). */
  range(method: CalibrationMethod, opts: RangeOptions = {}): number {
    if (!CALIBRATION_METHODS.includes(method))
      throw new RmcError(error(CALIBRATION_ERROR, `unknown calibration method \`${String(method)}\` (known: ${CALIBRATION_METHODS.join(", ")})`));
    const abs = this.values.subarray(0, this.n);
    const p = method === "percentile" ? checkPercentile(opts) : 100;
    if (this.maxAbs === 0) return 0; // nothing collected, or only zeros: every method agrees
    switch (method) {
      case "minmax":
        return this.maxAbs;
      case "percentile":
        return percentileOf((this.sorted ??= abs.slice().sort()), p);
      case "l2":
        return l2Range(abs, this.maxAbs);
      case "kl":
        return klRange(abs, this.maxAbs);
    }
  }

  /** The static activation scale: activationScale(range(method, opts)). */
  scale(method: CalibrationMethod, opts: RangeOptions = {}): number {
    return activationScale(this.range(method, opts));
  }
}

/** The range of one array of values by `method` (a one-batch RangeCollector). */
export function calibrateRange(method: CalibrationMethod, values: ArrayLike<number>, opts: RangeOptions = {}): number {
  const c = new RangeCollector();
  c.add(values);
  return c.range(method, opts);
}

function checkPercentile(opts: RangeOptions): number {
  const p = opts.percentile ?? DEFAULT_PERCENTILE;
  if (!(p > 0 && p <= 100))
    throw new RmcError(error(CALIBRATION_ERROR, `percentile must be in (0, 100], got ${p}`, undefined, `the default is ${DEFAULT_PERCENTILE}`));
  return p;
}

/**
 * The p-th percentile of ascending `sorted`, interpolating linearly between
 * the two nearest ranks (h = (n - 1)·p/100; NumPy's default definition).
 */
function percentileOf(sorted: Float32Array, p: number): number {
  const h = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(h);
  const a = sorted[lo]!;
  const b = sorted[Math.min(lo + 1, sorted.length - 1)]!;
  return f32(a + (h - lo) * (b - a));
}

/** Round half to even for v ≥ 0 (the int8 quantizer's rounding; inlined here because l2 calls it 10^8 times). */
function rneNonNegative(v: number): number {
  const r = Math.floor(v + 0.5);
  return r - v === 0.5 && r % 2 === 1 ? r - 1 : r;
}

/**
 * The r among max·j/100 (j = 1..100) whose quantize-dequantize error over
 * the values is least, quantizing exactly as the layer will: with the floored
 * scale s = activationScale(r) and q = min(rne(f32(|x|·f32(1/s))), 127). The
 * quantizer is symmetric, so |x| gives the same error as x. Ties go to the
 * larger r (less clipping), as in the weight clip search.
 */
function l2Range(abs: Float32Array, max: number): number {
  let best = Infinity;
  let bestRange = max;
  for (let j = L2_CANDIDATES; j >= 1; j--) {
    const r = f32((max * j) / L2_CANDIDATES);
    const s = activationScale(r);
    const inv = f32(1 / s);
    let err = 0;
    for (let k = 0; k < abs.length; k++) {
      const a = abs[k]!;
      const d = a - f32(Math.min(rneNonNegative(f32(a * inv)), 127) * s);
      err += d * d;
    }
    if (err < best) {
      best = err;
      bestRange = r;
    }
  }
  return bestRange;
}

/** Counts of |x| in KL_BINS equal bins over [0, max]; max itself falls in the last bin. */
function histogram(abs: Float32Array, max: number): Float64Array {
  const hist = new Float64Array(KL_BINS);
  for (let k = 0; k < abs.length; k++) hist[Math.min(Math.floor((abs[k]! / max) * KL_BINS), KL_BINS - 1)]++;
  return hist;
}

/**
 * TensorRT's entropy calibration. For each candidate i (bins kept, 128..2048):
 * P = the first i bins with every count beyond them added to bin i-1 (the
 * clipped distribution); Q = the first i bins (without the clipped mass)
 * merged into 128 groups of consecutive bins (group g = bins
 * floor(g·i/128) .. floor((g+1)·i/128) - 1) and each group's count spread
 * evenly over its bins where P is non-zero. KL(P‖Q) over normalised P and Q,
 * infinite where P > 0 = Q. The least divergence wins (ties: the larger i);
 * r = i·max/2048, the upper edge of bin i-1. i = 2048 is always finite, as
 * nothing is clipped there.
 */
function klRange(abs: Float32Array, max: number): number {
  const hist = histogram(abs, max);
  const beyond = new Float64Array(KL_BINS + 1); // beyond[i] = Σ hist[i..]
  for (let k = KL_BINS - 1; k >= 0; k--) beyond[k] = beyond[k + 1]! + hist[k]!;
  const total = beyond[0]!;
  let best = Infinity;
  let bestBins = KL_BINS;
  for (let i = KL_BINS; i >= KL_LEVELS; i--) {
    const kl = klDivergence(hist, i, beyond[i]!, total);
    if (kl < best) {
      best = kl;
      bestBins = i;
    }
  }
  return f32((bestBins * max) / KL_BINS);
}

/** KL(P‖Q) for candidate i (see klRange); `clipped` = counts beyond bin i-1, `total` = all counts. */
function klDivergence(hist: Float64Array, i: number, clipped: number, total: number): number {
  const inside = total - clipped;
  if (inside === 0) return Infinity;
  let kl = 0;
  for (let g = 0; g < KL_LEVELS; g++) {
    const from = Math.floor((g * i) / KL_LEVELS);
    const to = Math.floor(((g + 1) * i) / KL_LEVELS);
    let mass = 0;
    let nonZero = 0;
    for (let k = from; k < to; k++) {
      mass += hist[k]!;
      if (hist[k]! > 0 || (k === i - 1 && clipped > 0)) nonZero++;
    }
    for (let k = from; k < to; k++) {
      const pCount = hist[k]! + (k === i - 1 ? clipped : 0);
      if (pCount === 0) continue;
      if (mass === 0) return Infinity;
      const p = pCount / total;
      const q = mass / nonZero / inside;
      kl += p * Math.log(p / q);
    }
  }
  return kl;
}
