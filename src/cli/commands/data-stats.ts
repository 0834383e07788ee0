// `rmc data-stats`: one streaming pass over a Criteo-format file — rows, CTR,
// dense feature ranges and missing rates, and per sparse feature the distinct
// ids (HyperLogLog) and the most frequent ids (Space-Saving) — in flat memory.

import type { Command } from "../command.js";
import { numberFlag } from "../args.js";
import { loadModel } from "../model.js";
import { dataSchema } from "../../data/schema.js";
import { dataStats, formatDataStats } from "../../data/stats.js";
import { RmcError } from "../../diagnostics/index.js";
import { progress } from "../progress.js";
import { COLUMNS_FLAG, columnsOf } from "../data.js";

export const dataStatsCmd: Command = {
  spec: {
    name: "data-stats",
    usage: "rmc data-stats D.tsv|D.gz|D.parquet|-|'day_*.gz' … [--model M.rmdl | --labels 1 --dense 13 --sparse 26] [--top K]",
    summary: "statistics of a data file: CTR, per-feature distinct and most frequent ids",
    positionals: { min: 1, max: Infinity },
    flags: {
      model: { type: "string", value: "FILE", doc: "take the column layout from a model" },
      labels: { type: "string", value: "N", doc: "label columns (default 1, as Criteo)" },
      dense: { type: "string", value: "N", doc: "dense columns (default 13)" },
      sparse: { type: "string", value: "N", doc: "sparse columns (default 26)" },
      top: { type: "string", value: "K", doc: "most frequent ids to list per sparse feature", default: "5" },
      json: { type: "boolean", doc: "print the statistics as JSON" },
      columns: COLUMNS_FLAG,
    },
  },
  async run(args, io) {
    const cmd = "data-stats";
    const counts = {
      labels: numberFlag(args, "labels", cmd, { integer: true, min: 0 }),
      dense: numberFlag(args, "dense", cmd, { integer: true, min: 0 }),
      sparse: numberFlag(args, "sparse", cmd, { integer: true, min: 0 }),
    };
    let layout: { labels?: number; dense?: number; sparse?: number } = {};
    if (typeof args.flags.model === "string") {
      if (Object.values(counts).some((v) => v !== undefined))
        throw new RmcError("rmc data-stats: give either --model or --labels/--dense/--sparse, not both", "E0906");
      const schema = dataSchema(loadModel(args.flags.model, io));
      layout = { labels: schema.labels.length, dense: schema.denseColumns, sparse: schema.sparseColumns };
    } else for (const [k, v] of Object.entries(counts)) if (v !== undefined) layout[k as keyof typeof layout] = v;
    const bar = progress("data-stats", undefined, "lines");
    const top = numberFlag(args, "top", cmd, { integer: true, min: 0, max: 1000 })!;
    const stats = await dataStats(args.positionals, { ...layout, top, ...columnsOf(args, cmd), onProgress: (n) => bar.update(n) }).finally(() =>
      bar.done(),
    );
    io.out(args.flags.json ? JSON.stringify(stats, null, 2) + "\n" : formatDataStats(stats));
    return 0;
  },
};
