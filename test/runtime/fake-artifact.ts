// Test helper: a small hand-built Wasm artifact that follows the runtime ABI
// (src/runtime/manifest.ts) exactly, so the loader can be tested before the
// compiler exists. Model: `dense: f32[3]`, `sparse: bags[2]` (weighted or
// not), outputs `p: [B,1]` and `q: [B,2]`. The code reads its parameters from
// weights.bin, the KJT through the workspace header, and calls env.sigmoid and
// env.tanh; `referencePredict` computes the same thing in plain JS.

import binaryen from "binaryen";
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fakeGraph } from "./fake-graph.js";
import { withLayoutSection } from "../../backends/wasm/section.js";
import { ARTIFACT_FORMAT, type IdPolicy, type Manifest, type WasmLayout } from "../../src/runtime/manifest.js";

const WEIGHTS_OFFSET = 1024;
const FILLER_BYTES = 1000;
const HEADER_BYTES = 16;
const OFF = { dense: 0, lengths: 12, p: 20, q: 24 };
const PER_SAMPLE = 32;

/** What the fake model looks like. */
export interface FakeSpec {
  weighted: boolean;
  rows: [number, number];
  ids: [IdPolicy, IdPolicy];
  /** Whether to write the threads module too (default true). */
  threads?: boolean;
  /** Code whose forward traps (`unreachable`), to test error reporting. */
  trap?: boolean;
}

/** The fake model's parameters, as written to weights.bin. */
export const PARAMS = { dense: [0.5, -1.25, 2], features: [0.001, -0.002] };

/** Builds the forward code; `shared` imports a shared memory (for worker threads). */
export function buildFakeModule(weighted: boolean, shared: boolean, trap = false): Uint8Array {
  const m = new binaryen.Module();
  const { i32, f32 } = binaryen;
  // The memory must exist before any load or store is built.
  const F = binaryen.Features;
  m.setFeatures(F.SIMD128 | F.BulkMemory | F.BulkMemoryOpt | (shared ? F.Atomics : 0));
  m.setMemory(1, 65536, null, [], shared);
  m.addMemoryImport("0", "env", "memory", shared);
  const [WS, CAP, B, b, j, f, k, i, n, BASE, IDS, WTS, ACC, S] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const get = (x: number, type = i32) => m.local.get(x, type);
  const set = (x: number, v: number) => m.local.set(x, v);
  const c = (v: number) => m.i32.const(v);
  const add = (...xs: number[]) => xs.reduce((a, x) => m.i32.add(a, x));
  const mul = (a: number, x: number) => m.i32.mul(a, x);
  const at = (area: number, index: number) => add(get(BASE), mul(c(area), get(CAP)), m.i32.shl(index, c(2)));
  let labels = 0;
  const loop = (idx: number, limit: () => number, body: number[]) => {
    const name = `l${labels++}`;
    return m.block(null, [
      set(idx, c(0)),
      m.block(`${name}_out`, [
        m.loop(name, m.block(null, [m.br(`${name}_out`, m.i32.ge_s(get(idx), limit())), ...body, set(idx, add(get(idx), c(1))), m.br(name)])),
      ]),
    ]);
  };
  const pAt = () => at(OFF.p, get(b));
  const id = () => m.f32.convert_s.i32(m.i32.load(0, 4, add(get(IDS), m.i32.shl(get(k), c(2)))));
  const term = () => (weighted ? m.f32.mul(id(), m.f32.load(0, 4, add(get(WTS), m.i32.shl(get(k), c(2))))) : id());
  const qAt = (lane: number) => add(at(OFF.q, mul(get(b), c(2))), c(4 * lane));
  const body = m.block(null, [
    set(BASE, add(get(WS), c(HEADER_BYTES))),
    set(IDS, m.i32.load(0, 4, get(WS))),
    set(WTS, m.i32.load(4, 4, get(WS))),
    loop(b, () => get(B), [
      m.local.set(ACC, m.f32.const(0)),
      loop(j, () => c(3), [
        m.local.set(
          ACC,
          m.f32.add(
            get(ACC, f32),
            m.f32.mul(
              m.f32.load(0, 4, add(c(WEIGHTS_OFFSET), m.i32.shl(get(j), c(2)))),
              m.f32.load(0, 4, at(OFF.dense, add(mul(get(b), c(3)), get(j)))),
            ),
          ),
        ),
      ]),
      m.f32.store(0, 4, pAt(), get(ACC, f32)),
    ]),
    set(k, c(0)),
    loop(f, () => c(2), [
      loop(b, () => get(B), [
        set(n, m.i32.load(0, 4, at(OFF.lengths, add(mul(get(f), get(B)), get(b))))),
        m.local.set(S, m.f32.const(0)),
        loop(i, () => get(n), [m.local.set(S, m.f32.add(get(S, f32), term())), set(k, add(get(k), c(1)))]),
        m.f32.store(
          0,
          4,
          pAt(),
          m.f32.add(m.f32.load(0, 4, pAt()), m.f32.mul(m.f32.load(0, 4, add(c(WEIGHTS_OFFSET + 12), m.i32.shl(get(f), c(2)))), get(S, f32))),
        ),
      ]),
    ]),
    loop(b, () => get(B), [
      m.f32.store(0, 4, qAt(0), m.call("sigmoid", [m.f32.load(0, 4, pAt())], f32)),
      m.f32.store(0, 4, qAt(1), m.call("tanh", [m.f32.load(0, 4, pAt())], f32)),
    ]),
  ]);
  m.addFunctionImport("sigmoid", "env", "sigmoid", f32, f32);
  m.addFunctionImport("tanh", "env", "tanh", f32, f32);
  m.addFunction(
    "forward",
    binaryen.createType([i32, i32, i32]),
    binaryen.none,
    [i32, i32, i32, i32, i32, i32, i32, i32, i32, f32, f32],
    trap ? m.unreachable() : body,
  );
  m.addFunctionExport("forward", "forward");
  if (!m.validate()) throw new Error("fake module does not validate");
  const bytes = m.emitBinary();
  m.dispose();
  return bytes;
}

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/**
 * Writes manifest.json, model.wasm, model.threads.wasm and weights.bin into
 * `dir`; returns the manifest. Both modules carry the `rmc.layout` section of
 * the layout written: `edits.layout` changes both (a consistent artifact with
 * another layout), `edits.code` only what the section says (to test that the
 * loader compares them).
 */
