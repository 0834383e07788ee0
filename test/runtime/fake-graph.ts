// Test helper: the IR that the fake artifacts' manifests carry (fake-artifact.ts
// for Wasm, fake-wgsl.ts for WebGPU): their common signature as a graph, since
// the loader checks manifest.ir against model.inputs and model.outputs.

import type { Graph } from "../../src/ir/types.js";

const SPAN = { file: "fake.rmdl", line: 1, col: 1, endLine: 1, endCol: 1 };

/** The IR of the fake models' signature (dense: f32[3], sparse: bags[2]; p: [B,1], q: [B,2]), which the manifest must carry. */
export function fakeGraph(name: string, weighted: boolean): Graph {
  const tensor = (width: number) => ({ kind: "tensor" as const, dtype: "f32" as const, shape: ["B", width] as ("B" | number)[] });
  return {
    name,
    inputs: [
      { name: "dense", type: tensor(3), span: SPAN },
      { name: "sparse", type: { kind: "bags", count: 2, weighted }, span: SPAN },
    ],
    weights: [],
    nodes: [
      { id: "p", op: "fake", inputs: ["%dense", "%sparse"], attrs: {}, type: tensor(1), span: SPAN },
      { id: "q", op: "fake", inputs: ["%p"], attrs: {}, type: tensor(2), span: SPAN },
    ],
    outputs: [
      { name: "p", value: "p", span: SPAN },
      { name: "q", value: "q", span: SPAN },
    ],
  } as Graph;
}
