// `rmc verify` measures each code variant of a Wasm artifact, checked against
// an independent measurement: the artifact itself loaded with the runtime
// (each variant this engine validates) and the interpreter's fma mode for one
// it does not, scored with the same yardstick; and `rmc run --json` names the
// variant verify says runs here. Shared by test/cli/verify-variants.test.ts
// (Node 20: relaxed SIMD not runnable) and test/relaxed/verify-variants.test.ts
// (Node 24: both run).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Batch } from "../../src/data/batch.js";
import type { Manifest } from "../../src/runtime/manifest.js";
import type { WeightStore } from "../../src/weights/store.js";
import { dataSchema } from "../../src/data/schema.js";
import { readBatches } from "../../src/data/tsv.js";
import { bindWeights } from "../../src/weights/bind.js";
import { openSafetensors } from "../../src/weights/safetensors.js";
import { interpret } from "../../src/interp/interpreter.js";
import { ExpectedNE } from "../../src/precision/evaluate.js";
import { fp32Of } from "../../src/cli/artifact.js";
import { load } from "../../src/runtime/index.js";
import { detectFeatures } from "../../src/runtime/wasm/variants.js";
import { rmc, tempDir } from "./helpers.js";

const MODEL = "test/cli/fixtures/tiny-dlrm.rmdl";

interface Variant {
  name: string;
  runsHere: boolean;
  measured: string;
  neDelta: number;
  maxAbsError?: number;
  against?: string;
  withinBudget: boolean;
}