export function writeFakeArtifact(
  dir: string,
  spec: FakeSpec,
  edits: { layout?: (layout: WasmLayout) => void; code?: (layout: WasmLayout) => void } = {},
): Manifest {
  mkdirSync(dir, { recursive: true });
  const weights = new Uint8Array(20 + FILLER_BYTES);
  new Float32Array(weights.buffer, 0, 5).set([...PARAMS.dense, ...PARAMS.features]);
  for (let x = 20; x < weights.length; x++) weights[x] = (x * 37) & 255;
  const wasm: WasmLayout = {
    module: "model.wasm",
    threadsModule: spec.threads !== false ? "model.threads.wasm" : "",
    weights: { file: "weights.bin", offset: WEIGHTS_OFFSET, bytes: weights.length },
    workspaceBase: 4096,
    headerBytes: HEADER_BYTES,
    perSample: PER_SAMPLE,
    buffers: {
      inputs: [
        { name: "dense", kind: "dense", offset: OFF.dense },
        { name: "sparse", kind: "bags", lengthsOffset: OFF.lengths, headerSlot: 0 },
      ],
      outputs: [
        { name: "p", offset: OFF.p },
        { name: "q", offset: OFF.q },
      ],
    },
    features: ["simd128", "bulk-memory"],
    imports: ["sigmoid", "tanh"],
    activationBytesPerSample: 12,
  };
  edits.layout?.(wasm);
  const compiledFor = structuredClone(wasm);
  edits.code?.(compiledFor);
  const bags = {
    name: "sparse",
    kind: "bags" as const,
    count: 2,
    weighted: spec.weighted,
    features: spec.rows.map((rows, f) => ({ rows, ids: spec.ids[f]! })),
  };
  const code = (shared: boolean) =>
    withLayoutSection(buildFakeModule(spec.weighted, shared, spec.trap), compiledFor, undefined, [{ name: "dense", kind: "dense", width: 3 }, bags]);
  const files: Record<string, Uint8Array> = { "model.wasm": code(false), "weights.bin": weights };
  if (spec.threads !== false) files["model.threads.wasm"] = code(true);
  const manifest: Manifest = {
    format: ARTIFACT_FORMAT,
    compiler: { name: "rmc", version: "0.0.0-test" },
    target: "wasm",
    model: {
      name: "fake",
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
    ir: fakeGraph("fake", spec.weighted),
    wasm,
  };
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest, null, 2));
  return manifest;
}
