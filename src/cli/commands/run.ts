// `rmc run`: run a model on a data file with the reference interpreter and
// report accuracy (NE, AUC, log loss, calibration) for every output that has a
// label column, plus throughput; optionally write every prediction.

import { closeSync, createWriteStream, existsSync, openSync, readSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Graph } from "../../ir/types.js";
import type { StagingStats } from "../../runtime/index.js";
import type { Batch } from "../../data/batch.js";
import type { ParsedArgs } from "../args.js";
import type { CliIO, Command } from "../command.js";
import { once } from "node:events";
import { RmcError } from "../../diagnostics/index.js";
import { interpret } from "../../interp/interpreter.js";
import { BinaryMetrics, formatMetrics } from "../../metrics/index.js";
import { dataSchema } from "../../data/schema.js";
import { readBatches } from "../../data/tsv.js";
import { COLUMNS_FLAG, columnsOf, dataFlag, dataSources } from "../data.js";
import { tempPath } from "../../util/fs.js";
import { choiceFlag, numberFlag } from "../args.js";
import { PIPELINE_FLAGS, WEIGHT_FLAGS, loadModel, loadWeights, runPasses } from "../model.js";
import { progress } from "../progress.js";
import { JSON_FLAG, printJson, wantsJson } from "../json.js";

/** What runs the samples: the reference interpreter or a compiled artifact. */
interface Engine {
  name: string;
  graph: Graph;
  predict(batch: Batch): Promise<Record<string, Float32Array>>;
  close(): Promise<void>;
  /** Artifacts with tables placed outside memory: the store's statistics. */
  storeStats?(): StagingStats | undefined;
  /** Wasm artifacts: the code variant that runs (as `rmc verify` names it). */
  variant?: string;
}

const isArtifact = (path: string): boolean => existsSync(join(path, "manifest.json")) && statSync(path).isDirectory();

async function interpreterEngine(file: string, args: ParsedArgs, io: CliIO, cmd: string): Promise<Engine> {
  const graph = await runPasses(loadModel(file, io), args, io);
  const weights = loadWeights(graph, args, io, cmd);
  return { name: "reference interpreter", graph, predict: async (batch) => interpret(graph, weights, batch).outputs, close: async () => {} };
}

async function artifactEngine(dir: string, args: ParsedArgs, cmd: string): Promise<Engine> {
  for (const flag of ["weights", "init", "passes", "plugin"])
    if (
      args.flags[flag] !== undefined &&
      args.flags[flag] !== run.spec.flags[flag]!.default &&
      !(Array.isArray(args.flags[flag]) && (args.flags[flag] as string[]).length === 0)
    )
      throw new RmcError(`rmc run: --${flag} does not apply to a compiled artifact (${dir} holds its own weights and code)`, "E0906");
  const threads = numberFlag(args, "threads", cmd, { integer: true, min: 1, max: 256 });
  const { load } = await import("../../runtime/index.js");
  const model = await load(dir, {
    ...(threads !== undefined ? { threads } : {}),
    ...(typeof args.flags.cache === "string" ? { cache: args.flags.cache } : {}),
    ...(typeof args.flags.redis === "string" ? { redis: args.flags.redis } : {}),
    ...(typeof args.flags.features === "string" ? { features: args.flags.features.split(",").map((f) => f.trim()) } : {}),
  });
  const variant = model.variant ? `, ${model.variant} code` : "";
  return {
    name: `${model.manifest.target} artifact, ${model.threads} thread${model.threads > 1 ? "s" : ""}${variant}`,
    graph: model.manifest.ir,
    predict: (batch) => model.predict(batch.inputs),
    close: () => model.close(),
    storeStats: () => model.storeStats(),
    ...(model.variant ? { variant: model.variant } : {}),
  };
}

