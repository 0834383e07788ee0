// The command line as a user meets it: located errors from `check`, the IR
// dump flags and a plugin pass through `ir`, usage mistakes, and the
// init-weights → gen-data → data-stats → run workflow on the small DLRM.

import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { rmc, tempDir } from "./helpers.js";

const SMALL = "examples/dlrm_kaggle_small.rmdl";

describe("rmc check", () => {
  it("prints three located errors for a file with three mistakes and exits 1", async () => {
    const r = await rmc("check", "test/frontend/errors/three_mistakes.rmdl");
    expect(r.code).toBe(1);
    const located = r.err.match(/^test\/frontend\/errors\/three_mistakes\.rmdl:\d+:\d+: error E\d{4}/gm) ?? [];
    expect(located).toHaveLength(3);
    expect(r.err).toContain("did you mean `dense`?");
    expect(r.err).toContain("3 errors");
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("accepts every example", async () => {
    const r = await rmc(
      "check",
      ...readdirSync("examples")
        .filter((f) => f.endsWith(".rmdl"))
        .map((f) => `examples/${f}`),
    );
    expect(r.code).toBe(0);
    expect(r.out).toContain("dlrm_kaggle.rmdl: ok: model dlrm_kaggle");
  });

  it("names a missing file", async () => {
    const r = await rmc("check", "no/such/model.rmdl");
    expect(r.code).toBe(3);
    expect(r.err).toContain("cannot read no/such/model.rmdl: no such file");
  });
});

describe("rmc usage errors", () => {
  it("suggests the flag a typo meant, exit 2", async () => {
    const r = await rmc("run", SMALL, "--weigths", "w.safetensors");
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown option `--weigths`: did you mean `--weights`?");
  });

  it("suggests the command a typo meant", async () => {
    const r = await rmc("chek", SMALL);
    expect(r.code).toBe(2);
    expect(r.err).toContain("did you mean `check`?");
  });

  it("rejects bad numbers with the flag's name", async () => {
    const r = await rmc("gen-data", SMALL, "--weights", "w", "--rows", "ten", "-o", "x.tsv");
    expect(r.code).toBe(2);
    expect(r.err).toContain("--rows must be an integer >= 1, got `ten`");
  });

  it("every command has --help", async () => {
    const top = await rmc("--help");
    for (const name of ["check", "ir", "passes", "run", "init-weights", "gen-data", "data-stats"]) {
      expect(top.out).toContain(name);
      const r = await rmc(name, "--help");
      expect(r.code).toBe(0);
      expect(r.out).toContain(`usage: rmc ${name}`);
    }
  });
});

describe("rmc ir", () => {
  it("runs a plugin pass from --plugin and prints the changed IR", async () => {
    const model = "test/cli/fixtures/double-relu.rmdl";
    const before = await rmc("ir", model, "--passes", "canonicalize,infer-shapes,dce");
    expect(before.out.match(/= relu\(%/g)).toHaveLength(2);
    const r = await rmc(
      "ir",
      model,
      "--plugin",
      "examples/plugins/fold-activations.js",
      "--passes",
      "canonicalize,fold-activations{report=true},infer-shapes,dce",
    );
    expect(r.code).toBe(0);
    expect(r.out.match(/= relu\(%/g)).toHaveLength(1);
    expect(r.err).toContain("double-relu.rmdl:4"); // the plugin's note, located at the folded relu
    expect((await rmc("passes", "--plugin", "examples/plugins/fold-activations.js")).out).toContain("fold-activations");
  });

  it("writes one numbered dump per pass, prints after-change dumps and pass timings", async () => {
    const dir = tempDir();
    const r = await rmc("ir", SMALL, "--ir-dump-dir", dir, "--print-ir-after-change", "--time-passes", "-q");
    expect(r.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(["00-input.ir", "01-canonicalize.ir", "02-infer-shapes.ir", "03-dce.ir"]);
    expect(readFileSync(join(dir, "01-canonicalize.ir"), "utf8")).toContain("%bottom.0 = linear(");
    expect(r.err).toMatch(/IR after canonicalize/);
    expect(r.err).not.toMatch(/IR after dce/); // dce changes nothing here
    expect(r.err).toMatch(/canonicalize\s+[\d.]+\s+[\d.]+%/);
    expect(r.out).toBe("");
  });

  it("replays a dumped .ir file and prints the same IR", async () => {
    const dir = tempDir();
    await rmc("ir", SMALL, "-o", join(dir, "final.ir"));
    const again = await rmc("ir", join(dir, "final.ir"));
    expect(again.code).toBe(0);
    expect(again.out).toBe(readFileSync(join(dir, "final.ir"), "utf8"));
  });

  it("compiles for a target that a --plugin module adds", async () => {
    const out = join(tempDir(), "json");
    const r = await rmc("compile", SMALL, "--init", "gaussian", "--plugin", "test/cli/fixtures/json-backend.js", "--target", "json", "-o", out);
    expect(r.code, r.err).toBe(0);
    const graph = JSON.parse(readFileSync(join(out, "graph.json"), "utf8")) as { name: string; nodes: { op: string }[] };
    expect(graph.name).toBe("dlrm_kaggle_small");
    expect(graph.nodes.some((n) => n.op === "mlp")).toBe(false); // compiled after the default pipeline
    const bad = await rmc("compile", SMALL, "--init", "gaussian", "--target", "jsno", "-o", out);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("unknown target `jsno`");
  });

  it("points at an unknown pass in the pipeline", async () => {
    const r = await rmc("ir", SMALL, "--passes", "canonicalise,dce");
    expect(r.code).toBe(2);
    expect(r.err).toContain("did you mean `canonicalize`?");
  });
});

describe("the synthetic-data workflow on the small DLRM", () => {
  const dir = tempDir();
  const w = join(dir, "w.safetensors");
  const d = join(dir, "d.tsv");

  it("init-weights is deterministic and calibrates the output", async () => {
    const r = await rmc("init-weights", SMALL, "--seed", "4", "-o", w);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/calibrated output ctr: .*synthetic CTR 0\.25\d*, NE 0\.8\d*/);
    const again = join(dir, "w2.safetensors");
    await rmc("init-weights", SMALL, "--seed", "4", "-o", again);
    expect(readFileSync(again).equals(readFileSync(w))).toBe(true);
    expect(readdirSync(dir).some((f) => f.includes(".tmp-"))).toBe(false);
  });

  it("gen-data draws labels from the calibrated model itself", async () => {
    const r = await rmc("gen-data", SMALL, "--weights", w, "--rows", "3000", "--seed", "9", "-o", d);
    expect(r.code).toBe(0);
    expect(r.out).toContain("teacher: the model as it is");
    const lines = readFileSync(d, "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(3000);
    expect(lines[0]!.split("\t")).toHaveLength(40);
  });

  it("data-stats reads it back", async () => {
    const r = await rmc("data-stats", d, "--model", SMALL, "--json");
    expect(r.code).toBe(0);
    const stats = JSON.parse(r.out) as { rows: number; labels: { ctr: number }[]; sparse: unknown[] };
    expect(stats.rows).toBe(3000);
    expect(stats.labels[0]!.ctr).toBeGreaterThan(0.2);
    expect(stats.labels[0]!.ctr).toBeLessThan(0.3);
    expect(stats.sparse).toHaveLength(26);
  });

  it("run reports NE near the teacher's and writes one prediction per sample", async () => {
    const preds = join(dir, "p.tsv");
    const r = await rmc("run", SMALL, "--weights", w, "--data", d, "--predictions", preds);
    expect(r.code).toBe(0);
    const ne = Number(/NE\s+([\d.]+)/.exec(r.out)![1]);
    expect(ne).toBeGreaterThan(0.7);
    expect(ne).toBeLessThan(0.9);
    expect(r.out).toMatch(/AUC\s+0\.[6-9]/);
    const lines = readFileSync(preds, "utf8").trimEnd().split("\n");
    expect(lines[0]).toBe("ctr"); // a header naming the columns, then one line per sample
    expect(lines).toHaveLength(3001);
  });

  it("compile → run DIST/ gives the interpreter's metrics; a tampered artifact is refused", async () => {
    const dist = join(dir, "dist");
    const c = await rmc("compile", SMALL, "--weights", w, "--target", "wasm", "-o", dist, "--emit-text");
    expect(c.code, c.err).toBe(0);
    expect(c.out).toMatch(/model\.wasm\s+[\d.]+ KiB/);
    for (const f of ["manifest.json", "model.wasm", "weights.bin", "model.wat", "final.ir"]) expect(existsSync(join(dist, f)), f).toBe(true);
    const viaWasm = await rmc("run", dist, "--data", d, "--threads", "1");
    const viaInterp = await rmc("run", SMALL, "--weights", w, "--data", d);
    expect(viaWasm.code, viaWasm.err).toBe(0);
    const metrics = (out: string) => out.slice(out.indexOf("output ctr:"));
    expect(metrics(viaWasm.out)).toBe(metrics(viaInterp.out));
    expect(viaWasm.out).toContain("wasm artifact, 1 thread");
    // The same data with CRLF line ends, blank lines and no final newline: the artifact path reads it as the interpreter does.
    const crlf = join(dir, "data-crlf.tsv");
    const lines = readFileSync(d, "utf8").trimEnd().split("\n");
    writeFileSync(crlf, lines.map((l, i) => (i % 7 === 3 ? `${l}\r\n\r\n` : l)).join("\r\n"));
    const crlfWasm = await rmc("run", dist, "--data", crlf, "--threads", "1");
    const crlfInterp = await rmc("run", SMALL, "--weights", w, "--data", crlf);
    expect(crlfWasm.code, crlfWasm.err).toBe(0);
    expect(metrics(crlfWasm.out)).toBe(metrics(viaWasm.out));
    expect(metrics(crlfInterp.out)).toBe(metrics(viaWasm.out));
    const bin = readFileSync(join(dist, "weights.bin"));
    bin[100] = bin[100]! ^ 1;
    writeFileSync(join(dist, "weights.bin"), bin);
    const bad = await rmc("run", dist, "--data", d);
    expect(bad.code).toBe(3);
    expect(bad.err).toContain("weights.bin: checksum mismatch");
  });

  it("compile runs the target's fusions and memory plan, prints and reports the peak; --no-target-passes skips them", async () => {
    const dist = join(dir, "dist-fused");
    const report = join(dir, "compile-report.md");
    const c = await rmc("compile", SMALL, "--weights", w, "-o", dist, "--emit-text", "--report", report);
    expect(c.code, c.err).toBe(0);
    const peak = /memory plan: peak activations ([\d.]+ KiB) per sample/.exec(c.out);
    expect(peak, c.out).not.toBeNull();
    const manifest = JSON.parse(readFileSync(join(dist, "manifest.json"), "utf8")) as { wasm: { activationBytesPerSample: number } };
    expect(readFileSync(report, "utf8")).toContain(`peak activations: ${manifest.wasm.activationBytesPerSample} bytes per sample`);
    const ir = readFileSync(join(dist, "final.ir"), "utf8");
    expect(ir).toMatch(/linear\(.*\{act=relu, buffer=\[\d+,\d+\]\}/);
    expect(ir).not.toMatch(/= relu\(/);
    const plain = join(dir, "dist-plain");
    const p = await rmc("compile", SMALL, "--weights", w, "-o", plain, "--emit-text", "--no-target-passes");
    expect(p.code, p.err).toBe(0);
    expect(p.out).not.toContain("memory plan:");
    expect(readFileSync(join(plain, "final.ir"), "utf8")).toMatch(/= relu\(/);
  });

  it("a corrupted weights file is an error naming the file, and writes nothing", async () => {
    const bad = join(dir, "bad.safetensors");
    writeFileSync(bad, readFileSync(w).subarray(0, 5000));
    const r = await rmc("run", SMALL, "--weights", bad, "--data", d, "--predictions", join(dir, "never.tsv"));
    expect(r.code).toBe(3);
    expect(r.err).toContain(`${bad}: truncated file`);
    expect(r.err).toMatch(/^1 error$/m); // one error for the file, not one per tensor
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, "never.tsv"))).toBe(false);
  });
});
