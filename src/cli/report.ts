// `rmc compile --report R.html|R.md`: which kind of report the file name asks
// for (anything but .html or .md is an error before anything runs), and the
// HTML page's assembly from what the compile produced (src/report renders it).

import { extname } from "node:path";
import { RmcError, error } from "../diagnostics/index.js";
import type { Batch } from "../data/batch.js";
import type { WeightStore } from "../weights/store.js";
import type { CompileOutcome } from "../driver/index.js";
import { compilerVersion } from "../driver/index.js";
import { graphToDot } from "../report/dot.js";
import { renderSvg } from "../report/svg.js";
import { renderReportHtml } from "../report/html.js";
import type { ReportStep } from "../report/data.js";
import { writeFileAtomic } from "../util/fs.js";
import { fp32Of } from "./artifact.js";
import { nodeErrors } from "./commands/debug-numerics.js";
import type { ParsedArgs } from "./args.js";

/** The report's kind from `--report`'s extension, or undefined without one. */
export function reportKind(args: ParsedArgs, cmd: string): "html" | "md" | undefined {
  const file = args.flags.report;
  if (typeof file !== "string") return undefined;
  const ext = extname(file).toLowerCase();
  if (ext === ".html" || ext === ".htm") return "html";
  if (ext === ".md" || ext === ".markdown") return "md";
  throw new RmcError(
    error(
      "E0970",
      `rmc ${cmd}: --report ${file}: cannot tell the report's format from ${ext ? `the extension \`${ext}\`` : "a name without an extension"}`,
      undefined,
      "name it R.html (a self-contained page: pipeline, graph, plan, memory, files, timings) or R.md (Markdown)",
    ),
  );
}

/** Writes the HTML report for a finished compile; the numeric errors are measured when calibration data was given. */
export async function writeHtmlReport(
  file: string,
  outcome: CompileOutcome,
  recorded: { input: string; steps: ReportStep[] },
  context: { weights: WeightStore; calibration?: readonly Batch[]; target: string; compileMs: number },
): Promise<void> {
  const passMs = outcome.timings.reduce((s, t) => s + t.ms, 0);
  const calib = context.calibration;
  const numerics =
    calib && calib.length
      ? { samples: calib.reduce((s, b) => s + b.size, 0), nodes: nodeErrors(outcome.graph, fp32Of(outcome.graph), context.weights, calib) }
      : undefined;
  const html = renderReportHtml({
    model: outcome.graph.name,
    target: context.target,
    compilerVersion: compilerVersion(),
    ...recorded,
    svg: await renderSvg(graphToDot(outcome.graph)),
    ...(outcome.plan ? { plan: outcome.plan } : {}),
    ...(numerics ? { numerics } : {}),
    ...(outcome.memory ? { memory: outcome.memory } : {}),
    files: outcome.result.files.map((f) => ({ name: f.name, bytes: f.bytes })),
    timings: outcome.timings,
    backendMs: Math.max(0, context.compileMs - passMs),
  });
  writeFileAtomic(file, html);
}
