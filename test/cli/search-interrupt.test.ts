// Ctrl-C during `rmc compile --precision auto --plan-out P.json`: the search
// writes each better plan to P.json as it finds it, so a SIGINT mid-search
// leaves the best plan so far there — a whole plan, marked as a checkpoint,
// within the budget, that `--plan` applies — and no artifact. Runs the built
// CLI (npm test builds it first), since the signal must hit a real process.

import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadPlan } from "../../src/precision/plan.js";
import { rmc, tempDir } from "./helpers.js";

const SMALL = "examples/dlrm_kaggle_small.rmdl";
const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("rmc compile --precision auto interrupted with Ctrl-C", () => {
  it("leaves the best plan so far in --plan-out, which --plan applies", async () => {
    const w = join(dir, "w.safetensors");
    const calib = join(dir, "calib.tsv");
    const plan = join(dir, "plan.json");
    expect((await rmc("init-weights", SMALL, "--seed", "7", "--dist", "trained", "-o", w)).code).toBe(0);
    expect((await rmc("gen-data", SMALL, "--weights", w, "--rows", "4000", "--seed", "11", "-o", calib)).code).toBe(0);
    const args = ["build/src/cli/main.js", "compile", SMALL, "--weights", w, "--precision", "auto", "--calib", calib, "--calib-rows", "4000"];
    const child = spawn(process.execPath, [...args, "--plan-out", plan, "-o", join(dir, "dist")], { stdio: "ignore" });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.on("exit", (code, signal) => done({ code, signal })),
    );
    // The first checkpoint (the layers chosen) comes a second or so into the search; interrupt as soon as it is there.
    while (!existsSync(plan) && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGINT");
    const end = await exited;
    expect(end.signal).toBe("SIGINT");
    expect(existsSync(join(dir, "dist"))).toBe(false);
    const saved = loadPlan(plan);
    expect(saved).toMatchObject({ mode: "auto", checkpoint: true, budget: 0.05 });
    expect(saved.decisions.length).toBe(30);
    expect(saved.neDelta! + 2 * saved.neDeltaError!).toBeLessThanOrEqual(0.05);
    expect(saved.decisions.some((d) => d.precision !== "fp32")).toBe(true);
    const r = await rmc("compile", SMALL, "--weights", w, "--plan", plan, "-o", join(dir, "again"));
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "again", "manifest.json"), "utf8")).plan.decisions.length).toBe(30);
  }, 60_000);
});
