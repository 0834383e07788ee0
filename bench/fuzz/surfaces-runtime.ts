// Fuzzing harness (bench/fuzz): the runtime surfaces — manifest.json checks
// (parseManifest), loading a compiled artifact with its manifest or files
// damaged, and predict() on a loaded model with hostile inputs. An input
// predict accepts must give the reference interpreter's numbers (ids mapped by
// each table's policy, as the runtime documents); anything else must be an RmcError.

import fc from "fast-check";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { interpret } from "../../src/interp/interpreter.js";
import { parseManifest } from "../../src/runtime/check.js";
import { load, type Model } from "../../src/runtime/index.js";
import { compileSource, fixture, type Fixture } from "./fixture.js";
import type { Surface, Verdict } from "./harness.js";
import { mutatedBytes, mutatedJson } from "./mutate.js";

let fx: Fixture | undefined;
const need = (): Fixture => {
  if (!fx) throw new Error("surface used before its setup");
  return fx;
};
const manifestOf = (f: Fixture): unknown => JSON.parse(readFileSync(join(f.dist, "manifest.json"), "utf8"));

export const manifestSurface: Surface<string> = {
  name: "manifest.json (parseManifest)",
  setup: async () => void (fx ??= await fixture()),
  arb: () => mutatedJson(manifestOf(need()), 4).map((m) => JSON.stringify(m) ?? ""),
  run: (text) => void parseManifest(text, "manifest.json"),
};

/** A batch of 4 samples every surface below predicts with. */
const DENSE = Float32Array.from({ length: 12 }, (_, i) => ((i * 7) % 11) / 3 - 1);
const SPARSE = { lengths: Int32Array.from([1, 2, 0, 1, 1, 1, 2, 0]), values: Int32Array.from([3, 9, 0, 6, 4, 12, 1, 2]) };

/** The interpreter's outputs for canonical inputs: ids of feature 0 clamped to a's 7 rows, of feature 1 folded into b's 5. */
function reference(f: Fixture, dense: ArrayLike<number>, lengths: ArrayLike<number>, values: ArrayLike<number>): Float32Array {
  const size = dense.length / 3;
  let first = 0;
  for (let i = 0; i < size; i++) first += lengths[i]!;
  const ids = Int32Array.from(values, (id, k) => (k < first ? Math.min(Math.max(id, 0), 6) : ((id % 5) + 5) % 5));
  const batch = {
    size,
    inputs: { dense: Float32Array.from(dense), sparse: { count: 2, batch: size, lengths: Int32Array.from(lengths), values: ids } },
  };
  return interpret(f.graph, f.store, batch).outputs.ctr!;
}

/** Why `got` is not `want` (NaN equals NaN; 1e-6 for the order of float sums), or undefined. */
function differs(got: Float32Array | undefined, want: Float32Array): string | undefined {
  if (!got || got.length !== want.length) return `${got?.length} outputs, expected ${want.length}`;
  const i = got.findIndex((g, k) => !(Math.abs(g - want[k]!) <= 1e-6 || (Number.isNaN(g) && Number.isNaN(want[k]!))));
  return i < 0 ? undefined : `output ${i} is ${got[i]}, the interpreter says ${want[i]}`;
}

type ArtifactCase = { manifest: unknown } | { file: string; bytes: Uint8Array };
let scratch: string | undefined;
let cases = 0;
let good: Float32Array | undefined;

