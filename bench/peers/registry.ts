// Every peer of the benchmark, in table order.

import { interpreter } from "./interp.js";
import { ortNode, ortWebFp32, ortWebInt8, ortWebPlan } from "./ort.js";
import type { Peer } from "./peer.js";
import { rmcAuto, rmcFp32 } from "./rmc.js";
import { tfjsWasm } from "./tfjs.js";

export const ALL_PEERS: readonly Peer[] = [rmcFp32, rmcAuto, ortWebFp32, ortWebInt8, ortWebPlan, tfjsWasm, ortNode, interpreter];
