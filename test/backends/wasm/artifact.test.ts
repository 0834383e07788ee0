// The Wasm artifact as a whole: every example compiles (the full-size ones
// through schedule, layout, plan and codegen, without writing gigabytes of
// weights), the small ones run end to end equal to the interpreter on one and
// two threads, compiling is deterministic byte for byte, the manifest holds
// what it promises, and unsupported input is a located error.

import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseModel } from "../../../src/frontend/index.js";
import { interpret } from "../../../src/interp/interpreter.js";
import { initWeights } from "../../../src/weights/init.js";
import { dataSchema } from "../../../src/data/schema.js";
import { InputSampler, rawToBatch } from "../../../src/data/synth.js";
import { Rng } from "../../../src/util/rng.js";
import { RmcError } from "../../../src/diagnostics/index.js";
import type { Graph } from "../../../src/ir/types.js";
import type { Manifest } from "../../../src/runtime/manifest.js";
import { portableGraph } from "../../../backends/artifact.js";
import { schedule } from "../../../backends/schedule.js";
import { layoutWeights } from "../../../backends/wasm/layout.js";
import { planMemory } from "../../../backends/wasm/plan.js";
import { generateModule } from "../../../backends/wasm/codegen.js";
import { canonical, compileTo, runArtifact, tempDir } from "./helpers.js";

const EXAMPLES = join(import.meta.dirname, "../../../examples");
const example = (file: string): Graph => parseModel(readFileSync(join(EXAMPLES, file), "utf8"), `examples/${file}`).graph!;

describe("examples on the wasm backend", () => {
  for (const file of ["dlrm_kaggle_small.rmdl", "multitask.rmdl"])
    it(`${file}: compiles and runs equal to the interpreter, on 1 and 2 threads`, async () => {
      const g0 = example(file);
      const g = canonical(g0);
      const weights = initWeights(g0, { seed: 8, dist: "trained" });
      const dir = await compileTo(g, weights, { emitText: true });
      const schema = dataSchema(g0);
      const batch = rawToBatch(schema, new InputSampler(schema, { idsPerBag: [0, 3] }).sample(new Rng(4), 300));
      const want = interpret(g, weights, batch).outputs;
      const one = await runArtifact(dir, batch, 1);
      const two = await runArtifact(dir, batch, 2);
      for (const o of g.outputs) {
        expect(one[o.name]).toEqual(want[o.name]);
        expect(two[o.name]).toEqual(want[o.name]);
      }
    });

  it("the `profile` feature keeps each kernel a named function (for CPU profiles) and computes the same outputs", async () => {
    const g0 = example("dlrm_kaggle_small.rmdl");
    const g = canonical(g0);
    const weights = initWeights(g0, { seed: 8, dist: "trained" });
    const plain = await compileTo(g, weights);
    const profiled = await compileTo(g, weights, { features: ["profile"] });
    const names = (dir: string) =>
      new Set(
        [
          ...readFileSync(join(dir, "model.wasm"))
            .toString("latin1")
            .matchAll(/k\d+_[a-z_]+/g),
        ].map((m) => m[0]),
      );
    // Inlined into `forward` and without a name section, the plain module names no kernel.
    expect(names(plain).size).toBe(0);
    expect([...names(profiled)]).toEqual(expect.arrayContaining(["k0_linear", "k2_embedding_bag", "k3_interact"]));
    const schema = dataSchema(g0);
    const batch = rawToBatch(schema, new InputSampler(schema, { idsPerBag: [0, 3] }).sample(new Rng(5), 70));
    expect((await runArtifact(profiled, batch)).ctr).toEqual((await runArtifact(plain, batch)).ctr);
  });

  it("dlrm_kaggle.rmdl (full size, 2.0 GiB of tables): schedules, lays out under 4 GiB, plans and generates valid code", () => {
    const g = canonical(example("dlrm_kaggle.rmdl"));
    const sched = schedule(g);
    const layout = layoutWeights(g, sched.steps);
    expect(layout.bytes).toBeGreaterThan(2 ** 31);
    const plan = planMemory(g, sched);
    const { binary } = generateModule(g, sched, layout, plan, { shared: false, optimize: false });
    expect(WebAssembly.validate(binary)).toBe(true);
  });

  it.each([
    ["dlrm_terabyte.rmdl", /the weights need 12\.89 GiB/],
    ["dcnv2.rmdl", /the weights need 9\d\.\d\d GiB/],
  ])("%s does not fit wasm32: an error naming the largest tables and what to do", (file, size) => {
    const g = canonical(example(file));
    try {
      layoutWeights(g, schedule(g).steps);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(RmcError);
      const d = (e as RmcError).diagnostics[0]!;
      expect(d.message).toMatch(size);
      expect(d.message).toContain("more than a wasm32 memory can hold");
      expect(d.message).toContain("emb.0.weight");
      expect(d.hint).toContain("split");
      expect(d.span?.file).toBe(`examples/${file}`);
    }
  });
});

