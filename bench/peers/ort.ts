// Peers: ONNX Runtime on the ONNX file rmc's exporter writes (src/onnx/export.ts)
// for the same model and weights — onnxruntime-web's wasm backend (fp32, and
// int8 in ONNX Runtime's dynamic-quantization form: DynamicQuantizeLinear +
// MatMulInteger + a scale multiply per linear layer, tables in f32), and
// onnxruntime-node (native CPU execution provider: the ceiling). Inputs are
// The auto plan exported in rmc's own int8 scheme ("ORT Web auto plan")
// makes the same precision choices as rmc's auto artifact: the like-for-like
// low-precision comparison, checked against the interpreter running that
// plan, as rmc's auto artifact is. Inputs are rmc's ONNX convention: `dense` f32 [B,13], `sparse_ids` / `sparse_offsets`
// int64 in KJT order; the int64 conversion is `prepare` (a caller of ONNX
// Runtime holds its ids as int64), the Tensor wrapping and the run are timed.
// ORT Web's thread count is a process-wide setting read when its wasm starts,
// so one process runs it with one thread count (main.ts runs a process per count).

import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type * as OrtNode from "onnxruntime-node";
import { bagOffsets, isBags, type Batch } from "../../src/data/batch.js";
import { planReference } from "./interp.js";
import { FP32_TOLERANCE, SAME_FILE_TOLERANCE, type Peer, type PeerFiles, type PeerModel } from "./peer.js";

type Ort = typeof OrtNode;
type Feeds = Record<string, { type: "float32" | "int64"; data: Float32Array | BigInt64Array; dims: number[] }>;

/** OS threads of this process now (Linux; 0 elsewhere): shows whether a runtime really started workers. */
export function osThreads(): number {
  try {
    return readdirSync("/proc/self/task").length;
  } catch {
    return 0;
  }
}

/** The batch as ONNX input arrays under rmc's convention. */
function feedsOf(batch: Batch): Feeds {
  const feeds: Feeds = {};
  for (const [name, v] of Object.entries(batch.inputs)) {
    if (!isBags(v)) {
      feeds[name] = { type: "float32", data: v, dims: [batch.size, v.length / batch.size] };
      continue;
    }
    if (v.weights) feeds[`${name}_weights`] = { type: "float32", data: v.weights, dims: [v.weights.length] };
    feeds[`${name}_ids`] = { type: "int64", data: BigInt64Array.from(v.values, (x) => BigInt(x)), dims: [v.values.length] };
    const offsets = bagOffsets(v);
    feeds[`${name}_offsets`] = { type: "int64", data: BigInt64Array.from(offsets, (x) => BigInt(x)), dims: [offsets.length] };
  }
  return feeds;
}

let webThreads: number | undefined;
const nodeSessions = new Map<string, Promise<OrtNode.InferenceSession>>();

/** onnxruntime-node's output on `batch` for the model in `path` (one session per file, kept). */
async function nodeOutputs(path: string, batch: Batch): Promise<Float32Array> {
  const ort = await import("onnxruntime-node");
  let session = nodeSessions.get(path);
  if (!session)
    nodeSessions.set(
      path,
      (session = import("node:fs/promises").then(async (fs) => ort.InferenceSession.create(await fs.readFile(path), { intraOpNumThreads: 1 }))),
    );
  const s = await session;
  const feeds: Record<string, OrtNode.Tensor> = {};
  for (const [name, f] of Object.entries(feedsOf(batch))) feeds[name] = new ort.Tensor(f.type, f.data, f.dims);
  return (await s.run(feeds))[s.outputNames[0]!]!.data as Float32Array;
}

function ortPeer(key: string, label: string, flavour: "web" | "node", precision: "fp32" | "int8" | "plan"): Peer {
  const file = (f: PeerFiles): string | undefined => (precision === "fp32" ? f.onnxFp32 : precision === "int8" ? f.onnxInt8 : f.onnxPlan);
  return {
    key,
    label,
    tolerance: precision === "int8" ? SAME_FILE_TOLERANCE : FP32_TOLERANCE,
    // ORT's dynamic int8 (per-tensor activation scales) is not a scheme the interpreter runs: it is
    // checked against onnxruntime-node running the same file. The plan's export computes rmc's own
    // numbers (exact int8 form, tables as the f32 values rmc reads): against the interpreter running the plan.
    ...(precision === "int8"
      ? { reference: { label: "onnxruntime-node on the same file", outputs: (f: PeerFiles, batch: Batch) => nodeOutputs(file(f)!, batch) } }
      : {}),
    ...(precision === "plan" ? { reference: planReference() } : {}),
    supports: (threads) =>
      flavour === "web" && webThreads !== undefined && webThreads !== threads
        ? `ORT Web already started with ${webThreads} threads in this process`
        : true,
    async load(files, threads): Promise<PeerModel> {
      const path = file(files);
      if (!path) throw new Error(`${label}: no ONNX model was exported`);
      const before = osThreads();
      let ort: Ort;
      let version: string;
      if (flavour === "web") {
        const web = (await import("onnxruntime-web")) as unknown as Ort & { env: { wasm: { numThreads: number; wasmPaths: string } } };
        if (webThreads === undefined) {
          web.env.wasm.numThreads = threads;
          web.env.wasm.wasmPaths = dirname(createRequire(import.meta.url).resolve("onnxruntime-web")) + "/";
          webThreads = threads;
        } else if (webThreads !== threads) throw new Error(`${label}: ORT Web started with ${webThreads} threads in this process, ${threads} asked`);
        ort = web;
        version = web.env.versions?.web ?? "?";
      } else {
        ort = await import("onnxruntime-node");
        version = ort.env.versions?.node ?? "?";
      }
      const bytes = await import("node:fs/promises").then((fs) => fs.readFile(path));
      const session = await ort.InferenceSession.create(
        bytes,
        flavour === "web"
          ? { executionProviders: ["wasm"], graphOptimizationLevel: "all" }
          : { executionProviders: ["cpu"], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: "all" },
      );
      const extra = osThreads() - before;
      const output = session.outputNames[0]!;
      return {
        detail:
          flavour === "web"
            ? `onnxruntime-web ${version}, wasm EP (ort-wasm-simd-threaded.wasm), numThreads ${threads}${extra > 0 ? ` (+${extra} OS threads at load)` : ""}`
            : `onnxruntime-node ${version}, CPU EP, intraOpNumThreads ${threads}`,
        prepare: feedsOf,
        async run(prepared) {
          const feeds: Record<string, OrtNode.Tensor> = {};
          for (const [name, f] of Object.entries(prepared as Feeds)) feeds[name] = new ort.Tensor(f.type, f.data, f.dims);
          const out = await session.run(feeds);
          return out[output]!.data as Float32Array;
        },
        close: () => session.release(),
      };
    },
  };
}

export const ortWebFp32 = ortPeer("ort-web-fp32", "ORT Web fp32", "web", "fp32");
export const ortWebInt8 = ortPeer("ort-web-int8", "ORT Web int8", "web", "int8");
export const ortWebPlan = ortPeer("ort-web-plan", "ORT Web auto plan", "web", "plan");
export const ortNode = ortPeer("ort-node", "ORT Node fp32", "node", "fp32");
export const ortNodeInt8 = ortPeer("ort-node-int8", "ORT Node int8", "node", "int8");
