// Names that are also Object.prototype's (`__proto__`, `constructor`,
// `prototype`, `toString`, `hasOwnProperty`) given as every kind of name rmc
// reads — model, input, table, value, output in a .rmdl file; tensors and
// metadata keys in safetensors; plan and manifest keys; pass options; IR
// value, weight and attribute names; HTTP fields and paths of `rmc serve`.
// After each, Object.prototype has no new property, and each input is either
// accepted (and works) or refused with an RmcError's code, never an internal
// error.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RmcError } from "../../src/diagnostics/index.js";
import { parseGraph } from "../../src/ir/parse.js";
import { openSafetensors } from "../../src/weights/safetensors.js";
import { serve, type Server } from "../../src/serve/server.js";
import { rmc, tempDir, type CliResult } from "../cli/helpers.js";

const NAMES = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty"] as const;
const SLOTS = ["model", "dense", "sparse", "emb", "bottom", "ctr"] as const;
const before = Object.getOwnPropertyNames(Object.prototype).sort();
const dir = tempDir();

/** Object.prototype exactly as it was, and none of the keys a pollution would have written. */
function expectClean(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
  const probe = {} as Record<string, unknown>;
  for (const k of ["relu", "bottom.0", "0", "bottom", "ctr", "x", "path", "inputs"]) expect(probe[k], k).toBeUndefined();
}
afterEach(expectClean);

/** Accepted (exit 0), or refused with coded diagnostics: never an internal error. */
function acceptedOrCoded(r: CliResult): void {
  expect(r.err).not.toMatch(/internal error|TypeError|RangeError/);
  if (r.code !== 0) expect(r.err).toMatch(/\b[EW]\d{4}\b/);
}

/** The small DLRM with `names` in its slots (a slot not named keeps its plain name). */
function model(names: Partial<Record<(typeof SLOTS)[number], string>>): string {
  const n = (slot: (typeof SLOTS)[number]) => names[slot] ?? (slot === "model" ? "m" : slot);
  return `model ${n("model")} {
  input ${n("dense")}: f32[13]
  input ${n("sparse")}: bags[2]
  table ${n("emb")}[2]: embedding(dim: 4, rows: 10)
  ${n("bottom")} = mlp(${n("dense")}, [8, 4], act: relu)
  pooled = embedding_bag(${n("emb")}, ${n("sparse")})
  z = interact(${n("bottom")}, pooled, op: dot)
  top = mlp(z, [4, 1], final: sigmoid)
  output ${n("ctr")} = top
}
`;
}

/** Rotation r puts NAMES[(i + r) % 6] in slot i (index 5 is a plain name), so every name meets every slot. */
const rotation = (r: number): Partial<Record<(typeof SLOTS)[number], string>> =>
  Object.fromEntries(SLOTS.map((s, i) => [s, NAMES[(i + r) % 6] ?? `plain_${s}`]));

describe("names from the model (.rmdl)", () => {
  for (let r = 0; r < 6; r++) {
    const names = rotation(r);
    it(`compiles, runs and plans a model named ${JSON.stringify(names)}`, async () => {
      const d = join(dir, `rot${r}`);
      mkdirSync(d, { recursive: true });
      const m = join(d, "m.rmdl");
      writeFileSync(m, model(names));
      const w = join(d, "w.safetensors");
      const data = join(d, "d.tsv");
      for (const args of [
        ["check", m],
        ["ir", m, "-o", join(d, "m.ir")],
        ["ir", join(d, "m.ir"), "-q"],
        ["init-weights", m, "--seed", "1", "-o", w],
        ["gen-data", m, "--weights", w, "--rows", "40", "--seed", "2", "-o", data],
        ["run", m, "--weights", w, "--data", data, "--predictions", join(d, "p.tsv")],
        ["data-stats", data, "--model", m],
        ["compile", m, "--weights", w, "-o", join(d, "dist")],
        ["run", join(d, "dist"), "--data", data],
        ["compile", m, "--weights", w, "--precision", "auto", "--calib", data, "--plan-out", join(d, "plan.json"), "-o", join(d, "auto")],
        ["compile", m, "--weights", w, "--plan", join(d, "plan.json"), "-o", join(d, "planned")],
      ]) {
        const res = await rmc(...args);
        expect(res.code, `rmc ${args.join(" ")}: ${res.err}`).toBe(0);
        expectClean();
      }
      // The interpreter and the artifact agree sample for sample, whatever the names.
      const run = await rmc("run", join(d, "dist"), "--data", data, "--predictions", join(d, "q.tsv"));
      expect(run.code).toBe(0);
      expect(readFileSync(join(d, "q.tsv"), "utf8")).toBe(readFileSync(join(d, "p.tsv"), "utf8"));
    });
  }
});

