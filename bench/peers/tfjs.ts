// Peer: TensorFlow.js on its WebAssembly backend (XNNPACK), running the same
// model built from the same weights with tfjs ops, node by node from rmc's
// canonical IR: linear → fused matMul (+bias, +relu/sigmoid), embedding bags →
// one sparseSegmentSum over all tables stacked (TF's own embedding-bag op),
// the dot interaction → a batched matMul T·Tᵀ and a gather of the strict lower
// triangle, in the interpreter's order (i = 1..F-1, j < i, row-major).
//
// Two things decide TF.js wasm's speed here, both measured:
// - matMul runs on XNNPACK only with transposeA = transposeB = false; with
//   PyTorch-layout weights ([out, in], transposeB) it falls to a naive loop
//   at ~1 GMAC/s, 10x slower. So the weights are transposed once at load.
// - `tf.tidy(() => t.dataSync())` walks the returned typed array element by
//   element as a tensor container; outputs are read outside tidy.
// Under Node the backend never uses threads (tfjs-backend-wasm sets
// WASM_HAS_MULTITHREAD_SUPPORT to false when IS_NODE), so it loads
// tfjs-backend-wasm-simd.wasm (or the plain one without SIMD) on one thread.

import { createRequire } from "node:module";
import fs from "node:fs";
import { basename, dirname } from "node:path";
import type * as TF from "@tensorflow/tfjs-core";
import type { Batch, Bags } from "../../src/data/batch.js";
import { type Graph, type Node, type TensorType, valueInputs, weightInputs } from "../../src/ir/types.js";
import type { WeightStore } from "../../src/weights/store.js";
import { canonicalGraph, weightStore } from "./interp.js";
import { FP32_TOLERANCE, type Peer, type PeerModel } from "./peer.js";

type Tf = typeof TF;
let started: Promise<{ tf: Tf; binary: string; threads: number }> | undefined;

/** Starts tfjs-core on the wasm backend once per process; says which binary and how many threads it got. */
export function startTf(): Promise<{ tf: Tf; binary: string; threads: number }> {
  started ??= (async () => {
    const tf = await import("@tensorflow/tfjs-core");
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    const dist = dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm")) + "/";
    wasm.setWasmPaths(dist);
    // Emscripten reads the binary with fs.readFileSync under Node: note which file it opens, so the report says what ran.
    const read: string[] = [];
    const original = fs.readFileSync;
    fs.readFileSync = ((path: Parameters<typeof fs.readFileSync>[0], ...rest: unknown[]) => {
      if (String(path).endsWith(".wasm")) read.push(basename(String(path)));
      return (original as (...a: unknown[]) => unknown)(path, ...rest);
    }) as typeof fs.readFileSync;
    try {
      if (!(await tf.setBackend("wasm"))) throw new Error("TF.js: the wasm backend did not start");
      await tf.ready();
    } finally {
      fs.readFileSync = original;
    }
    const simd = (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) === true;
    const binary = read.length
      ? read.join(", ")
      : `${simd ? "tfjs-backend-wasm-simd.wasm" : "tfjs-backend-wasm.wasm"} (by the SIMD flag; the file read was not seen)`;
    return { tf, binary, threads: wasm.getThreadsCount() };
  })();
  return started;
}

/** A model's forward pass in tfjs ops, with every weight uploaded once. */
export class TfModel {
  private readonly consts = new Map<string, TF.Tensor>();
  /** First row of each table in the stacked table. */
  private readonly tableBase = new Map<string, number>();
  /** Activation fused into each linear, and the activation nodes that then just pass their input on. */
  private readonly fusedAct = new Map<string, "relu" | "sigmoid">();
  private readonly passThrough = new Set<string>();

