// Test helper: a small hand-written WebGPU artifact that follows the `wgsl`
// contract of src/runtime/manifest.ts exactly, so the WebGPU engine can be
// tested apart from the WGSL backend. Model: `dense: f32[3]`, `sparse: bags[2]`
// (weighted or not); outputs `p: [B,1]` = dense·w + bias + Σ_f c_f·Σ ids(·weights)
// and `q: [B,2]` = (the bags part, ids per sample + 7). Three steps: one per
// sample, one per id (reads params.ids), one per sample over the KJT offsets.
// `fakeWgslPredict` computes the same in plain JS (batches from reference.ts).

import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fakeGraph } from "./fake-graph.js";
import { ARTIFACT_FORMAT, type IdPolicy, type Manifest, type WgslLayout, type WgslStep } from "../../src/runtime/manifest.js";
import type { RawBatch } from "./reference.js";

/** What the fake model looks like, and what to break in it. */
export interface FakeWgslSpec {
  weighted: boolean;
  rows: [number, number];
  ids: [IdPolicy, IdPolicy];
  /** Shader texts to use instead of the good ones, by shader name. */
  shaders?: Record<string, string>;
  /** Changes to the layout before it is written. */
  edit?: (layout: WgslLayout) => void;
}

/** The fake model's parameters, as written to weights.bin and tables.bin. */
export const WGSL_PARAMS = { dense: [0.5, -1.25, 2], bias: 0.75, features: [0.001, -0.002], marks: [1, 7] };

const PARAMS_DECL = `struct Params { batch: u32, ids: u32, pad0: u32, pad1: u32 }
@group(1) @binding(0) var<uniform> params: Params;`;

/** The good shaders by name; `pool_dot4` is an alternative of `pool` that needs packed_4x8_integer_dot_product and adds dot4I8Packed(1,1,1,1 · 2,2,2,2) = 8 to q's second column (so tests see which ran). */
export function fakeShaders(weighted: boolean): Record<string, string> {
  const pool = (extra: string, feature: string) => `// rmc shader pool${feature}: pools the bags and adds the dense part
// computes IR node(s):
//   %2 = embedding_bag(...) at fake.rmdl:5
//   %3 = add(...) at fake.rmdl:6
${PARAMS_DECL}
@group(0) @binding(0) var<storage, read> offsets: array<u32>;
@group(0) @binding(1) var<storage, read> scaled: array<f32>;
@group(0) @binding(2) var<storage, read> coef: array<f32>;
@group(0) @binding(3) var<storage, read> marks: array<u32>;
@group(0) @binding(4) var<storage, read> acc: array<f32>;
@group(0) @binding(5) var<storage, read_write> p: array<f32>;
@group(0) @binding(6) var<storage, read_write> q: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let b = gid.x;
  if (b >= params.batch) { return; }
  var s = 0.0;
  var count = 0u;
  for (var f = 0u; f < 2u; f = f + 1u) {
    let lo = offsets[f * params.batch + b];
    let hi = offsets[f * params.batch + b + 1u];
    var bag = 0.0;
    for (var k = lo; k < hi; k = k + 1u) { bag = bag + scaled[k]; }
    s = s + coef[f] * bag;
    count = count + (hi - lo);
  }
  p[b] = acc[b] + s;
  q[2u * b] = s;
  q[2u * b + 1u] = f32(count * marks[0] + marks[1]${extra});
}
`;
  return {
    dense: `// rmc shader dense: dense · w + bias
// computes IR node(s):
//   %0 = linear(...) at fake.rmdl:3
${PARAMS_DECL}
@group(0) @binding(0) var<storage, read> dense: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> acc: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let b = gid.x;
  if (b >= params.batch) { return; }
  var sum = 0.0;
  for (var j = 0u; j < 3u; j = j + 1u) { sum = sum + w[j] * dense[b * 3u + j]; }
  acc[b] = sum + w[3];
}
`,
    scale: `// rmc shader scale: one value per id
// computes IR node(s):
//   %1 = embedding_bag(...) at fake.rmdl:5
${PARAMS_DECL}
@group(0) @binding(0) var<storage, read> ids: array<u32>;
${weighted ? "@group(0) @binding(1) var<storage, read> wts: array<f32>;\n@group(0) @binding(2)" : "@group(0) @binding(1)"} var<storage, read_write> scaled: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = gid.x;
  if (k >= params.ids) { return; }
  scaled[k] = f32(ids[k])${weighted ? " * wts[k]" : ""};
}
`,
    pool: pool("", ""),
    pool_dot4: pool(" + u32(dot4I8Packed(0x01010101u, 0x02020202u))", "_dot4"),
  };
}

const perSample = (bytes: number, div?: number) => ({ perSample: bytes, fixed: 0, ...(div ? { div } : {}) });
const perId = (bytes: number, div?: number) => ({ perSample: 0, perId: bytes, fixed: 0, ...(div ? { div } : {}) });
const ONE = { perSample: 0, fixed: 1 };