describe("names from files and flags", () => {
  const d = join(dir, "files");
  const m = join(d, "m.rmdl");
  const w = join(d, "w.safetensors");
  beforeAll(async () => {
    mkdirSync(d, { recursive: true });
    writeFileSync(m, model({}));
    expect((await rmc("init-weights", m, "--seed", "1", "-o", w)).code).toBe(0);
    expect((await rmc("gen-data", m, "--weights", w, "--rows", "40", "--seed", "2", "-o", join(d, "d.tsv"))).code).toBe(0);
    expect((await rmc("compile", m, "--weights", w, "-o", join(d, "dist"))).code).toBe(0);
  });

  it("keeps tensors and metadata keys named like Object's own as plain names in safetensors files", async () => {
    const file = openSafetensors(w);
    const tensors = [...file.tensors.keys()].map((name) => ({ name, shape: file.tensor(name).shape, data: file.tensor(name).toFloat32() }));
    const extra = NAMES.map((name) => ({ name, shape: [1], data: new Float32Array([1]) }));
    const path = join(d, "extra.safetensors");
    writeFileSync(path, safetensorsBytes([...tensors, ...extra], Object.fromEntries(NAMES.map((n) => [n, "x"]))));
    const read = openSafetensors(path);
    for (const name of NAMES) expect(read.tensors.has(name), name).toBe(true);
    expect(Object.keys(read.metadata).sort()).toEqual([...NAMES].sort());
    const res = await rmc("run", m, "--weights", path, "--data", join(d, "d.tsv"));
    acceptedOrCoded(res);
    expect(res.code).toBe(0);
    expect(res.err).toContain("W1315");
  });

  it("refuses plan decisions for such units, and ignores such keys elsewhere in a plan", async () => {
    const planPath = join(d, "plan.json");
    expect((await rmc("compile", m, "--weights", w, "--precision", "int8", "--plan-out", planPath, "-o", join(d, "int8"))).code).toBe(0);
    const plan = JSON.parse(readFileSync(planPath, "utf8")) as { decisions: { unit: string }[] };
    for (const name of NAMES) {
      const bad = { ...plan, decisions: [...plan.decisions, { ...plan.decisions[0]!, unit: name }] };
      writeFileSync(planPath, JSON.stringify(bad));
      const res = await rmc("compile", m, "--weights", w, "--plan", planPath, "-o", join(d, "p"));
      acceptedOrCoded(res);
      expect(res.err).toContain("E1904");
      const keys = `{"__proto__": {"x": 1}, "constructor": 1, "actScales": {"${name}": 1}, ${JSON.stringify(plan).slice(1)}`;
      writeFileSync(planPath, keys);
      acceptedOrCoded(await rmc("compile", m, "--weights", w, "--plan", planPath, "-o", join(d, "p")));
    }
  });

  it("loads or refuses a manifest with such keys, and never finds a file that is not listed", async () => {
    const manifestPath = join(d, "dist", "manifest.json");
    const original = readFileSync(manifestPath, "utf8");
    for (const name of NAMES) {
      const m1 = JSON.parse(original) as { files: Record<string, unknown>; wasm: { module: string } };
      writeFileSync(manifestPath, `{"${name}": {"inputs": 1}, ${original.trim().slice(1)}`);
      acceptedOrCoded(await rmc("run", join(d, "dist"), "--data", join(d, "d.tsv")));
      m1.wasm.module = name; // a file the manifest does not list: `files[name]` must not find Object's
      writeFileSync(manifestPath, JSON.stringify(m1));
      const res = await rmc("run", join(d, "dist"), "--data", join(d, "d.tsv"));
      acceptedOrCoded(res);
      expect(res.err).toContain("E1701");
    }
    writeFileSync(manifestPath, original);
  });

  it("refuses pass options and pass names spelled like Object's own, by code", async () => {
    for (const name of NAMES) {
      for (const passes of [`dce{${name}=1}`, `canonicalize{${name}=x},dce`, name]) {
        const res = await rmc("ir", m, "--passes", passes, "-q");
        acceptedOrCoded(res);
        expect(res.err, passes).toMatch(passes === name ? /E1202/ : /E1203/);
      }
    }
  });

  it("reads such names in textual IR as values and weights, and refuses them as attributes", async () => {
    const ir = join(d, "m.ir");
    expect((await rmc("ir", m, "-o", ir)).code).toBe(0);
    let text = readFileSync(ir, "utf8");
    NAMES.forEach((name, i) => {
      text = text.replaceAll(["%bottom", "%pooled", "%z", "%dense", "%top"][i]!, `%${name}`);
    });
    ["@emb.0.weight", "@emb.1.weight", "@top.1.bias", "@top.1.weight", "@top.0.bias"].forEach((w, i) => (text = text.replaceAll(w, `@${NAMES[i]}`)));
    for (const name of NAMES) expect(text).toContain(`%${name}`);
    for (const name of NAMES) expect(text).toContain(`@${name}`);
    writeFileSync(ir, text);
    const res = await rmc("ir", ir, "--passes", "canonicalize,infer-shapes,dce");
    expect(res.code, res.err).toBe(0);
    const out = parseGraph(res.out, "out.ir");
    expect([...out.inputs.map((i) => i.name), ...out.nodes.map((n) => n.id)]).toEqual(expect.arrayContaining([...NAMES]));
    expect(out.weights.map((w) => w.name)).toEqual(expect.arrayContaining([...NAMES]));
    for (const name of NAMES) {
      const withAttr = text.replace("{pool=sum", `{${name}=[1], pool=sum`);
      expect(withAttr).not.toBe(text);
      let err: unknown;
      try {
        parseGraph(withAttr, "a.ir");
      } catch (e) {
        err = e;
      }
      expect(err).toBeUndefined();
      const r = await rmc("ir", writeText(join(d, `attr-${name}.ir`), withAttr), "-q");
      acceptedOrCoded(r);
      expect(r.err).toContain("E1109");
    }
    expect(() => parseGraph("graph @g {\n  input %x: f32[B,1]\n  %y = relu(%x) {__proto__=[1], __proto__=2}\n}\n", "b.ir")).toThrow(RmcError);
  });
});

