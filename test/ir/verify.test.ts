// The verifier: accepts valid graphs, and each rule catches the mistake it
// exists for, with a diagnostic that names the node and carries its span.

import { describe, expect, it } from "vitest";
import type { Graph } from "../../src/ir/types.js";
import { VERIFY_CODES, verifyGraph } from "../../src/ir/verify.js";
import { allOps, dlrmSmall, f32, node, sp } from "./graphs.js";

/** Verifies the small DLRM after `mutate` breaks it. */
function verifyBroken(mutate: (g: Graph) => void, opts = {}) {
  const g = dlrmSmall();
  mutate(g);
  return verifyGraph(g, opts);
}

const nodeOf = (g: Graph, id: string) => g.nodes.find((n) => n.id === id)!;

describe("verifyGraph", () => {
  it("accepts valid graphs", () => {
    expect(verifyGraph(dlrmSmall())).toEqual([]);
    expect(verifyGraph(allOps())).toEqual([]);
  });

  it("rejects an unknown op, suggesting the nearest", () => {
    const [d] = verifyBroken((g) => (nodeOf(g, "z").op = "interat"));
    expect(d).toMatchObject({ code: VERIFY_CODES.unknownOp, span: sp(7) });
    expect(d!.message).toContain("%z: unknown op `interat`");
    expect(d!.hint).toContain("interact");
  });

  it("checks operand counts against the op table", () => {
    const ds = verifyBroken((g) => g.nodes.push(node("r", "relu", ["%z", "%bottom"], {}, f32("B", 7), sp(10))));
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ code: VERIFY_CODES.operandCount, span: sp(10) });
    expect(ds[0]!.message).toContain("relu takes 1 value operand, got 2");
    const weights = verifyBroken((g) => (nodeOf(g, "z").inputs = ["%bottom", "%pooled", "@emb.0"]));
    expect(weights[0]!.message).toContain("0 weight operands, got 1");
  });

  it("requires values before weights", () => {
    const ds = verifyBroken((g) => (nodeOf(g, "pooled").inputs = ["@emb.0", "%sparse", "@emb.1"]));
    expect(ds.map((d) => d.code)).toEqual([VERIFY_CODES.operandOrder]);
    expect(ds[0]!.message).toContain("%pooled: value operand %sparse comes after a weight operand");
  });

  it("rejects operands that are neither %values nor @weights", () => {
    const ds = verifyBroken((g) => (nodeOf(g, "z").inputs = ["%bottom", "pooled"]));
    expect(ds[0]).toMatchObject({ code: VERIFY_CODES.badOperand });
  });

  it("reports undefined values with a suggestion", () => {
    const ds = verifyBroken((g) => (nodeOf(g, "z").inputs = ["%botom", "%pooled"]));
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ code: VERIFY_CODES.undefinedValue, span: sp(7), hint: "did you mean `bottom`?" });
  });

  it("reports a use before the definition", () => {
    const ds = verifyBroken((g) => g.nodes.reverse());
    const uses = ds.filter((d) => d.code === VERIFY_CODES.useBeforeDef).map((d) => d.message);
    expect(uses).toEqual(["%top: reads %z before it is defined", "%z: reads %bottom before it is defined", "%z: reads %pooled before it is defined"]);
    expect(ds.some((d) => d.code === VERIFY_CODES.cycle)).toBe(false);
  });

  it("reports cycles once per cycle, and self-reads", () => {
    const ds = verifyBroken((g) => {
      nodeOf(g, "bottom").op = "relu";
      nodeOf(g, "bottom").attrs = {};
      nodeOf(g, "bottom").inputs = ["%z"];
    });
    const cycles = ds.filter((d) => d.code === VERIFY_CODES.cycle);
    expect(cycles[0]!.message).toBe("values %bottom, %z depend on each other (a cycle)");
    expect(cycles[0]!.span).toEqual(sp(5));
    const self = verifyBroken((g) => (nodeOf(g, "z").inputs = ["%z", "%pooled"]));
    expect(self[0]!.message).toBe("%z reads its own result (a cycle)");
  });

  it("reports undeclared weights", () => {
    const ds = verifyBroken((g) => (g.weights = g.weights.filter((w) => w.name !== "emb.1")));
    expect(ds.map((d) => [d.code, d.message])).toEqual([[VERIFY_CODES.undefinedWeight, "%pooled: weight @emb.1 is not declared"]]);
  });

  it("reports duplicate node ids, weights, inputs, outputs and input/node clashes", () => {
    const ds = verifyBroken((g) => {
      g.nodes.push({ ...nodeOf(g, "top"), span: sp(20) });
      g.weights.push({ ...g.weights[0]!, span: sp(21) });
      g.inputs.push({ ...g.inputs[0]!, span: sp(22) });
      g.outputs.push({ ...g.outputs[0]!, span: sp(23) });
    });
    const dups = ds.filter((d) => d.code === VERIFY_CODES.duplicate);
    expect(dups.map((d) => d.span!.line).sort()).toEqual([20, 21, 22, 23]);
    expect(dups.find((d) => d.span!.line === 20)!.message).toBe("value %top is defined twice (first at t.rmdl:8)");
    const clash = verifyBroken((g) => (g.nodes[0]!.id = "dense"));
    expect(clash.some((d) => d.code === VERIFY_CODES.duplicate && d.message.includes("already taken by a graph input"))).toBe(true);
  });

  it("checks attributes: unknown, invalid, missing required", () => {
    const unknown = verifyBroken((g) => (nodeOf(g, "z").attrs.selff = true));
    expect(unknown[0]).toMatchObject({ code: VERIFY_CODES.unknownAttr, hint: "did you mean `self`?" });
    const invalid = verifyBroken((g) => (nodeOf(g, "z").attrs.op = "sum"));
    expect(invalid[0]).toMatchObject({ code: VERIFY_CODES.invalidAttr });
    expect(invalid[0]!.message).toContain("must be one of dot, cat");
    const pin = verifyBroken((g) => (nodeOf(g, "z").attrs.precision = "int3"));
    expect(pin[0]).toMatchObject({ code: VERIFY_CODES.invalidAttr });
    const missing = verifyBroken((g) => delete nodeOf(g, "bottom").attrs.sizes);
    expect(missing.map((d) => d.code)).toEqual([VERIFY_CODES.missingAttr]);
    expect(missing[0]!.message).toContain("%bottom: mlp needs attribute `sizes`");
  });

  it("requires a type unless untyped nodes are allowed", () => {
    const ds = verifyBroken((g) => (nodeOf(g, "z").type = null));
    expect(ds).toEqual([expect.objectContaining({ code: VERIFY_CODES.missingType, message: "%z: missing type; run infer-shapes", span: sp(7) })]);
    expect(verifyBroken((g) => (nodeOf(g, "z").type = null), { allowUntyped: true })).toEqual([]);
  });

  it("checks each stored type against the op table's type rule", () => {
    const ds = verifyBroken((g) => (nodeOf(g, "z").type = f32("B", 8)));
    expect(ds).toHaveLength(1);
    expect(ds[0]!.message).toBe("%z: stored type f32[B,8] but interact gives f32[B,7]");
    const typeError = verifyBroken((g) => (g.weights.find((w) => w.name === "top.0.weight")!.shape = [1, 9]));
    expect(typeError.map((d) => d.code)).toEqual([VERIFY_CODES.typeError]);
    expect(typeError[0]!.message).toContain("%top: mlp layer 0: weight top.0.weight is f32[1,9]");
  });

  it("requires outputs to name defined values, as bare ids", () => {
    const ds = verifyBroken((g) => (g.outputs[0]!.value = "topp"));
    expect(ds[0]).toMatchObject({ code: VERIFY_CODES.badOutput, span: sp(9), hint: "did you mean `top`?" });
    const prefixed = verifyBroken((g) => (g.outputs[0]!.value = "%top"));
    expect(prefixed[0]!.hint).toContain("bare id");
  });

  it("requires positive integer weight shapes and valid input types", () => {
    const ds = verifyBroken((g) => (g.weights[0]!.shape = [0, 4]));
    expect(ds.filter((d) => d.code === VERIFY_CODES.badWeight).map((d) => d.message)).toEqual([
      "weight @emb.0 has shape [0,4]; sizes must be positive integers up to 2147483647",
    ]);
    const huge = verifyBroken((g) => (g.weights[0]!.shape = [2 ** 32, 4]));
    expect(huge.map((d) => d.code)).toContain(VERIFY_CODES.badWeight);
    const pin = verifyBroken((g) => (g.weights[1]!.attrs.precision = "int5"));
    expect(pin.map((d) => [d.code, d.span])).toEqual([[VERIFY_CODES.invalidAttr, sp(4)]]);
    expect(pin[0]!.message).toContain("weight @emb.1: attribute precision must be one of");
    const inputs = verifyBroken((g) => (g.inputs[0]!.type = f32("B", 2.5)));
    expect(inputs.some((d) => d.code === VERIFY_CODES.badInput)).toBe(true);
  });

  it("does not pile type errors on a node that is already malformed", () => {
    const ds = verifyBroken((g) => {
      nodeOf(g, "z").attrs.op = "sum";
      nodeOf(g, "z").type = f32("B", 99);
    });
    expect(ds.map((d) => d.code)).toEqual([VERIFY_CODES.invalidAttr]);
  });
});
