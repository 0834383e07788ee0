// TorchRec state dicts bind unchanged. The files are built here as
// `torchrec.models.dlrm.DLRM` / `DLRM_DCN` name and shape their parameters
// (pytorch/torchrec torchrec/models/dlrm.py, modules/mlp.py, modules/crossnet.py):
// dense_arch.model._mlp.N._linear, over_arch.model.0._mlp.N._linear plus
// over_arch.model.1, inter_arch.crossnet.{V,W}_kernels.N and bias.N [d, 1], the
// tables under sparse_arch.embedding_bag_collection.embedding_bags.<name>,
// with and without MLPerf's `model.` prefix, and quantized tables as TorchRec's
// quantized EmbeddingBagCollection splits them (weight, weight_qscale,
// weight_qbias). Predictions of the compiled artifact are checked against a
// double-precision forward written here from TorchRec's definitions (its
// upper-triangle interaction order, its low-rank cross layer).

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Bags } from "../../src/data/batch.js";
import { Rng } from "../../src/util/rng.js";
import { parseModel } from "../../src/frontend/index.js";
import { bindWeights } from "../../src/weights/bind.js";
import { halfBits, halfValue } from "../quant/reference.js";
import { rmc } from "../cli/helpers.js";
import { runArtifact } from "../backends/wasm/helpers.js";
import { buildSafetensors, f32Bytes, removeTempDirs, tempDir } from "./helpers.js";

afterAll(removeTempDirs);

interface Entry {
  dtype: "F32" | "U8" | "F16";
  shape: number[];
  bytes: number[];
  /** The values as the forward reads them (f32 tensors only). */
  v?: number[];
}
type StateDict = Record<string, Entry>;

function safetensors(sd: StateDict): Uint8Array {
  const header: Record<string, unknown> = {};
  let at = 0;
  for (const [name, e] of Object.entries(sd)) {
    header[name] = { dtype: e.dtype, shape: e.shape, data_offsets: [at, at + e.bytes.length] };
    at += e.bytes.length;
  }
  return buildSafetensors(
    JSON.stringify(header),
    Object.values(sd).flatMap((e) => e.bytes),
  );
}

const rng = new Rng(29);
const values = (n: number, scale: number) => Array.from({ length: n }, () => Math.fround(rng.normal() * scale));
const f32 = (shape: number[], scale: number): Entry => {
  const v = values(
    shape.reduce((a, b) => a * b, 1),
    scale,
  );
  return { dtype: "F32", shape, bytes: f32Bytes(v), v };
};

const D = 4;
const ROWS = [20, 30, 40];
const TABLES = ["t_cat_0", "t_cat_1", "t_cat_2"];
const EBC = "sparse_arch.embedding_bag_collection.embedding_bags";

/** A TorchRec MLP's Perceptrons (`<prefix>._mlp.N._linear`) for in → sizes. */
function mlp(sd: StateDict, prefix: string, inF: number, sizes: number[]): void {
  sizes.forEach((out, i) => {
    sd[`${prefix}._mlp.${i}._linear.weight`] = f32([out, i === 0 ? inF : sizes[i - 1]!], 0.4);
    sd[`${prefix}._mlp.${i}._linear.bias`] = f32([out], 0.1);
  });
}

/** DenseArch(5, [8, D]), the tables, and OverArch(in, [6, 1]) (an MLP [6] then a Linear(6, 1)). */
function common(sd: StateDict, overIn: number): void {
  mlp(sd, "dense_arch.model", 5, [8, D]);
  TABLES.forEach((t, k) => (sd[`${EBC}.${t}.weight`] = f32([ROWS[k]!, D], 0.3)));
  mlp(sd, "over_arch.model.0", overIn, [6]);
  sd["over_arch.model.1.weight"] = f32([1, 6], 0.4);
  sd["over_arch.model.1.bias"] = f32([1], 0.1);
}

