// Split tables through the command line: `rmc compile` appends split-tables
// at the target's buffer limit (and leaves a user's own split-tables step
// alone); an artifact with shards runs with `rmc run DIST/` and predicts what
// the interpreter predicts for the same model, sample for sample.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Manifest } from "../../src/runtime/manifest.js";
import { rmc, tempDir } from "../cli/helpers.js";
import { MODEL } from "./helpers.js";

describe("split tables on the command line", () => {
  const dir = tempDir();
  const model = join(dir, "split.rmdl");
  // gen-data labels samples with the model, so its output is a probability here.
  writeFileSync(model, MODEL("sum", false).replace("output y = linear(z, 2)", "output y = sigmoid(linear(z, 1))"));
  const data = join(dir, "d.tsv");

  it("a user's split-tables step makes shards; the artifact predicts as the interpreter does", async () => {
    const ok = async (...args: string[]) => {
      const r = await rmc(...args);
      expect(r.code, r.err).toBe(0);
      return r;
    };
    await ok("init-weights", model, "--seed", "3", "--dist", "trained", "-o", join(dir, "w.safetensors"));
    await ok("gen-data", model, "--weights", join(dir, "w.safetensors"), "--rows", "300", "--seed", "2", "-o", data);
    const dist = join(dir, "dist");
    const compiled = await rmc(
      "compile",
      model,
      "--weights",
      join(dir, "w.safetensors"),
      "--target",
      "wasm",
      "-o",
      dist,
      "--passes",
      "canonicalize,infer-shapes,dce,split-tables{max-bytes=2KiB}",
    );
    expect(compiled.code, compiled.err).toBe(0);
    expect(compiled.err).toContain("N1930");
    expect(compiled.out).toMatch(/shard\.emb\.0\.weight\.p0\.bin/);
    const m = JSON.parse(readFileSync(join(dist, "manifest.json"), "utf8")) as Manifest;
    expect(m.shards!.filter((s) => s.table === "emb.0.weight").length).toBe(4);
    const viaArtifact = await rmc("run", dist, "--data", data, "--predictions", join(dir, "a.tsv"));
    const viaInterpreter = await rmc("run", model, "--weights", join(dir, "w.safetensors"), "--data", data, "--predictions", join(dir, "i.tsv"));
    expect(viaArtifact.code, viaArtifact.err).toBe(0);
    expect(viaInterpreter.code, viaInterpreter.err).toBe(0);
    expect(readFileSync(join(dir, "a.tsv"), "utf8")).toBe(readFileSync(join(dir, "i.tsv"), "utf8"));
  });

  it("compile splits at the target's limit on its own: nothing to split for small tables, and the pass is in the pipeline", async () => {
    const out = await rmc("compile", model, "--init", "random", "--target", "wgsl", "-o", join(dir, "gpu"), "--time-passes");
    expect(out.code, out.err).toBe(0);
    expect(out.err).toContain("split-tables");
    const m = JSON.parse(readFileSync(join(dir, "gpu", "manifest.json"), "utf8")) as Manifest;
    expect(m.shards).toBeUndefined();
  });
});