export const artifactSurface: Surface<ArtifactCase> = {
  name: "artifact (load + predict)",
  async setup() {
    fx ??= await fixture();
    good = reference(fx, DENSE, SPARSE.lengths, SPARSE.values);
  },
  arb: () => {
    const f = need();
    const files = readdirSync(f.dist).filter((n) => n !== "manifest.json");
    const damaged = fc.constantFrom(...files).chain((file) => mutatedBytes([readFileSync(join(f.dist, file))], 3).map((bytes) => ({ file, bytes })));
    return fc.oneof({ weight: 3, arbitrary: mutatedJson(manifestOf(f), 3).map((manifest) => ({ manifest })) }, { weight: 1, arbitrary: damaged });
  },
  async run(c) {
    scratch ??= mkdtempSync(join(tmpdir(), "rmc-fuzz-artifact-"));
    const dir = join(scratch, `a${cases++}`);
    cpSync(need().dist, dir, { recursive: true });
    try {
      if ("manifest" in c) writeFileSync(join(dir, "manifest.json"), JSON.stringify(c.manifest) ?? "");
      else writeFileSync(join(dir, c.file), c.bytes);
      const model = await load(dir, { threads: 1, preload: "all" });
      try {
        const why = differs((await model.predict({ dense: DENSE, sparse: SPARSE })).ctr, good!);
        return why ? { wrong: `a damaged artifact loaded and predicted other numbers: ${why}` } : undefined;
      } finally {
        await model.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

/** A predict() call: typed inputs by name, or sample objects. */
type PredictCase = { inputs: Record<string, unknown> } | { samples: unknown[] };

const HOSTILE_IDS = [-1, -(2 ** 31), 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 3, 2 ** 53, 1.5, -0, NaN, Infinity, -Infinity];
const id = fc.oneof({ weight: 60, arbitrary: fc.integer({ min: 0, max: 12 }) }, { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_IDS) });
const value = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: -4, max: 4, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, 3e38, -0) },
);
const JUNK: unknown[] = [null, undefined, "1", 5, {}, [[1]], ["1", "2", "3"], new Float64Array(3), new Uint8Array(3)];
/** A plain list holding a BigInt: predict() throws a TypeError on it (src/runtime/inputs.ts, being fixed there), so the vitest run leaves it out. */
export const BIGINT_JUNK: unknown = [1n];
/** Lists of numbers in the containers a caller might pass (BigInt64Array is left to inputs.ts's own tests, being fixed there). */
const container = (xs: number[], kind: number): unknown =>
  [xs, Float32Array.from(xs), Int32Array.from(xs), Float64Array.from(xs), Uint32Array.from(xs.map((x) => (x < 0 ? 0 : x)))][kind % 5];

function typedCase(junk: fc.Arbitrary<unknown>): fc.Arbitrary<PredictCase> {
  return fc
    .record({
      size: fc.integer({ min: 0, max: 6 }),
      denseDelta: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -4, max: 4 }) }),
      dense: fc.array(value, { minLength: 40, maxLength: 40 }),
      lengths: fc.array(
        fc.oneof({ weight: 60, arbitrary: fc.integer({ min: 0, max: 3 }) }, { weight: 1, arbitrary: fc.constantFrom(-1, 1.5, NaN, 2 ** 31) }),
        {
          minLength: 16,
          maxLength: 16,
        },
      ),
      lengthsDelta: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -2, max: 2 }) }),
      ids: fc.array(id, { minLength: 40, maxLength: 40 }),
      idsDelta: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -2, max: 2 }) }),
      kinds: fc.tuple(fc.nat(4), fc.nat(4), fc.nat(4)),
      // One call in 12 has an input or field replaced by junk.
      replace: fc.oneof(
        { weight: 11, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.tuple(fc.constantFrom("dense", "sparse", "lengths", "values", "extra"), junk) },
      ),
    })
    .map((r) => {
      const lengths = r.lengths.slice(0, Math.max(0, 2 * r.size + r.lengthsDelta));
      const total = lengths.reduce((a, b) => a + (Number.isInteger(b) && b > 0 && b < 4 ? b : 0), 0);
      const sparse: Record<string, unknown> = {
        lengths: container(lengths, r.kinds[1]),
        values: container(r.ids.slice(0, Math.max(0, total + r.idsDelta)), r.kinds[2]),
      };
      const inputs: Record<string, unknown> = { dense: container(r.dense.slice(0, Math.max(0, 3 * r.size + r.denseDelta)), r.kinds[0]), sparse };
      if (r.replace) {
        const [where, what] = r.replace;
        if (where === "lengths" || where === "values") sparse[where] = what;
        else inputs[where] = what;
      }
      return { inputs };
    });
}

