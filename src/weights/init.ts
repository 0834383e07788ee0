// Synthetic weights for a model (`--init gaussian|trained --seed N`), so a
// model can be compiled, run and benchmarked without a training run. Tables
// are lazy (rows generated on demand); weights and biases are small and made
// eagerly. The recipes themselves are documented in distributions.ts.

import { RmcError, didYouMean, error } from "../diagnostics/index.js";
import type { Graph } from "../ir/types.js";
import { INIT_DISTS, INIT_RECIPE_VERSION, denseValues, tableRows, type InitDist, type InitOptions } from "./distributions.js";
import { LazyTensor, MAX_MATERIALISE_ELEMENTS } from "./lazy.js";
import { DenseTensor, type Tensor, type WeightStore } from "./store.js";

/** The recipe names and option types, for callers that only import init. */
export { INIT_DISTS, type InitDist, type InitOptions } from "./distributions.js";

/** Checks user-supplied options (a CLI flag may carry anything). */
export function checkInitOptions(opts: { seed: unknown; dist: unknown }): InitOptions {
  if (typeof opts.dist !== "string" || !(INIT_DISTS as readonly string[]).includes(opts.dist)) {
    const hint = typeof opts.dist === "string" ? didYouMean(opts.dist, INIT_DISTS) : undefined;
    throw new RmcError(
      error("E1307", `unknown weight initialisation ${JSON.stringify(opts.dist)}; choose one of ${INIT_DISTS.join(", ")}`, undefined, hint),
    );
  }
  if (typeof opts.seed !== "number" || !Number.isSafeInteger(opts.seed))
    throw new RmcError(error("E1307", `the initialisation seed must be an integer, got ${JSON.stringify(opts.seed)}`));
  return { seed: opts.seed, dist: opts.dist as InitDist };
}

/**
 * Deterministic synthetic weights for every weight the graph declares. The
 * same options give the same values however they are read (row by row,
 * whole, or written by writeWeights).
 */
export function initWeights(graph: Graph, opts: InitOptions): WeightStore {
  const checked = checkInitOptions(opts);
  const store = new Map<string, Tensor>();
  for (const w of graph.weights) {
    // Dense weights are made whole: one too large for a typed array is refused, located, before anything is allocated.
    const elements = w.shape.reduce((a, b) => a * b, 1);
    if (w.role !== "table" && elements > MAX_MATERIALISE_ELEMENTS)
      throw new RmcError(
        error(
          "E1304",
          `weight \`${w.name}\` [${w.shape.join(", ")}] has ${elements} elements, over the ${MAX_MATERIALISE_ELEMENTS} a dense weight may hold`,
          w.span,
        ),
      );
    store.set(
      w.name,
      w.role === "table" ? new LazyTensor(w.name, w.shape, tableRows(w, checked)) : new DenseTensor(w.shape, denseValues(w, checked)),
    );
  }
  return store;
}

/** What was generated, as safetensors `__metadata__` (`rmc.init`, `rmc.seed`, `rmc.init.recipe`). */
export function initMetadata(opts: InitOptions): Record<string, string> {
  return { "rmc.init": opts.dist, "rmc.seed": String(opts.seed), "rmc.init.recipe": INIT_RECIPE_VERSION };
}

/** The options a file was generated with, if its metadata says so (and the recipe version matches). */
export function initOptionsFromMetadata(metadata: Readonly<Record<string, string>>): InitOptions | undefined {
  const dist = metadata["rmc.init"] ?? "";
  const seedText = metadata["rmc.seed"] ?? "";
  if (metadata["rmc.init.recipe"] !== INIT_RECIPE_VERSION || !(INIT_DISTS as readonly string[]).includes(dist) || !/^-?\d+$/.test(seedText))
    return undefined;
  const seed = Number(seedText);
  return Number.isSafeInteger(seed) ? { seed, dist: dist as InitDist } : undefined;
}
