// Peers: rmc's Wasm artifact, compiled at fp32 and with `--precision auto`,
// loaded with the runtime's `load(dir, { threads })` (and, for the SIMD128
// rows, `features: ["simd128"]`) and called through
// `predict()` exactly as an application would (input checks and copies included).

import { load } from "../../src/runtime/index.js";
import type { Batch } from "../../src/data/batch.js";
import { FP32_TOLERANCE, type Peer, type PeerFiles, type PeerModel } from "./peer.js";
import { planReference } from "./interp.js";

function rmcPeer(key: string, label: string, dir: (f: PeerFiles) => string | undefined, reference?: Peer["reference"], features?: string[]): Peer {
  return {
    key,
    label,
    // fp32 paths match the interpreter to rounding, integer paths exactly (docs/numerics.md).
    tolerance: FP32_TOLERANCE,
    ...(reference ? { reference } : {}),
    supports: () => true,
    async load(files, threads): Promise<PeerModel> {
      const where = dir(files);
      if (!where) throw new Error(`${label}: no artifact was built`);
      const model = await load(where, { threads, ...(features ? { features } : {}) });
      if (model.threads !== threads) throw new Error(`${label}: asked for ${threads} threads, the runtime gave ${model.threads}`);
      return {
        detail: `rmc runtime, Wasm ${model.variant} code${threads > 1 ? ` + ${threads - 1} worker thread${threads > 2 ? "s" : ""} (shared memory)` : ""}`,
        prepare: (batch: Batch) => batch.inputs,
        run: async (inputs) => (await model.predict(inputs as Batch["inputs"])).ctr!,
        close: () => model.close(),
      };
    },
  };
}

// The default load runs the fastest variant the engine validates (relaxed SIMD under Node 24); the -simd128 peers pin the portable one.
export const rmcFp32 = rmcPeer("rmc-fp32", "rmc Wasm fp32", (f) => f.rmcFp32);
export const rmcAuto = rmcPeer("rmc-auto", "rmc Wasm auto", (f) => f.rmcAuto, planReference());
export const rmcFp32Simd = rmcPeer("rmc-fp32-simd128", "rmc fp32 SIMD128", (f) => f.rmcFp32, undefined, ["simd128"]);
export const rmcAutoSimd = rmcPeer("rmc-auto-simd128", "rmc auto SIMD128", (f) => f.rmcAuto, planReference(), ["simd128"]);
