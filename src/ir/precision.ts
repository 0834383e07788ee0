// What precision a weight is stored at, from the pins in the IR: a pin on the
// weight itself (`@precision` on a table) wins, else a pin on the node that
// reads it (`@precision` on a layer applies to all its weights), else fp32.
// The interpreter and every backend read precision through this one rule.

import type { Node, WeightDecl } from "./types.js";

/** How an n-bit table's rows choose their range (`row_range`: l2, or minmax when absent; docs/numerics.md). */
export function rowRangeOf(decl: WeightDecl): "minmax" | "l2" {
  return decl.attrs.row_range === "l2" ? "l2" : "minmax";
}

/** Precision of `decl` as read by `node`. */
export function weightPrecision(decl: WeightDecl, node: Node | undefined): string {
  return (decl.attrs.precision as string | undefined) ?? (node?.attrs.precision as string | undefined) ?? "fp32";
}
