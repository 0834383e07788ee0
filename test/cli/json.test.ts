// The CLI for scripts: one compiled example (a precision search, a split
// table, a store-placed table) and the `--json` object of every command that
// has one, against golden files (test/cli/golden/*.json; volatile fields such
// as timings are replaced and numbers rounded, see `normalise`); then
// `rmc explain` on it, `--time-passes` with the backend's stages, and ids
// handed to the runtime as BigInt64Array the way onnxruntime and PyTorch do.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { RmcError } from "../../src/diagnostics/index.js";
import { load } from "../../src/runtime/index.js";
import { expectGolden } from "../golden.js";
import { normalise, rmc, tempDir, type CliResult } from "./helpers.js";

const MODEL = "test/cli/fixtures/tiny-dlrm.rmdl";
const GOLDEN = "test/cli/golden";
let dir: string;
let w: string;
let d: string;
let dist: string;
let compiled: CliResult;
beforeAll(async () => {
  dir = tempDir();
  [w, d, dist] = [join(dir, "w.safetensors"), join(dir, "d.tsv"), join(dir, "dist")];
  expect((await rmc("init-weights", MODEL, "--seed", "1", "--dist", "trained", "-o", w)).code).toBe(0);
  expect((await rmc("gen-data", MODEL, "--weights", w, "--rows", "1024", "--seed", "7", "-o", d)).code).toBe(0);
  compiled = await rmc(
    "compile",
    MODEL,
    "--weights",
    w,
    "--precision",
    "auto",
    "--calib",
    d,
    "--calib-rows",
    "512",
    "--store-tables",
    "emb.1.weight",
    "--passes",
    "canonicalize,infer-shapes,dce,split-tables{max-bytes=4KiB}",
    `-o=${dist}`, // the short flag with `=`: the folder is dist, not `=dist`
    "--time-passes",
    "--json",
  );
}, 60_000);

describe("--json", () => {
  it("compile: files, sizes, the plan's summary, memory and placement, and every timed pass and backend stage", () => {
    expect(existsSync(join(dist, "manifest.json"))).toBe(true);
    expectGolden(normalise(compiled, dir), join(GOLDEN, "compile.json"));
  });

  // verify and debug-numerics: test/cli/verify.test.ts (they read artifacts without split tables).
  it("check, ir, run and explain", async () => {
    expectGolden(normalise(await rmc("check", MODEL, "--json"), dir), join(GOLDEN, "check.json"));
    expectGolden(normalise(await rmc("ir", MODEL, "--json"), dir), join(GOLDEN, "ir.json"));
    expectGolden(normalise(await rmc("run", dist, "--data", d, "--threads", "1", "--json"), dir), join(GOLDEN, "run.json"));
    expectGolden(normalise(await rmc("explain", dist, "pooled", "--json"), dir), join(GOLDEN, "explain.json"));
  });

  it("a failure is one JSON object too, with the exit code and the located diagnostics", async () => {
    const r = await rmc("explain", dist, "top.9", "--json");
    expect(r.code).toBe(3);
    const o = JSON.parse(r.out) as { command: string; ok: boolean; exitCode: number; diagnostics: { code: string; span: { file: string } }[] };
    expect(o).toMatchObject({ command: "explain", ok: false, exitCode: 3 });
    expect(o.diagnostics[0]).toMatchObject({ code: "E0955", span: { file: join(dist, "manifest.json") } });
  });
});

describe("--time-passes on compile", () => {
  it("shows the backend's stages after the passes, per module and variant, in one table", () => {
    const table = compiled.err.slice(compiled.err.indexOf("// ----- pass timing -----"));
    for (const stage of ["assign-precision", "plan-memory", "wasm: schedule", "wasm: write weights.bin", "wasm: checksums"])
      expect(table).toContain(stage);
    for (const m of ["model.wasm", "model-threads.wasm", "model-relaxed.wasm", "model-relaxed-threads.wasm"])
      for (const stage of ["codegen", "binaryen -O3", "emit"]) expect(table).toMatch(new RegExp(`wasm: ${stage} ${m.replace(".", "\\.")}\\s`));
    // The total is the sum of the rows: the backend is inside it, not beside it.
    const rows = [...table.matchAll(/^(.+?)\s+([\d.]+)\s+[\d.]+%$/gm)].map((m) => ({ name: m[1]!.trim(), ms: Number(m[2]) }));
    const total = rows.find((r) => r.name === "total")!.ms;
    expect(rows.filter((r) => r.name !== "total").reduce((s, r) => s + r.ms, 0)).toBeCloseTo(total, 0);
    expect(rows.filter((r) => r.name.startsWith("wasm: ")).reduce((s, r) => s + r.ms, 0)).toBeGreaterThan(total / 2);
  });
});

