// Fuzzing harness (bench/fuzz): every surface, in the order the runner and
// test/hardening/fuzz.test.ts run them.

import type { Surface } from "./harness.js";
import { dslSurface, irSurface, planSurface } from "./surfaces-text.js";

export const SURFACES: readonly Surface<any>[] = [dslSurface, irSurface, planSurface];
