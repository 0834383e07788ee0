// Runtime safety of compiled artifacts (Wasm and WebGPU engines): every bad
// request gets a defined answer — an RmcError with its code, or the table's
// declared id policy — and no id reads outside its table. The proof of the
// last is a canary: table `a` sits between two tables filled with 1e30
// (checked in weights.bin), so a gather one row past either end of `a` would
// show 1e30 in the output. Each probe is compared with the interpreter, and
// after every refused call a good call must still give the right answer.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { wasmBackend } from "../../backends/wasm/index.js";
import { wgslBackend } from "../../backends/wgsl/index.js";
import type { Batch } from "../../src/data/batch.js";
import { RmcError } from "../../src/diagnostics/index.js";
import { parseModel } from "../../src/frontend/index.js";
import { interpret } from "../../src/interp/interpreter.js";
import type { Graph } from "../../src/ir/types.js";
import { load, type Model } from "../../src/runtime/index.js";
import { DenseTensor, type WeightStore } from "../../src/weights/store.js";
import { canonical, tempDir } from "../backends/wasm/helpers.js";
import { testWorkerUrl } from "../runtime/transpile.js";
import { requireAdapter } from "../webgpu.js";

const webgpu = await requireAdapter();
// 8 × 8 f32 = 256 bytes per table: a multiple of both engines' table alignment (64 bytes Wasm, 256 WebGPU), so no padding separates the tables.
const ROWS = 8;
const DIM = 8;
const CANARY = 1e30;
const POLICIES = ["clamp", "modulo", "error"] as const;

const source = (policy: string) => `model canary {
  input dense: f32[2]
  input sparse: bags[3]
  table lo: embedding(dim: ${DIM}, rows: ${ROWS})
  table a: embedding(dim: ${DIM}, rows: ${ROWS}, ids: ${policy})
  table hi: embedding(dim: ${DIM}, rows: ${ROWS})
  pl = embedding_bag(lo, sparse[0])
  pa = embedding_bag(a, sparse[1])
  ph = embedding_bag(hi, sparse[2])
  y = linear(dense, 1)
  output low = pl
  output emb = pa
  output high = ph
  output y
}
`;

/** Row r of `a` holds r + 1 + j/8 (exact in f32, different for every row); lo and hi hold only the canary. Other weights: small steps. */
function weightsOf(graph: Graph): WeightStore {
  const a = Float32Array.from({ length: ROWS * DIM }, (_, i) => Math.floor(i / DIM) + 1 + (i % DIM) / 8);
  return new Map([
    ["lo.weight", new DenseTensor([ROWS, DIM], new Float32Array(ROWS * DIM).fill(CANARY))],
    ["a.weight", new DenseTensor([ROWS, DIM], a)],
    ["hi.weight", new DenseTensor([ROWS, DIM], new Float32Array(ROWS * DIM).fill(CANARY))],
    ...graph.weights
      .filter((w) => !w.name.startsWith("lo.") && !w.name.startsWith("a.") && !w.name.startsWith("hi."))
      .map((w): [string, DenseTensor] => [
        w.name,
        new DenseTensor(
          w.shape,
          Float32Array.from({ length: w.shape.reduce((x, y) => x * y, 1) }, (_, i) => 0.25 + i / 4),
        ),
      ]),
  ]);
}

/** A request whose only ids are `ids`, one bag of them for sample 0 of table `a`, and `size - 1` more samples reading a's row 3. */
function request(ids: ArrayLike<number>, size = 1, dense?: ArrayLike<number>) {
  const lengths = new Int32Array(3 * size);
  lengths[size] = ids.length;
  for (let b = 1; b < size; b++) lengths[size + b] = 1;
  const values = [...Array.from(ids), ...Array.from({ length: size - 1 }, () => 3)];
  return {
    dense: dense ?? Float32Array.from({ length: 2 * size }, (_, i) => (i % 5) - 2),
    sparse: { lengths, values: ids instanceof Int32Array ? Int32Array.from(values) : values },
  };
}

type Request = ReturnType<typeof request>;
const asBatch = (r: Request, size: number): Batch => ({
  size,
  inputs: {
    dense: Float32Array.from(r.dense),
    sparse: { count: 3, batch: size, lengths: r.sparse.lengths, values: Int32Array.from(r.sparse.values) },
  },
});

/** Ids at and around the ends of `a`, and far outside it (a policy decides those). */
const BOUNDARY = [0, 1, ROWS - 2, ROWS - 1];
const OUTSIDE = [-1, -2, ROWS, ROWS + 1, 2 * ROWS, -ROWS, 1000, -1000, 2 ** 31 - 1, -(2 ** 31)];

/** The code of the RmcError a promise rejects with (fails the test if it resolves or throws anything else). */
async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (cause: unknown) => cause,
  );
  expect(e, "the call should have been refused").toBeInstanceOf(RmcError);
  return (e as RmcError).diagnostics[0]!.code;
}

const engines = [
  { target: "wasm", backend: wasmBackend, threads: 2, skip: false },
  { target: "wgsl", backend: wgslBackend, threads: 1, skip: !webgpu },
] as const;