describe("id policies (`ids:` on a table)", () => {
  it("clamp and modulo give the interpreter's answer for out-of-range and negative ids; error rejects them", async () => {
    const src = `model p {
  input s: bags[3]
  table c: embedding(dim: 4, rows: 10, ids: clamp)
  table m: embedding(dim: 4, rows: 7, ids: modulo)
  table e: embedding(dim: 4, rows: 5)
  a = embedding_bag(c, s[0])
  b = embedding_bag(m, s[1])
  x = embedding_bag(e, s[2])
  output a
  output b
  output x
}`;
    const g0 = parseModel(src, "p.rmdl").graph!;
    expect(g0.weights.map((w) => w.attrs)).toEqual([{ ids: "clamp" }, { ids: "modulo" }, {}]);
    const g = canonical(g0);
    const weights = initWeights(g0, { seed: 5, dist: "gaussian" });
    const dir = await compileTo(g, weights);
    // feature 0: ids 25 and -3 (clamped to 9 and 0); feature 1: 16 and -1 (wrapped to 2 and 6); feature 2: in range
    const batch = {
      size: 2,
      inputs: { s: { count: 3, batch: 2, lengths: Int32Array.from([1, 1, 1, 1, 1, 1]), values: Int32Array.from([25, -3, 16, -1, 4, 0]) } },
    };
    const want = interpret(g, weights, batch).outputs;
    const got = await runArtifact(dir, batch);
    for (const o of ["a", "b", "x"]) expect(got[o], o).toEqual(want[o]);
    const row = (t: string, i: number) =>
      Array.from(
        weights
          .get(t)!
          .toFloat32()
          .slice(i * 4, i * 4 + 4),
      );
    expect(Array.from(want.a!.slice(0, 4))).toEqual(row("c.weight", 9));
    expect(Array.from(want.b!.slice(4, 8))).toEqual(row("m.weight", 6));
    const bad = { size: 1, inputs: { s: { count: 3, batch: 1, lengths: Int32Array.from([1, 1, 1]), values: Int32Array.from([0, 0, 5]) } } };
    expect(() => interpret(g, weights, bad)).toThrow(/id 5 .* out of range for table @e\.weight with 5 rows/);
    await expect(runArtifact(dir, bad)).rejects.toThrow(/id 5 is outside the table's 5 rows/);
  });
});

describe("the artifact", () => {
  const g0 = example("dlrm_kaggle_small.rmdl");
  const g = canonical(g0);
  const weights = initWeights(g0, { seed: 2, dist: "gaussian" });

  it("is byte-identical when compiled twice, and the manifest checksums what is there", async () => {
    const a = await compileTo(g, weights, { emitText: true });
    const b = await compileTo(g, weights, { emitText: true });
    const files = readdirSync(a).sort();
    expect(files).toEqual([
      "final.ir",
      "manifest.json",
      "model-relaxed-threads.wasm",
      "model-relaxed.wasm",
      "model-threads.wasm",
      "model.wasm",
      "model.wat",
      "weights.bin",
    ]);
    for (const f of files) expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f).toBe(true);
    const m = JSON.parse(readFileSync(join(a, "manifest.json"), "utf8")) as Manifest;
    expect(m.format).toBe(2);
    expect(m.model.inputs.map((i) => i.name)).toEqual(["dense", "sparse"]);
    expect(m.model.outputs).toEqual([{ name: "ctr", width: 1 }]);
    // The IR as compiled, its spans naming the model file without its folder.
    expect(m.ir).toEqual(portableGraph(g));
    expect(m.ir.nodes[0]!.span.file).toBe("dlrm_kaggle_small.rmdl");
    expect(Object.keys(m.files).sort()).toEqual([
      "final.ir",
      "model-relaxed-threads.wasm",
      "model-relaxed.wasm",
      "model-threads.wasm",
      "model.wasm",
      "model.wat",
      "weights.bin",
    ]);
    const { createHash } = await import("node:crypto");
    for (const [f, e] of Object.entries(m.files))
      expect(
        createHash("sha256")
          .update(readFileSync(join(a, f)))
          .digest("hex"),
        f,
      ).toBe(e.sha256);
    expect(m.precision["emb.0.weight"]).toBe("fp32");
  });

  it("a failed compile leaves no folder behind, and keeps a previous artifact intact", async () => {
    const dir = join(tempDir(), "dist");
    await compileTo(g, weights, { dir });
    const before = readFileSync(join(dir, "manifest.json"));
    const uncanonical = g0; // still has mlp nodes
    await expect(compileTo(uncanonical, weights, { dir })).rejects.toThrow(/cannot compile `mlp`/);
    expect(readFileSync(join(dir, "manifest.json")).equals(before)).toBe(true);
    expect(readdirSync(join(dir, "..")).filter((f) => f.includes(".tmp-"))).toEqual([]);
    const fresh = join(tempDir(), "never");
    await expect(compileTo(uncanonical, weights, { dir: fresh })).rejects.toThrow(RmcError);
    expect(existsSync(fresh)).toBe(false);
  });

  it("rejects precisions it does not implement, naming the pin's place", async () => {
    // The front end and the verifier refuse a bf16 table; IR made some other way meets the backend's own check.
    const m = parseModel(readFileSync(join(EXAMPLES, "multitask.rmdl"), "utf8"), "mt.rmdl").graph!;
    const bf16 = structuredClone(canonical(m));
    bf16.weights.find((w) => w.name === "item_emb.weight")!.attrs.precision = "bf16";
    try {
      await compileTo(bf16, initWeights(m, { seed: 1, dist: "gaussian" }));
      expect.unreachable();
    } catch (e) {
      const d = (e as RmcError).diagnostics[0]!;
      expect(d.message).toBe("the wasm backend cannot compile table item_emb.weight at bf16");
      expect(d.hint).toBe("it takes fp32, fp16, int8, int4, int2 there");
      expect(d.span?.line).toBe(13);
    }
  });
});