/** A table as TorchRec's quantized EBC with split scale/bias saves it (8- or 4-bit values, fp16 scale and bias per row). */
function quantizedTable(sd: StateDict, name: string, rows: number, bits: 8 | 4): number[] {
  const perByte = 8 / bits;
  const packed = Math.ceil(D / perByte);
  const data: number[] = [];
  const scales: number[] = [];
  const biases: number[] = [];
  const table: number[] = [];
  for (let r = 0; r < rows; r++) {
    const scale = halfBits(0.01 + rng.next() * 0.02);
    const bias = halfBits(-0.5 * rng.next());
    const q = Array.from({ length: D }, () => rng.int(1 << bits));
    for (let b = 0; b < packed; b++) data.push(bits === 8 ? q[b]! : q[2 * b]! | ((q[2 * b + 1] ?? 0) << 4));
    scales.push(scale & 255, scale >> 8);
    biases.push(bias & 255, bias >> 8);
    table.push(...q.map((v) => v * halfValue(scale) + halfValue(bias)));
  }
  sd[`${EBC}.${name}.weight`] = { dtype: "U8", shape: [rows, packed], bytes: data };
  sd[`${EBC}.${name}.weight_qscale`] = { dtype: "F16", shape: [rows, 1], bytes: scales };
  sd[`${EBC}.${name}.weight_qbias`] = { dtype: "F16", shape: [rows, 1], bytes: biases };
  return table;
}

const linear = (x: number[], w: Entry, b: Entry) =>
  Array.from({ length: w.shape[0]! }, (_, o) => x.reduce((s, xi, i) => s + xi * w.v![o * x.length + i]!, b.v![o]!));
const relu = (v: number[]) => v.map((a) => Math.max(0, a));

/** TorchRec's DenseArch and SparseArch for one sample: the dense embedding and the F pooled vectors. */
function arches(sd: StateDict, tables: number[][], prefix: string, x: number[], bags: number[][]): number[][] {
  const p = (n: string) => sd[prefix + n]!;
  const dense = relu(
    linear(
      relu(linear(x, p("dense_arch.model._mlp.0._linear.weight"), p("dense_arch.model._mlp.0._linear.bias"))),
      p("dense_arch.model._mlp.1._linear.weight"),
      p("dense_arch.model._mlp.1._linear.bias"),
    ),
  );
  const pooled = bags.map((ids, k) => Array.from({ length: D }, (_, d) => ids.reduce((s, id) => s + tables[k]![id * D + d]!, 0)));
  return [dense, ...pooled];
}

/** OverArch, then the sigmoid the model file adds (TorchRec's DLRM returns the logit). */
function over(sd: StateDict, prefix: string, z: number[]): number {
  const p = (n: string) => sd[prefix + n]!;
  const h = relu(linear(z, p("over_arch.model.0._mlp.0._linear.weight"), p("over_arch.model.0._mlp.0._linear.bias")));
  return 1 / (1 + Math.exp(-linear(h, p("over_arch.model.1.weight"), p("over_arch.model.1.bias"))[0]!));
}

/** InteractionArch: dense, then bmm(T, Tᵀ)[triu_indices(F+1, F+1, offset=1)] (upper triangle, row by row). */
function dlrmForward(sd: StateDict, tables: number[][], x: number[], bags: number[][]): number {
  const T = arches(sd, tables, "", x, bags);
  const z = [...T[0]!];
  for (let i = 0; i < T.length; i++) for (let j = i + 1; j < T.length; j++) z.push(T[i]!.reduce((s, a, d) => s + a * T[j]![d]!, 0));
  return over(sd, "", z);
}

/** InteractionDCNArch: LowRankCrossNet over cat(dense, sparse): x_{l+1} = x0 * (W_l (V_l x_l) + b_l) + x_l. */
function dcnForward(sd: StateDict, tables: number[][], x: number[], bags: number[][], layers: number): number {
  const x0 = arches(sd, tables, "model.", x, bags).flat();
  let xl = x0;
  for (let l = 0; l < layers; l++) {
    const V = sd[`model.inter_arch.crossnet.V_kernels.${l}`]!;
    const W = sd[`model.inter_arch.crossnet.W_kernels.${l}`]!;
    const b = sd[`model.inter_arch.crossnet.bias.${l}`]!.v!;
    const r = V.shape[0]!;
    const h = Array.from({ length: r }, (_, i) => xl.reduce((s, xk, k) => s + V.v![i * x0.length + k]! * xk, 0));
    xl = x0.map((x0i, i) => x0i * (h.reduce((s, hk, k) => s + W.v![i * r + k]! * hk, 0) + b[i]!) + xl[i]!);
  }
  return over(sd, "model.", xl);
}

