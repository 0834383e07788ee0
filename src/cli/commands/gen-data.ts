// `rmc gen-data`: synthetic training/evaluation data for a model in Criteo's
// TSV layout — Zipf-distributed ids, labels drawn from the model itself as
// teacher with a target CTR and NE — streamed to disk with flat memory.

import type { Command } from "../command.js";
import { choiceFlag, numberFlag, requireFlag, type ParsedArgs } from "../args.js";
import { openSafetensors } from "../../weights/safetensors.js";
import { loadModel, loadWeights, runPasses, WEIGHT_FLAGS } from "../model.js";
import { dataSchema, describeSchema } from "../../data/schema.js";
import { generateData } from "../../data/generate.js";
import { outputLogits, logitSources } from "../../interp/logits.js";
import { RmcError } from "../../diagnostics/index.js";
import { progress } from "../progress.js";
import { humanBytes } from "../summary.js";

function parseIdsPerBag(v: string | undefined): number | [number, number] | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)(?:-(\d+))?$/.exec(v.trim());
  const [lo, hi] = m ? [Number(m[1]), Number(m[2] ?? m[1])] : [NaN, NaN];
  if (!m || lo < 1 || hi < lo) throw new RmcError(`rmc gen-data: --ids-per-bag must be N or MIN-MAX with 1 <= MIN <= MAX, got \`${v}\``, "E0903");
  return lo === hi ? lo : [lo, hi];
}

/** Whether init-weights calibrated every output of this weights file for these targets. */
function calibratedFor(file: string, outputs: string[], ctr: number, ne: number): boolean {
  const st = openSafetensors(file);
  const metadata = st.metadata;
  st.close();
  return outputs.every((o) => {
    const raw = metadata[`rmc.calibration.${o}`];
    if (raw === undefined) return false;
    try {
      const c = JSON.parse(raw) as { ctr?: unknown; ne?: unknown };
      return c.ctr === ctr && c.ne === ne;
    } catch {
      return false;
    }
  });
}

/** Calibration samples inputs with the default distributions; other settings shift the logits. */
const defaultInputs = (args: ParsedArgs): boolean =>
  ["zipf", "ids-per-bag", "dense-missing", "sparse-missing"].every((k) => args.flags[k] === genData.spec.flags[k]!.default);

