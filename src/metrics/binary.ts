// Accuracy metrics for binary (click / no-click) predictions, the way the
// recommendation field reports them: log loss, normalized entropy (NE), AUC,
// CTR and calibration. The precision search compares a lowered model with the
// fp32 one by NE delta; `rmc run` prints these when its data has labels.

import { RmcError, error, type Code } from "../diagnostics/index.js";

/** Predictions are clamped to [LOG_LOSS_EPS, 1 - LOG_LOSS_EPS] inside the log loss, so a confident miss costs ~16 nats, not Infinity. */
export const LOG_LOSS_EPS = 1e-7;

/** Error code for predictions or labels the metrics cannot accept. */
export const METRICS_ERROR = "E1601" satisfies Code;

/** Metrics over everything added so far. Logs are natural (nats). */
export interface BinaryMetricsResult {
  count: number;
  positives: number;
  /** positives / count (NaN when empty). */
  ctr: number;
  meanPrediction: number;
  /** meanPrediction / ctr: 1 is perfectly calibrated (NaN when there are no positives). */
  calibration: number;
  /** Mean of -(y log p + (1-y) log(1-p)), p clamped by LOG_LOSS_EPS. */
  logLoss: number;
  /** logLoss / H(ctr), H the binary entropy; NaN when ctr is 0 or 1 (H = 0: nothing to normalise by). */
  ne: number;
  /** Exact ROC AUC: P(score of a positive > score of a negative), ties counting half; NaN without both classes. */
  auc: number;
}

/** Binary entropy in nats; 0 at p = 0 or 1. */
export function binaryEntropy(p: number): number {
  if (p <= 0 || p >= 1) return 0;
  return -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
}

/** The "NE delta" the precision work reports: the relative change from neA to neB, in percent. */
export function neDeltaPercent(neA: number, neB: number): number {
  return (100 * (neB - neA)) / neA;
}

/**
 * A streaming accumulator: `add` batches of predictions (probabilities in
 * [0, 1]) and labels (0 or 1), then read `result()`. Sums are kept in double;
 * predictions and labels are kept (in growable typed arrays) for the exact AUC.
 */
export class BinaryMetrics {
  private predictions = new Float32Array(1024);
  private labels = new Uint8Array(1024);
  private count = 0;
  private positives = 0;
  private sumPrediction = 0;
  private sumLoss = 0;

  /** Adds one batch. Rejects the whole batch (adding nothing) if any prediction or label is invalid. */
  add(predictions: Float32Array, labels: Float32Array): void {
    checkBatch(predictions, labels);
    this.reserve(this.count + predictions.length);
    for (let i = 0; i < predictions.length; i++) {
      const p = predictions[i]!;
      const positive = labels[i] === 1;
      const clamped = Math.min(Math.max(p, LOG_LOSS_EPS), 1 - LOG_LOSS_EPS);
      this.sumLoss -= positive ? Math.log(clamped) : Math.log(1 - clamped);
      this.sumPrediction += p;
      if (positive) this.positives++;
      this.predictions[this.count] = p;
      this.labels[this.count] = positive ? 1 : 0;
      this.count++;
    }
  }

  /** The metrics over every sample added so far. */
  result(): BinaryMetricsResult {
    const n = this.count;
    const ctr = n > 0 ? this.positives / n : NaN;
    const meanPrediction = n > 0 ? this.sumPrediction / n : NaN;
    const logLoss = n > 0 ? this.sumLoss / n : NaN;
    const hasBothClasses = this.positives > 0 && this.positives < n;
    return {
      count: n,
      positives: this.positives,
      ctr,
      meanPrediction,
      calibration: this.positives > 0 ? meanPrediction / ctr : NaN,
      logLoss,
      ne: hasBothClasses ? logLoss / binaryEntropy(ctr) : NaN,
      auc: hasBothClasses ? exactAuc(this.predictions.subarray(0, n), this.labels.subarray(0, n), this.positives) : NaN,
    };
  }

  private reserve(capacity: number): void {
    if (capacity <= this.predictions.length) return;
    let size = this.predictions.length;
    while (size < capacity) size *= 2;
    const predictions = new Float32Array(size);
    predictions.set(this.predictions.subarray(0, this.count));
    const labels = new Uint8Array(size);
    labels.set(this.labels.subarray(0, this.count));
    this.predictions = predictions;
    this.labels = labels;
  }
}

function checkBatch(predictions: Float32Array, labels: Float32Array): void {
  const fail = (message: string, hint?: string): never => {
    throw new RmcError(error(METRICS_ERROR, message, undefined, hint));
  };
  if (predictions.length !== labels.length) fail(`metrics: ${predictions.length} predictions but ${labels.length} labels`);
  for (let i = 0; i < predictions.length; i++) {
    const p = predictions[i]!;
    if (Number.isNaN(p)) fail(`metrics: prediction ${i} of the batch is NaN`);
    if (p < 0 || p > 1)
      fail(
        `metrics: prediction ${i} of the batch is ${p}, outside [0, 1]`,
        "metrics expect probabilities: end the model with a sigmoid (final: sigmoid)",
      );
    const y = labels[i]!;
    if (y !== 0 && y !== 1) fail(`metrics: label ${i} of the batch is ${y}; labels must be 0 or 1`);
  }
}

/**
 * The Mann-Whitney U statistic divided by positives x negatives: for every
 * (positive, negative) pair, 1 if the positive scores higher, 1/2 on a tie.
 * Each class's scores are sorted on their own (typed-array sort, fast for
 * millions), then one merge walk counts, for each positive, the negatives
 * strictly below it and those tied with it.
 */
function exactAuc(predictions: Float32Array, labels: Uint8Array, positives: number): number {
  const negatives = predictions.length - positives;
  const pos = new Float32Array(positives);
  const neg = new Float32Array(negatives);
  let ip = 0;
  let ineg = 0;
  for (let i = 0; i < predictions.length; i++) {
    if (labels[i] === 1) pos[ip++] = predictions[i]!;
    else neg[ineg++] = predictions[i]!;
  }
  pos.sort();
  neg.sort();
  let below = 0; // negatives < current positive
  let upTo = 0; // negatives <= current positive
  let u = 0; // U counts whole and half pairs, exactly representable in double up to 2^52
  for (let i = 0; i < positives; i++) {
    const p = pos[i]!;
    while (below < negatives && neg[below]! < p) below++;
    if (upTo < below) upTo = below;
    while (upTo < negatives && neg[upTo]! <= p) upTo++;
    u += below + (upTo - below) / 2;
  }
  return u / (positives * negatives);
}