const B = 9;
const denseIn = Float32Array.from(values(B * 5, 1));
const bags = Array.from({ length: B }, () => [0, 1, 2].map((k) => Array.from({ length: rng.int(4) }, () => rng.int(ROWS[k]!))));
const sparse: Bags = {
  count: 3,
  batch: B,
  lengths: Int32Array.from([0, 1, 2].flatMap((k) => bags.map((b) => b[k]!.length))),
  values: Int32Array.from([0, 1, 2].flatMap((k) => bags.flatMap((b) => b[k]!))),
};

const modelText = (interaction: string) => `model torchrec_dlrm {
  input dense: f32[5]
  input sparse: bags[3]
  table t_cat[3]: embedding(dim: ${D}, pool: sum, rows: [${ROWS.join(", ")}])
  bottom = mlp(dense, [8, ${D}], act: relu)
  pooled = embedding_bag(t_cat, sparse)
${interaction}
  top = mlp(z, [6, 1], act: relu, final: sigmoid)
  output ctr = top
}
`;

async function compileAndRun(dir: string, model: string, sd: StateDict, ...flags: string[]): Promise<Float32Array> {
  writeFileSync(join(dir, "m.rmdl"), model);
  writeFileSync(join(dir, "w.safetensors"), safetensors(sd));
  const r = await rmc("compile", join(dir, "m.rmdl"), "--weights", join(dir, "w.safetensors"), ...flags, "-o", join(dir, "dist"));
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
  return (await runArtifact(join(dir, "dist"), { size: B, inputs: { dense: denseIn, sparse } })).ctr!;
}

function expectClose(got: Float32Array, want: (b: number) => number): void {
  let worst = 0;
  for (let b = 0; b < B; b++) worst = Math.max(worst, Math.abs(got[b]! - want(b)) / Math.abs(want(b)));
  expect(worst).toBeLessThanOrEqual(1e-5);
}

const sample = (b: number) => Array.from(denseIn.subarray(b * 5, b * 5 + 5));

