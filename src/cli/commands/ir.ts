// `rmc ir`: run a pass pipeline over a model and print the resulting IR, with
// the instrumentation flags (print before/after passes, dump directory, pass
// timing, --stop-after to bisect). Also replays reproducers: the input may be
// a textual `.ir` file. With --format dot|svg it draws the result instead.

import { writeFileAtomic } from "../../util/fs.js";
import { printGraph } from "../../ir/print.js";
import { dumpPrintOptions } from "../../ir/dump.js";
import { graphToDot } from "../../report/dot.js";
import { renderSvg } from "../../report/svg.js";
import { choiceFlag } from "../args.js";
import { sourceText } from "../sources.js";
import type { Command } from "../command.js";
import { PIPELINE_FLAGS, WEIGHT_FLAGS, loadModel, loadWeights, runPassesWithReport } from "../model.js";
import { JSON_FLAG, diagnosticJson, printJson, wantsJson } from "../json.js";
import { printStep } from "../../pipeline/index.js";
import type { Diagnostic } from "../../diagnostics/index.js";

export const ir: Command = {
  spec: {
    name: "ir",
    usage: "rmc ir MODEL.rmdl|MODEL.ir [--passes PIPELINE] [--print-ir-after=PASS|all] [--stop-after=PASS|N] [--format text|dot|svg] [-o OUT]",
    summary: "print a model's IR after a pass pipeline (dumps, timings, plugins)",
    positionals: { min: 1, max: 1 },
    flags: {
      ...PIPELINE_FLAGS,
      output: { type: "string", short: "o", value: "FILE", doc: "write the final IR to FILE instead of stdout" },
      weights: { ...WEIGHT_FLAGS.weights!, doc: "weights to bind (dumps then show each weight's checksum)" },
      "weights-map": WEIGHT_FLAGS["weights-map"]!,
      init: WEIGHT_FLAGS.init!,
      seed: WEIGHT_FLAGS.seed!,
      quiet: { type: "boolean", short: "q", doc: "do not print the final IR (dumps and timings only)" },
      ...JSON_FLAG,
      format: {
        type: "string",
        value: "FMT",
        doc: "text (the IR, each node noted with its line, precision and buffer), dot (Graphviz) or svg (a picture)",
        default: "text",
      },
    },
    details:
      "Dumps requested with --print-ir-* go to stderr, so stdout holds only the final IR. --print-ir-after-change prints a unified diff of what each pass changed (=full: the whole IR). --format svg draws the graph with Graphviz: nodes filled by precision, edges labelled with shapes, fused lookups, split tables and source statements as clusters, store-placed tables dashed.",
  },
  async run(args, io) {
    // With --json the front end's and the passes' warnings go into the object, not to stderr.
    const diagnostics: Diagnostic[] | undefined = wantsJson(args) ? [] : undefined;
    const graph = loadModel(args.positionals[0]!, io, diagnostics);
    const weights = args.flags.weights !== undefined || args.flags.init !== undefined ? loadWeights(graph, args, io, "ir") : undefined;
    const format = choiceFlag(args, "format", "ir", ["text", "dot", "svg"] as const) ?? "text";
    const output = typeof args.flags.output === "string" ? args.flags.output : undefined;
    const { graph: result, steps } = await runPassesWithReport(graph, args, io, {
      ...(weights ? { weights } : {}),
      ...(diagnostics ? { diagnostics } : {}),
      ...(output ? { output } : {}),
    });
    if (args.flags.quiet && output === undefined && !diagnostics) return 0;
    const text =
      format === "text"
        ? printGraph(result, { ...(weights ? { weights } : {}), ...dumpPrintOptions(result, { source: sourceText }) })
        : format === "dot"
          ? graphToDot(result)
          : await renderSvg(graphToDot(result));
    if (output) writeFileAtomic(output, text);
    if (diagnostics) {
      printJson(io, "ir", true, {
        input: args.positionals[0],
        model: result.name,
        pipeline: steps.map(printStep),
        nodes: result.nodes.length,
        weights: result.weights.length,
        diagnostics: diagnostics.map(diagnosticJson),
        ...(output ? { output } : args.flags.quiet ? {} : { [format === "text" ? "ir" : format]: text }),
      });
    } else if (!output && !args.flags.quiet) io.out(text);
    return 0;
  },
};
