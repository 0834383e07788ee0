// The precision report: for every table and layer, the precision it got, its
// bytes before and after, its NE delta alone and the model's cumulative delta
// when it was lowered, and why — as an aligned console table or Markdown.

import type { PrecisionPlan } from "./plan.js";
import { MARGIN_SE } from "./search.js";

const pct = (x: number | undefined): string => (x === undefined ? "" : `${x >= 0 ? "+" : ""}${x.toFixed(4)}%`);
const kib = (b: number): string => (b >= 1 << 20 ? `${(b / 2 ** 20).toFixed(2)} MiB` : `${(b / 1024).toFixed(1)} KiB`);

function rows(plan: PrecisionPlan): string[][] {
  return plan.decisions.map((d) => [
    d.unit,
    String(d.line),
    d.split ? `${d.precision} ×${d.split.hot.length} hot, ${d.split.cold} cold` : d.precision,
    kib(d.bytesBefore),
    kib(d.bytesAfter),
    pct(d.neDeltaAlone),
    pct(d.neDeltaCumulative),
    d.why,
  ]);
}

const HEADER = ["node", "line", "precision", "bytes fp32", "bytes now", "ΔNE alone", "ΔNE cumulative", "why"];

/** Totals line: size before/after and the NE delta on the calibration data. */
export function planSummary(plan: PrecisionPlan): string {
  const before = plan.decisions.reduce((s, d) => s + d.bytesBefore, 0);
  const after = plan.decisions.reduce((s, d) => s + d.bytesAfter, 0);
  const ne =
    plan.neDelta !== undefined
      ? `; expected NE ${pct(plan.neDelta)}${plan.neDeltaError !== undefined ? ` ± ${pct(plan.neDeltaError)}` : ""} vs fp32 on the calibration inputs${plan.budget !== undefined ? ` (budget ${pct(plan.budget)}${plan.mode === "auto" ? `, kept ${MARGIN_SE} standard errors below it` : ""})` : ""}`
      : "";
  const fma = plan.fma
    ? `; with fused multiply-adds (the relaxed-SIMD variant) ${pct(plan.fma.neDelta)} ± ${pct(plan.fma.neDeltaError)}${plan.fma.undone > 0 ? `, which undid ${plan.fma.undone} change${plan.fma.undone === 1 ? "" : "s"}` : ""}`
    : "";
  const held = plan.heldBack
    ? `; chosen without ${plan.heldBack.rows} held-back calibration rows, which ${plan.heldBack.undone === 0 ? "confirmed it" : `undid ${plan.heldBack.undone} change${plan.heldBack.undone === 1 ? "" : "s"}`}`
    : "";
  const search = plan.search
    ? `; searched in ${plan.search.seconds.toFixed(1)} s (${plan.search.cpuSeconds.toFixed(1)} s CPU, ${plan.search.evaluations} evaluations${plan.search.timedOut ? ", stopped at the time limit" : ""})`
    : "";
  return `precision ${plan.mode}${plan.checkpoint ? " (checkpoint: the search was still running)" : ""}: weights ${kib(before)} → ${kib(after)} (${(before / Math.max(after, 1)).toFixed(2)}x smaller)${ne}${fma}${held}${search}`;
}

/** An aligned text table for the console. */
export function formatPlanTable(plan: PrecisionPlan): string {
  const all = [HEADER, ...rows(plan)];
  const widths = HEADER.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (c === r.length - 1 ? cell : c >= 3 && c <= 6 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join("  ");
  return [line(HEADER), ...rows(plan).map(line), "", planSummary(plan)].join("\n") + "\n";
}

/** The same as a Markdown table. */
export function formatPlanMarkdown(plan: PrecisionPlan): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  return [
    `| ${HEADER.join(" | ")} |`,
    `|${HEADER.map(() => "---").join("|")}|`,
    ...rows(plan).map((r) => `| ${r.map(esc).join(" | ")} |`),
    "",
    planSummary(plan),
    "",
  ].join("\n");
}
