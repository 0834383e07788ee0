// `rmc import-torchrec`: a TorchRec DLRM / DLRM_DCN state dict (safetensors)
// and its table config become a model in rmc's language (MODEL.rmdl), whose
// weights are the state dict itself: it binds unchanged. The text is made in
// src/weights/torchrec-import.ts; only the .rmdl is written, atomically.

import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { RmcError, error } from "../../diagnostics/index.js";
import { writeFileAtomic } from "../../util/fs.js";
import { openSafetensors } from "../../weights/safetensors.js";
import { parseTableConfig, torchrecModel } from "../../weights/torchrec-import.js";
import type { Command } from "../command.js";
import { requireFlag } from "../args.js";

export const importTorchrecCmd: Command = {
  spec: {
    name: "import-torchrec",
    usage: "rmc import-torchrec STATE.safetensors --tables CONFIG.json -o MODEL.rmdl",
    summary: "write the model (.rmdl) of a TorchRec DLRM or DLRM_DCN state dict; the state dict is its weights file",
    positionals: { min: 1, max: 1 },
    flags: {
      tables: { type: "string", value: "CONFIG.json", doc: 'the EmbeddingBagConfigs, in order: {"tables": [{"name", "features", "pooling"}, ...]}' },
      output: { type: "string", short: "o", value: "FILE", doc: "the .rmdl file to write" },
    },
    details: "Then: rmc compile MODEL.rmdl --weights STATE.safetensors -o dist/. See docs/torchrec.md.",
  },
  async run(args, io) {
    const cmd = "import-torchrec";
    const out = requireFlag(args, "output", cmd);
    const configPath = requireFlag(args, "tables", cmd);
    if (!out.endsWith(".rmdl")) throw new RmcError(`rmc ${cmd}: -o must name a .rmdl file, got \`${out}\``, "E0903");
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(configPath, "utf8"));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new RmcError(
        error(
          "E1388",
          `${configPath}: ${code ? `cannot read the table config (${code})` : `the table config is not valid JSON (${(e as Error).message})`}`,
        ),
      );
    }
    const config = parseTableConfig(json, configPath);
    const file = openSafetensors(args.positionals[0]!);
    let text: string;
    try {
      const stem = basename(out, ".rmdl").replace(/[^A-Za-z0-9_]/g, "_");
      // The file's stem names the model unless it is no DSL name (or a keyword).
      const usable = /^[A-Za-z_]/.test(stem) && !["model", "input", "table", "output", "true", "false"].includes(stem);
      text = torchrecModel(file.tensors, config, file.path, usable ? stem : "dlrm");
    } finally {
      file.close();
    }
    writeFileAtomic(out, text);
    io.out(`wrote ${out} (${config.tables.length} tables); compile it with --weights ${args.positionals[0]}\n`);
    return 0;
  },
};
