// Renders BinaryMetricsResult (src/metrics/binary.ts) as the small aligned
// table the CLI prints after evaluating a model, optionally beside a baseline
// (the fp32 model) with the NE delta between them.

import { type BinaryMetricsResult, neDeltaPercent } from "./binary.js";

const ROWS: [label: string, key: keyof BinaryMetricsResult, digits: number][] = [
  ["samples", "count", 0],
  ["positives", "positives", 0],
  ["ctr", "ctr", 6],
  ["mean prediction", "meanPrediction", 6],
  ["calibration", "calibration", 6],
  ["log loss", "logLoss", 6],
  ["NE", "ne", 6],
  ["AUC", "auc", 6],
];

const cell = (v: number, digits: number): string => (Number.isNaN(v) ? "n/a" : v.toFixed(digits));

/**
 * One metric per line, labels left-aligned and numbers right-aligned; NaN
 * (e.g. NE with a single class) shows as `n/a`. With a baseline, two columns
 * (`baseline`, `model`) and a last line with the NE delta in percent.
 */
export function formatMetrics(result: BinaryMetricsResult, baseline?: BinaryMetricsResult): string {
  const columns = baseline ? [baseline, result] : [result];
  const table: string[][] = ROWS.map(([label, key, digits]) => [label, ...columns.map((r) => cell(r[key], digits))]);
  if (baseline) {
    table.unshift(["", "baseline", "model"]);
    const delta = neDeltaPercent(baseline.ne, result.ne);
    table.push(["NE delta", "", Number.isNaN(delta) ? "n/a" : `${delta >= 0 ? "+" : ""}${delta.toFixed(4)}%`]);
  }
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  return table
    .map((row) =>
      row
        .map((text, c) => (c === 0 ? text.padEnd(widths[c]!) : text.padStart(widths[c]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
