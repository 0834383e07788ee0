// The compile report's other sections: the pipeline as steps (each with its
// IR and its diff from the step before, folded), the numeric debugger's
// per-node errors, the memory plan, the artifact's files and the timings.

import type { ReportData, ReportMemory, ReportNodeError, ReportStep } from "./data.js";
import { bytes, esc, table } from "./escape.js";

/** A diff with its lines classed, so added and removed lines are coloured. */
function diffHtml(diff: string): string {
  const line = (l: string) => {
    const cls = l.startsWith("@@") ? "h" : l.startsWith("+") ? "a" : l.startsWith("-") ? "d" : "";
    return cls ? `<span class="${cls}">${esc(l)}</span>` : esc(l);
  };
  return `<pre class="diff">${diff.replace(/\n$/, "").split("\n").map(line).join("\n")}</pre>`;
}

function stepHtml(s: ReportStep): string {
  const what = s.changed
    ? s.diff
      ? `changed ${s.diff.split("\n").filter((l) => /^[+-](?![+-]{2} )/.test(l)).length} lines`
      : "rebuilt, same text"
    : "no change";
  return [
    `<details class="step" id="step-${s.number}"${s.changed ? "" : ' data-unchanged="1"'}>`,
    `<summary><b>${s.number}. ${esc(s.text)}</b> <span class="muted">${s.ms.toFixed(2)} ms · ${what}</span></summary>`,
    s.diff ? `<h4>diff from the step before</h4>${diffHtml(s.diff)}` : "",
    `<h4>IR after it</h4><pre>${esc(s.ir)}</pre>`,
    "</details>",
  ].join("\n");
}

/** The pipeline: the input IR, then every step. */
export function stepsSection(data: Pick<ReportData, "input" | "steps">): string {
  return [`<details class="step"><summary><b>0. input</b></summary><pre>${esc(data.input)}</pre></details>`, ...data.steps.map(stepHtml)].join("\n");
}

/** Per-node errors against fp32; the first node whose error jumps (as debug-numerics says) is marked. */
export function numericsSection(n: { samples: number; nodes: ReportNodeError[] }): string {
  const worst = Math.max(1e-12, ...n.nodes.map((e) => e.relative));
  const rows = n.nodes.map((e) => [
    `%${e.id}`,
    e.op,
    String(e.line),
    e.precision,
    e.maxAbs.toExponential(2),
    { html: `<span class="bar" style="width:${Math.round((80 * e.relative) / worst)}px"></span> ${e.relative.toExponential(2)}` },
    e.cosine.toFixed(6),
  ]);
  return `<p>The compiled model's value at every node against the fp32 model's, on ${n.samples} calibration samples.</p>\n${table(["node", "op", "line", "precision", "max abs", "rel RMS", "cosine"], rows, "numerics")}`;
}

/** The activation memory plan, with the workspace at a few batch sizes. */
export function memorySection(m: ReportMemory | undefined): string {
  if (!m) return "<p>No memory plan: the target plans its buffers itself.</p>";
  const rows = [1, 64, 512, 4096].map((b) => [String(b), bytes(m.headerBytes + m.perSampleBytes * b), bytes(m.activationBytes * b)]);
  return [
    `<p>Peak activations ${bytes(m.activationBytes)} per sample (${bytes(m.unsharedBytes)} without reuse by liveness); workspace ${m.headerBytes} B + ${m.perSampleBytes} B per sample.</p>`,
    table(["batch", "workspace", "of which activations"], rows, "memory"),
  ].join("\n");
}

/** The artifact's files and sizes. */
export function filesSection(files: ReportData["files"]): string {
  const total = files.reduce((s, f) => s + f.bytes, 0);
  return table(["file", "size"], [...files.map((f) => [f.name, bytes(f.bytes)]), ["total", bytes(total)]], "files");
}

/** Pass and backend timings with their share of the total. */
export function timingsSection(timings: ReportData["timings"], backendMs: number): string {
  const all = [...timings.map((t) => ({ what: `pass ${t.pass}`, ms: t.ms })), { what: "backend (code generation, artifact)", ms: backendMs }];
  const total = all.reduce((s, t) => s + t.ms, 0);
  const rows = all.map((t) => [t.what, t.ms.toFixed(2), `${total > 0 ? ((100 * t.ms) / total).toFixed(1) : "0.0"}%`]);
  return table(["step", "ms", "share"], [...rows, ["total", total.toFixed(2), "100.0%"]], "timings");
}
