// `node build/bench/peers/parts.js [--batch 64] [--threads 1]`: where the time
// goes, rmc Wasm against ONNX Runtime Node, on the benchmark model cut into
// its three parts — the bottom MLP (13-512-256-64-16), the embedding bags with
// the dot interaction (26 tables, 4 ids per bag, to 367 features), and the top
// MLP (367-512-256-1) — each compiled and exported on its own and timed side
// by side (same interleaved rounds as the peer benchmark). A part where the
// ratio is far below the whole model's is where rmc loses its time.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { wasmBackend } from "../../backends/wasm/index.js";
import { bagOffsets, isBags, type Batch } from "../../src/data/batch.js";
import { parseModel } from "../../src/frontend/index.js";
import { runPipeline, DEFAULT_PIPELINE } from "../../src/pipeline/index.js";
import { createPassRegistry } from "../../passes/index.js";
import { exportOnnx } from "../../src/onnx/export.js";
import { load } from "../../src/runtime/index.js";
import { Rng } from "../../src/util/rng.js";
import { initWeights } from "../../src/weights/init.js";
import { samplePool, slice } from "../batches.js";
import { timeInterleaved } from "./measure.js";
import type { PeerModel } from "./peer.js";

const ROWS =
  "1460, 583, 100000, 100000, 305, 24, 12517, 633, 3, 93145, 5683, 100000, 3194, 27, 14992, 100000, 10, 5652, 2173, 4, 100000, 18, 15, 100000, 105, 100000";
const PARTS: [string, string, number][] = [
  [
    "bottom MLP 13-512-256-64-16",
    "model part {\n input dense: f32[13]\n y = mlp(dense, [512, 256, 64, 16], act: relu)\n output y\n}",
    13 * 512 + 512 * 256 + 256 * 64 + 64 * 16,
  ],
  [
    "bags + dot interaction",
    `model part {\n input dense: f32[16]\n input sparse: bags[26]\n table emb[26]: embedding(dim: 16, pool: sum, rows: [${ROWS}])\n pooled = embedding_bag(emb, sparse)\n y = interact(dense, pooled, op: dot)\n output y\n}`,
    351 * 16,
  ],
  [
    "top MLP 367-512-256-1",
    "model part {\n input z: f32[367]\n y = mlp(z, [512, 256, 1], act: relu, final: sigmoid)\n output y\n}",
    367 * 512 + 512 * 256 + 256,
  ],
];

const args = process.argv.slice(2);
const opt = (name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};

async function main(): Promise<void> {
  const size = opt("batch", 64);
  const threads = opt("threads", 1);
  const work = mkdtempSync(join(tmpdir(), "rmc-parts-"));
  const timing = { warmMs: 1500, roundMs: 400, rounds: 5 };
  const full = samplePool(
    parseModel(
      `model m {\n input dense: f32[13]\n input sparse: bags[26]\n table emb[26]: embedding(dim: 16, pool: sum, rows: [${ROWS}])\n p = embedding_bag(emb, sparse)\n output p\n}`,
      "m",
    ).graph!,
    4,
  );
  const bags = slice(full, size).inputs.sparse!;
  console.log(
    `| part (batch ${size}, ${threads} thread${threads > 1 ? "s" : ""}) | MACs/sample | rmc Wasm samples/s | ORT Node samples/s | rmc / ORT Node | rmc GMAC/s | ORT GMAC/s |\n|---|---|---|---|---|---|---|`,
  );
  try {
    for (const [i, [label, text, macs]] of PARTS.entries()) {
      const graph = parseModel(text, `part${i}.rmdl`).graph!;
      const weights = initWeights(graph, { seed: 1, dist: "trained" });
      const dir = join(work, `part${i}`);
      await wasmBackend.compile(runPipeline(graph, DEFAULT_PIPELINE, createPassRegistry(), { out: () => {} }), weights, {
        outDir: dir,
        emitText: false,
        features: [],
        compilerVersion: "bench",
      });
      const rng = new Rng(7 + i);
      const batch: Batch = { size, inputs: {} };
      for (const input of graph.inputs)
        batch.inputs[input.name] =
          input.type.kind === "bags" ? bags : Float32Array.from({ length: size * (input.type.shape[1] as number) }, () => rng.normal());
      const rmc = await load(dir, { threads });
      const session = await ort.InferenceSession.create(exportOnnx(graph, weights), { intraOpNumThreads: threads, interOpNumThreads: 1 });
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, v] of Object.entries(batch.inputs)) {
        if (!isBags(v)) feeds[name] = new ort.Tensor("float32", v, [size, v.length / size]);
        else {
          feeds[`${name}_ids`] = new ort.Tensor(
            "int64",
            BigInt64Array.from(v.values, (x) => BigInt(x)),
            [v.values.length],
          );
          const offsets = bagOffsets(v);
          feeds[`${name}_offsets`] = new ort.Tensor(
            "int64",
            BigInt64Array.from(offsets, (x) => BigInt(x)),
            [offsets.length],
          );
        }
      }
      const asPeer = (run: () => Promise<unknown>): PeerModel => ({
        detail: "",
        prepare: () => undefined,
        run: async () => (await run(), new Float32Array()),
        close: () => {},
      });
      const [r, o] = await timeInterleaved(
        [
          { model: asPeer(() => rmc.predict(batch.inputs)), prepared: undefined },
          { model: asPeer(() => session.run(feeds)), prepared: undefined },
        ],
        size,
        timing,
      );
      console.log(
        `| ${label} | ${macs.toLocaleString("en-US")} | ${Math.round(r!).toLocaleString("en-US")} | ${Math.round(o!).toLocaleString("en-US")} | ${(r! / o!).toFixed(2)}x | ${((r! * macs) / 1e9).toFixed(1)} | ${((o! * macs) / 1e9).toFixed(1)} |`,
      );
      await rmc.close();
      await session.release();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
