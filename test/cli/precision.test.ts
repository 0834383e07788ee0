// Low precision from the command line: `rmc compile --precision auto` writes
// a plan and a report and an artifact that matches them; `--plan` reapplies
// the plan; `--pin` pins a node; `rmc verify` passes a slightly retrained
// model and fails — then repairs — one whose weights shifted; and
// `rmc debug-numerics` lists per-node errors and where they jump.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openSafetensors } from "../../src/weights/safetensors.js";
import { DenseTensor, type Tensor } from "../../src/weights/store.js";
import { writeWeights } from "../../src/weights/write.js";
import { parseModel } from "../../src/frontend/index.js";
import type { PrecisionPlan } from "../../src/precision/plan.js";
import { Rng } from "../../src/util/rng.js";
import { rmc, tempDir } from "./helpers.js";

const SMALL = "examples/dlrm_kaggle_small.rmdl";
const graph = parseModel(readFileSync(SMALL, "utf8"), SMALL).graph!;
const dir = tempDir();
const w = join(dir, "w.safetensors");
const d = join(dir, "d.tsv");
const dist = join(dir, "dist");
const planFile = join(dir, "plan.json");

/** A copy of a weights file with every tensor passed through `change`. */
function rewrite(from: string, to: string, change: (name: string, t: Float32Array, shape: readonly number[]) => Float32Array): void {
  const file = openSafetensors(from);
  const store = new Map<string, Tensor>();
  for (const name of file.tensors.keys()) {
    const t = file.tensor(name);
    store.set(name, new DenseTensor(t.shape, change(name, t.toFloat32().slice(), t.shape)));
  }
  writeWeights(to, graph, store);
}