/** The store's share of a run, apart from compute: what was staged, what the cache answered, what was read and how long it took. */
export function formatStoreStats(s: StagingStats, secs: number): string {
  const hit = s.rows ? (100 * s.hits) / s.rows : 100;
  const mb = s.bytes / 2 ** 20;
  return (
    `store: ${s.staged} rows staged over ${s.calls} calls; cache hit rate ${hit.toFixed(1)}% (${s.rows - s.hits} of ${s.rows} rows read); ` +
    `${s.blocks} blocks, ${mb.toFixed(1)} MiB fetched in ${(s.fetchMs / 1000).toFixed(2)} s; staging ${(s.stageMs / 1000).toFixed(2)} s of ${secs.toFixed(2)} s\n`
  );
}

/** About how many samples a data file holds, from its size and the lines of its first 64 KiB: for the progress line's ETA only. */
function estimateSamples(path: string): number | undefined {
  try {
    const size = statSync(path).size;
    const fd = openSync(path, "r");
    const head = Buffer.alloc(Math.min(size, 1 << 16));
    try {
      readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
    const lines = head.reduce((n, b) => n + (b === 10 ? 1 : 0), 0);
    return lines > 0 ? Math.max(1, Math.round((size * lines) / head.length)) : undefined;
  } catch {
    return undefined; // the read that follows reports a missing file properly
  }
}

/** One predictions column: an output and one of its values per sample. */
interface PredictionColumn {
  label: string;
  output: string;
  width: number;
  index: number;
}

/** The columns of a predictions file: one per output value, `ctr` for a 1-wide output, `tasks.0`, `tasks.1`, … for wider ones. */
function predictionColumns(graph: Graph): PredictionColumn[] {
  return graph.outputs.flatMap((o) => {
    const type = graph.nodes.find((n) => n.id === o.value)?.type ?? graph.inputs.find((i) => i.name === o.value)?.type;
    const width = type?.kind === "tensor" ? (type.shape.slice(1) as number[]).reduce((a, b) => a * b, 1) : 1;
    return Array.from({ length: width }, (_, index) => ({ label: width === 1 ? o.name : `${o.name}.${index}`, output: o.name, width, index }));
  });
}

/** A batch's predictions, one line per sample with every column (outputs are batch-major, `width` values per sample). */
function predictionLines(columns: readonly PredictionColumn[], outputs: Record<string, Float32Array>, size: number): string {
  const lines: string[] = [];
  for (let b = 0; b < size; b++) lines.push(columns.map((c) => outputs[c.output]![b * c.width + c.index]).join("\t"));
  return lines.join("\n") + "\n";
}

export const run: Command = {
  spec: {
    name: "run",
    usage: "rmc run MODEL.rmdl --weights W.safetensors --data D.tsv | rmc run DIST/ --data D.tsv",
    summary: "run a model (interpreter) or a compiled artifact on data; print NE, AUC, log loss, calibration",
    positionals: { min: 1, max: 1 },
    flags: {
      ...WEIGHT_FLAGS,
      data: dataFlag("samples in Criteo layout (see docs/data.md)"),
      columns: COLUMNS_FLAG,
      "batch-size": { type: "string", value: "N", doc: "samples per interpreter batch", default: "512" },
      limit: { type: "string", value: "N", doc: "stop after N samples" },
      dense: { type: "string", value: "MODE", doc: "dense preprocessing: log1p or none", default: "log1p" },
      predictions: { type: "string", value: "FILE", doc: "write one line of predictions (one column per output) per sample" },
      passes: PIPELINE_FLAGS.passes!,
      plugin: PIPELINE_FLAGS.plugin!,
      threads: { type: "string", value: "N", doc: "artifacts: compute threads (default: all cores)" },
      features: {
        type: "string",
        value: "LIST",
        doc: "wasm artifacts: the Wasm features the code may use, e.g. simd128 (default: all this engine validates: the fastest variant runs)",
      },
      cache: { type: "string", value: "SIZE", doc: "artifacts with tables in a store: bytes of rows to cache, e.g. 512MiB (default 256MiB)" },
      redis: { type: "string", value: "HOST:PORT,…", doc: "artifacts with tables in a Redis Cluster: its nodes" },
      ...JSON_FLAG,
    },
    details:
      "Given a folder holding manifest.json (from `rmc compile`), runs that artifact with the runtime;\ngiven a model file, runs the reference interpreter.",
  },
  async run(args, io) {
    const cmd = "run";
    const target = args.positionals[0]!;
    const engine = isArtifact(target) ? await artifactEngine(target, args, cmd) : await interpreterEngine(target, args, io, cmd);
    const { graph } = engine;
    const sources = dataSources(args, "data", cmd);
    const dataPath = sources.join(" ");
    const schema = dataSchema(graph);
    const batchSize = numberFlag(args, "batch-size", cmd, { integer: true, min: 1, max: 1 << 20 })!;
    const limit = numberFlag(args, "limit", cmd, { integer: true, min: 1 });
    const dense = choiceFlag(args, "dense", cmd, ["log1p", "none"] as const)!;
    // Binary metrics need one probability per sample: wider outputs get their predictions written, not scored.
    const columns = predictionColumns(graph);
    const wide = new Set(columns.filter((c) => c.width > 1).map((c) => c.output));
    const metrics = new Map(graph.outputs.filter((o) => !wide.has(o.name)).map((o) => [o.name, new BinaryMetrics()]));
    const predPath = typeof args.flags.predictions === "string" ? args.flags.predictions : undefined;
    const predOut = predPath ? createWriteStream(tempPath(predPath)) : undefined;
    predOut?.write(columns.map((c) => c.label).join("\t") + "\n");
    const estimate = estimateSamples(dataPath);
    const bar = progress("run", limit !== undefined && estimate !== undefined ? Math.min(limit, estimate) : (limit ?? estimate), "samples");
    let samples = 0;
    let labeled = false;
    const start = performance.now();
    try {
      for await (const batch of readBatches(sources, schema, { batchSize, dense, ...(limit ? { limit } : {}), ...columnsOf(args, cmd) })) {
        const outputs = await engine.predict(batch);
        for (const [name, labels] of Object.entries(batch.labels ?? {})) {
          labeled = true;
          metrics.get(name)?.add(outputs[name]!, labels);
        }
        if (predOut && !predOut.write(predictionLines(columns, outputs, batch.size))) await once(predOut, "drain");
        samples += batch.size;
        bar.update(samples);
      }
      // No samples is an error, and a predictions file for none must not appear.
      if (samples === 0) throw new RmcError(`${dataPath}: no samples`, "E0910");
      if (predOut) {
        predOut.end();
        await once(predOut, "finish");
        renameSync(tempPath(predPath!), predPath!);
      }
    } catch (e) {
      predOut?.destroy();
      if (predPath) rmSync(tempPath(predPath), { force: true });
      throw e;
    } finally {
      bar.done();
      await engine.close();
    }
    const secs = (performance.now() - start) / 1000;
    const store = engine.storeStats?.();
    if (wantsJson(args)) {
      const scored = [...metrics].filter(([, m]) => m.result().count > 0);
      printJson(io, "run", true, {
        engine: engine.name,
        ...(engine.variant ? { variant: engine.variant } : {}),
        samples,
        seconds: secs,
        samplesPerSecond: samples / secs,
        labeled,
        outputs: Object.fromEntries(scored.map(([name, m]) => [name, m.result()])),
        ...(wide.size ? { unscored: [...wide] } : {}),
        ...(store ? { store } : {}),
        ...(predPath ? { predictions: predPath } : {}),
      });
      return 0;
    }
    io.out(`${samples} samples in ${secs.toFixed(2)} s (${Math.round(samples / secs)} samples/s, ${engine.name}, including data parsing)\n`);
    if (store) io.out(formatStoreStats(store, secs));
    if (labeled) for (const [name, m] of metrics) if (m.result().count > 0) io.out(`\noutput ${name}:\n${formatMetrics(m.result())}\n`);
    if (!labeled) io.out("the data has no labels: no accuracy metrics\n");
    else
      for (const name of wide)
        io.out(
          `\noutput ${name}: ${columns.filter((c) => c.output === name).length} values per sample, so no binary metrics (they score one probability per sample)\n`,
        );
    if (predPath) io.out(`predictions written to ${predPath}\n`);
    return 0;
  },
};
