// Pins from the command line and from the model, through every path a
// precision takes: a `--pin` wins over the model's `@precision` and says so
// (a note, the plan, the report), `--plan` rebuilds the artifact it came from
// byte for byte, and cross layers are units like tables and linear layers
// (pinned by id, lowered by fixed modes, stripped in the fp32 reference).

import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { PrecisionPlan } from "../../src/precision/plan.js";
import { rmc, tempDir } from "./helpers.js";

const MULTI = "examples/multitask.rmdl"; // @precision(fp16) on item_emb at line 13
const dir = tempDir();
const manifest = (d: string) =>
  JSON.parse(readFileSync(join(d, "manifest.json"), "utf8")) as {
    plan?: PrecisionPlan;
    precision: Record<string, string>;
    ir: { nodes: { id: string; attrs: Record<string, unknown> }[] };
  };

describe("pins on the command line", () => {
  it("a --pin wins over the model's @precision, with a note, and the plan and report say which pin it was", async () => {
    const plan = join(dir, "pinned.json");
    const report = join(dir, "pinned.md");
    const r = await rmc(
      "compile",
      MULTI,
      "--init",
      "trained",
      "--seed",
      "2",
      "--pin",
      "item_emb.weight=int4",
      "--plan-out",
      plan,
      "--report",
      report,
      "-o",
      join(dir, "a"),
    );
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain("note N1914: --pin item_emb.weight=int4 overrides the model's @precision(fp16) at line 13");
    const d = (JSON.parse(readFileSync(plan, "utf8")) as PrecisionPlan).decisions.find((x) => x.unit === "item_emb.weight")!;
    expect(d).toMatchObject({ precision: "int4", source: "pin", pin: "command line" });
    expect(d.why).toBe("pinned with --pin item_emb.weight=int4 (over the model's @precision(fp16) at line 13)");
    expect(readFileSync(report, "utf8")).not.toContain("@precision(int4)");
    expect(manifest(join(dir, "a")).precision["item_emb.weight"]).toBe("int4");
  });

  it("--plan rebuilds the artifact its plan came from, byte for byte", async () => {
    const again = join(dir, "b");
    const r = await rmc("compile", MULTI, "--init", "trained", "--seed", "2", "--plan", join(dir, "pinned.json"), "-o", again);
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toContain("W1907");
    const files = readdirSync(join(dir, "a")).sort();
    expect(readdirSync(again).sort()).toEqual(files);
    for (const f of files) expect(readFileSync(join(again, f)).equals(readFileSync(join(dir, "a", f))), f).toBe(true);
  });
});

describe("cross layers are precision units like the others", () => {
  const dcn = join(dir, "dcn.rmdl");
  writeFileSync(
    dcn,
    `model dcn {\n  input dense: f32[8]\n  crossed = cross(dense, layers: 2)\n  top = mlp(crossed, [4, 1], final: sigmoid)\n  output ctr = top\n}\n`,
  );

  it("takes a --pin by id, and fixed modes lower them (int8 and int4 modes to fp16, their lowest)", async () => {
    const pinned = join(dir, "dcn-pin");
    const r = await rmc("compile", dcn, "--init", "trained", "--seed", "1", "--pin", "crossed.0=bf16", "-o", pinned);
    expect(r.code, r.err).toBe(0);
    expect(manifest(pinned).precision).toMatchObject({ "crossed.0": "bf16", crossed: "fp32" });
    for (const [mode, want] of [
      ["fp16", "fp16"],
      ["int8", "fp16"],
      ["int4", "fp16"],
    ] as const) {
      const out = join(dir, `dcn-${mode}`);
      expect((await rmc("compile", dcn, "--init", "trained", "--seed", "1", "--precision", mode, "-o", out)).code).toBe(0);
      expect(manifest(out).precision, mode).toMatchObject({ "crossed.0": want, crossed: want });
    }
  });

  it("the fp32 reference strips a cross layer's pin as it strips the others', so the pin's cost is measured", async () => {
    const pinnedSrc = join(dir, "dcn-pinned.rmdl");
    writeFileSync(pinnedSrc, readFileSync(dcn, "utf8").replace("  crossed = cross", "  @precision(bf16)\n  crossed = cross"));
    const w = join(dir, "dcn.safetensors");
    const d = join(dir, "dcn.tsv");
    expect((await rmc("init-weights", pinnedSrc, "--seed", "1", "-o", w)).code).toBe(0);
    expect((await rmc("gen-data", pinnedSrc, "--weights", w, "--rows", "512", "--seed", "2", "-o", d)).code).toBe(0);
    const plan = join(dir, "dcn-plan.json");
    const r = await rmc("compile", pinnedSrc, "--weights", w, "--precision", "fp32", "--calib", d, "--plan-out", plan, "-o", join(dir, "dcn-fp32"));
    expect(r.code, r.err).toBe(0);
    const p = JSON.parse(readFileSync(plan, "utf8")) as PrecisionPlan;
    expect(p.decisions.filter((x) => x.kind === "cross").map((x) => [x.unit, x.precision, x.source])).toEqual([
      ["crossed.0", "bf16", "pin"],
      ["crossed", "bf16", "pin"],
    ]);
    expect(p.neDelta!).toBeGreaterThan(0);
  });
});
