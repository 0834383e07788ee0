// Every peer of the benchmark, in table order.

import { interpreter } from "./interp.js";
import { ortNode, ortNodeInt8, ortWebFp32, ortWebInt8, ortWebPlan } from "./ort.js";
import type { Peer } from "./peer.js";
import { rmcAuto, rmcAutoSimd, rmcFp32, rmcFp32Simd } from "./rmc.js";
import { tfjsWasm } from "./tfjs.js";

export const ALL_PEERS: readonly Peer[] = [
  rmcFp32,
  rmcAuto,
  rmcFp32Simd,
  rmcAutoSimd,
  ortWebFp32,
  ortWebInt8,
  ortWebPlan,
  tfjsWasm,
  ortNode,
  ortNodeInt8,
  interpreter,
];