/** The fake's layout (shader files under shaders/). */
export function fakeLayout(weighted: boolean): WgslLayout {
  const steps: WgslStep[] = [
    { shader: "dense", bindings: ["dense", "w_dense", "acc"], dispatch: [perSample(1, 64), ONE, ONE], nodes: ["0"] },
    { shader: "scale", bindings: ["ids", ...(weighted ? ["id_weights"] : []), "scaled"], dispatch: [perId(1, 64), ONE, ONE], nodes: ["1"] },
    { shader: "pool", bindings: ["offsets", "scaled", "coef", "marks", "acc", "p", "q"], dispatch: [perSample(1, 64), ONE, ONE], nodes: ["2", "3"] },
  ];
  return {
    shaders: ["dense", "scale", "pool", "pool_dot4"].map((name) => ({ name, file: `shaders/${name}.wgsl` })),
    buffers: [
      { name: "w_dense", kind: "weights", file: "weights.bin", offset: 16, bytes: 16 },
      { name: "coef", kind: "weights", file: "tables.bin", offset: 8, bytes: 8 },
      { name: "marks", kind: "weights", file: "weights.bin", offset: 32, bytes: 6 },
      { name: "dense", kind: "batch", size: perSample(12) },
      { name: "offsets", kind: "batch", size: { perSample: 8, fixed: 4 } },
      { name: "ids", kind: "batch", size: perId(4) },
      ...(weighted ? [{ name: "id_weights", kind: "batch" as const, size: perId(4) }] : []),
      { name: "scaled", kind: "batch", size: perId(4) },
      { name: "acc", kind: "batch", size: perSample(4) },
      { name: "p", kind: "batch", size: perSample(4) },
      { name: "q", kind: "batch", size: perSample(8) },
    ],
    steps,
    inputs: [
      { name: "dense", kind: "dense", buffer: "dense" },
      { name: "sparse", kind: "bags", offsets: "offsets", ids: "ids", ...(weighted ? { weights: "id_weights" } : {}) },
    ],
    outputs: [
      { name: "p", buffer: "p" },
      { name: "q", buffer: "q" },
    ],
    languageFeatures: [],
    limits: { maxStorageBufferBindingSize: 1 << 20, maxStorageBuffersPerShaderStage: 7, maxComputeWorkgroupSizeX: 64 },
  };
}

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** Writes manifest.json, shaders/*.wgsl, weights.bin and tables.bin into `dir`; returns the manifest. */
export function writeFakeWgslArtifact(dir: string, spec: FakeWgslSpec): Manifest {
  mkdirSync(join(dir, "shaders"), { recursive: true });
  const weights = new Uint8Array(40).fill(0xee); // filler around the parameters: offsets must be honoured
  new Float32Array(weights.buffer, 16, 4).set([...WGSL_PARAMS.dense, WGSL_PARAMS.bias]);
  weights.set([WGSL_PARAMS.marks[0]!, 0, 0, 0, WGSL_PARAMS.marks[1]!, 0], 32); // 6 bytes: a range that ends mid-word
  const tables = new Uint8Array(19).fill(0xdd);
  new Float32Array(tables.buffer, 8, 2).set(WGSL_PARAMS.features);
  const files: Record<string, Uint8Array> = { "weights.bin": weights, "tables.bin": tables };
  for (const [name, text] of Object.entries({ ...fakeShaders(spec.weighted), ...spec.shaders }))
    files[`shaders/${name}.wgsl`] = new TextEncoder().encode(text);
  const layout = fakeLayout(spec.weighted);
  spec.edit?.(layout);
  const manifest: Manifest = {
    format: ARTIFACT_FORMAT,
    compiler: { name: "rmc", version: "0.0.0-test" },
    target: "wgsl",
    model: {
      name: "fakegpu",
      inputs: [
        { name: "dense", kind: "dense", width: 3 },
        { name: "sparse", kind: "bags", count: 2, weighted: spec.weighted, features: spec.rows.map((rows, f) => ({ rows, ids: spec.ids[f]! })) },
      ],
      outputs: [
        { name: "p", width: 1 },
        { name: "q", width: 2 },
      ],
    },
    precision: {},
    files: Object.fromEntries(Object.entries(files).map(([name, bytes]) => [name, { sha256: sha256(bytes), bytes: bytes.length }])),
    ir: fakeGraph("fakegpu", spec.weighted),
    wgsl: layout,
  };
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest, null, 2));
  return manifest;
}

/** The fake model in plain JS (ids already mapped by their policies); `dot4` adds the alternative shader's 8. */
export function fakeWgslPredict(spec: FakeWgslSpec, batch: RawBatch, dot4 = false): { p: Float32Array; q: Float32Array } {
  const size = batch.dense.length / 3;
  const p = new Float32Array(size);
  const q = new Float32Array(2 * size);
  const starts = [0];
  for (const length of batch.sparse.lengths) starts.push(starts[starts.length - 1]! + length);
  for (let b = 0; b < size; b++) {
    let dense = 0;
    for (let j = 0; j < 3; j++) dense += WGSL_PARAMS.dense[j]! * batch.dense[3 * b + j]!;
    let s = 0;
    let count = 0;
    for (let f = 0; f < 2; f++) {
      let bag = 0;
      for (let k = starts[f * size + b]!; k < starts[f * size + b + 1]!; k++) {
        const id = mapId(batch.sparse.values[k]!, spec.rows[f]!, spec.ids[f]!);
        bag += id * (batch.sparse.weights ? batch.sparse.weights[k]! : 1);
      }
      s += WGSL_PARAMS.features[f]! * bag;
      count += batch.sparse.lengths[f * size + b]!;
    }
    p[b] = dense + WGSL_PARAMS.bias + s;
    q[2 * b] = s;
    q[2 * b + 1] = count * WGSL_PARAMS.marks[0]! + WGSL_PARAMS.marks[1]! + (dot4 ? 8 : 0);
  }
  return { p, q };
}

const mapId = (id: number, rows: number, policy: IdPolicy): number =>
  policy === "clamp" ? Math.min(Math.max(id, 0), rows - 1) : policy === "modulo" ? ((id % rows) + rows) % rows : id;

/** The largest difference between two arrays relative to max(1, |want|) (Infinity when their lengths differ). */
export function worstRelError(got: Float32Array, want: Float32Array): number {
  if (got.length !== want.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!)));
  return worst;
}
