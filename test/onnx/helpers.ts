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

/** Every pooling, bag and interaction form the exporter writes, in one small model. */
export const ZOO = `model zoo {
  input dense: f32[6]
  input cats: bags[3]
  input seen: weighted_bags[2]
  input wrap: bags[2]

  table cat_emb[3]: embedding(dim: 4, rows: [30, 17, 9], pool: mean)
  table seen_emb[2]: embedding(dim: 4, rows: [40, 25], pool: max)
  table seen_sum: embedding(dim: 4, rows: 40, pool: sum)
  table clamped: embedding(dim: 4, rows: 11, ids: clamp)
  table wrapped: embedding(dim: 4, rows: 7, ids: modulo)

  bottom  = mlp(dense, [8, 4], act: relu)
  cat_vec = embedding_bag(cat_emb, cats)
  maxed   = embedding_bag(seen_emb, seen)
  summed  = embedding_bag(seen_sum, seen[1])
  c       = embedding_bag(clamped, wrap[0])
  m       = embedding_bag(wrapped, wrap[1])
  z       = interact(bottom, cat_vec, maxed, summed, op: dot, self: true)
  y       = interact(bottom, c, m, op: dot)
  u       = interact(bottom, cat_vec, op: cat)
  x       = concat(z, y, flatten(maxed), tanh(u))
  crossed = cross(x, layers: 2)
  low     = cross(crossed, layers: 1, rank: 3)
  top     = mlp(low, [5, 1], act: relu, final: sigmoid)
  side    = linear(c, 2, bias: false)
  output ctr = top
  output side
}`;

/** Parses a model given as text (tests' inline models). */
export function parseText(text: string, file: string): Graph {
  const { graph, diagnostics } = parseModel(text, file);
  if (!graph) throw new Error(diagnostics.map((d) => d.message).join("\n"));
  return graph;
}

/** Parses one of examples/*.rmdl. */
export function loadExample(name: string): Graph {
  const file = `${ROOT}examples/${name}`;
  const { graph, diagnostics } = parseModel(readFileSync(file, "utf8"), file);
  if (!graph) throw new Error(diagnostics.map((d) => d.message).join("\n"));
  return graph;
}

/**
 * For each bags input and feature, the id range [lo, hi) a random batch draws
 * from: below the smallest table reading the feature, or, when every reader
 * clamps or wraps ids, from -rows to 2*rows so the policy is exercised.
 */
function featureRanges(g: Graph): Map<string, [number, number][]> {
  const ranges = new Map<string, [number, number][]>();
  const wraps = new Map<string, boolean[]>();
  for (const i of g.inputs)
    if (i.type.kind === "bags") {
      ranges.set(
        i.name,
        Array.from({ length: i.type.count }, () => [0, 1 << 20] as [number, number]),
      );
      wraps.set(i.name, new Array<boolean>(i.type.count).fill(true));
    }
  for (const n of g.nodes.filter((x: Node) => x.op === "embedding_bag")) {
    const limits = ranges.get(valueInputs(n)[0]!)!;
    const wrap = wraps.get(valueInputs(n)[0]!)!;
    weightInputs(n).forEach((t, k) => {
      const f = (n.attrs.bags as number[])[k]!;
      const decl = g.weights.find((w) => w.name === t)!;
      limits[f]![1] = Math.min(limits[f]![1], decl.shape[0]!);
      wrap[f] = wrap[f]! && (decl.attrs.ids === "clamp" || decl.attrs.ids === "modulo");
    });
  }
  for (const [name, limits] of ranges) limits.forEach((r, f) => wraps.get(name)![f] && (limits[f] = [-r[1], 2 * r[1]]));
  return ranges;
}

/** A batch of `size` samples: dense features ~ N(0, 1), bags of 0..maxLen ids, weights in [-0.5, 1.5). */
export function randomBatch(g: Graph, seed: number, size: number, maxLen = 3): Batch {
  const rng = new Rng(seed);
  const ranges = featureRanges(g);
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
      const [lo, hi] = ranges.get(i.name)![Math.floor(k / size)]!;
      for (let j = 0; j < len; j++) ids.push(lo + rng.int(hi - lo));
    });
    const bags: Bags = { count, batch: size, lengths, values: Int32Array.from(ids) };
    if (weighted) bags.weights = Float32Array.from(ids, () => rng.next() * 2 - 0.5);
    inputs[i.name] = bags;
  }
  return { size, inputs };
}

/** The graph without precision pins (an fp32 export computes every node in f32). */
export function withoutPins(g: Graph): Graph {
  const drop = <T extends { attrs: Graph["nodes"][number]["attrs"] }>(x: T): T => ({
    ...x,
    attrs: Object.fromEntries(Object.entries(x.attrs).filter(([k]) => k !== "precision")),
  });
  return { ...g, weights: g.weights.map(drop), nodes: g.nodes.map(drop) };
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
    feeds[`${i.name}_ids`] = new ort.Tensor(
      "int64",
      BigInt64Array.from(v.values, (x) => BigInt(x)),
      [v.values.length],
    );
    const offsets = bagOffsets(v);
    feeds[`${i.name}_offsets`] = new ort.Tensor(
      "int64",
      BigInt64Array.from(offsets, (x) => BigInt(x)),
      [offsets.length],
    );
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

/** Largest |a - b| (NaN or a length mismatch gives Infinity): the peer benchmark's own check. */
export { maxAbsDiff as maxAbsError } from "../../bench/peers/measure.js";
