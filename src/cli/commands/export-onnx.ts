// `rmc export-onnx`: model + weights → an ONNX file (opset 17) that other
// runtimes (ONNX Runtime, in Node, the browser or native) can run. The model
// goes through the default pipeline, and with --plan through assign-precision,
// so the exported numbers are the ones rmc computes. The input layout and the
// precision forms are documented in docs/onnx.md.

import { statSync } from "node:fs";
import { RmcError } from "../../diagnostics/index.js";
import { basename, dirname, join } from "node:path";
import { EXPORT_PRECISIONS, exportOnnxExternal, type ExportPrecision } from "../../onnx/export.js";
import { writeChunksAtomic, writeFileAtomic } from "../../util/fs.js";
import type { Command } from "../command.js";
import { choiceFlag, numberFlag, requireFlag } from "../args.js";
import { WEIGHT_FLAGS, loadModel, loadWeightsWithInfo, runPassesWithReport } from "../model.js";
import { pinPrequantized } from "../precision.js";
import { humanBytes } from "../summary.js";
import { compilerVersion } from "../../driver/version.js";

export const exportOnnxCmd: Command = {
  spec: {
    name: "export-onnx",
    usage:
      "rmc export-onnx MODEL.rmdl --weights W.safetensors [--precision fp32|int8|plan | --plan PLAN.json] [--int8-form dynamic|exact] [--external-data-above BYTES] -o MODEL.onnx",
    summary: "write a model and its weights as an ONNX file (for ONNX Runtime and other runtimes)",
    positionals: { min: 1, max: 1 },
    flags: {
      ...WEIGHT_FLAGS,
      output: { type: "string", short: "o", value: "FILE", doc: "the .onnx file to write (replaced only if export succeeds)" },
      precision: {
        type: "string",
        value: "MODE",
        doc: "fp32 (every layer and table in f32; pins ignored), int8 (linear layers in int8 unless pinned; see --int8-form), or plan (follow the model's pins)",
        default: "fp32",
      },
      plan: {
        type: "string",
        value: "FILE",
        doc: "apply a precision plan (from `rmc compile --plan-out`) and export it: int8 layers quantized, tables dequantized",
      },
      "external-data-above": {
        type: "string",
        value: "BYTES",
        doc: "write initializers of 1 KiB or more to MODEL.onnx.data (ONNX external data) when the weights take more than BYTES; default: what one 2 GiB protobuf holds (0: always)",
      },
      "int8-form": {
        type: "string",
        value: "FORM",
        doc: "dynamic (ONNX's DynamicQuantizeLinear: one scale per tensor, fused by ORT) or exact (rmc's per-row/static scheme from primitive ops: rmc's int8 numbers)",
        default: "dynamic",
      },
    },
    details:
      "Inputs: a dense input NAME is float [B, n]; a bags input NAME becomes NAME_ids (int64 [N]), NAME_offsets\n" +
      "(int64 [count*B+1], key-major as in TorchRec's KeyedJaggedTensor) and, when weighted, NAME_weights (float [N]).\n" +
      "Outputs keep the model's output names. See docs/onnx.md.",
  },
  async run(args, io) {
    const cmd = "export-onnx";
    const out = requireFlag(args, "output", cmd);
    const plan = args.flags.plan as string | undefined;
    const chosen = args.flags.precision as string | undefined;
    if (plan !== undefined && chosen !== undefined && chosen !== "fp32" && chosen !== "plan")
      throw new RmcError(`rmc ${cmd}: give --precision or --plan, not both`, "E0906");
    const precision: ExportPrecision = plan !== undefined ? "plan" : choiceFlag(args, "precision", cmd, EXPORT_PRECISIONS)!;
    const written = loadModel(args.positionals[0]!, io);
    const { store: weights, prequantized } = loadWeightsWithInfo(written, args, io, cmd);
    const model = pinPrequantized(written, prequantized);
    const append = plan !== undefined ? [{ name: "assign-precision", options: { mode: "plan", plan } }] : undefined;
    const { graph } = await runPassesWithReport(model, { positionals: [], flags: {} }, io, { weights, ...(append ? { append } : {}) });
    const int8Form = choiceFlag(args, "int8-form", cmd, ["dynamic", "exact"] as const)!;
    const above = numberFlag(args, "external-data-above", cmd, { integer: true, min: 0 });
    const location = `${basename(out)}.data`;
    const { model: bytes, chunks } = exportOnnxExternal(graph, weights, {
      precision,
      int8Form,
      producerVersion: compilerVersion(),
      location,
      ...(above !== undefined ? { above } : {}),
    });
    // The data file first: a model file is never there without the data it names.
    if (chunks.length) writeChunksAtomic(join(dirname(out), location), chunks);
    writeFileAtomic(out, bytes);
    const data = chunks.length ? ` + ${location} (${humanBytes(chunks.reduce((n, c) => n + c.length, 0))}, external data)` : "";
    io.out(`wrote ${out} (${humanBytes(statSync(out).size)}, ${graph.name}, ${precision})${data}\n`);
    return 0;
  },
};
