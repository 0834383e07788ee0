// Reading an artifact's manifest for the commands that reason about a
// compiled model without running it (verify, debug-numerics), and turning its
// IR back into the fp32 reference model.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { produce } from "immer";
import { RmcError } from "../diagnostics/index.js";
import type { Graph } from "../ir/types.js";
import { ARTIFACT_FORMAT, type Manifest } from "../runtime/manifest.js";
import type { PrecisionPlan } from "../precision/plan.js";

/** The manifest of an artifact folder; a missing or foreign one is a clear error. */
export function readManifest(dir: string): Manifest {
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RmcError(
      `${dir} is not an rmc artifact: ${code === "ENOENT" ? "it has no manifest.json" : `manifest.json is unreadable (${(e as Error).message})`}`,
      "E1909",
    );
  }
  if (m.format !== ARTIFACT_FORMAT)
    throw new RmcError(`${dir}: artifact format ${String(m.format)}, this rmc reads format ${ARTIFACT_FORMAT}; recompile it`, "E1913");
  return m;
}

/** The plan recorded in a manifest, if the model was compiled with one. */
export const manifestPlan = (m: Manifest): PrecisionPlan | undefined => m.plan as PrecisionPlan | undefined;

/** The same graph with every precision choice removed: the fp32 reference model. */
export function fp32Of(graph: Graph): Graph {
  return produce(graph, (g) => {
    for (const w of g.weights) delete w.attrs.precision;
    for (const n of g.nodes) {
      delete n.attrs.precision;
      delete n.attrs.act_scale;
      // Folded quantization (fold-quant) and the memory plan (plan-memory) belong to the compiled precisions.
      delete n.attrs.out_scale;
      delete n.attrs.out_smooth;
      delete n.attrs.buffer;
      delete n.attrs.scratch;
      if (n.type?.kind === "tensor" && n.type.dtype === "i8") n.type.dtype = "f32";
    }
  });
}
