// Where the precision search's time and memory go on a model, outside the
// compiler: `node build/bench/search-probe.js MODEL.rmdl CALIB.tsv ROWS
// [--seed N] [--whole]` builds the canonical graph and `--init trained`
// weights, reads the calibration rows (batches of 256, as `rmc compile`
// does), runs the search (on the touched rows; `--whole`: on whole tables)
// and prints one line per evaluation with wall and CPU seconds and RSS.

import { readFileSync } from "node:fs";
import { parseModel } from "../src/frontend/index.js";
import { runPipeline } from "../src/pipeline/index.js";
import { createPassRegistry } from "../passes/index.js";
import { initWeights } from "../src/weights/init.js";
import { dataSchema } from "../src/data/schema.js";
import { readBatches } from "../src/data/tsv.js";
import type { Batch } from "../src/data/batch.js";
import { searchPrecision, type SearchOptions } from "../src/precision/search.js";
import { searchTouched } from "../src/precision/touched-rows.js";
import { progressLine } from "../src/precision/control.js";
import { targetNamed } from "../src/target/index.js";

const [modelPath, calib, rowsArg] = process.argv.slice(2);
if (!modelPath || !calib) throw new Error("usage: search-probe MODEL.rmdl CALIB.tsv ROWS [--seed N] [--whole]");
const flag = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const t0 = performance.now();
const c0 = process.cpuUsage();
const stamp = (what: string): void => {
  const c = process.cpuUsage(c0);
  const rss = process.memoryUsage().rss / 2 ** 20;
  process.stderr.write(
    `[${((performance.now() - t0) / 1000).toFixed(1)} s wall, ${((c.user + c.system) / 1e6).toFixed(1)} s CPU, ${rss.toFixed(0)} MiB] ${what}\n`,
  );
};
const parsed = parseModel(readFileSync(modelPath, "utf8"), modelPath).graph!;
const graph = runPipeline(parsed, "canonicalize,infer-shapes,dce", createPassRegistry(), { out: () => {} });
const weights = initWeights(parsed, { seed: Number(flag("seed") ?? 7), dist: "trained" });
const batches: Batch[] = [];
for await (const b of readBatches(calib, dataSchema(graph), { batchSize: 256, limit: Number(rowsArg ?? 100000) })) batches.push(b);
stamp(`read ${batches.reduce((n, b) => n + b.size, 0)} calibration rows`);
const target = targetNamed("wasm", {});
const opts: SearchOptions = {
  budget: Number(flag("budget") ?? 0.05),
  target: target.name,
  cost: target.cost,
  act: "dynamic",
  calibMethod: "percentile",
  smooth: 0.5,
  rowRange: "l2",
  maxPartBytes: target.limits.maxBufferBytes,
  progress: (p) => stamp(progressLine(p)),
};
const r = process.argv.includes("--whole") ? searchPrecision(graph, weights, batches, opts) : searchTouched(graph, weights, batches, opts);
stamp(`done: ${r.evaluations} evaluations, NE ${r.finalDelta.toFixed(4)}% ± ${r.finalError.toFixed(4)}%`);
for (const d of r.decisions)
  if (d.precision !== "fp32" || d.split)
    console.log(`${d.unit}\t${d.precision}${d.split ? `/${d.split.hot.length} hot, cold ${d.split.cold}` : ""}\t${d.bytesAfter}\t${d.why}`);