describe("TorchRec state dicts", () => {
  it("DLRM_DCN (low-rank cross net), saved under MLPerf's `model.` prefix, compiles and predicts like TorchRec's forward", async () => {
    const sd: StateDict = {};
    const width = (TABLES.length + 1) * D;
    const rank = 3;
    common(sd, width);
    for (let l = 0; l < 2; l++) {
      sd[`inter_arch.crossnet.W_kernels.${l}`] = f32([width, rank], 0.3);
      sd[`inter_arch.crossnet.V_kernels.${l}`] = f32([rank, width], 0.3);
      sd[`inter_arch.crossnet.bias.${l}`] = f32([width, 1], 0.1);
    }
    const prefixed = Object.fromEntries(Object.entries(sd).map(([k, v]) => [`model.${k}`, v]));
    const tables = TABLES.map((t) => prefixed[`model.${EBC}.${t}.weight`]!.v!);
    const model = modelText(`  z = interact(bottom, pooled, op: cat)\n  crossed = cross(z, layers: 2, rank: ${rank})`).replace(
      "mlp(z,",
      "mlp(crossed,",
    );
    const got = await compileAndRun(tempDir(), model, prefixed);
    expectClose(got, (b) => dcnForward(prefixed, tables, sample(b), bags[b]!, 2));
  });

  it("DLRM (dot interaction in TorchRec's upper-triangle order) with quantized 8- and 4-bit tables predicts like TorchRec's forward", async () => {
    const sd: StateDict = {};
    const F = TABLES.length;
    common(sd, D + F + (F * (F - 1)) / 2);
    const tables = [sd[`${EBC}.t_cat_0.weight`]!.v!, quantizedTable(sd, "t_cat_1", ROWS[1]!, 8), quantizedTable(sd, "t_cat_2", ROWS[2]!, 4)];
    const got = await compileAndRun(tempDir(), modelText("  z = interact(bottom, pooled, op: dot)"), sd);
    expectClose(got, (b) => dlrmForward(sd, tables, sample(b), bags[b]!));
  });

  it("a weights map renames another layout's tensors to names that bind", async () => {
    const sd: StateDict = {};
    const F = TABLES.length;
    common(sd, D + F + (F * (F - 1)) / 2);
    const tables = TABLES.map((t) => sd[`${EBC}.${t}.weight`]!.v!);
    // The same DLRM under a home-grown layout: tables as `emb.tables.<k>`, everything else under `net.`.
    const renamed: StateDict = Object.fromEntries(
      Object.entries(sd).map(([k, v]) => [k.startsWith(EBC) ? `emb.tables.${/t_cat_(\d)/.exec(k)![1]}` : `net.${k}`, v]),
    );
    const dir = tempDir();
    writeFileSync(join(dir, "map.json"), JSON.stringify({ "emb.tables.*": `${EBC}.t_cat_$1.weight`, "net.**": "$1", "unused.*": "x" }));
    writeFileSync(join(dir, "m.rmdl"), modelText("  z = interact(bottom, pooled, op: dot)"));
    writeFileSync(join(dir, "w.safetensors"), safetensors(renamed));
    const r = await rmc(
      "compile",
      join(dir, "m.rmdl"),
      "--weights",
      join(dir, "w.safetensors"),
      "--weights-map",
      join(dir, "map.json"),
      "-o",
      join(dir, "dist"),
    );
    expect(r.code).toBe(0);
    expect(r.err).toContain("W1386");
    expect(r.err).toContain("`unused.*` matches no tensor");
    const got = (await runArtifact(join(dir, "dist"), { size: B, inputs: { dense: denseIn, sparse } })).ctr!;
    expectClose(got, (b) => dlrmForward(sd, tables, sample(b), bags[b]!));
  });

  it("errors are located and name the TorchRec tensors: a malformed map, a quantized table missing its bias, a DCN state dict for a model without a cross net", async () => {
    const dir = tempDir();
    const sd: StateDict = {};
    common(sd, 10);
    writeFileSync(join(dir, "m.rmdl"), modelText("  z = interact(bottom, pooled, op: dot)"));
    writeFileSync(join(dir, "bad.json"), JSON.stringify({ "a.*": "b.$2" }));
    writeFileSync(join(dir, "w.safetensors"), safetensors(sd));
    const m = await rmc(
      "compile",
      join(dir, "m.rmdl"),
      "--weights",
      join(dir, "w.safetensors"),
      "--weights-map",
      join(dir, "bad.json"),
      "-o",
      join(dir, "d"),
    );
    expect(m.code).toBe(3);
    expect(m.err).toContain("E1385");
    expect(m.err).toContain("uses $2, but pattern `a.*` has 1 wildcard");

    const q: StateDict = { ...sd };
    quantizedTable(q, "t_cat_1", ROWS[1]!, 4);
    delete q[`${EBC}.t_cat_1.weight_qbias`];
    q["inter_arch.crossnet.V_kernels.0"] = f32([2, 16], 0.1);
    writeFileSync(join(dir, "q.safetensors"), safetensors(q));
    const e = await rmc("compile", join(dir, "m.rmdl"), "--weights", join(dir, "q.safetensors"), "-o", join(dir, "d"));
    expect(e.code).toBe(3);
    expect(e.err).toContain("E1387");
    expect(e.err).toContain("`weight_qbias` is missing");
    expect(e.err).toContain("E1314");
    expect(e.err).toContain("cannot place TorchRec tensors `inter_arch.crossnet.V_kernels.0`: the model has no cross network");
    expect(e.err).not.toMatch(/\n\s+at /);

    // A quantized table saved in FBGEMM's TBE layout (scale and bias first, rows padded to 16 bytes): refused with the way out.
    const tbe: StateDict = {
      ...sd,
      [`${EBC}.t_cat_2.weight`]: { dtype: "U8", shape: [ROWS[2]!, 16], bytes: new Array<number>(ROWS[2]! * 16).fill(7) },
    };
    writeFileSync(join(dir, "tbe.safetensors"), safetensors(tbe));
    const t = await rmc("compile", join(dir, "m.rmdl"), "--weights", join(dir, "tbe.safetensors"), "-o", join(dir, "d"));
    expect(t.code).toBe(3);
    expect(t.err).toContain("E1317");
    expect(t.err).toContain("save it with quant_state_dict_split_scale_bias");
  });

  it("an ONNX file given as --weights is recognised, with a hint to import it", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "m.rmdl"), modelText("  z = interact(bottom, pooled, op: dot)"));
    const sd: StateDict = {};
    common(sd, 10);
    writeFileSync(join(dir, "w.safetensors"), safetensors(sd));
    expect((await rmc("export-onnx", join(dir, "m.rmdl"), "--weights", join(dir, "w.safetensors"), "-o", join(dir, "m.onnx"))).code).toBe(0);
    expect(readFileSync(join(dir, "m.onnx"))[0]).toBe(0x08);
    const r = await rmc("compile", join(dir, "m.rmdl"), "--weights", join(dir, "m.onnx"), "-o", join(dir, "d"));
    expect(r.code).toBe(3);
    expect(r.err).toContain("this is an ONNX model, not a safetensors weights file");
    expect(r.err).toContain(`rmc import-onnx ${join(dir, "m.onnx")}`);
    expect(r.err).not.toContain("absurd");
  });
});

