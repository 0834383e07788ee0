// Fuzzing harness (bench/fuzz): every surface, in the order the runner and
// test/hardening/fuzz.test.ts run them.

import type { Surface } from "./harness.js";
import { onnxSurface, safetensorsSurface, tsvSurface } from "./surfaces-binary.js";
import { artifactSurface, compileSurface, manifestSurface, predictSurface } from "./surfaces-runtime.js";
import { serveSurface } from "./surfaces-serve.js";
import { dslSurface, irSurface, planSurface } from "./surfaces-text.js";

export const SURFACES: readonly Surface<any>[] = [
  dslSurface,
  irSurface,
  planSurface,
  safetensorsSurface,
  tsvSurface,
  onnxSurface,
  manifestSurface,
  artifactSurface,
  predictSurface(true),
  compileSurface,
  serveSurface,
];
