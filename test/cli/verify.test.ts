// `rmc verify` and `rmc debug-numerics` for scripts: their --json objects
// (golden files), the exit codes that tell "over budget" (1) from "a file is
// missing" (3) — so `verify || verify --repair` repairs only the first — and
// `verify --repair` writing its report and plan file.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { expectGolden } from "../golden.js";
import { normalise, rmc, tempDir } from "./helpers.js";

const MODEL = "test/cli/fixtures/tiny-dlrm.rmdl";
const GOLDEN = "test/cli/golden";

let dir: string;
let w: string;
let d: string;
let dist: string;
beforeAll(async () => {
  dir = tempDir();
  [w, d, dist] = [join(dir, "w.safetensors"), join(dir, "d.tsv"), join(dir, "dist")];
  expect((await rmc("init-weights", MODEL, "--seed", "2", "--dist", "trained", "-o", w)).code).toBe(0);
  expect((await rmc("gen-data", MODEL, "--weights", w, "--rows", "1024", "--seed", "3", "-o", d)).code).toBe(0);
  // int4 tables without a search: cheap to compile, and a plan whose NE change is well above zero.
  const c = await rmc("compile", MODEL, "--weights", w, "--precision", "int4", "--row-range", "minmax", "-o", dist);
  expect(c.code, c.err).toBe(0);
}, 60_000);

describe("rmc verify and debug-numerics, for scripts", () => {
  it("--json objects", async () => {
    expectGolden(
      normalise(await rmc("verify", dist, "--weights", w, "--data", d, "--rows", "512", "--ne-budget", "5", "--json"), dir),
      join(GOLDEN, "verify.json"),
    );
    const numerics = await rmc("debug-numerics", dist, "--weights", w, "--data", d, "--rows", "256", "--json");
    expectGolden(normalise(numerics, dir), join(GOLDEN, "debug-numerics.json"));
  });

  it("exit 1 over the budget, 3 for a missing weights file, 2 for --report without --repair", async () => {
    const over = await rmc("verify", dist, "--weights", w, "--data", d, "--rows", "512", "--ne-budget", "0");
    expect(over.code).toBe(1);
    expect(over.out).toContain("OUTSIDE the budget");
    const missing = await rmc("verify", dist, "--weights", join(dir, "retrained.safetensors"), "--data", d);
    expect(missing.code).toBe(3);
    expect(missing.err).toContain("cannot open weights file");
    const usage = await rmc("verify", dist, "--weights", w, "--data", d, "--report", join(dir, "r.md"));
    expect(usage.code).toBe(2);
    expect(usage.err).toContain("--report needs --repair");
  });

  it("--repair writes the repaired plan's report and plan file, and its --json lists what it raised", async () => {
    const [report, plan, out] = [join(dir, "repair.md"), join(dir, "repair.plan.json"), join(dir, "repaired")];
    const budget = "0.01";
    const r = await rmc(
      "verify",
      dist,
      "--weights",
      w,
      "--data",
      d,
      "--rows",
      "512",
      "--ne-budget",
      budget,
      "--repair",
      "-o",
      out,
      "--report",
      report,
      "--plan-out",
      plan,
      "--json",
    );
    expect(r.code, r.err).toBe(0);
    const o = JSON.parse(r.out) as {
      withinBudget: boolean;
      neDelta: number;
      repair: { raised: { unit: string; from: string; to: string }[]; neDelta: number; withinBudget: boolean; output: string };
    };
    expect(o.withinBudget).toBe(false);
    expect(o.repair.withinBudget).toBe(true);
    expect(o.repair.neDelta).toBeLessThanOrEqual(Number(budget));
    expect(o.repair.raised.length).toBeGreaterThan(0);
    const saved = JSON.parse(readFileSync(plan, "utf8")) as { mode: string; decisions: { unit: string; precision: string; source: string }[] };
    expect(saved.mode).toBe("repair");
    for (const x of o.repair.raised) expect(saved.decisions.find((dd) => dd.unit === x.unit)).toMatchObject({ precision: "fp32", source: "repair" });
    expect(readFileSync(report, "utf8")).toContain("raised by rmc verify --repair");
    expect(existsSync(join(out, "manifest.json"))).toBe(true);
    // The repaired artifact passes the gate it failed; explain says why each raised unit is at fp32.
    expect((await rmc("verify", out, "--weights", w, "--data", d, "--rows", "512", "--ne-budget", budget)).code).toBe(0);
    const why = await rmc("explain", out, o.repair.raised[0]!.unit);
    expect(why.out).toContain(`fp32: repair: raised by rmc verify --repair (was ${o.repair.raised[0]!.from})`);
    // The recompile carries the artifact's history on: the layer was still made by canonicalize.
    expect((await rmc("explain", out, "top.1")).out).toContain("made by:   pass canonicalize");
  });
});