describe("precision on the command line", () => {
  it("compile --precision auto: plan, report, manifest and artifact agree", async () => {
    expect((await rmc("init-weights", SMALL, "--seed", "5", "-o", w)).code).toBe(0);
    expect((await rmc("gen-data", SMALL, "--weights", w, "--rows", "2048", "--seed", "1", "-o", d)).code).toBe(0);
    const report = join(dir, "report.md");
    const r = await rmc(
      "compile",
      SMALL,
      "--weights",
      w,
      "--precision",
      "auto",
      "--ne-budget",
      "0.05",
      "--calib",
      d,
      "--calib-rows",
      "1024",
      "--plan-out",
      planFile,
      "--report",
      report,
      "-o",
      dist,
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/emb\.0\.weight\s+10\s+(fp16|int8|int4|int2|fp32)/);
    expect(r.out).toMatch(
      /precision auto: weights 1\.12 MiB → [\d.]+ KiB \([\d.]+x smaller\); expected NE \+0\.0[0-4]\d*% ± \+0\.\d+% vs fp32 on the calibration inputs \(budget \+0\.0500%, kept 2 standard errors below it\)/,
    );
    const plan = JSON.parse(readFileSync(planFile, "utf8")) as PrecisionPlan;
    expect(plan.decisions).toHaveLength(30);
    expect(plan.neDelta! + 2 * plan.neDeltaError!).toBeLessThanOrEqual(0.05);
    expect(readFileSync(report, "utf8")).toContain("| node | line | precision |");
    const manifest = JSON.parse(readFileSync(join(dist, "manifest.json"), "utf8")) as { plan: PrecisionPlan; precision: Record<string, string> };
    expect(manifest.plan.decisions).toEqual(plan.decisions);
    for (const dec of plan.decisions)
      if (dec.kind === "table" && dec.split) {
        // A table the search split hot/cold is in the artifact as its two parts, each at its precision.
        expect(manifest.precision[`${dec.unit}.hot`], dec.unit).toBe(dec.precision);
        expect(manifest.precision[`${dec.unit}.cold`], dec.unit).toBe(dec.split.cold);
      } else if (dec.kind === "table") expect(manifest.precision[dec.unit], dec.unit).toBe(dec.precision);
  });

  it("compile --target wgsl --precision auto searches with the WebGPU speed estimate, not Wasm's", async () => {
    const plans: Record<string, PrecisionPlan> = {};
    for (const target of ["wasm", "wgsl"]) {
      const out = join(dir, `plan-${target}.json`);
      const r = await rmc(
        "compile",
        SMALL,
        "--weights",
        w,
        "--target",
        target,
        "--precision",
        "auto",
        "--calib",
        d,
        "--calib-rows",
        "1024",
        "--plan-out",
        out,
        "-o",
        join(dir, `dist-${target}`),
      );
      expect(r.code, r.err).toBe(0);
      plans[target] = JSON.parse(readFileSync(out, "utf8")) as PrecisionPlan;
      expect(plans[target]!.target).toBe(target);
    }
    const layer = (t: string, unit: string) => plans[t]!.decisions.find((x) => x.unit === unit)!;
    // Wasm rates int8 slower for the 13→64 layer (quantizing its rows outweighs the narrow dot) and keeps it fp32;
    // WebGPU's estimate follows the bytes moved, so that reason never appears there.
    expect(layer("wasm", "bottom.0").why).toBe("lower precisions are not faster on wasm");
    for (const dec of plans.wgsl!.decisions) expect(dec.why, dec.unit).not.toContain("wasm");
    expect(layer("wgsl", "bottom.0").why).not.toContain("not faster");
  });

  it("--plan reapplies a saved plan to the same IR, and --pin pins a node", async () => {
    const again = join(dir, "again");
    const r = await rmc("compile", SMALL, "--weights", w, "--plan", planFile, "-o", again);
    expect(r.code, r.err).toBe(0);
    const ir = (p: string) => (JSON.parse(readFileSync(join(p, "manifest.json"), "utf8")) as { ir: unknown }).ir;
    expect(ir(again)).toEqual(ir(dist));
    const pinned = await rmc(
      "compile",
      SMALL,
      "--weights",
      w,
      "--precision",
      "int8",
      "--pin",
      "emb.3.weight=fp32",
      "--pin",
      "top.0=fp32",
      "-o",
      join(dir, "pinned"),
    );
    expect(pinned.code, pinned.err).toBe(0);
    expect(pinned.out).toMatch(/emb\.3\.weight\s+10\s+fp32 .*pinned/);
    expect(pinned.out).toMatch(/top\.0\s+18\s+fp32 .*pinned/);
    expect(pinned.out).toMatch(/emb\.4\.weight\s+10\s+int8/);
    const bad = await rmc("compile", SMALL, "--weights", w, "--precision", "int8", "--pin", "top.9=fp32", "-o", join(dir, "never"));
    expect(bad.code).toBe(3);
    expect(bad.err).toContain("cannot pin `top.9`");
  });

  it("--row-range: int4 tables get l2 row ranges by default (in the IR and the plan), minmax on request; a plan from before keeps minmax", async () => {
    type Art = { ir: { weights: { name: string; attrs: Record<string, unknown> }[] }; plan: PrecisionPlan };
    const art = (p: string) => JSON.parse(readFileSync(join(p, "manifest.json"), "utf8")) as Art;
    const ranges = (p: string) =>
      new Set(
        art(p)
          .ir.weights.filter((x) => x.name.startsWith("emb."))
          .map((x) => x.attrs.row_range),
      );
    const l2 = join(dir, "int4-l2");
    const minmax = join(dir, "int4-minmax");
    expect((await rmc("compile", SMALL, "--weights", w, "--precision", "int4", "-o", l2)).code).toBe(0);
    expect(
      (
        await rmc(
          "compile",
          SMALL,
          "--weights",
          w,
          "--precision",
          "int4",
          "--row-range",
          "minmax",
          "--plan-out",
          join(dir, "minmax.json"),
          "-o",
          minmax,
        )
      ).code,
    ).toBe(0);
    expect(ranges(l2)).toEqual(new Set(["l2"]));
    expect(ranges(minmax)).toEqual(new Set([undefined]));
    expect(art(l2).plan.rowRange).toBe("l2");
    expect(readFileSync(join(l2, "weights.bin"))).not.toEqual(readFileSync(join(minmax, "weights.bin")));
    // int8 tables have no row range to choose.
    expect((await rmc("compile", SMALL, "--weights", w, "--precision", "int8", "-o", join(dir, "int8"))).code).toBe(0);
    expect(ranges(join(dir, "int8"))).toEqual(new Set([undefined]));
    // --precision int8a7: int8 tables, int8a7 linear layers (the relaxed variant's integer kernel), fp16 cross layers.
    expect(
      (await rmc("compile", SMALL, "--weights", w, "--precision", "int8a7", "--plan-out", join(dir, "a7.json"), "-o", join(dir, "a7"))).code,
    ).toBe(0);
    const a7 = JSON.parse(readFileSync(join(dir, "a7.json"), "utf8")) as PrecisionPlan;
    expect(new Set(a7.decisions.filter((x) => x.kind === "linear").map((x) => x.precision))).toEqual(new Set(["int8a7"]));
    expect(new Set(a7.decisions.filter((x) => x.kind === "table").map((x) => x.precision))).toEqual(new Set(["int8"]));
    // A plan without rowRange (written before it existed) is applied with minmax rows, whatever --row-range says.
    const old = JSON.parse(readFileSync(join(dir, "minmax.json"), "utf8")) as PrecisionPlan;
    delete old.rowRange;
    writeFileSync(join(dir, "old.json"), JSON.stringify(old));
    const again = join(dir, "old-plan");
    expect((await rmc("compile", SMALL, "--weights", w, "--plan", join(dir, "old.json"), "-o", again)).code).toBe(0);
    expect(readFileSync(join(again, "weights.bin"))).toEqual(readFileSync(join(minmax, "weights.bin")));
    const bad = await rmc("compile", SMALL, "--weights", w, "--precision", "int4", "--row-range", "l3", "-o", join(dir, "never"));
    expect(bad.code).toBe(2); // a bad flag value is a usage error
    expect(bad.err).toMatch(/E0904: rmc compile: --row-range must be one of minmax, l2, got `l3`/);
  });

  it("verify passes a slightly retrained model", async () => {
    const rng = new Rng(9);
    const w2 = join(dir, "w2.safetensors");
    rewrite(w, w2, (_, t) => t.map((v) => v * (1 + 0.01 * rng.normal())));
    const d2 = join(dir, "d2.tsv");
    await rmc("gen-data", SMALL, "--weights", w2, "--rows", "1024", "--seed", "2", "-o", d2);
    const r = await rmc("verify", dist, "--weights", w2, "--data", d2);
    expect(r.out).toContain("within budget");
    expect(r.code).toBe(0);
  });

  it("verify fails when the weight distribution shifted, and --repair raises precisions to get back within budget", async () => {
    const plan = JSON.parse(readFileSync(planFile, "utf8")) as PrecisionPlan;
    const lowered = new Set(plan.decisions.filter((x) => x.kind === "table" && x.precision !== "fp32").map((x) => x.unit));
    // A retrain that grew one dimension of every lowered table 40x: row-wise ranges now belong to that outlier.
    const w3 = join(dir, "w3.safetensors");
    rewrite(w, w3, (name, t, shape) => (lowered.has(name) ? t.map((v, i) => (i % shape[1]! === 3 ? v * 40 : v)) : t));
    const d3 = join(dir, "d3.tsv");
    await rmc("gen-data", SMALL, "--weights", w3, "--rows", "1024", "--seed", "3", "-o", d3);
    const fail = await rmc("verify", dist, "--weights", w3, "--data", d3);
    expect(fail.out).toContain("OUTSIDE the budget");
    expect(fail.code).toBe(1);
    const fixed = join(dir, "fixed");
    const repaired = await rmc("verify", dist, "--weights", w3, "--data", d3, "--repair", "-o", fixed);
    expect(repaired.code, repaired.err).toBe(0);
    expect(repaired.out).toMatch(/raised emb\.\d+\.weight \(line 10\) int\d → fp32/);
    const check = await rmc("verify", fixed, "--weights", w3, "--data", d3);
    expect(check.out).toContain("within budget");
    expect(check.code).toBe(0);
    // The repaired artifact is compiled as `rmc compile` compiles: the target's passes ran (the memory plan is in its IR).
    const art = (p: string) =>
      JSON.parse(readFileSync(join(p, "manifest.json"), "utf8")) as { target: string; ir: { nodes: { attrs: Record<string, unknown> }[] } };
    expect(art(fixed).ir.nodes.some((n) => Array.isArray(n.attrs.buffer))).toBe(true);
    // A WebGPU artifact is repaired into a WebGPU artifact (a budget of 0 forces every lowered unit back up).
    const fixedGpu = join(dir, "fixed-wgsl");
    const gpu = await rmc(
      "verify",
      join(dir, "dist-wgsl"),
      "--weights",
      w3,
      "--data",
      d3,
      "--rows",
      "128",
      "--ne-budget",
      "0",
      "--repair",
      "-o",
      fixedGpu,
    );
    expect(gpu.code, gpu.err).toBe(0);
    expect(art(fixedGpu).target).toBe("wgsl");
  });

  it("debug-numerics lists every node's error in graph order and names where it jumps", async () => {
    const r = await rmc("debug-numerics", dist, "--weights", w, "--data", d, "--rows", "512");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("computes exactly what the interpreter does");
    const lines = r.out.split("\n").filter((l) => l.startsWith("%"));
    expect(lines[0]).toMatch(/^%bottom\.0\s+linear/);
    // The compiled IR is fused: the last layer applies the sigmoid in its epilogue.
    expect(lines.at(-1)).toMatch(/^%top\.1\s+linear\+sigmoid/);
    expect(r.out).toMatch(/error first jumps at %\S+|no node's error jumps/);
  });
});