/** The suite; `relaxed`: whether this engine validates relaxed SIMD (the test file's Node says which it expects). */
export function verifyVariantsSuite(relaxed: boolean): void {
  let dir: string;
  let w: string;
  let d: string;
  let dist: string;
  beforeAll(async () => {
    dir = tempDir();
    [w, d, dist] = [join(dir, "w.safetensors"), join(dir, "d.tsv"), join(dir, "dist")];
    expect((await rmc("init-weights", MODEL, "--seed", "4", "--dist", "trained", "-o", w)).code).toBe(0);
    expect((await rmc("gen-data", MODEL, "--weights", w, "--rows", "512", "--seed", "5", "-o", d)).code).toBe(0);
    // fp16 layers and tables: f32 multiply-adds in every layer (relaxed_madd in the relaxed variant), no calibration.
    const c = await rmc("compile", MODEL, "--weights", w, "--precision", "fp16", "-o", dist);
    expect(c.code, c.err).toBe(0);
  }, 120_000);

  describe(`rmc verify per variant (${relaxed ? "relaxed SIMD runs here" : "relaxed SIMD does not run here"})`, () => {
    it("measures the variants this engine runs for real and stands the interpreter's fma mode in for the others", async () => {
      expect(detectFeatures().includes("relaxed-simd")).toBe(relaxed);
      const r = await rmc("verify", dist, "--weights", w, "--data", d, "--ne-budget", "5", "--json");
      expect(r.code, r.err).toBe(0);
      const o = JSON.parse(r.out) as { neDelta: number; withinBudget: boolean; variants: Variant[] };
      const byName = new Map(o.variants.map((v) => [v.name, v]));
      expect([...byName.keys()].sort()).toEqual(["relaxed-simd", "simd128"]);

      // The same yardstick on the artifact as `rmc compile` wrote it (the same weights, so the same plan).
      const manifest = JSON.parse(readFileSync(join(dist, "manifest.json"), "utf8")) as Manifest;
      const fp32 = fp32Of(manifest.ir);
      const weights: WeightStore = bindWeights(fp32, openSafetensors(w)).store;
      const batches: Batch[] = [];
      for await (const b of readBatches(d, dataSchema(fp32), { batchSize: 1024 })) batches.push(b);
      const ev = new ExpectedNE(fp32, weights, batches);
      const run = async (features?: string[]) => {
        const model = await load(dist, { threads: 1, ...(features ? { features } : {}) });
        const out = [];
        for (const b of batches) out.push(await model.predict(b.inputs));
        await model.close();
        return { variant: model.variant, ne: ev.deltaOf(out) };
      };
      const simd = byName.get("simd128")!;
      expect(simd).toMatchObject({ measured: "wasm", against: "unfused", runsHere: !relaxed, withinBudget: true });
      expect(simd.neDelta).toBe((await run(["simd128"])).ne);
      expect(simd.neDelta).toBeGreaterThan(0);
      const rel = byName.get("relaxed-simd")!;
      if (relaxed) {
        expect(rel).toMatchObject({ measured: "wasm", against: "fma", runsHere: true });
        expect(rel.neDelta).toBe((await run(["simd128", "relaxed-simd"])).ne);
      } else {
        expect(rel).toMatchObject({ measured: "interpreter-fma", runsHere: false });
        expect(rel.maxAbsError).toBeUndefined();
        const fused = batches.map((b) => interpret(manifest.ir, weights, b, { fma: true }).outputs);
        expect(rel.neDelta).toBe(ev.deltaOf(fused));
      }
      // Fused multiply-adds change this plan's outputs, so the two figures tell the variants apart.
      expect(rel.neDelta).not.toBe(simd.neDelta);
      // Each variant that ran is within the numerics contract's tolerance of the interpreter in its mode (2^-16 per layer, 4 layers).
      for (const v of o.variants) if (v.measured === "wasm") expect(v.maxAbsError!).toBeLessThanOrEqual(4 * 2 ** -16);
      // The one verify says runs here is the one the runtime loads, and `rmc run --json` names it.
      const here = o.variants.find((v) => v.runsHere)!;
      expect((await run()).variant).toBe(here.name);
      const ran = await rmc("run", dist, "--data", d, "--threads", "1", "--json");
      expect(ran.code, ran.err).toBe(0);
      expect((JSON.parse(ran.out) as { variant: string }).variant).toBe(here.name);

      const human = await rmc("verify", dist, "--weights", w, "--data", d, "--ne-budget", "5");
      expect(human.out).toContain(
        `  ${here.name} (${here.name === "simd128" ? "model.wasm" : "model-relaxed.wasm"}, the one this engine loads): ran: expected NE +`,
      );
      if (!relaxed)
        expect(human.out).toContain(
          "relaxed-simd (model-relaxed.wasm): not runnable here (this engine does not validate relaxed-simd); measured with the interpreter's fused multiply-add mode as its stand-in",
        );
    });

    it("is over the budget when a variant is, and says so per variant", async () => {
      const r = await rmc("verify", dist, "--weights", w, "--data", d, "--ne-budget", "0", "--json");
      expect(r.code).toBe(1);
      const o = JSON.parse(r.out) as { withinBudget: boolean; variants: Variant[] };
      expect(o.withinBudget).toBe(false);
      expect(o.variants.every((v) => !v.withinBudget)).toBe(true);
    });

    it("--repair holds each raise to the worse of both numerics and measures the repaired artifact's variants", async () => {
      const first = JSON.parse((await rmc("verify", dist, "--weights", w, "--data", d, "--json")).out) as { neDelta: number; variants: Variant[] };
      const fma = first.variants.find((v) => v.name === "relaxed-simd")!.neDelta;
      // A budget the interpreter's unfused figure meets and the fused one does not (fused multiply-adds cost this plan a little more).
      expect(fma).toBeGreaterThan(first.neDelta);
      const budget = String((first.neDelta + fma) / 2);
      const out = join(dir, "repaired");
      const r = await rmc("verify", dist, "--weights", w, "--data", d, "--ne-budget", budget, "--repair", "-o", out, "--json");
      expect(r.code, r.err).toBe(0);
      const o = JSON.parse(r.out) as {
        neDelta: number;
        withinBudget: boolean;
        repair: { raised: unknown[]; neDelta: number; withinBudget: boolean; variants: Variant[] };
      };
      expect(o.neDelta).toBeLessThanOrEqual(Number(budget));
      expect(o.withinBudget).toBe(false);
      expect(o.repair.raised.length).toBeGreaterThan(0);
      expect(o.repair.withinBudget).toBe(true);
      expect(o.repair.variants.map((v) => v.name).sort()).toEqual(["relaxed-simd", "simd128"]);
      expect(o.repair.variants.every((v) => v.withinBudget)).toBe(true);
      // The repair's figure is the worse of the two modes, each of which a variant of the repaired artifact computes.
      expect(o.repair.neDelta).toBe(Math.max(...o.repair.variants.map((v) => v.neDelta)));
    });
  });
}
