// The memory plan in `rmc compile`'s output and report: what plan-memory
// (passes/plan-memory.ts) planned for the Wasm workspace, per sample of batch
// capacity, and what that comes to for a few batch sizes.

import type { MemoryPlanSummary } from "../../backends/wasm/plan-memory.js";
import { humanBytes } from "./summary.js";

export type { MemoryPlanSummary };

/** Workspace bytes for a batch capacity (ids of bags inputs excluded: they depend on the data). */
export const workspaceBytes = (m: MemoryPlanSummary, batch: number): number => m.headerBytes + m.perSampleBytes * batch;

/** One line for the compile output. */
export function formatMemoryLine(m: MemoryPlanSummary): string {
  return `memory plan: peak activations ${humanBytes(m.activationBytes)} per sample (${humanBytes(m.unsharedBytes)} without reuse); workspace ${humanBytes(workspaceBytes(m, 64))} at batch 64`;
}

/** The report's memory section (Markdown). */
export function formatMemoryMarkdown(m: MemoryPlanSummary): string {
  const rows = [1, 64, 512, 4096].map((b) => `| ${b} | ${humanBytes(workspaceBytes(m, b))} | ${humanBytes(m.activationBytes * b)} |`);
  return [
    "## Memory plan",
    "",
    "Activation buffers are assigned by liveness (plan-memory): values whose lifetimes do not overlap share bytes.",
    "",
    `- peak activations: ${m.activationBytes} bytes per sample (${m.unsharedBytes} without reuse)`,
    `- workspace: ${m.headerBytes} bytes + ${m.perSampleBytes} bytes per sample (inputs, outputs and activations; bags ids come on top)`,
    "",
    "| batch | workspace | of which activations |",
    "|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}
