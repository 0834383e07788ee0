// `rmc import-onnx`: an ONNX model (one `rmc export-onnx` wrote, or a
// DLRM-style graph from torch.onnx.export) becomes a model in rmc's language
// and its weights: MODEL.rmdl and MODEL.safetensors side by side. Both files
// are written atomically, and only once the whole graph has been recognised.

import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { RmcError, error } from "../../diagnostics/index.js";
import type { ExternalReader } from "../../onnx/external.js";
import { importOnnx } from "../../onnx/import.js";
import { writeFileAtomic } from "../../util/fs.js";
import { DenseTensor, type Tensor } from "../../weights/store.js";
import { writeWeights } from "../../weights/write.js";
import type { Command } from "../command.js";
import { requireFlag } from "../args.js";
import { humanBytes } from "../summary.js";

export const importOnnxCmd: Command = {
  spec: {
    name: "import-onnx",
    usage: "rmc import-onnx MODEL.onnx -o MODEL.rmdl",
    summary: "turn an ONNX model into rmc's language (MODEL.rmdl) and weights (MODEL.safetensors)",
    positionals: { min: 1, max: 1 },
    flags: {
      output: { type: "string", short: "o", value: "FILE", doc: "the .rmdl file to write; the weights go beside it as .safetensors" },
    },
    details:
      "Recognised: embedding bags (rmc's ids/offsets form, or Gather + ReduceSum/ReduceMean/ReduceMax over a\n" +
      "[batch, ids] index input, optionally times per-id weights), Gemm / MatMul + Add, Relu/Sigmoid/Tanh,\n" +
      "the dot and cat interactions, Concat, Flatten and DCNv2 cross layers. Anything else is an error listing\n" +
      "each node. See docs/onnx.md.",
  },
  async run(args, io) {
    const cmd = "import-onnx";
    const out = requireFlag(args, "output", cmd);
    if (!out.endsWith(".rmdl"))
      throw new RmcError(`rmc ${cmd}: -o must name a .rmdl file (the weights go beside it as .safetensors), got \`${out}\``, "E0903");
    const file = args.positionals[0]!;
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new RmcError(
        `cannot read ${file}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (e as Error).message}`,
        "E0905",
      );
    }
    const result = importOnnx(bytes, file, { readExternal: externalFileReader(file) });
    const weightsFile = out.replace(/\.rmdl$/, ".safetensors");
    const store = new Map<string, Tensor>([...result.weights].map(([name, w]) => [name, new DenseTensor(w.shape, w.data)]));
    writeWeights(weightsFile, result.graph, store, { "rmc.imported-from": file.split(/[\\/]/).pop()! });
    writeFileAtomic(out, result.text);
    io.out(
      `wrote ${out} (${result.graph.nodes.length} nodes) and ${weightsFile} (${humanBytes(statSync(weightsFile).size)}, ${store.size} tensors)\n`,
    );
    return 0;
  },
};

/** Reads ONNX external data from files beside `model` (external.ts has checked the location stays in its folder). */
function externalFileReader(model: string): ExternalReader {
  return (location, offset, length) => {
    const path = join(dirname(model), location);
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (e) {
      throw new RmcError(
        error("E2001", `${model}: cannot open its external data file ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`),
      );
    }
    try {
      const size = fstatSync(fd).size;
      if (offset + length > size)
        throw new RmcError(error("E2001", `${model}: bytes ${offset}..${offset + length} of ${path} are asked for, but it has ${size} bytes`));
      const out = new Uint8Array(length);
      for (let done = 0; done < length;) {
        const n = readSync(fd, out, done, length - done, offset + done);
        if (n === 0) throw new RmcError(error("E2001", `${model}: ${path} ended early`));
        done += n;
      }
      return out;
    } finally {
      closeSync(fd);
    }
  };
}
