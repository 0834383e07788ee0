// The compile report's precision section: the plan as a table and as a heat
// map, one row per table or layer in the search's order (the changes it took,
// first to last, then the units it pinned or left), with bytes before and
// after, the NE delta of the unit alone and of the model after it, and why.

import type { Decision } from "../precision/decision.js";
import type { PrecisionPlan } from "../precision/plan.js";
import { planSummary } from "../precision/report.js";
import { PRECISION_COLOURS } from "./dot.js";
import { bytes, esc, pct, table } from "./escape.js";

/** Decisions in the search's order: the changes it took by step, then the others as the plan lists them. */
export function searchOrder(plan: PrecisionPlan): Decision[] {
  const taken = plan.decisions.filter((d) => d.step !== undefined).sort((a, b) => a.step! - b.step!);
  return [...taken, ...plan.decisions.filter((d) => d.step === undefined)];
}

/** White to `rgb` by `t` in [0, 1]. */
const shade = (t: number, rgb: [number, number, number]): string => {
  const c = (v: number) => Math.round(255 - (255 - v) * Math.min(1, Math.max(0, t)));
  return `rgb(${c(rgb[0])},${c(rgb[1])},${c(rgb[2])})`;
};

/** The heat map as inline SVG: precision by colour, bytes by blue, NE deltas by red, each cell with its value. */
export function heatMap(plan: PrecisionPlan): string {
  const ds = searchOrder(plan);
  const maxBytes = Math.max(1, ...ds.map((d) => d.bytesBefore));
  const maxNe = Math.max(1e-6, ...ds.flatMap((d) => [Math.abs(d.neDeltaAlone ?? 0), Math.abs(d.neDeltaCumulative ?? 0)]));
  const cols = [
    { head: "precision", fill: (d: Decision) => PRECISION_COLOURS[d.precision] ?? "#fff", text: (d: Decision) => d.precision },
    { head: "bytes fp32", fill: (d: Decision) => shade(d.bytesBefore / maxBytes, [49, 130, 189]), text: (d: Decision) => bytes(d.bytesBefore) },
    { head: "bytes now", fill: (d: Decision) => shade(d.bytesAfter / maxBytes, [49, 130, 189]), text: (d: Decision) => bytes(d.bytesAfter) },
    {
      head: "ΔNE alone",
      fill: (d: Decision) => shade(Math.abs(d.neDeltaAlone ?? 0) / maxNe, [222, 45, 38]),
      text: (d: Decision) => pct(d.neDeltaAlone),
    },
    {
      head: "ΔNE cumulative",
      fill: (d: Decision) => shade(Math.abs(d.neDeltaCumulative ?? 0) / maxNe, [222, 45, 38]),
      text: (d: Decision) => pct(d.neDeltaCumulative),
    },
  ];
  const rowH = 18;
  const labelW = 150;
  const cellW = 96;
  const width = labelW + cols.length * cellW;
  const height = rowH * (ds.length + 1);
  const parts = cols.map(
    (c, j) => `<text x="${labelW + j * cellW + cellW / 2}" y="13" text-anchor="middle" font-weight="bold">${esc(c.head)}</text>`,
  );
  ds.forEach((d, i) => {
    const y = rowH * (i + 1);
    parts.push(`<text x="4" y="${y + 13}">${esc(`${d.step !== undefined ? `${d.step}. ` : ""}${d.unit}`)}</text>`);
    cols.forEach((c, j) => {
      const x = labelW + j * cellW;
      parts.push(
        `<rect x="${x}" y="${y}" width="${cellW - 2}" height="${rowH - 2}" fill="${c.fill(d)}"><title>${esc(`${d.unit}: ${d.why}`)}</title></rect>`,
        `<text x="${x + cellW / 2}" y="${y + 12}" text-anchor="middle">${esc(c.text(d))}</text>`,
      );
    });
  });
  return `<svg class="heat" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">${parts.join("")}</svg>`;
}

/** The section: summary line, heat map and the table with every reason. */
export function planSection(plan: PrecisionPlan): string {
  const rows = searchOrder(plan).map((d) => [
    d.step !== undefined ? String(d.step) : "",
    d.unit,
    String(d.line),
    { html: `<span class="p" style="background:${PRECISION_COLOURS[d.precision] ?? "#fff"}">${esc(d.precision)}</span>` },
    bytes(d.bytesBefore),
    bytes(d.bytesAfter),
    pct(d.neDeltaAlone),
    pct(d.neDeltaCumulative),
    d.source,
    d.why,
  ]);
  return [
    `<p>${esc(planSummary(plan))}</p>`,
    heatMap(plan),
    table(["step", "node", "line", "precision", "bytes fp32", "bytes now", "ΔNE alone", "ΔNE cumulative", "source", "why"], rows, "plan"),
  ].join("\n");
}
