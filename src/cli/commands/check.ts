// `rmc check`: parse and verify model files, print every diagnostic, and exit
// 1 if any has an error (3 when a file cannot be read at all). The quickest
// way to validate a model; `--json` gives scripts every diagnostic, located.

import { formatDiagnostics, hasErrors, type Diagnostic } from "../../diagnostics/index.js";
import { parseModel } from "../../frontend/index.js";
import type { Graph } from "../../ir/types.js";
import type { Command } from "../command.js";
import { colorsOf, paintDiagnostics } from "../color.js";
import { EXIT } from "../exit.js";
import { JSON_FLAG, diagnosticJson, printJson, wantsJson } from "../json.js";
import { readSource, sourceLookup } from "../sources.js";
import { describeGraph } from "../summary.js";

/** A checked model in `--json`: its name, sizes and signature. */
const modelJson = (g: Graph) => ({
  name: g.name,
  nodes: g.nodes.length,
  weights: g.weights.length,
  parameters: g.weights.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0),
  tables: g.weights.filter((w) => w.role === "table").length,
  inputs: g.inputs.map((i) => i.name),
  outputs: g.outputs.map((o) => o.name),
});

export const check: Command = {
  spec: {
    name: "check",
    usage: "rmc check MODEL.rmdl [MODEL.rmdl ...] [--json]",
    summary: "parse and check models; print all diagnostics (exit 1 on errors)",
    positionals: { min: 1, max: Infinity },
    flags: { quiet: { type: "boolean", short: "q", doc: "print only diagnostics" }, ...JSON_FLAG },
  },
  async run(args, io) {
    const json = wantsJson(args);
    const c = colorsOf(io, "out");
    let failed = false;
    const files: { file: string; ok: boolean; model?: ReturnType<typeof modelJson>; diagnostics: Diagnostic[] }[] = [];
    for (const file of args.positionals) {
      const { graph, diagnostics } = parseModel(readSource(file), file);
      const ok = graph !== undefined && !hasErrors(diagnostics);
      failed ||= !ok;
      files.push({ file, ok, ...(ok ? { model: modelJson(graph) } : {}), diagnostics: diagnostics.map(diagnosticJson) });
      if (json) continue;
      if (diagnostics.length) io.err(paintDiagnostics(formatDiagnostics(diagnostics, sourceLookup), colorsOf(io, "err")) + "\n");
      if (ok && !args.flags.quiet) io.out(`${file}: ${c.green("ok")}: ${describeGraph(graph)}\n`);
    }
    if (json) {
      const count = (sev: string) => files.reduce((n, f) => n + f.diagnostics.filter((d) => d.severity === sev).length, 0);
      printJson(io, "check", !failed, { errors: count("error"), warnings: count("warning"), files });
    }
    return failed ? EXIT.failed : EXIT.ok;
  },
};
