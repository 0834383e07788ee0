// The graph picture, SVG half: DOT text (dot.ts) laid out and drawn by
// Graphviz compiled to WebAssembly (@viz-js/viz). Loaded on first use, so
// commands that draw nothing never pay for the Graphviz module.

import { RmcError } from "../diagnostics/index.js";

type Viz = Awaited<ReturnType<(typeof import("@viz-js/viz"))["instance"]>>;
let viz: Promise<Viz> | undefined;

/** The SVG document Graphviz draws for `dot`; a DOT error (a bug in dot.ts) is an RmcError naming Graphviz's message. */
export async function renderSvg(dot: string): Promise<string> {
  viz ??= import("@viz-js/viz").then((m) => m.instance());
  const result = (await viz).render(dot, { format: "svg", engine: "dot" });
  if (result.status !== "success")
    throw new RmcError(`Graphviz could not draw the graph: ${result.errors.map((e) => e.message).join("; ")}`, "E0001");
  return result.output;
}