function sampleCase(junk: fc.Arbitrary<unknown>): fc.Arbitrary<PredictCase> {
  const sample = fc.record({
    dense: fc.oneof(
      { weight: 9, arbitrary: fc.array(value, { minLength: 3, maxLength: 3 }) },
      { weight: 1, arbitrary: fc.array(value, { maxLength: 5 }) },
    ),
    sparse: fc.oneof(
      { weight: 9, arbitrary: fc.array(fc.array(id, { maxLength: 3 }), { minLength: 2, maxLength: 2 }) },
      { weight: 1, arbitrary: fc.array(fc.array(id, { maxLength: 3 }), { maxLength: 3 }) },
    ),
  });
  return fc.array(fc.oneof({ weight: 9, arbitrary: sample }, { weight: 1, arbitrary: junk }), { maxLength: 5 }).map((samples) => ({ samples }));
}

/** The canonical form of an accepted call: dense values, key-major lengths and ids; or why it should not have been accepted. */
function canonical(c: PredictCase): { dense: number[]; lengths: number[]; values: number[] } | string {
  const nums = (x: unknown): number[] | string =>
    (Array.isArray(x) || ArrayBuffer.isView(x)) && Array.from(x as ArrayLike<unknown>).every((v) => typeof v === "number")
      ? Array.from(x as ArrayLike<number>)
      : `not a list of numbers: ${String(x)}`;
  if ("inputs" in c) {
    const s = c.inputs.sparse as Record<string, unknown> | undefined;
    const [dense, lengths, values] = [nums(c.inputs.dense), nums(s?.lengths), nums(s?.values)];
    if (typeof dense === "string" || typeof lengths === "string" || typeof values === "string")
      return [dense, lengths, values].find((x) => typeof x === "string") as string;
    return { dense, lengths, values };
  }
  const samples = c.samples as { dense: number[]; sparse: number[][] }[];
  const lengths: number[] = [];
  const values: number[] = [];
  for (let f = 0; f < 2; f++)
    for (const s of samples) {
      lengths.push(s.sparse[f]!.length);
      values.push(...s.sparse[f]!);
    }
  return { dense: samples.flatMap((s) => s.dense), lengths, values };
}

let model: Model | undefined;

/** predict() on the loaded fixture; `bigints` adds a list holding a BigInt to the junk values. */
export const predictSurface = (bigints: boolean): Surface<PredictCase> => ({
  name: "predict() inputs",
  async setup() {
    fx ??= await fixture();
    model ??= await load(fx.dist, { threads: 1 });
  },
  async teardown() {
    await model?.close();
    model = undefined;
  },
  arb: () => {
    const junk = fc.constantFrom(...JUNK, ...(bigints ? [BIGINT_JUNK] : []));
    return fc.oneof({ weight: 4, arbitrary: typedCase(junk) }, { weight: 1, arbitrary: sampleCase(junk) });
  },
  async run(c): Promise<Verdict> {
    const out = await model!.predict(("inputs" in c ? c.inputs : c.samples) as never);
    const canon = canonical(c);
    if (typeof canon === "string") return { wrong: `predict accepted an input that is ${canon}` };
    const bad = canon.values.find((v) => !Number.isInteger(v)) ?? canon.lengths.find((v) => !(Number.isInteger(v) && v >= 0));
    if (bad !== undefined) return { wrong: `predict accepted the id or length ${bad}` };
    if (canon.dense.length === 0) return out.ctr?.length === 0 ? undefined : { wrong: "an empty batch gave outputs" };
    const why = differs(out.ctr, reference(need(), canon.dense, canon.lengths, canon.values));
    return why ? { wrong: `predict's outputs differ from the interpreter's: ${why}` } : undefined;
  },
});