describe("rmc import-torchrec", () => {
  async function importAndRun(sd: StateDict, config: unknown): Promise<{ text: string; got: Float32Array }> {
    const dir = tempDir();
    writeFileSync(join(dir, "state.safetensors"), safetensors(sd));
    writeFileSync(join(dir, "tables.json"), JSON.stringify(config));
    const r = await rmc("import-torchrec", join(dir, "state.safetensors"), "--tables", join(dir, "tables.json"), "-o", join(dir, "model.rmdl"));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const text = readFileSync(join(dir, "model.rmdl"), "utf8");
    const c = await rmc("compile", join(dir, "model.rmdl"), "--weights", join(dir, "state.safetensors"), "-o", join(dir, "dist"));
    expect(c.err).toBe("");
    expect(c.code).toBe(0);
    return { text, got: (await runArtifact(join(dir, "dist"), { size: B, inputs: { dense: denseIn, sparse } })).ctr! };
  }

  it("writes the DLRM_DCN model of an MLPerf-style state dict (model. prefix, t_cat_k tables), which compiles with the state dict unchanged", async () => {
    const sd: StateDict = {};
    const width = (TABLES.length + 1) * D;
    common(sd, width);
    for (let l = 0; l < 3; l++) {
      sd[`inter_arch.crossnet.W_kernels.${l}`] = f32([width, 2], 0.3);
      sd[`inter_arch.crossnet.V_kernels.${l}`] = f32([2, width], 0.3);
      sd[`inter_arch.crossnet.bias.${l}`] = f32([width, 1], 0.1);
    }
    const prefixed = Object.fromEntries(Object.entries(sd).map(([k, v]) => [`model.${k}`, v]));
    const config = { tables: TABLES.map((t, k) => ({ name: t, features: [`cat_${k}`], pooling: "SUM" })) };
    const { text, got } = await importAndRun(prefixed, config);
    expect(text).toContain("table t_cat[3]: embedding(dim: 4, pool: sum, rows: [20, 30, 40])");
    expect(text).toContain("crossed = cross(z, layers: 3, rank: 2)");
    expect(text).toContain("top = mlp(crossed, [6, 1], act: relu, final: sigmoid)");
    const tables = TABLES.map((t) => prefixed[`model.${EBC}.${t}.weight`]!.v!);
    expectClose(got, (b) => dcnForward(prefixed, tables, sample(b), bags[b]!, 3));
  });

  it("writes one statement per table and per feature when a table serves several features (DLRM, dot interaction)", async () => {
    const sd: StateDict = {};
    mlp(sd, "dense_arch.model", 5, [8, D]);
    sd[`${EBC}.shared.weight`] = f32([30, D], 0.3);
    sd[`${EBC}.own.weight`] = f32([40, D], 0.3);
    const F = 3;
    mlp(sd, "over_arch.model.0", D + F + (F * (F - 1)) / 2, [6]);
    sd["over_arch.model.1.weight"] = f32([1, 6], 0.4);
    sd["over_arch.model.1.bias"] = f32([1], 0.1);
    const config = {
      name: "shared_dlrm",
      tables: [
        { name: "shared", features: ["f0", "f1"] },
        { name: "own", features: ["f2"], pooling: "sum" },
      ],
    };
    const { text, got } = await importAndRun(sd, config);
    expect(text).toContain("model shared_dlrm {");
    expect(text).toContain("e1 = embedding_bag(shared, sparse[1])  // f1");
    const [a, o] = [sd[`${EBC}.shared.weight`]!.v!, sd[`${EBC}.own.weight`]!.v!];
    expectClose(got, (b) => dlrmForward(sd, [a, a, o], sample(b), bags[b]!));
  });

  it("refuses a config that does not fit the state dict, naming each table", async () => {
    const dir = tempDir();
    const sd: StateDict = {};
    common(sd, 10);
    writeFileSync(join(dir, "s.safetensors"), safetensors(sd));
    writeFileSync(join(dir, "t.json"), JSON.stringify({ tables: [{ name: "t_cat_0" }, { name: "t_cat_9" }] }));
    const r = await rmc("import-torchrec", join(dir, "s.safetensors"), "--tables", join(dir, "t.json"), "-o", join(dir, "m.rmdl"));
    expect(r.code).toBe(3);
    expect(r.err).toContain("E1388");
    expect(r.err).toContain("table `t_cat_9` of the config is not in the state dict");
    expect(r.err).toContain("does not list the state dict's tables `t_cat_1`, `t_cat_2`");
    writeFileSync(join(dir, "x.safetensors"), safetensors({ "foo.weight": f32([2, 2], 1) }));
    const x = await rmc("import-torchrec", join(dir, "x.safetensors"), "--tables", join(dir, "t.json"), "-o", join(dir, "m.rmdl"));
    expect(x.err).toContain("E1389");
    expect(x.err).toContain("not a TorchRec DLRM state dict");
    writeFileSync(
      join(dir, "bad.json"),
      JSON.stringify({
        tables: [
          { name: "t-cat", pooling: "max" },
          { name: "u", pooling: "avg" },
        ],
      }),
    );
    const b = await rmc("import-torchrec", join(dir, "s.safetensors"), "--tables", join(dir, "bad.json"), "-o", join(dir, "m.rmdl"));
    expect(b.err).toContain('"name" must be the TorchRec table name, letters, digits and _, got "t-cat"');
    expect(b.err).toContain('table `u`: "pooling" must be sum, mean or max, got "avg"');
    expect(b.err).not.toMatch(/\n\s+at /);
  });
});

