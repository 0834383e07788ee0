// The built-in passes, in the order `rmc passes` lists them. Each lives in
// passes/<name>.ts (file name = pass name); adding a pass means adding its
// file and one line here. These are the target-neutral passes; a target's
// own (the Wasm memory plan) come with its backend (backends/index.ts).

import { PassRegistry, type Pass } from "../src/pipeline/index.js";
import { assignPrecision } from "./assign-precision.js";
import { canonicalize } from "./canonicalize.js";
import { dce } from "./dce.js";
import { inferShapes } from "./infer-shapes.js";
import { splitTables } from "./split-tables.js";
import { placeTables } from "./place-tables.js";
import { fuseEpilogue } from "./fuse-epilogue.js";
import { fuseBags } from "./fuse-bags.js";
import { fuseInteraction } from "./fuse-interaction.js";
import { foldQuant } from "./fold-quant.js";

/** Every built-in pass. */
export const BUILTIN_PASSES: readonly Pass[] = [
  canonicalize,
  inferShapes,
  dce,
  assignPrecision as unknown as Pass,
  placeTables as unknown as Pass,
  splitTables as unknown as Pass,
  fuseEpilogue as unknown as Pass,
  fuseBags,
  fuseInteraction,
  foldQuant,
];

/** A registry holding the built-in passes. */
export function createPassRegistry(): PassRegistry {
  const registry = new PassRegistry();
  for (const pass of BUILTIN_PASSES) registry.register(pass);
  return registry;
}