/** A small valid model: dense width, tables (rows, dim, id policy, pooling), hidden widths and activation. */
interface ModelSpec {
  dense: number;
  tables: { rows: number; dim: number; ids: "clamp" | "modulo"; pool: "sum" | "mean" | "max" }[];
  hidden: number[];
  act: "relu" | "sigmoid" | "tanh";
  seed: number;
}

const modelSpec: fc.Arbitrary<ModelSpec> = fc.record({
  dense: fc.integer({ min: 1, max: 6 }),
  tables: fc.array(
    fc.record({
      rows: fc.integer({ min: 1, max: 40 }),
      dim: fc.integer({ min: 1, max: 9 }),
      ids: fc.constantFrom("clamp", "modulo"),
      pool: fc.constantFrom("sum", "mean", "max"),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  hidden: fc.array(fc.integer({ min: 1, max: 17 }), { maxLength: 2 }),
  act: fc.constantFrom("relu", "sigmoid", "tanh"),
  seed: fc.nat(1000),
});

export function specSource(m: ModelSpec): string {
  const tables = m.tables.map((t, i) => `  table t${i}: embedding(dim: ${t.dim}, rows: ${t.rows}, ids: ${t.ids}, pool: ${t.pool})`);
  const pooled = m.tables.map((_, i) => `  p${i} = embedding_bag(t${i}, sparse[${i}])`);
  const parts = ["dense", ...m.tables.map((_, i) => `p${i}`)].join(", ");
  return [
    "model gen {",
    `  input dense: f32[${m.dense}]`,
    `  input sparse: bags[${m.tables.length}]`,
    ...tables,
    ...pooled,
    `  top = mlp(concat(${parts}), [${[...m.hidden, 1].join(", ")}], act: ${m.act}, final: sigmoid)`,
    "  output ctr = top",
    "}",
    "",
  ].join("\n");
}

/** Generated models compile for wasm and predict the interpreter's numbers on a batch of in-range and out-of-range ids. */
export const compileSurface: Surface<ModelSpec> = {
  name: "generated models (compile wasm = interpreter)",
  limitMs: 60_000,
  maxCases: 200,
  arb: () => modelSpec,
  async run(m) {
    const f = await compileSource(specSource(m), m.seed, 0, "gaussian");
    const model = await load(f.dist, { threads: 1 });
    try {
      const size = 5;
      const dense = Float32Array.from({ length: size * m.dense }, (_, i) => Math.sin(i + m.seed) * 2);
      const lengths = Int32Array.from({ length: size * m.tables.length }, (_, i) => (i * 7 + m.seed) % 4);
      const total = lengths.reduce((a, b) => a + b, 0);
      const values = Int32Array.from({ length: total }, (_, i) => (i * 13 + m.seed) % 60);
      const got = (await model.predict({ dense, sparse: { lengths, values } })).ctr;
      // The interpreter takes ids already in each table's rows, mapped by its policy as the runtime does.
      let at = 0;
      const ids = Int32Array.from(values);
      m.tables.forEach((t, ti) => {
        for (let b = 0; b < size; b++)
          for (let k = 0; k < lengths[ti * size + b]!; k++, at++) ids[at] = t.ids === "clamp" ? Math.min(ids[at]!, t.rows - 1) : ids[at]! % t.rows;
      });
      const want = interpret(f.graph, f.store, { size, inputs: { dense, sparse: { count: m.tables.length, batch: size, lengths, values: ids } } })
        .outputs.ctr!;
      const why = differs(got, want);
      return why ? { wrong: `compiled model differs from the interpreter: ${why}` } : undefined;
    } finally {
      await model.close();
      rmSync(f.root, { recursive: true, force: true });
    }
  },
};