describe("examples/dlrm_dcnv2_mlperf.rmdl", () => {
  it("declares exactly the weights of the MLPerf DLRM-v2 checkpoint under its TorchRec names (model. prefix)", () => {
    const path = join(import.meta.dirname, "../../examples/dlrm_dcnv2_mlperf.rmdl");
    const { graph } = parseModel(readFileSync(path, "utf8"), path);
    const rows = /rows: \[([\s\S]*?)\]/
      .exec(readFileSync(path, "utf8"))![1]!
      .split(",")
      .map(Number)
      .filter((n) => n > 0);
    // The reference's shapes: DLRM_DCN(dense_in 13, dense [512, 256, 128], over [1024, 1024, 512, 256, 1], 3 cross layers, rank 512).
    const shapes = new Map<string, number[]>();
    rows.forEach((r, k) => shapes.set(`model.${EBC}.t_cat_${k}.weight`, [r, 128]));
    [13, 512, 256, 128].forEach((n, i, a) => {
      if (i === 0) return;
      shapes.set(`model.dense_arch.model._mlp.${i - 1}._linear.weight`, [n, a[i - 1]!]);
      shapes.set(`model.dense_arch.model._mlp.${i - 1}._linear.bias`, [n]);
    });
    [3456, 1024, 1024, 512, 256].forEach((n, i, a) => {
      if (i === 0) return;
      shapes.set(`model.over_arch.model.0._mlp.${i - 1}._linear.weight`, [n, a[i - 1]!]);
      shapes.set(`model.over_arch.model.0._mlp.${i - 1}._linear.bias`, [n]);
    });
    shapes.set("model.over_arch.model.1.weight", [1, 256]);
    shapes.set("model.over_arch.model.1.bias", [1]);
    for (let l = 0; l < 3; l++) {
      shapes.set(`model.inter_arch.crossnet.V_kernels.${l}`, [512, 3456]);
      shapes.set(`model.inter_arch.crossnet.W_kernels.${l}`, [3456, 512]);
      shapes.set(`model.inter_arch.crossnet.bias.${l}`, [3456, 1]);
    }
    expect(rows).toHaveLength(26);
    // The header of such a checkpoint, without its 97 GiB of data: binding reads names, dtypes and shapes only.
    const tensors = new Map([...shapes].map(([n, shape]) => [n, { dtype: "F32" as const, shape }]));
    const source = {
      path: "mlperf.safetensors",
      tensors,
      tensor: (n: string) => ({
        dtype: "f32" as const,
        shape: tensors.get(n)!.shape,
        toFloat32: () => new Float32Array(0),
        readRow: () => {},
        readBytes: () => {},
      }),
    };
    const bound = bindWeights(graph!, source);
    expect(bound.diagnostics).toEqual([]);
    expect(bound.store.size).toBe(graph!.weights.length);
  });
});