  constructor(
    private readonly tf: Tf,
    private readonly graph: Graph,
    weights: WeightStore,
  ) {
    const uses = new Map<string, number>();
    for (const n of graph.nodes) for (const v of valueInputs(n)) uses.set(v, (uses.get(v) ?? 0) + 1);
    for (const [i, n] of graph.nodes.entries()) {
      if (n.op === "linear") {
        const next = graph.nodes[i + 1];
        // A linear whose only reader is the next node, an activation the fused kernel has, runs with it.
        if (next && (next.op === "relu" || next.op === "sigmoid") && uses.get(n.id) === 1 && valueInputs(next)[0] === n.id) {
          this.fusedAct.set(n.id, next.op);
          this.passThrough.add(next.id);
        }
        const [w, b] = weightInputs(n);
        const t = weights.get(w!)!;
        const [out, inp] = t.shape as [number, number];
        this.consts.set(
          w!,
          tf.tidy(() => tf.transpose(tf.tensor2d(t.toFloat32(), [out, inp]))),
        );
        if (b) this.consts.set(b, tf.tensor1d(weights.get(b)!.toFloat32()));
      } else if (n.op === "embedding_bag") {
        if ((n.attrs.pool ?? "sum") !== "sum") throw new Error(`TF.js peer: pooling ${String(n.attrs.pool)} is not built (only sum)`);
        const tables = weightInputs(n);
        const dim = weights.get(tables[0]!)!.shape[1]!;
        let rows = 0;
        for (const name of tables) {
          this.tableBase.set(`${n.id}/${name}`, rows);
          rows += weights.get(name)!.shape[0]!;
        }
        // One zero row at the end: every batch adds an id there for the last bag, so the segment count is always F*B.
        const stacked = new Float32Array((rows + 1) * dim);
        for (const name of tables) stacked.set(weights.get(name)!.toFloat32(), this.tableBase.get(`${n.id}/${name}`)! * dim);
        this.consts.set(`${n.id}/stacked`, tf.tensor2d(stacked, [rows + 1, dim]));
        this.tableBase.set(`${n.id}/zero`, rows);
      } else if (n.op === "interact") {
        if (n.attrs.op !== "dot") throw new Error(`TF.js peer: interact op=${String(n.attrs.op)} is not built (only dot)`);
        const vectors =
          1 +
          valueInputs(n)
            .slice(1)
            .reduce((s, v) => s + featureCount(graph, v), 0);
        const tri: number[] = [];
        const self = n.attrs.self === true;
        for (let a = self ? 0 : 1; a < vectors; a++) for (let b = 0; b <= (self ? a : a - 1); b++) tri.push(a * vectors + b);
        this.consts.set(`${n.id}/tri`, tf.tensor1d(tri, "int32"));
      } else if (!["relu", "sigmoid", "tanh"].includes(n.op)) throw new Error(`TF.js peer: op ${n.op} is not built`);
    }
  }

  /** The output `ctr` of one batch. */
  async predict(batch: Batch): Promise<Float32Array> {
    const tf = this.tf;
    const out = tf.tidy(() => {
      const env = new Map<string, TF.Tensor>();
      for (const i of this.graph.inputs) {
        const v = batch.inputs[i.name]!;
        if (v instanceof Float32Array) env.set(i.name, tf.tensor2d(v, [batch.size, v.length / batch.size]));
      }
      for (const n of this.graph.nodes) env.set(n.id, this.node(n, env, batch));
      return env.get(this.graph.outputs[0]!.value.replace(/^%/, ""))!;
    });
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return data;
  }

  private node(n: Node, env: Map<string, TF.Tensor>, batch: Batch): TF.Tensor {
    const tf = this.tf;
    const x = env.get(valueInputs(n)[0]!)!;
    switch (n.op) {
      case "linear": {
        const [w, b] = weightInputs(n);
        const activation = this.fusedAct.get(n.id);
        return tf.fused.matMul({
          a: x as TF.Tensor2D,
          b: this.consts.get(w!) as TF.Tensor2D,
          ...(b ? { bias: this.consts.get(b)! } : {}),
          ...(activation ? { activation } : {}),
        });
      }
      case "relu":
        return this.passThrough.has(n.id) ? x : tf.relu(x);
      case "sigmoid":
        return this.passThrough.has(n.id) ? x : tf.sigmoid(x);
      case "tanh":
        return tf.tanh(x);
      case "embedding_bag":
        return this.bags(n, batch);
      case "interact": {
        const [first, ...rest] = valueInputs(n).map((v) => env.get(v)!);
        const d = first!.shape[1]!;
        const parts = [tf.reshape(first!, [batch.size, 1, d]), ...rest.map((t) => tf.reshape(t, [batch.size, -1, d]))];
        const t = tf.concat(parts, 1) as TF.Tensor3D;
        const z = tf.matMul(t, t, false, true);
        const flat = tf.reshape(z, [batch.size, -1]);
        return tf.concat([first!, tf.gather(flat, this.consts.get(`${n.id}/tri`)!, 1)], 1);
      }
      default:
        throw new Error(`TF.js peer: op ${n.op} is not built`);
    }
  }

