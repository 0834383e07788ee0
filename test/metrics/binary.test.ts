// Binary accuracy metrics: log loss, NE, AUC, CTR and calibration on small
// hand-checked vectors, AUC against brute-force pair counting, input
// rejection, NE delta and the CLI table.

import { describe, expect, it } from "vitest";
import { BinaryMetrics, LOG_LOSS_EPS, neDeltaPercent } from "../../src/metrics/binary.js";
import { formatMetrics } from "../../src/metrics/format.js";
import { RmcError } from "../../src/diagnostics/index.js";
import { Rng } from "../../src/util/rng.js";

const f32 = (xs: number[]): Float32Array => Float32Array.from(xs);
const metricsOf = (preds: number[], labels: number[]) => {
  const m = new BinaryMetrics();
  m.add(f32(preds), f32(labels));
  return m.result();
};

/** AUC by counting every (positive, negative) pair: 1 if the positive scores higher, 1/2 on a tie. */
function pairAuc(preds: ArrayLike<number>, labels: ArrayLike<number>): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < preds.length; i++)
    for (let j = 0; j < preds.length; j++)
      if (labels[i] === 1 && labels[j] === 0) {
        pairs++;
        wins += preds[i]! > preds[j]! ? 1 : preds[i] === preds[j] ? 0.5 : 0;
      }
  return wins / pairs;
}

describe("AUC", () => {
  it("is 1 when perfectly separated, 0 when reversed, 0.5 when all tied", () => {
    expect(metricsOf([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]).auc).toBe(1);
    expect(metricsOf([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]).auc).toBe(0);
    expect(metricsOf([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]).auc).toBe(0.5);
  });

  it("gives ties half credit (small case counted by hand)", () => {
    // positives 0.3, 0.5, 0.1; negatives 0.3, 0.7, 0.5.
    // 0.3 vs: tie, lose, lose = 0.5; 0.5 vs: win, lose, tie = 1.5; 0.1: 0. Total 2 of 9.
    expect(metricsOf([0.3, 0.3, 0.5, 0.7, 0.5, 0.1], [1, 0, 1, 0, 0, 1]).auc).toBeCloseTo(2 / 9, 12);
  });

  it("matches pair counting on many samples with ties, streamed over several batches", () => {
    const rng = new Rng(5);
    const m = new BinaryMetrics();
    const preds: number[] = [];
    const labels: number[] = [];
    for (let batch = 0; batch < 6; batch++) {
      const n = 300 + batch * 50;
      const p = Array.from({ length: n }, () => Math.round(rng.next() * 20) / 20); // 21 distinct scores: many ties
      const y = p.map((v) => (rng.next() < 0.2 + 0.6 * v ? 1 : 0));
      m.add(f32(p), f32(y));
      preds.push(...f32(p));
      labels.push(...y);
    }
    const r = m.result();
    expect(r.count).toBe(preds.length);
    expect(r.positives).toBe(labels.filter((y) => y === 1).length);
    expect(r.auc).toBeCloseTo(pairAuc(preds, labels), 12);
  });

  it("treats -0 and +0 as a tie", () => {
    expect(metricsOf([-0, 0], [1, 0]).auc).toBe(0.5);
  });
});

