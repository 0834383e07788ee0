// `rmc ir`: run a pass pipeline over a model and print the resulting IR, with
// the instrumentation flags (print before/after passes, dump directory, pass
// timing). Also replays reproducers: the input may be a textual `.ir` file.

import { writeFileAtomic } from "../../util/fs.js";
import { printGraph } from "../../ir/print.js";
import type { Command } from "../command.js";
import { PIPELINE_FLAGS, WEIGHT_FLAGS, loadModel, loadWeights, runPasses } from "../model.js";

export const ir: Command = {
  spec: {
    name: "ir",
    usage: "rmc ir MODEL.rmdl|MODEL.ir [--passes PIPELINE] [--print-ir-after=PASS|all] [-o OUT.ir]",
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
    },
    details: "Dumps requested with --print-ir-* go to stderr, so stdout holds only the final IR.",
  },
  async run(args, io) {
    const graph = loadModel(args.positionals[0]!, io);
    const weights = args.flags.weights !== undefined || args.flags.init !== undefined ? loadWeights(graph, args, io, "ir") : undefined;
    const result = await runPasses(graph, args, io, weights);
    const text = printGraph(result, weights ? { weights } : {});
    if (typeof args.flags.output === "string") writeFileAtomic(args.flags.output, text);
    else if (!args.flags.quiet) io.out(text);
    return 0;
  },
};
