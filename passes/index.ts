// The built-in passes, in the order `rmc passes` lists them. Each lives in
// passes/<name>.ts (file name = pass name); adding a pass means adding its
// file and one line here.

import type { Pass } from "../src/pipeline/pass.js";
import { assignPrecision } from "./assign-precision.js";
import { canonicalize } from "./canonicalize.js";
import { dce } from "./dce.js";
import { inferShapes } from "./infer-shapes.js";
import { splitTables } from "./split-tables.js";
import { fuseEpilogue } from "./fuse-epilogue.js";
import { fuseBags } from "./fuse-bags.js";
import { fuseInteraction } from "./fuse-interaction.js";
import { foldQuant } from "./fold-quant.js";
import { planMemory } from "./plan-memory.js";

/** Every built-in pass; the registry is pre-loaded with these. */
export const BUILTIN_PASSES: readonly Pass[] = [
  canonicalize,
  inferShapes,
  dce,
  assignPrecision as unknown as Pass,
  splitTables as unknown as Pass,
  fuseEpilogue as unknown as Pass,
  fuseBags,
  fuseInteraction,
  foldQuant,
  planMemory,
];
