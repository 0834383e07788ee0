// Shared plumbing for the ONNX tests: random batches for a model (bags of 0-3
// ids within each table's rows), ONNX feeds in rmc's input convention
// (NAME_ids / NAME_offsets / NAME_weights), runs in onnxruntime-node and
// onnxruntime-web, and error measures.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as ortNode from "onnxruntime-node";
import * as ortWeb from "onnxruntime-web";
import { bagOffsets, isBags, type Bags, type Batch } from "../../src/data/batch.js";
import { parseModel } from "../../src/frontend/index.js";
import type { Graph, Node } from "../../src/ir/types.js";
import { valueInputs, weightInputs } from "../../src/ir/types.js";
import { Rng } from "../../src/util/rng.js";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Parses one of examples/*.rmdl. */
export function loadExample(name: string): Graph {
  const file = `${ROOT}examples/${name}`;
  const { graph, diagnostics } = parseModel(readFileSync(file, "utf8"), file);
  if (!graph) throw new Error(diagnostics.map((d) => d.message).join("\n"));
  return graph;
}

/** For each bags input, the smallest row count among the tables reading each feature (ids stay below it). */
function featureRows(g: Graph): Map<string, number[]> {
  const rows = new Map<string, number[]>();
  for (const i of g.inputs) if (i.type.kind === "bags") rows.set(i.name, new Array<number>(i.type.count).fill(1 << 30));
  const readers = g.nodes.filter((n: Node) => n.op === "embedding_bag");
  for (const n of readers) {
    const limits = rows.get(valueInputs(n)[0]!)!;
    weightInputs(n).forEach((t, k) => {
      const f = (n.attrs.bags as number[])[k]!;
      limits[f] = Math.min(limits[f]!, g.weights.find((w) => w.name === t)!.shape[0]!);
    });
  }
  return rows;
}

/** A batch of `size` samples: dense features ~ N(0, 1), bags of 0..maxLen ids, weights in [-0.5, 1.5). */
export function randomBatch(g: Graph, seed: number, size: number, maxLen = 3): Batch {
  const rng = new Rng(seed);
  const limits = featureRows(g);
  const inputs: Batch["inputs"] = {};
  for (const i of g.inputs) {
    if (i.type.kind === "tensor") {
      inputs[i.name] = Float32Array.from({ length: size * (i.type.shape[1] as number) }, () => rng.normal());
      continue;
    }
    const { count, weighted } = i.type;
    const lengths = Int32Array.from({ length: count * size }, () => rng.int(maxLen + 1));
    const ids: number[] = [];
    lengths.forEach((len, k) => {
      const rows = Math.min(limits.get(i.name)![Math.floor(k / size)]!, 1 << 20);
      for (let j = 0; j < len; j++) ids.push(rng.int(rows));
    });
    const bags: Bags = { count, batch: size, lengths, values: Int32Array.from(ids) };
    if (weighted) bags.weights = Float32Array.from(ids, () => rng.next() * 2 - 0.5);
    inputs[i.name] = bags;
  }
  return { size, inputs };
}

type Ort = typeof ortNode;

/** ONNX feeds for a batch under rmc's convention. */
export function onnxFeeds(ort: Ort, g: Graph, batch: Batch): Record<string, ortNode.Tensor> {
  const feeds: Record<string, ortNode.Tensor> = {};
  for (const i of g.inputs) {
    const v = batch.inputs[i.name]!;
    if (!isBags(v)) {
      feeds[i.name] = new ort.Tensor("float32", v, [batch.size, v.length / batch.size]);
      continue;
    }
    feeds[`${i.name}_ids`] = new ort.Tensor("int64", BigInt64Array.from(v.values, (x) => BigInt(x)), [v.values.length]);
    const offsets = bagOffsets(v);
    feeds[`${i.name}_offsets`] = new ort.Tensor("int64", BigInt64Array.from(offsets, (x) => BigInt(x)), [offsets.length]);
    if (v.weights) feeds[`${i.name}_weights`] = new ort.Tensor("float32", v.weights, [v.weights.length]);
  }
  return feeds;
}

/** Which ONNX Runtime runs a model. */
export type OrtFlavour = "node" | "web";

/** Runs model bytes in onnxruntime-node or onnxruntime-web (wasm, one thread); outputs by name. */
export async function runOrt(flavour: OrtFlavour, model: Uint8Array, g: Graph, batch: Batch): Promise<Record<string, Float32Array>> {
  const ort = (flavour === "node" ? ortNode : ortWeb) as Ort;
  if (flavour === "web") {
    ortWeb.env.wasm.numThreads = 1;
    ortWeb.env.wasm.wasmPaths = `${ROOT}node_modules/onnxruntime-web/dist/`;
  }
  const session = await ort.InferenceSession.create(model);
  try {
    const out = await session.run(onnxFeeds(ort, g, batch));
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array]));
  } finally {
    await session.release();
  }
}

/** Largest |a - b| (NaN or a length mismatch gives Infinity). */
export function maxAbsError(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
  }
  return worst;
}