describe("names from HTTP requests to rmc serve", () => {
  let server: Server;
  const d = join(dir, "serve");
  const names = { model: "m", dense: "__proto__", sparse: "constructor", ctr: "toString" };
  beforeAll(async () => {
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, "m.rmdl"), model(names));
    expect((await rmc("compile", join(d, "m.rmdl"), "--init", "random", "-o", join(d, "dist"))).code).toBe(0);
    server = await serve({ models: [{ dir: join(d, "dist") }], port: 0, threads: 1, maxDelayUs: 500, logLevel: "warn", log: () => {} });
  }, 120_000);
  afterAll(async () => {
    await server?.close();
  });
  const post = (path: string, body: string) =>
    fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const sample = `{"__proto__": ${JSON.stringify(Array(13).fill(0.5))}, "constructor": [[1], [2, 3]]}`;

  it("serves a model whose input and output names are Object's own", async () => {
    const res = await post("/v2/models/m/infer", sample);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { outputs: Record<string, number[][]> };
    expect(Object.keys(body.outputs)).toEqual(["toString"]);
    expect(body.outputs["toString"]![0]![0]).toBeGreaterThan(0);
    const kserve = `{"inputs": [{"name": "__proto__", "datatype": "FP32", "shape": [1, 13], "data": ${JSON.stringify(Array(13).fill(0.5))}},
      {"name": "constructor.lengths", "datatype": "INT32", "shape": [2, 1], "data": [1, 2]},
      {"name": "constructor.values", "datatype": "INT64", "shape": [3], "data": [1, 2, 3]}],
      "outputs": [{"name": "toString", "parameters": {"binary_data": false}}], "parameters": {"__proto__": {"timeout": -1}}}`;
    const k = await post("/v2/models/m/infer", kserve);
    expect(k.status).toBe(200);
    expect(((await k.json()) as { outputs: { name: string }[] }).outputs[0]!.name).toBe("toString");
  });

  it("answers 4xx to requests that use such names wrongly, never 500", async () => {
    const bodies = [
      `{"__proto__": {"dense": [1]}}`,
      `{"toString": [1], "hasOwnProperty": [2]}`,
      `[{"constructor": 1}]`,
      `{"samples": [{"prototype": []}]}`,
      `{"inputs": [{"name": "__proto__", "datatype": "FP32", "shape": [1, 13], "data": [1]}]}`,
      `{"inputs": [{"name": "toString", "datatype": "FP32", "shape": [1], "data": [1]}], "outputs": [{"name": "__proto__"}]}`,
      `{"inputs": [], "parameters": {"constructor": 1}}`,
    ];
    for (const body of bodies) {
      const res = await post("/v2/models/m/infer", body);
      expect(res.status, body).toBeGreaterThanOrEqual(400);
      expect(res.status, body).toBeLessThan(500);
      expectClean();
    }
    for (const name of NAMES) {
      for (const path of [`/v2/models/${name}/infer`, `/v2/models/${name}/versions/${name}/infer`, `/v2/repository/models/${name}/load`]) {
        const res = await post(path, `{"parameters": {"__proto__": {"path": "/nowhere"}}}`);
        expect(res.status, path).toBeGreaterThanOrEqual(400);
        expect(res.status, path).toBeLessThan(500);
      }
      const ready = await fetch(`${server.url}/v2/models/${name}/ready`);
      expect(ready.status).toBe(404);
      expectClean();
    }
  });
});

function writeText(path: string, text: string): string {
  writeFileSync(path, text);
  return path;
}

/** A safetensors file from tensors (f32 data) and metadata, written by hand so any name goes in. */
function safetensorsBytes(tensors: { name: string; shape: readonly number[]; data: Float32Array }[], metadata: Record<string, string>): Uint8Array {
  let at = 0;
  const entries = tensors.map((t) => {
    const e = `${JSON.stringify(t.name)}: {"dtype": "F32", "shape": ${JSON.stringify(t.shape)}, "data_offsets": [${at}, ${at + t.data.byteLength}]}`;
    at += t.data.byteLength;
    return e;
  });
  const meta = `"__metadata__": {${Object.entries(metadata)
    .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
    .join(", ")}}`;
  const header = new TextEncoder().encode(`{${[meta, ...entries].join(", ")}}`);
  const out = new Uint8Array(8 + header.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  let p = 8 + header.length;
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), p);
    p += t.data.byteLength;
  }
  return out;
}
