// The WGSL artifact as files and manifest: what the runtime relies on
// (target, shaders and weights with checksums, buffers at aligned offsets,
// steps with bindings, access modes, dispatch, nodes and dot4I8Packed
// variants, limits and the largest batch), byte-identical output for the same
// input, shader headers that lead a compile error back to the IR node and its
// source line, and the errors a user can cause: a table over WebGPU's binding
// limit, a precision or op the shaders do not implement.

import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { RmcError } from "../../../src/diagnostics/index.js";
import type { Manifest } from "../../../src/runtime/manifest.js";
import { initWeights } from "../../../src/weights/init.js";
import { parseModel } from "../../../src/frontend/index.js";
import { GpuArtifact, gpuContext } from "./gpu.js";
import { build, compileTo, tempDir } from "./helpers.js";

const ctx = await gpuContext();

const MODEL = `model k {
  input x: f32[13]
  input s: weighted_bags[2]
  table t[2]: embedding(dim: 4, rows: [30, 20], pool: mean)
  bot = relu(linear(x, 4))
  e = embedding_bag(t, s)
  z = interact(bot, e, op: dot)
  @precision(int8)
  top = linear(z, 3)
  out = sigmoid(top)
  output p = out
}`;

const manifestOf = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest;
const sha256 = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");