for (const engine of engines)
  describe.skipIf(engine.skip)(`canary tables around table a (${engine.target} engine)`, () => {
    for (const policy of POLICIES) {
      const graph = canonical(parseModel(source(policy), "canary.rmdl").graph!);
      const weights = weightsOf(graph);
      let model: Model;
      let dir: string;
      beforeAll(async () => {
        dir = join(tempDir(), "dist");
        await engine.backend.compile(graph, weights, { outDir: dir, emitText: false, features: [], compilerVersion: "test" });
        model = await load(dir, { threads: engine.threads, batchCapacity: 4, ...(engine.threads > 1 ? { workerUrl: testWorkerUrl() } : {}) });
      });
      afterAll(() => model?.close());

      /** Predicts `r` and checks every output against the interpreter, exactly, and that no output shows the canary. */
      async function expectReference(r: Request, size: number): Promise<void> {
        const got = await model.predict(r);
        const want = interpret(graph, weights, asBatch(r, size)).outputs;
        for (const name of ["emb", "low", "high", "y"]) expect(Array.from(got[name]!), name).toEqual(Array.from(want[name]!));
        for (const v of got.emb!) expect(Math.abs(v)).toBeLessThan(1e6);
      }
      const good = () => expectReference(request([2, 5], 3), 3);

      it(`${policy}: the canary tables are a's neighbours in the weights file`, () => {
        const file = engine.target === "wasm" ? "weights.bin" : readManifestWeights(dir);
        const blob = new Float32Array(new Uint8Array(readFileSync(join(dir, file))).buffer);
        const first = blob.indexOf(1);
        expect(Array.from(blob.subarray(first, first + 2))).toEqual([1, 1.125]);
        const last = first + ROWS * DIM;
        expect(blob[last - 1]).toBe(ROWS + (DIM - 1) / 8);
        // The row just before a's first and the row just after its last are the canary's: a gather one row out of a reads 1e30.
        const canary = (v: number) => v === Math.fround(CANARY);
        expect(blob.subarray(first - DIM, first).every(canary)).toBe(true);
        expect(blob.subarray(last, last + DIM).every(canary)).toBe(true);
      });

      it(`${policy}: ids at a's ends read a's own rows`, async () => {
        for (const id of BOUNDARY) await expectReference(request([id]), 1);
        await expectReference(request(Int32Array.from(BOUNDARY)), 1);
      });

      it(`${policy}: ids outside a follow the policy (${policy === "error" ? "E1715" : policy}), never the neighbours`, async () => {
        for (const id of OUTSIDE) {
          for (const ids of [[id], Int32Array.of(id), [ROWS - 1, id, 0]]) {
            if (policy === "error") expect(await codeOf(model.predict(request(ids)))).toBe("E1715");
            else await expectReference(request(ids), 1);
            await good();
          }
        }
      });

      it(`${policy}: ids beyond 32 bits in plain arrays are judged by their true value, not wrapped to 32 bits first`, async () => {
        // Int32Array.from(2^32) is 0, a valid row: the policy must see 2^32 itself.
        for (const id of [2 ** 32, 2 ** 32 + 3, -(2 ** 32) - 1, 2 ** 53]) {
          if (policy === "error") expect(await codeOf(model.predict(request([id])))).toBe("E1715");
          else {
            const row = policy === "clamp" ? (id < 0 ? 0 : ROWS - 1) : ((id % ROWS) + ROWS) % ROWS;
            expect(await model.predict(request([id]))).toEqual(await model.predict(request([row])));
          }
          await good();
        }
      });

      it(`${policy}: ids that are not integers are refused (E1714), whatever the policy`, async () => {
        for (const id of [0.5, -0.5, ROWS - 0.5, NaN, Infinity, -Infinity]) {
          expect(await codeOf(model.predict(request([id])))).toBe("E1714");
          await good();
        }
      });

      it(`${policy}: wrong lengths, offsets and dense widths are refused (E1711, E1713)`, async () => {
        const r = request([1, 2], 2);
        const bad: [string, Record<string, unknown>][] = [
          ["E1713", { ...r, sparse: { lengths: r.sparse.lengths, values: [1] } }],
          ["E1713", { ...r, sparse: { lengths: r.sparse.lengths, values: [1, 2, 3, 4] } }],
          ["E1713", { ...r, sparse: { lengths: Int32Array.of(0, 0, 3, -1, 0, 0), values: [1, 2, 3] } }],
          ["E1713", { ...r, sparse: { lengths: [0, 0, 1.5, 1.5, 0, 0], values: [1, 2, 3] } }],
          ["E1713", { ...r, sparse: { lengths: Int32Array.of(0, 2, 1, 0, 0), values: [1, 2, 3] } }],
          ["E1711", { ...r, dense: new Float32Array(3) }],
          ["E1712", { ...r, dense: new Float32Array(6) }],
          ["E1711", { ...r, dense: [1, "2", 3, 4] }],
        ];
        for (const [code, batch] of bad) {
          expect(await codeOf(model.predict(batch as never))).toBe(code);
          await good();
        }
      });

      it(`${policy}: NaN and ±Infinity dense values give what the interpreter gives, and do not stick`, async () => {
        await expectReference(request([1], 2, Float32Array.of(NaN, 1, Infinity, -Infinity)), 2);
        await good();
      });

      it(`${policy}: batches beyond the planned capacity (4 samples, 8 ids a bag) grow the buffers and stay right`, async () => {
        await expectReference(request(Array.from({ length: 300 }, (_, i) => i % ROWS)), 1);
        await expectReference(request([ROWS - 1, 0], 700), 700);
        await good();
      });
    }
  });

/** The WebGPU artifact's weights file, from its manifest. */
function readManifestWeights(dir: string): string {
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as { wgsl?: { buffers?: { kind: string; file?: string }[] } };
  const weights = manifest.wgsl?.buffers?.find((b) => b.kind === "weights");
  expect(weights?.file).toBeTruthy();
  return weights!.file!;
}
