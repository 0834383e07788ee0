// fold-quant: between two int8 layers, the first writes f32 outputs that the
// second at once quantizes to int8 codes with its static activation scale
// (dequantize, then quantize). When the second layer's scale is static, the
// first can write those codes itself: it gets `out_scale` (the reader's
// act_scale) and `out_smooth` (the reader's smoothing factors), its output
// becomes i8[B,n], and the reader uses the codes as they are. The f32
// activations never reach memory and the reader's quantize step is gone;
// the numbers are the same bit for bit (docs/numerics.md, "folded
// quantization"). Runs after assign-precision (which sets precisions and
// static scales) and after fuse-epilogue (the activation must already be in
// the first layer's epilogue, so the two layers are adjacent).

import { users } from "../src/ir/analysis.js";
import { type Act, actOf, layerPrecision } from "../src/ir/attrs.js";
import type { Graph, Node } from "../src/ir/types.js";
import { tensor, valueInputs, weightInputs } from "../src/ir/types.js";
import type { Pass } from "../src/pipeline/pass.js";

/** An int8 linear layer, by its weight matrix's precision (the rule the interpreter and backends read). */
const isInt8 = (graph: Graph, node: Node): boolean => node.op === "linear" && layerPrecision(graph, node) === "int8";

/** Epilogues a layer that writes codes may have: the Wasm int8 GEMM quantizes right after relu, but not after host math. */
const CODES_EPILOGUES: readonly Act[] = ["none", "relu"];

/** `[writer id, reader id]` for each pair of int8 layers whose quantization can be folded. */
export function foldMatches(graph: Graph): [string, string][] {
  const readers = users(graph);
  const byId = new Map(graph.nodes.map((n) => [n.id, n] as const));
  const outputs = new Set(graph.outputs.map((o) => o.value));
  const matches: [string, string][] = [];
  for (const writer of graph.nodes) {
    if (!isInt8(graph, writer) || outputs.has(writer.id) || typeof writer.attrs.out_scale === "number") continue;
    if (!CODES_EPILOGUES.includes(actOf(writer))) continue;
    const only = readers.get(writer.id) ?? [];
    const reader = only.length === 1 ? byId.get(only[0]!) : undefined;
    if (!reader || !isInt8(graph, reader) || typeof reader.attrs.act_scale !== "number") continue;
    if (valueInputs(reader)[0] !== writer.id) continue;
    matches.push([writer.id, reader.id]);
  }
  return matches;
}

export const foldQuant: Pass = {
  name: "fold-quant",
  summary: "Let an int8 layer write the int8 codes the next int8 layer (static scale) would make of its output",
  requires: ["precision"],
  provides: ["folded-quant"],
  options: {},
  run(graph, ctx) {
    const matches = foldMatches(graph);
    if (matches.length === 0) return graph;
    const byId = new Map(graph.nodes.map((n) => [n.id, n] as const));
    return ctx.produce(graph, (g) => {
      for (const [writerId, readerId] of matches) {
        const reader = byId.get(readerId)!;
        const writer = g.nodes.find((n) => n.id === writerId)!;
        writer.attrs.out_scale = reader.attrs.act_scale!;
        if (Array.isArray(reader.attrs.smooth)) writer.attrs.out_smooth = [...reader.attrs.smooth];
        const width = writer.type?.kind === "tensor" ? writer.type.shape[1]! : 0;
        writer.type = tensor(["B", width], "i8");
      }
    });
  },
};