describe("rmc explain", () => {
  it("a layer: its source line, the passes that made and changed it, the activation fused in, its pin and its weights", async () => {
    const r = await rmc("explain", dist, "top.1", "--source", MODEL);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("source:    tiny-dlrm.rmdl:13:12  top    = mlp(z, [16, 1], act: relu, final: sigmoid)");
    expect(r.out).toContain("made by:   pass canonicalize");
    expect(r.out).toMatch(/changed: +assign-precision, fuse-epilogue, plan-memory/);
    expect(r.out).toContain("fused in:  %top (sigmoid) by fuse-epilogue");
    expect(r.out).toContain("precision: fp32: pin: pinned with @precision(fp32) at line 13");
    expect(r.out).toMatch(/weights: +@top\.1\.weight \(fp32, .*\): weights\.bin/);
  });

  it("an embedding bag: each table's search step and NE, the split and its shards, the store-placed table", async () => {
    const manifest = JSON.parse(readFileSync(join(dist, "manifest.json"), "utf8")) as {
      plan: { decisions: { unit: string; precision: string; neDeltaAlone?: number }[] };
    };
    const r = await rmc("explain", dist, "%pooled");
    expect(r.code, r.err).toBe(0);
    for (const dec of manifest.plan.decisions.filter((x) => x.unit.startsWith("emb."))) {
      const alone = `${dec.neDeltaAlone! >= 0 ? "+" : ""}${dec.neDeltaAlone!.toFixed(4)}%`;
      expect(r.out).toMatch(new RegExp(`precision: ${dec.unit.replace(/\./g, "\\.")} ${dec.precision}: search: .*NE \\${alone} alone`));
    }
    expect(r.out).toContain("group:     table-batched lookup");
    expect(r.out).toContain("split table emb.0.weight: this part holds rows [0, 128); its parts: emb.0.weight.p0, emb.0.weight.p1");
    expect(r.out).toMatch(/@emb\.0\.weight\.p1 .*: shard shard\.emb\.0\.weight\.p1\.bin \(part of emb\.0\.weight/);
    expect(r.out).toMatch(/@emb\.1\.weight .*: the file store: rows in store\/emb\.1\.weight\.rows/);
    expect(r.out).toMatch(/@emb\.2\.weight .*: weights\.bin/);
  });

  it("a source name the front end expanded, and one a fusion removed, are explained as the nodes they became", async () => {
    const bottom = await rmc("explain", dist, "bottom");
    expect(bottom.out).toContain("%bottom (relu) is not in the compiled IR: fuse-epilogue fused it into %bottom.1");
    expect(bottom.out).toContain("%bottom.1: linear");
    const emb = await rmc("explain", dist, "emb");
    expect(emb.out).toContain("`emb` is 4 weights of the compiled IR");
  });

  it("an unknown name is a located error with the nearest name", async () => {
    const r = await rmc("explain", dist, "top.9");
    expect(r.code).toBe(3);
    expect(r.err).toContain(`${join(dist, "manifest.json")}: error E0955: the artifact has no node or weight \`top.9\`: did you mean \`top.0\`?`);
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});

describe("ids as BigInt64Array", () => {
  it("lengths and ids as int64 tensors give the Int32Array answers; an id outside its table is refused, located", async () => {
    const model = await load(dist, { threads: 1 });
    try {
      const B = 3;
      const dense = Float32Array.from({ length: B * 4 }, (_, i) => (i % 5) / 5);
      const lengths = Int32Array.from([1, 2, 1, 0, 1, 3, 2, 1, 1]); // [features × batch], key-major
      const ids = Int32Array.from([5, 199, 0, 1, 7, 49, 0, 12, 119, 64, 3, 100]);
      const want = await model.predict({ dense, sparse: { lengths, values: ids } });
      const big = { lengths: BigInt64Array.from(lengths, BigInt), values: BigInt64Array.from(ids, BigInt) };
      expect((await model.predict({ dense, sparse: big })).ctr).toEqual(want.ctr);
      // Feature 1 (emb.1, 50 rows), sample 2: id 50 does not fit.
      const bad = BigInt64Array.from(ids, BigInt);
      bad[6] = 50n;
      const err = await model.predict({ dense, sparse: { lengths: big.lengths, values: bad } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RmcError);
      expect((err as RmcError).code).toBe("E1715");
      expect((err as RmcError).message).toContain("input `sparse` feature 1, sample 2: id 50 is outside the table's 50 rows");
    } finally {
      await model.close();
    }
  });
});