export const genData: Command = {
  spec: {
    name: "gen-data",
    usage: "rmc gen-data MODEL.rmdl --weights W.safetensors --rows N --seed S -o D.tsv",
    summary: "write synthetic Criteo-format data labelled by the model as teacher",
    positionals: { min: 1, max: 1 },
    flags: {
      weights: WEIGHT_FLAGS.weights!,
      "weights-map": WEIGHT_FLAGS["weights-map"]!,
      init: {
        type: "string",
        value: "DIST",
        doc: "instead of --weights: synthetic weights made on the fly (trained or gaussian, alias random), for models too big for a weights file",
      },
      "init-seed": { type: "string", value: "N", doc: "seed for --init (the same as `rmc compile --init … --seed N`)", default: "1" },
      rows: { type: "string", value: "N", doc: "number of samples" },
      seed: { type: "string", value: "S", doc: "data seed", default: "1" },
      output: { type: "string", short: "o", value: "FILE", doc: "output .tsv file (.tsv.gz: gzipped)" },
      ctr: { type: "string", value: "P", doc: "target click-through rate", default: "0.25" },
      ne: { type: "string", value: "X", doc: "target NE of the teacher on its labels", default: "0.8" },
      teacher: { type: "string", value: "MODE", doc: "auto, fit (scale logits to hit --ctr/--ne) or as-is (labels ~ model output)", default: "auto" },
      zipf: { type: "string", value: "S", doc: "Zipf exponent of id frequencies", default: "1.05" },
      "ids-per-bag": { type: "string", value: "N|MIN-MAX", doc: "ids per bag (multi-hot)", default: "1" },
      "dense-missing": { type: "string", value: "P", doc: "probability a dense field is empty", default: "0.1" },
      "sparse-missing": { type: "string", value: "P", doc: "probability a bag is empty", default: "0" },
    },
    details:
      "Columns: one label per output, then dense features, then one field per bag feature (docs/data.md).\n" +
      "--teacher auto draws labels from the model as it is when its weights were calibrated by\n" +
      "`rmc init-weights` for the same --ctr/--ne and default input distributions (so the fp32 model is\n" +
      "exactly the best predictor of the data), and fits a scale and shift of the logits otherwise.",
  },
  async run(args, io) {
    const cmd = "gen-data";
    const out = requireFlag(args, "output", cmd);
    if (args.flags.init === undefined) requireFlag(args, "weights", cmd);
    const rows = numberFlag(args, "rows", cmd, { integer: true, min: 1 });
    if (rows === undefined) throw new RmcError("rmc gen-data: --rows is required", "E0902");
    const seed = numberFlag(args, "seed", cmd, { integer: true, min: 0, max: 2 ** 32 - 1 })!;
    const teacherFlag = choiceFlag(args, "teacher", cmd, ["auto", "fit", "as-is"] as const)!;
    const model = loadModel(args.positionals[0]!, io);
    const graph = await runPasses(model, { positionals: [], flags: { passes: "canonicalize" } }, io);
    logitSources(graph); // fail early, naming any output that is not a probability
    // --init's seed is --init-seed here: --seed is the data's.
    const weights = loadWeights(model, { ...args, flags: { ...args.flags, seed: args.flags["init-seed"] } }, io, cmd);
    const schema = dataSchema(model);
    const bar = progress("gen-data", rows);
    const idsPerBag = parseIdsPerBag(args.flags["ids-per-bag"] as string | undefined);
    const ctr = numberFlag(args, "ctr", cmd, { min: 1e-4, max: 0.9999 })!;
    const ne = numberFlag(args, "ne", cmd, { min: 0.01, max: 0.9999 })!;
    const teacher =
      teacherFlag !== "auto"
        ? teacherFlag
        : typeof args.flags.weights === "string" &&
            calibratedFor(
              args.flags.weights as string,
              model.outputs.map((o) => o.name),
              ctr,
              ne,
            ) &&
            defaultInputs(args)
          ? "as-is"
          : "fit";
    const report = await generateData({
      schema,
      rows,
      seed,
      out,
      teacher,
      ctr,
      ne,
      zipf: numberFlag(args, "zipf", cmd, { min: 0.01, max: 10 })!,
      denseMissing: numberFlag(args, "dense-missing", cmd, { min: 0, max: 1 })!,
      sparseMissing: numberFlag(args, "sparse-missing", cmd, { min: 0, max: 1 })!,
      ...(idsPerBag !== undefined ? { idsPerBag } : {}),
      logits: (batch) => outputLogits(graph, weights, batch),
      onProgress: (n) => bar.update(n),
    }).finally(() => bar.done());
    io.out(
      `teacher: ${teacher === "as-is" ? "the model as it is (its weights are calibrated for this CTR and NE)" : "the model with fitted logit scale and shift"}\n`,
    );
    io.out(`wrote ${report.out}: ${report.rows} rows, ${humanBytes(report.bytes)} (${describeSchema(schema)})\n`);
    for (const o of report.outputs) {
      io.out(
        `  ${o.name}: teacher p = sigmoid(${o.scale.toPrecision(4)}·logit ${o.shift >= 0 ? "+" : "-"} ${Math.abs(o.shift).toPrecision(4)}); CTR ${o.ctr.toFixed(4)}, teacher NE ${o.ne.toFixed(4)}\n`,
      );
      if (o.note) io.err(`note: ${o.note}\n`);
      if (teacher === "fit" && (Math.abs(o.scale - 1) > 0.05 || Math.abs(o.shift) > 0.05))
        io.err(
          `note: for output ${o.name} the teacher differs from the model itself, so the fp32 model is not the exact best predictor of this data; weights from \`rmc init-weights\` with the same --ctr/--ne are calibrated to need no rescaling, or pass --teacher as-is\n`,
        );
    }
    return 0;
  },
};
