// `rmc init-weights`: synthetic weights for a model, as a safetensors file —
// plain Gaussian or "trained-looking" (heavy tails, outlier channels, hot rows
// with larger norms), with the output layers calibrated so the model predicts
// a realistic CTR and NE on synthetic data (see src/weights/calibrate.ts).

import { RmcError } from "../../diagnostics/index.js";
import { initMetadata, initWeights } from "../../weights/init.js";
import { writeWeights } from "../../weights/write.js";
import { calibrateOutputs } from "../../interp/output-calibration.js";
import type { Command } from "../command.js";
import { choiceFlag, numberFlag, requireFlag } from "../args.js";
import { loadModel, runPasses } from "../model.js";
import { humanBytes } from "../summary.js";
import { statSync } from "node:fs";

export const initWeightsCmd: Command = {
  spec: {
    name: "init-weights",
    usage: "rmc init-weights MODEL.rmdl --seed N [--dist gaussian|trained] -o W.safetensors",
    summary: "write synthetic weights (gaussian, or trained-looking) for a model",
    positionals: { min: 1, max: 1 },
    flags: {
      seed: { type: "string", value: "N", doc: "random seed", default: "1" },
      dist: { type: "string", value: "DIST", doc: "gaussian or trained", default: "trained" },
      output: { type: "string", short: "o", value: "FILE", doc: "output .safetensors file" },
      "no-calibrate": { type: "boolean", doc: "keep output layers as drawn (no CTR/NE calibration)" },
      ctr: { type: "string", value: "P", doc: "calibration target CTR", default: "0.25" },
      ne: { type: "string", value: "X", doc: "calibration target NE of the model on its synthetic data", default: "0.8" },
    },
    details:
      "Tables are generated row by row, so full-size models never need their tables in memory.\n" +
      "The recipes are described in docs/data.md. The same seed always gives the same bytes.",
  },
  async run(args, io) {
    const cmd = "init-weights";
    const out = requireFlag(args, "output", cmd);
    const seed = numberFlag(args, "seed", cmd, { integer: true, min: 0, max: 2 ** 32 - 1 })!;
    const dist = choiceFlag(args, "dist", cmd, ["gaussian", "trained"] as const)!;
    const ctr = numberFlag(args, "ctr", cmd, { min: 1e-4, max: 0.9999 })!;
    const ne = numberFlag(args, "ne", cmd, { min: 0.01, max: 0.9999 })!;
    const graph = loadModel(args.positionals[0]!, io);
    let store = initWeights(graph, { seed, dist });
    const metadata: Record<string, string> = { ...initMetadata({ seed, dist }) };
    if (!args.flags["no-calibrate"]) {
      const canonical = await runPasses(graph, { positionals: [], flags: { passes: "canonicalize" } }, io);
      const result = calibrateOutputs(canonical, graph, store, { seed, ctr, ne });
      store = result.store;
      for (const r of result.reports) {
        io.out(
          `calibrated output ${r.output}: logit x${r.scale.toPrecision(4)} ${r.shift >= 0 ? "+" : "-"} ${Math.abs(r.shift).toPrecision(4)} (in ${r.weight}, ${r.bias}); synthetic CTR ${r.ctr.toFixed(4)}, NE ${r.ne.toFixed(4)}\n`,
        );
        if (r.note) io.err(`note: ${r.note}\n`);
        metadata[`rmc.calibration.${r.output}`] = JSON.stringify({ scale: r.scale, shift: r.shift, ctr, ne });
      }
    }
    if (!Number.isFinite(seed)) throw new RmcError("bad seed");
    writeWeights(out, graph, store, metadata);
    io.out(`wrote ${out} (${humanBytes(statSync(out).size)}, ${graph.weights.length} tensors, ${dist}, seed ${seed})\n`);
    return 0;
  },
};