  /** Sum-pooled bags of every table in one sparseSegmentSum: segment f*B+b (KJT order is already sorted), then [B, F, d]. */
  private bags(n: Node, batch: Batch): TF.Tensor {
    const tf = this.tf;
    const bags = batch.inputs[valueInputs(n)[0]!] as Bags;
    const tables = weightInputs(n);
    const feats = n.attrs.bags as number[];
    const B = batch.size;
    const F = tables.length;
    // Bag features in table order, each feature's ids contiguous in KJT layout.
    const starts = new Int32Array(bags.count + 1);
    for (let f = 0; f < bags.count; f++) {
      let s = 0;
      for (let b = 0; b < B; b++) s += bags.lengths[f * B + b]!;
      starts[f + 1] = starts[f]! + s;
    }
    let total = 1;
    for (const f of feats) total += starts[f + 1]! - starts[f]!;
    const indices = new Int32Array(total);
    const segments = new Int32Array(total);
    let k = 0;
    for (let t = 0; t < F; t++) {
      const f = feats[t]!;
      const base = this.tableBase.get(`${n.id}/${tables[t]}`)!;
      let at = starts[f]!;
      for (let b = 0; b < B; b++) {
        const len = bags.lengths[f * B + b]!;
        for (let j = 0; j < len; j++) {
          indices[k] = bags.values[at + j]! + base;
          segments[k++] = t * B + b;
        }
        at += len;
      }
    }
    indices[k] = this.tableBase.get(`${n.id}/zero`)!;
    segments[k] = F * B - 1;
    const stacked = this.consts.get(`${n.id}/stacked`)!;
    const pooled = tf.sparse.sparseSegmentSum(stacked, tf.tensor1d(indices, "int32"), tf.tensor1d(segments, "int32"));
    const perSample = tf.transpose(tf.reshape(pooled, [F, B, -1]), [1, 0, 2]);
    return n.attrs.stacked === false ? tf.reshape(perSample, [B, -1]) : perSample;
  }

  dispose(): void {
    for (const t of this.consts.values()) t.dispose();
    this.consts.clear();
  }
}

/** Vectors of dimension d a [B,d] or [B,n,d] value holds (1 or n). */
function featureCount(graph: Graph, id: string): number {
  const node = graph.nodes.find((n) => n.id === id);
  const type = (node?.type ?? graph.inputs.find((i) => i.name === id)?.type) as TensorType | undefined;
  return type && type.shape.length === 3 ? (type.shape[1] as number) : 1;
}

export const tfjsWasm: Peer = {
  key: "tfjs-wasm",
  label: "TF.js wasm",
  tolerance: FP32_TOLERANCE,
  supports: (threads) =>
    threads === 1 ? true : "tfjs-backend-wasm turns threads off under Node (WASM_HAS_MULTITHREAD_SUPPORT is false when IS_NODE)",
  async load(files): Promise<PeerModel> {
    const { tf, binary, threads } = await startTf();
    const graph = canonicalGraph(files.rmdl);
    const model = new TfModel(tf, graph, weightStore(graph, files.weights));
    return {
      detail: `@tensorflow/tfjs-backend-wasm ${tf.version_core}, ${binary}, ${threads} thread${threads === 1 ? "" : "s"}`,
      prepare: (batch: Batch) => batch,
      run: (batch) => model.predict(batch as Batch),
      close: () => model.dispose(),
    };
  },
};