/** The diagnostics of the RmcError `run` throws. */
async function diagnosticsOf(run: () => Promise<unknown>): Promise<{ code: string; message: string; span?: { line: number } }[]> {
  const e = await run().then(
    () => expect.fail("expected an RmcError"),
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(RmcError);
  return (e as RmcError).diagnostics;
}

describe("the wgsl artifact", () => {
  const built = build(MODEL);
  const weights = initWeights(built.source, { seed: 5, dist: "trained" });

  it("manifest: target wgsl, every file with its checksum, buffers and steps the runtime can follow", async () => {
    const dir = await compileTo(built.graph, weights);
    const m = manifestOf(dir);
    expect(m.target).toBe("wgsl");
    expect(m.wasm).toBeUndefined();
    for (const [name, entry] of Object.entries(m.files)) expect(sha256(join(dir, name)), name).toBe(entry.sha256);
    expect(readdirSync(dir).sort()).toEqual([...Object.keys(m.files), "manifest.json"].sort());
    const w = m.wgsl!;
    expect(new Set(w.shaders.map((s) => s.file))).toEqual(new Set(Object.keys(m.files).filter((f) => f.endsWith(".wgsl"))));
    const names = new Set(w.buffers.map((b) => b.name));
    for (const b of w.buffers) if (b.kind === "weights") expect([b.file, b.offset % 256, b.bytes % 4]).toEqual(["weights.bin", 0, 0]);
    const ids = new Set(m.ir.nodes.map((n) => n.id));
    for (const step of w.steps) {
      expect(step.bindings.every((b) => names.has(b))).toBe(true);
      expect(step.bindings.length).toBeLessThanOrEqual(w.limits.maxStorageBuffersPerShaderStage);
      expect(step.access).toHaveLength(step.bindings.length);
      expect(step.nodes.length).toBeGreaterThan(0);
      expect(step.nodes.every((n) => ids.has(n))).toBe(true);
    }
    // relu folded into the bottom GEMM; the int8 layer is a quantizer plus a GEMM with a dot4I8Packed variant.
    expect(w.steps.map((s) => s.shader)).toEqual([
      "00-linear-bot",
      "01-embedding_bag-e",
      "02-interact-z",
      "03-linear-top-quantize",
      "04-linear-top-gemm",
      "05-sigmoid-out",
    ]);
    expect(w.steps[0]!.nodes).toEqual(["bot.linear", "bot"]);
    const gemm = w.steps[4]!;
    expect(gemm.alternatives).toEqual([
      { languageFeature: "packed_4x8_integer_dot_product", shader: "04-linear-top-gemm.packed_4x8_integer_dot_product" },
    ]);
    expect(readFileSync(join(dir, "04-linear-top-gemm.packed_4x8_integer_dot_product.wgsl"), "utf8")).toContain(
      "requires packed_4x8_integer_dot_product;",
    );
    expect(readFileSync(join(dir, "04-linear-top-gemm.wgsl"), "utf8")).not.toContain("dot4I8Packed");
    expect(w.languageFeatures).toEqual([]); // the variant is optional
    expect(gemm.access).toEqual(["read", "read", "read_write"]);
    expect(w.inputs).toEqual([
      { name: "x", kind: "dense", buffer: "input.x" },
      { name: "s", kind: "bags", offsets: "s.offsets", ids: "s.ids", weights: "s.weights" },
    ]);
    expect(w.outputs).toEqual([{ name: "p", buffer: "output.p" }]);
    // Embedding and elementwise steps run one workgroup row per sample: 65535 samples per call at most.
    expect(w.maxBatch).toBe(65535);
    expect(w.limits.maxComputeWorkgroupSizeX).toBe(64);
  });

  it("each shader's header names the IR nodes it computes and their source lines", async () => {
    const dir = await compileTo(built.graph, weights);
    const head = readFileSync(join(dir, "00-linear-bot.wgsl"), "utf8").split("\n").slice(0, 4).join("\n");
    expect(head).toContain("%bot.linear = linear(...) at kernel.rmdl:5");
    expect(head).toContain("%bot = relu(...) at kernel.rmdl:5");
  });

  it.skipIf(!ctx)("a shader that fails to compile is reported at its file:line with the step's IR nodes", async () => {
    const dir = await compileTo(built.graph, weights);
    const file = join(dir, "02-interact-z.wgsl");
    const lines = readFileSync(file, "utf8").split("\n");
    const at = lines.findIndex((l) => l.includes("var acc = 0.0;"));
    lines[at] = "  var acc: u32 = 0.5;";
    writeFileSync(file, lines.join("\n"));
    await expect(GpuArtifact.load(dir, ctx!)).rejects.toThrow(new RegExp(`02-interact-z\\.wgsl:${at + 1}:\\d+: .*nodes %z`));
    expect(lines.slice(0, 4).join("\n")).toContain("%z = interact(...) at kernel.rmdl:7");
  });

  it("the same inputs give byte-identical artifacts; --emit-text adds final.ir", async () => {
    const a = await compileTo(built.graph, weights);
    const b = await compileTo(built.graph, weights, { emitText: true });
    const ma = manifestOf(a);
    const mb = manifestOf(b);
    for (const name of Object.keys(ma.files)) expect(readFileSync(join(b, name)).equals(readFileSync(join(a, name))), name).toBe(true);
    expect(Object.keys(mb.files).filter((f) => !(f in ma.files))).toEqual(["final.ir"]);
    expect(readFileSync(join(b, "final.ir"), "utf8")).toContain("embedding_bag");
  });

  it("a table over WebGPU's 128 MiB binding limit is an error naming it, its size and the limit, and writes nothing", async () => {
    const src = `model big {\n  input s: bags[2]\n  table huge: embedding(dim: 64, rows: 600000)\n  table small: embedding(dim: 64, rows: 100)\n  @precision(fp16)\n  table wide: embedding(dim: 64, rows: 1100000)\n  a = embedding_bag(huge, s[0])\n  b = embedding_bag(small, s[1])\n  c = embedding_bag(wide, s[1])\n  output a\n  output b\n  output c\n}`;
    const { graph } = parseModel(src, "big.rmdl");
    const lazy = initWeights(graph!, { seed: 1, dist: "gaussian" }); // tables are generated on demand, never here
    const out = join(tempDir(), "dist");
    const diags = await diagnosticsOf(() => compileTo(build(src).graph, lazy, { dir: out }));
    expect(diags.map((d) => d.code)).toEqual(["E1812", "E1812"]);
    expect(diags[0]!.message).toBe(
      "table huge.weight: 146 MiB, over WebGPU's 128 MiB storage-binding limit; split it (the split-tables pass) or store it at lower precision",
    );
    expect(diags[0]!.span?.line).toBe(3);
    expect(diags[1]!.message).toMatch(/^table wide\.weight: 134 MiB, over/);
    expect(readdirSync(dirname(out))).toEqual([]);
  });

  it("ops and precisions the shaders lack are errors naming every place", async () => {
    const { graph } = parseModel(
      `model k {\n  input x: f32[4]\n  input s: bags[1]\n  table t: embedding(dim: 4, rows: 5)\n  a = mlp(x, [3])\n  e = embedding_bag(t, s)\n  output a\n  output e\n}`,
      "bad.rmdl",
    );
    const ws = initWeights(graph!, { seed: 1, dist: "gaussian" });
    const raw = await diagnosticsOf(() => compileTo(graph!, ws));
    expect(raw.map((d) => [d.code, d.message])).toEqual([["E1810", "the wgsl backend cannot compile `mlp` (node %a)"]]);
    const bf16Table = build(`model k {\n  input s: bags[1]\n  table t: embedding(dim: 4, rows: 5)\n  e = embedding_bag(t, s)\n  output e\n}`, (g) => {
      g.weights[0]!.attrs.precision = "bf16";
    });
    const diags = await diagnosticsOf(() => compileTo(bf16Table.graph, initWeights(bf16Table.source, { seed: 1, dist: "gaussian" })));
    expect(diags.map((d) => [d.code, d.message])).toEqual([["E1811", "the wgsl backend cannot compile table t.weight at bf16"]]);
  });

  it.skipIf(!ctx)("an adapter with packed_4x8_integer_dot_product runs the dot4I8Packed variant; the base shader needs no feature", async () => {
    const dir = await compileTo(built.graph, weights);
    const best = await GpuArtifact.load(dir, ctx!, "best");
    const base = await GpuArtifact.load(dir, ctx!, "base");
    const variants = [best.shaders[4], base.shaders[4]];
    best.destroy();
    base.destroy();
    expect(ctx!.features.has("packed_4x8_integer_dot_product")).toBe(true); // llvmpipe offers it; the tests rely on covering both
    expect(variants).toEqual(["04-linear-top-gemm.packed_4x8_integer_dot_product", "04-linear-top-gemm"]);
  });
});
