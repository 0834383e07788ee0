// One process of the peer benchmark: every peer at one thread count (ORT
// Web's thread count is fixed per process). Loads each peer from files —
// timing the load up to its first prediction and the memory it adds — checks
// its outputs against the reference interpreter (a disagreement ends the run
// with an error), then times all peers side by side on every batch. Started
// by main.ts as `node child.js CONFIG.json`; writes its results
// to the file the config names.

import { readFileSync, writeFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Batch } from "../../src/data/batch.js";
import { interpret } from "../../src/interp/interpreter.js";
import { samplePool, slice } from "../batches.js";
import { canonicalGraph, weightStore } from "./interp.js";
import { maxAbsDiff, timeInterleaved, type Timing } from "./measure.js";
import type { Peer, PeerFiles, PeerModel } from "./peer.js";
import { ALL_PEERS } from "./registry.js";

/** What main.ts asks of one process. */
export interface ChildConfig {
  threads: number;
  peers: string[];
  ids: number[];
  batches: number[];
  timing: Timing;
  files: PeerFiles;
  out: string;
}

/** One peer's load figures and correctness check. */
export interface LoadResult {
  key: string;
  label: string;
  detail: string;
  /** Files to first prediction (batch 64), ms. */
  loadMs: number;
  /** Resident memory added by loading and the first prediction (after GC), MiB. */
  rssMiB: number;
  /** Largest and mean |output - fp32 interpreter| over the check batches. */
  maxErr: number;
  meanErr: number;
  /** The check that gates the run: against what, the largest difference, the tolerance. */
  checkedAgainst: string;
  checkErr: number;
  tolerance: number;
}

/** What one process reports. */
export interface ChildResult {
  threads: number;
  /** The Node version the timing process ran on (`--node 24` runs it on another binary than the parent's). */
  node: string;
  loads: LoadResult[];
  /** Samples/s by peer key, per (ids per bag, batch). */
  rows: { ids: number; batch: number; rates: Record<string, number> }[];
  skipped: { key: string; why: string }[];
}

const CHECK_BATCH = 64;
// GC on demand without --expose-gc on the command line: worker threads (rmc's, ORT Web's) refuse that flag in execArgv.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const rssMiB = (): number => process.memoryUsage().rss / 2 ** 20;

async function main(): Promise<void> {
  const config = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as ChildConfig;
  const graph = canonicalGraph(config.files.rmdl);
  const pools = new Map(config.ids.map((ids) => [ids, samplePool(graph, ids)]));
  const checks = config.ids.map((ids) => slice(pools.get(ids)!, CHECK_BATCH));
  const weights = weightStore(graph, config.files.weights);
  const expected = checks.map((b) => interpret(graph, weights, b).outputs.ctr!);
  const result: ChildResult = { threads: config.threads, node: process.version, loads: [], rows: [], skipped: [] };
  const loaded: { peer: Peer; model: PeerModel }[] = [];
  for (const key of config.peers) {
    const peer = ALL_PEERS.find((p) => p.key === key)!;
    const ok = peer.supports(config.threads);
    if (ok !== true) {
      result.skipped.push({ key, why: ok });
      continue;
    }
    gc();
    const rss0 = rssMiB();
    const t0 = performance.now();
    const model = await peer.load(config.files, config.threads);
    await model.run(model.prepare(checks[0]!));
    const loadMs = performance.now() - t0;
    gc();
    const rss = rssMiB() - rss0;
    let maxErr = 0;
    let sumErr = 0;
    let checkErr = 0;
    for (const [i, batch] of checks.entries()) {
      const got = await model.run(model.prepare(batch));
      maxErr = Math.max(maxErr, maxAbsDiff(got, expected[i]!));
      for (let k = 0; k < got.length; k++) sumErr += Math.abs(got[k]! - expected[i]![k]!);
      checkErr = Math.max(
        checkErr,
        peer.reference ? maxAbsDiff(got, await peer.reference.outputs(config.files, batch)) : maxAbsDiff(got, expected[i]!),
      );
    }
    const against = peer.reference?.label ?? "the fp32 interpreter";
    if (!(checkErr <= peer.tolerance))
      throw new Error(
        `${peer.label} disagrees with ${against}: max |difference| ${checkErr} over ${checks.length * CHECK_BATCH} samples (tolerance ${peer.tolerance}); its numbers would be meaningless`,
      );
    const meanErr = sumErr / (checks.length * CHECK_BATCH);
    result.loads.push({
      key,
      label: peer.label,
      detail: model.detail,
      loadMs,
      rssMiB: rss,
      maxErr,
      meanErr,
      checkedAgainst: against,
      checkErr,
      tolerance: peer.tolerance,
    });
    process.stderr.write(
      `  ${config.threads} thread(s): loaded ${peer.label} in ${loadMs.toFixed(0)} ms (+${rss.toFixed(0)} MiB); |diff| vs fp32 interpreter max ${maxErr.toExponential(2)} mean ${meanErr.toExponential(2)}; checked against ${against}: ${checkErr.toExponential(2)} ≤ ${peer.tolerance} — ${model.detail}\n`,
    );
    loaded.push({ peer, model });
  }
  for (const ids of config.ids)
    for (const b of config.batches) {
      const batch: Batch = slice(pools.get(ids)!, b);
      const rates = await timeInterleaved(
        loaded.map(({ model }) => ({ model, prepared: model.prepare(batch) })),
        b,
        config.timing,
      );
      const row = { ids, batch: b, rates: Object.fromEntries(loaded.map(({ peer }, i) => [peer.key, rates[i]!])) };
      result.rows.push(row);
      process.stderr.write(
        `  ${config.threads} thread(s), ${ids} id(s)/bag, batch ${b}: ${loaded.map(({ peer }, i) => `${peer.key} ${Math.round(rates[i]!)}`).join(", ")}\n`,
      );
    }
  for (const { model } of loaded) await model.close();
  writeFileSync(config.out, JSON.stringify(result, null, 2));
}

await main();