describe("log loss, NE, CTR and calibration", () => {
  it("log loss is the mean negative log-likelihood in nats", () => {
    const r = metricsOf([0.8, 0.4], [1, 0]);
    const [p, q] = [Math.fround(0.8), Math.fround(0.4)];
    expect(r.logLoss).toBeCloseTo(-(Math.log(p) + Math.log(1 - q)) / 2, 12);
  });

  it("clamps predictions to [eps, 1 - eps]", () => {
    expect(LOG_LOSS_EPS).toBe(1e-7);
    const r = metricsOf([0, 1], [1, 0]);
    expect(r.logLoss).toBeCloseTo(-Math.log(1e-7), 6);
    expect(Number.isFinite(r.logLoss)).toBe(true);
  });

  it("NE of predicting the base rate is 1", () => {
    const r = metricsOf([0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25], [1, 0, 0, 0, 0, 1, 0, 0]);
    expect(r.ctr).toBe(0.25);
    expect(r.ne).toBeCloseTo(1, 12);
    expect(r.calibration).toBeCloseTo(1, 12);
  });

  it("NE is log loss over the entropy of the CTR", () => {
    const r = metricsOf([0.9, 0.2, 0.3, 0.6, 0.1], [1, 0, 0, 1, 0]);
    const h = -(0.4 * Math.log(0.4) + 0.6 * Math.log(0.6));
    expect(r.ctr).toBe(0.4);
    expect(r.ne).toBeCloseTo(r.logLoss / h, 12);
    expect(r.ne).toBeLessThan(1);
    expect(r.meanPrediction).toBeCloseTo((0.9 + 0.2 + 0.3 + 0.6 + 0.1) / 5, 6);
    expect(r.calibration).toBeCloseTo(r.meanPrediction / 0.4, 12);
  });

  it("NE and AUC are NaN with a single class; everything but counts is NaN when empty", () => {
    const one = metricsOf([0.1, 0.2], [0, 0]);
    expect(one.ne).toBeNaN();
    expect(one.auc).toBeNaN();
    expect(one.calibration).toBeNaN();
    expect(one.ctr).toBe(0);
    expect(metricsOf([0.7], [1]).ne).toBeNaN();
    const empty = new BinaryMetrics().result();
    expect(empty.count).toBe(0);
    expect([empty.ctr, empty.logLoss, empty.ne, empty.auc].every(Number.isNaN)).toBe(true);
  });
});

describe("bad input", () => {
  const rejects = (preds: number[], labels: number[], substring: string) => {
    const m = new BinaryMetrics();
    m.add(f32([0.5]), f32([1]));
    expect(() => m.add(f32(preds), f32(labels))).toThrow(RmcError);
    expect(() => m.add(f32(preds), f32(labels))).toThrow(substring);
    expect(m.result().count).toBe(1); // a rejected batch adds nothing
  };
  it("NaN prediction", () => rejects([0.5, NaN], [0, 1], "prediction 1 of the batch is NaN"));
  it("label above 1", () => rejects([0.5, 0.5], [0, 2], "label 1 of the batch is 2"));
  it("negative label", () => rejects([0.5], [-1], "label 0 of the batch is -1"));
  it("non-binary label", () => rejects([0.5], [0.5], "labels must be 0 or 1"));
  it("prediction outside [0, 1]", () => rejects([1.5], [1], "outside [0, 1]"));
  it("length mismatch", () => rejects([0.5, 0.5], [1], "2 predictions but 1 labels"));
});

describe("NE delta and formatting", () => {
  it("neDeltaPercent is the relative change in percent", () => {
    expect(neDeltaPercent(0.8, 0.804)).toBeCloseTo(0.5, 10);
    expect(neDeltaPercent(0.8, 0.8)).toBe(0);
    expect(neDeltaPercent(0.8, 0.78)).toBeCloseTo(-2.5, 10);
  });

  it("formatMetrics prints an aligned table with n/a for NaN", () => {
    const text = formatMetrics(metricsOf([0.1, 0.2], [0, 0]));
    const lines = text.split("\n");
    expect(lines.map((l) => l.split(/\s{2,}/)[0])).toEqual([
      "samples",
      "positives",
      "ctr",
      "mean prediction",
      "calibration",
      "log loss",
      "NE",
      "AUC",
    ]);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1); // values right-aligned to one column
    expect(text).toMatch(/^NE\s+n\/a$/m);
    expect(text).toMatch(/^samples\s+2$/m);
  });

  it("formatMetrics with a baseline adds a column and the NE delta", () => {
    const base = metricsOf([0.9, 0.2, 0.3, 0.6, 0.1], [1, 0, 0, 1, 0]);
    const model = metricsOf([0.8, 0.3, 0.3, 0.6, 0.2], [1, 0, 0, 1, 0]);
    const lines = formatMetrics(model, base).split("\n");
    expect(lines[0]).toMatch(/^\s+baseline\s+model$/);
    const delta = neDeltaPercent(base.ne, model.ne);
    expect(lines.at(-1)).toMatch(new RegExp(`^NE delta\\s+\\+${delta.toFixed(4).replace(".", "\\.")}%$`));
    expect(delta).toBeGreaterThan(0);
  });
});
