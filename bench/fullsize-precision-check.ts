// The held-out check of bench/fullsize-precision.sh: runs the fp32 artifact
// and a lower-precision one (the `--precision auto` result) on the same
// held-out rows with the Wasm runtime, one after the other (each holds its
// tables in memory), and prints the NE on the labels of each, the labelled
// and the expected NE delta against fp32 with their standard errors, and the
// artifacts' sizes (weights.bin, model.wasm and shards, as bench/precision.ts
// counts them).
//   node build/bench/fullsize-precision-check.js MODEL.rmdl FP32_DIR AUTO_DIR HELDOUT.tsv ROWS

import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { load } from "../src/runtime/index.js";
import { parseModel } from "../src/frontend/index.js";
import { dataSchema } from "../src/data/schema.js";
import { readBatches } from "../src/data/tsv.js";
import type { Batch } from "../src/data/batch.js";
import { BinaryMetrics } from "../src/metrics/index.js";
import { expectedDelta, labelledDelta, rowLoss } from "./ne-deltas.js";

const [model, fp32Dir, autoDir, heldout, rowsArg] = process.argv.slice(2);
if (!model || !fp32Dir || !autoDir || !heldout) throw new Error("usage: fullsize-precision-check MODEL.rmdl FP32_DIR AUTO_DIR HELDOUT.tsv [ROWS]");
const rows = Number(rowsArg ?? 200000);

const size = (dist: string): number =>
  readdirSync(dist)
    .filter((f) => f === "weights.bin" || f === "model.wasm" || /^shard\..*\.bin$/.test(f))
    .reduce((s, f) => s + statSync(join(dist, f)).size, 0);

const graph = parseModel(readFileSync(model, "utf8"), model).graph!;
const data: Batch[] = [];
for await (const b of readBatches(heldout, dataSchema(graph), { batchSize: 256, limit: rows })) data.push(b);

async function predictions(dir: string): Promise<{ ne: number; p: Float32Array[]; seconds: number }> {
  const m = await load(dir, { threads: 1 });
  const t0 = performance.now();
  const metrics = new BinaryMetrics();
  const p: Float32Array[] = [];
  for (const b of data) {
    const out = (await m.predict(b.inputs)).ctr!;
    p.push(out);
    metrics.add(out, b.labels!.ctr!);
  }
  const seconds = (performance.now() - t0) / 1000;
  await m.close();
  return { ne: metrics.result().ne, p, seconds };
}

const fp32 = await predictions(fp32Dir);
const auto = await predictions(autoDir);
const labelled = labelledDelta(rowLoss(fp32.p, data), rowLoss(auto.p, data));
const expected = expectedDelta(fp32.p, auto.p);
const n = data.reduce((s, b) => s + b.size, 0);
const pct = (x: { delta: number; se: number }): string => `${x.delta >= 0 ? "+" : ""}${x.delta.toFixed(4)}% ± ${x.se.toFixed(4)}%`;
const mib = (b: number): string => (b / 2 ** 20).toFixed(1);
console.log(`held-out rows: ${n}`);
console.log(`fp32: ${mib(size(fp32Dir))} MiB, NE ${fp32.ne.toFixed(5)} (${fp32.seconds.toFixed(1)} s to run)`);
console.log(
  `auto: ${mib(size(autoDir))} MiB (${(size(fp32Dir) / size(autoDir)).toFixed(2)}x smaller), NE ${auto.ne.toFixed(5)} (${auto.seconds.toFixed(1)} s to run)`,
);
console.log(`NE delta on labels ${pct(labelled)}; expected NE delta (KL vs fp32) ${pct(expected)}`);
