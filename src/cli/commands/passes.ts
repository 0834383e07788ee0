// `rmc passes`: list the registered passes (built-in and from --plugin
// modules) with their summaries and options, so pipelines can be written.

import type { Command } from "../command.js";
import { PIPELINE_FLAGS, loadRegistry } from "../model.js";
import { kebabCase } from "../../pipeline/index.js";

export const passes: Command = {
  spec: {
    name: "passes",
    usage: "rmc passes [--plugin FILE ...]",
    summary: "list available passes and their options",
    positionals: { min: 0, max: 0 },
    flags: { plugin: PIPELINE_FLAGS.plugin! },
  },
  async run(args, io) {
    const registry = await loadRegistry(args, io);
    for (const p of registry.list()) {
      io.out(`${p.name}\n    ${p.summary}\n`);
      for (const [k, o] of Object.entries(p.options)) io.out(`    {${kebabCase(k)}=${String(o.default)}}  ${o.type}: ${o.doc}\n`);
    }
    return 0;
  },
};
