// The compile report as one self-contained HTML page (`rmc compile --report
// R.html`): inline CSS and SVG, no scripts and nothing fetched, so it opens
// offline from disk or from a CI artifact. data.ts gathers what it shows;
// plan.ts and sections.ts render the sections.

import type { ReportData } from "./data.js";
import { esc } from "./escape.js";
import { planSection } from "./plan.js";
import { filesSection, memorySection, numericsSection, stepsSection, timingsSection } from "./sections.js";

const CSS = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1em 2em; color: #222; background: #fff; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; margin-top: 1.6em; } h4 { margin: 0.6em 0 0.2em; }
nav a { margin-right: 1em; } .muted { color: #777; font-weight: normal; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 13px; } th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } pre { background: #f8f8f8; border: 1px solid #e4e4e4; padding: 0.5em; overflow-x: auto; font-size: 12px; }
.diff .a { color: #116611; background: #e6ffe6; } .diff .d { color: #991111; background: #ffe8e8; } .diff .h { color: #555; font-weight: bold; }
details.step { border: 1px solid #ddd; margin: 4px 0; padding: 2px 8px; } details.step[data-unchanged] summary { color: #888; }
.graph svg { max-width: 100%; height: auto; } .p { padding: 0 4px; border-radius: 3px; } .bar { display: inline-block; height: 8px; background: #de2d26; }
`;

/** The sections present for this compile, as [anchor, title, body]. */
function sections(d: ReportData): [string, string, string][] {
  return [
    ["pipeline", "Pipeline", stepsSection(d)],
    ["graph", "Graph", `<div class="graph">${d.svg.replace(/^<\?xml[^>]*>\s*(<!DOCTYPE[^>]*>\s*)?/, "")}</div>`],
    [
      "precision",
      "Precision plan",
      d.plan ? planSection(d.plan) : "<p>No precision step ran: every node computes at its pinned precision or fp32.</p>",
    ],
    ...(d.numerics ? ([["numerics", "Numeric errors per node", numericsSection(d.numerics)]] as [string, string, string][]) : []),
    ["memory", "Memory plan", memorySection(d.memory)],
    ["files", "Artifact files", filesSection(d.files)],
    ["timings", "Timings", timingsSection(d.timings, d.backendMs)],
  ];
}

/** The whole page. */
export function renderReportHtml(d: ReportData): string {
  const parts = sections(d);
  return [
    "<!doctype html>",
    `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>rmc compile report: ${esc(d.model)}</title><style>${CSS}</style></head><body>`,
    `<h1>Compile report: ${esc(d.model)}</h1>`,
    `<p class="muted">target ${esc(d.target)} · rmc ${esc(d.compilerVersion)} · ${d.steps.length} pipeline steps</p>`,
    `<nav>${parts.map(([id, title]) => `<a href="#${id}">${esc(title)}</a>`).join("")}</nav>`,
    ...parts.map(([id, title, body]) => `<section id="${id}"><h2>${esc(title)}</h2>\n${body}\n</section>`),
    "</body></html>",
    "",
  ].join("\n");
}
