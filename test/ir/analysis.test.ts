// Graph analyses: the dependence graph, stable topological order, cycles, users
// and live ranges, checked against orders and ranges worked out by hand.

import { describe, expect, it } from "vitest";
import { RmcError } from "../../src/diagnostics/index.js";
import { dependenceGraph, findCycles, liveness, topologicalOrder, users } from "../../src/ir/analysis.js";
import type { Graph } from "../../src/ir/types.js";
import { dlrmSmall, f32, input, node, output } from "./graphs.js";

/** a → b → d, a → c → d, plus an unused e; c is listed before b. */
function diamond(): Graph {
  return {
    name: "diamond",
    inputs: [input("x", f32("B", 2)), input("unused", f32("B", 2))],
    weights: [],
    nodes: [
      node("d", "concat", ["%b", "%c"], {}, f32("B", 4)),
      node("c", "tanh", ["%a"], {}, f32("B", 2)),
      node("b", "relu", ["%a"], {}, f32("B", 2)),
      node("a", "relu", ["%x"], {}, f32("B", 2)),
      node("e", "sigmoid", ["%x"], {}, f32("B", 2)),
    ],
    outputs: [output("y", "d")],
  };
}

describe("graph analyses", () => {
  it("builds a dependence graph with an edge per value dependence", () => {
    const dg = dependenceGraph(dlrmSmall());
    expect([...dg.vertices.keys()].sort()).toEqual(["bottom", "dense", "pooled", "sparse", "top", "z"]);
    expect(dg.vertices.get("dense")).toEqual({ kind: "input" });
    expect(dg.vertices.get("z")).toEqual({ kind: "node", index: 2 });
    expect(dg.predecessors.get("z")!.sort()).toEqual(["bottom", "pooled"]);
    expect(dg.successors.get("bottom")).toEqual(["z"]);
    expect(dg.edgeCount).toBe(5);
  });

  it("orders and checks a 20,000-node chain without recursion", () => {
    const g = dlrmSmall();
    g.nodes = Array.from({ length: 20_000 }, (_, i) => node(`h${i}`, "relu", [i ? `%h${i - 1}` : "%dense"], {}, f32("B", 13)));
    g.outputs = [output("y", "h19999")];
    expect(topologicalOrder(g)).toHaveLength(20_000);
    expect(findCycles(g)).toEqual([]);
    g.nodes[0]!.inputs = ["%h19999"];
    expect(findCycles(g)[0]).toHaveLength(20_000);
  });

  it("keeps program order when it is already topological", () => {
    expect(topologicalOrder(dlrmSmall())).toEqual(["bottom", "pooled", "z", "top"]);
  });

  it("orders out-of-order nodes, earliest-listed first among ready ones", () => {
    expect(topologicalOrder(diamond())).toEqual(["a", "c", "b", "d", "e"]);
  });

  it("reports cycles, and refuses to order a cyclic graph", () => {
    const g = diamond();
    g.nodes.find((n) => n.id === "a")!.inputs = ["%d"];
    expect(findCycles(g)).toEqual([["d", "c", "b", "a"]]);
    expect(() => topologicalOrder(g)).toThrow(RmcError);
    expect(() => topologicalOrder(g)).toThrow(/dependence cycle: %d, %c, %b, %a/);
    g.nodes.find((n) => n.id === "e")!.inputs = ["%e"];
    expect(findCycles(g)).toEqual([["d", "c", "b", "a"], ["e"]]);
    expect(findCycles(diamond())).toEqual([]);
  });

  it("lists the users of every value, each once", () => {
    const g = diamond();
    g.nodes[0]!.inputs = ["%b", "%c", "%b"];
    const u = users(g);
    expect(Object.fromEntries(u)).toEqual({ x: ["a", "e"], unused: [], d: [], c: ["d"], b: ["d"], a: ["c", "b"], e: [] });
  });

  it("computes live ranges over the topological order; outputs live to the end", () => {
    // order: a(0) c(1) b(2) d(3) e(4); d is bound to an output, so it lives past the last node (5)
    const live = Object.fromEntries(liveness(diamond()));
    expect(live).toEqual({
      x: { def: -1, lastUse: 4 },
      unused: { def: -1, lastUse: -1 },
      a: { def: 0, lastUse: 2 },
      c: { def: 1, lastUse: 3 },
      b: { def: 2, lastUse: 3 },
      d: { def: 3, lastUse: 5 },
      e: { def: 4, lastUse: 4 },
    });
  });
});
