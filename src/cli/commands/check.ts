// `rmc check`: parse and verify model files, print every diagnostic, and exit
// non-zero if any has an error. The quickest way to validate a model.

import { formatDiagnostics, hasErrors } from "../../diagnostics/index.js";
import { parseModel } from "../../frontend/index.js";
import type { Command } from "../command.js";
import { readSource, sourceLookup } from "../sources.js";
import { describeGraph } from "../summary.js";

export const check: Command = {
  spec: {
    name: "check",
    usage: "rmc check MODEL.rmdl [MODEL.rmdl ...]",
    summary: "parse and check models; print all diagnostics (exit 1 on errors)",
    positionals: { min: 1, max: Infinity },
    flags: { quiet: { type: "boolean", short: "q", doc: "print only diagnostics" } },
  },
  async run(args, io) {
    let failed = false;
    for (const file of args.positionals) {
      const { graph, diagnostics } = parseModel(readSource(file), file);
      if (diagnostics.length) io.err(formatDiagnostics(diagnostics, sourceLookup) + "\n");
      if (!graph || hasErrors(diagnostics)) failed = true;
      else if (!args.flags.quiet) io.out(`${file}: ok: ${describeGraph(graph)}\n`);
    }
    return failed ? 1 : 0;
  },
};
