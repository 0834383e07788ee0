// Runtime, WebGPU engine: loading checks a `wgsl` artifact and the GPU and
// names what is wrong — damaged files, malformed plans, shaders that do not
// compile (file:line:col and the IR nodes), limits the GPU lacks, no adapter;
// GPU errors while running and a lost device become RmcErrors, not hangs;
// a process that used a WebGPU model exits.

import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { RmcError } from "../../src/diagnostics/index.js";
import { parseManifest } from "../../src/runtime/check.js";
import { load, type LoadOptions } from "../../src/runtime/index.js";
import { prepareBatch } from "../../src/runtime/inputs.js";
import type { WgslManifest } from "../../src/runtime/manifest.js";
import { folderArtifact } from "../../src/runtime/host/node.js";
import { startWebGpuEngine } from "../../src/runtime/webgpu/engine.js";
import type { GpuDevice } from "../../src/runtime/webgpu/api.js";
import { requireAdapter } from "../webgpu.js";
import { fakeShaders, fakeWgslPredict, worstRelError, writeFakeWgslArtifact, type FakeWgslSpec } from "./fake-wgsl.js";
import { gpuDouble } from "./gpu-double.js";
import { randomBatch } from "./reference.js";
import { transpileRuntime } from "./transpile.js";

const webgpu = await requireAdapter();
const root = mkdtempSync(join(tmpdir(), "rmc-webgpu-load-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const spec: FakeWgslSpec = { weighted: false, rows: [100, 50], ids: ["error", "error"] };
const pristine = join(root, "pristine");
writeFakeWgslArtifact(pristine, spec);
let serial = 0;

/** A copy of the good artifact, changed by `damage`. */
function damaged(damage: (dir: string) => void): string {
  const dir = join(root, `d${serial++}`);
  cpSync(pristine, dir, { recursive: true });
  damage(dir);
  return dir;
}

const editManifest = (dir: string, edit: (m: Record<string, any>) => void): void => {
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
  edit(manifest);
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
};

/** The RmcError that loading `dir` fails with. */
async function loadError(dir: string, opts: LoadOptions = {}): Promise<RmcError> {
  const err = await load(dir, opts).then(
    async (model) => {
      await model.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RmcError);
  return err as RmcError;
}

/** A fake artifact with shader texts replaced. */
function withShaders(shaders: Record<string, string>): string {
  const dir = join(root, `s${serial++}`);
  writeFakeWgslArtifact(dir, { ...spec, shaders });
  return dir;
}

describe.skipIf(!webgpu)("loading a WebGPU artifact", () => {
  test("a changed, truncated or missing shader or weights file is an error naming it", async () => {
    const flip = (file: string) => (dir: string) => {
      const bytes = readFileSync(join(dir, file));
      bytes[bytes.length - 2]! ^= 0x20;
      writeFileSync(join(dir, file), bytes);
    };
    const cases: [(dir: string) => void, string, string][] = [
      [flip("shaders/pool.wgsl"), "E1705", "pool.wgsl: checksum mismatch"],
      [flip("tables.bin"), "E1705", "tables.bin: checksum mismatch"],
      [(dir) => writeFileSync(join(dir, "weights.bin"), new Uint8Array(12)), "E1704", "weights.bin: 12 bytes, but manifest.json lists 40"],
      [(dir) => unlinkSync(join(dir, "shaders/scale.wgsl")), "E1703", "scale.wgsl: file not found"],
    ];
    for (const [damage, code, text] of cases) {
      const err = await loadError(damaged(damage));
      expect(err.diagnostics[0]!.code).toBe(code);
      expect(err.message).toContain(text);
    }
  });

  test("weights streamed in small chunks land at their offsets, a range ending mid-word included", async () => {
    // 12-byte chunks split w_dense [16, 32) over two reads and marks [32, 38) over two, the last 2 bytes long.
    const files = folderArtifact(pristine, 12);
    const manifest = parseManifest(await files.readManifest(), "manifest.json") as WgslManifest;
    const engine = await startWebGpuEngine(files, manifest, { batchCapacity: 4 });
    try {
      const batch = randomBatch(9, 5, false, 3, [0, 50]);
      const got = await engine.run(prepareBatch(manifest.model.inputs, batch));
      const want = fakeWgslPredict(spec, batch);
      expect(worstRelError(got.p!, want.p)).toBeLessThan(1e-5);
      expect(got.q).toEqual(want.q.map((v, i) => (i % 2 ? v : got.q![i]!))); // id counts + 7: marks read exactly
    } finally {
      await engine.close();
    }
  });

  test("a malformed plan is refused naming the field", async () => {
    const cases: [(m: Record<string, any>) => void, string][] = [
      [(m) => delete m.wgsl, "`wgsl` (the shaders and dispatch plan) is missing"],
      [(m) => (m.wgsl.steps[1].shader = "scael"), "wgsl.steps[1]: unknown shader `scael`"],
      [(m) => m.wgsl.steps[0].bindings.push("nowhere"), "wgsl.steps[0]: binds `nowhere`, which is not in wgsl.buffers"],
      [(m) => (m.wgsl.steps[2].dispatch = [m.wgsl.steps[2].dispatch[0]]), "wgsl.steps[2].dispatch must give three workgroup counts"],
      [(m) => (m.wgsl.steps[2].dispatch[0].div = 0), "wgsl.steps[2].dispatch[0]: div must be a whole number ≥ 1"],
      [(m) => (m.wgsl.steps[0].access = ["read"]), "wgsl.steps[0].access must give `read` or `read_write` for each of its 3 bindings"],
      [(m) => (m.wgsl.steps[2].alternatives = [{ languageFeature: "x", shader: "fast" }]), "wgsl.steps[2].alternatives[0]: unknown shader `fast`"],
      [(m) => (m.wgsl.buffers[1].offset = 16), "wgsl.buffers[1] (`coef`): bytes [16, 24) lie outside `tables.bin` (19 bytes)"],
      [(m) => (m.wgsl.buffers[0].offset = 2), "offset 2 is not a multiple of 4"],
      [(m) => (m.wgsl.inputs[1].ids = "w_dense"), "wgsl.inputs: `sparse` names `w_dense`, which is not a batch buffer"],
      [(m) => (m.wgsl.inputs[1].weights = "scaled"), "`sparse` is not weighted but has a weights buffer"],
      [(m) => (m.wgsl.outputs[0].name = "pp"), "wgsl.outputs has no batch buffer for output `p`"],
      [(m) => (m.wgsl.limits.maxComputeWorkgroupSizeX = -1), "wgsl.limits.maxComputeWorkgroupSizeX must be a whole number"],
      [(m) => (m.wgsl.maxBatch = 0), "wgsl.maxBatch must be a whole number ≥ 1"],
      [(m) => (m.wgsl.shaders[0].file = "elsewhere.wgsl"), "wgsl.shaders[0]: `elsewhere.wgsl` is not listed in `files`"],
      // Sizes that pass the shape checks but cannot hold the inputs: found when the buffers are sized.
      [(m) => (m.wgsl.buffers[3].size.perSample = 8), "wgsl buffer `dense` has 32 bytes for 4 samples and 64 ids, but its data needs 48"],
    ];
    for (const [edit, text] of cases) {
      const err = await loadError(
        damaged((dir) => editManifest(dir, edit)),
        { batchCapacity: 4 },
      );
      expect(err.diagnostics[0]!.code).toBe("E1701");
      expect(err.message).toContain(text);
    }
  });

  test("a shader that does not compile is E1734 with file:line:col and the IR nodes of its step", async () => {
    const good = fakeShaders(false).pool!;
    const lines = good.split("\n");
    const at = lines.findIndex((l) => l.includes("var count = 0u;"));
    lines[at] = "  var count = 0u";
    const err = await loadError(withShaders({ pool: lines.join("\n") }));
    expect(err.diagnostics[0]!.code).toBe("E1734");
    expect(err.message).toMatch(new RegExp(`shaders[/\\\\]pool\\.wgsl:${at + 2}:\\d+: WGSL error: `));
    expect(err.message).toContain("step 2 computing %2, %3");
    expect(err.message).toContain("rmc shader pool: pools the bags");
    expect(err.message).toContain("%2 = embedding_bag(...) at fake.rmdl:5");
  });

  test("a shader whose bindings disagree with its step, or with no entry point, is refused naming it", async () => {
    const pool = fakeShaders(false).pool!;
    const fewer = pool.replace("@group(0) @binding(6) var<storage, read_write> q: array<f32>;", "").replace(/q\[[^\]]*\] = [^;]*;/g, "");
    const count = await loadError(withShaders({ pool: fewer }));
    expect(count.diagnostics[0]!.code).toBe("E1734");
    expect(count.message).toContain("step 2 computing %2, %3 binds 7 buffers, but shader `pool` declares 6 in @group(0)");
    const noMain = await loadError(withShaders({ dense: fakeShaders(false).dense!.replace("fn main(", "fn start(") }));
    expect(noMain.diagnostics[0]!.code).toBe("E1735");
    expect(noMain.message).toContain("cannot make a compute pipeline of shader `dense` (step 0 computing %0");
  });

  test("limits the GPU lacks are E1732, naming each with what the GPU offers", async () => {
    const greedy = damaged((dir) => editManifest(dir, (m) => (m.wgsl.limits.maxComputeWorkgroupSizeX = 1 << 30)));
    const err = await loadError(greedy);
    expect(err.diagnostics[0]!.code).toBe("E1732");
    expect(err.message).toContain(`maxComputeWorkgroupSizeX ≥ ${1 << 30} (it offers ${webgpu!.adapter.limits.maxComputeWorkgroupSizeX})`);
    const small = await loadError(pristine, { gpu: gpuDouble(webgpu!.gpu, { limits: { maxStorageBuffersPerShaderStage: 4 } }) });
    expect(small.diagnostics[0]!.code).toBe("E1732");
    expect(small.message).toContain("maxStorageBuffersPerShaderStage ≥ 7 (it offers 4)");
  });

  test("no adapter is E1731; threads > 1 is E1709 for a WebGPU artifact", async () => {
    const none = await loadError(pristine, { gpu: gpuDouble(webgpu!.gpu, { noAdapter: true }) });
    expect(none.diagnostics[0]!.code).toBe("E1731");
    expect(none.message).toContain("WebGPU gives no adapter");
    const threads = await loadError(pristine, { threads: 2 });
    expect(threads.diagnostics[0]!.code).toBe("E1709");
    expect(threads.message).toContain("is a WebGPU artifact: it runs on the GPU");
    const one = await load(pristine, { threads: 1 });
    expect(one.threads).toBe(1);
    await one.close();
  });

  test("a GPU validation error while running is E1736, and a lost device E1737, not a hang", async () => {
    // Step 0 writes `dense` while also reading it: a usage conflict the GPU rejects when the pass is encoded.
    const aliasing = damaged((dir) => editManifest(dir, (m) => (m.wgsl.steps[0].bindings[2] = "dense")));
    const model = await load(aliasing);
    try {
      const err = await model.predict(randomBatch(1, 3, false, 2, [0, 50])).catch((e: unknown) => e);
      expect((err as RmcError).diagnostics?.[0]?.code).toBe("E1736");
      expect((err as RmcError).message).toContain("the GPU reported an error running the batch");
    } finally {
      await model.close();
    }
    let device: GpuDevice | undefined;
    const doomed = await load(pristine, { gpu: gpuDouble(webgpu!.gpu, { onDevice: (d) => (device = d) }) });
    try {
      await doomed.predict(randomBatch(2, 3, false, 2, [0, 50]));
      device!.destroy();
      await device!.lost;
      const err = await doomed.predict(randomBatch(3, 3, false, 2, [0, 50])).catch((e: unknown) => e);
      expect((err as RmcError).diagnostics?.[0]?.code).toBe("E1737");
      expect((err as RmcError).message).toContain("the GPU device was lost");
    } finally {
      await doomed.close();
    }
    const closed = await doomed.predict(randomBatch(4, 1, false, 1, [0, 50])).catch((e: unknown) => e);
    expect((closed as RmcError).diagnostics[0]!.code).toBe("E1722");
    // Lost while a call is under way: the call ends with E1737 rather than waiting forever.
    let midway: GpuDevice | undefined;
    const racing = await load(pristine, { gpu: gpuDouble(webgpu!.gpu, { onDevice: (d) => (midway = d) }) });
    try {
      const pending = racing.predict(randomBatch(5, 300, false, 3, [0, 50]));
      midway!.destroy();
      const err = await pending.catch((e: unknown) => e);
      expect((err as RmcError).diagnostics?.[0]?.code).toBe("E1737");
    } finally {
      await racing.close();
    }
  });

  test("a process using the built runtime on a WebGPU model exits, with or without close(); without the webgpu package it is E1730", () => {
    const runtime = transpileRuntime(join(root, "js"));
    symlinkSync(join(process.cwd(), "node_modules"), join(root, "js", "node_modules"), "dir"); // so it finds the `webgpu` package
    for (const close of [true, false]) {
      const script = `import { load } from ${JSON.stringify(runtime.entry)};
const model = await load(${JSON.stringify(pristine)});
const out = await model.predict({ dense: new Float32Array([1, 2, 3]), sparse: { lengths: Int32Array.from([1, 2]), values: Int32Array.from([4, 5, 6]) } });
console.log("p=" + out.p[0].toFixed(4) + " q=" + out.q[1]);
${close ? "await model.close();" : ""}`;
      const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000, env: { ...process.env } });
      expect(run.status, run.stderr).toBe(0);
      // 0.5 - 2.5 + 6 + 0.75 + 0.001·4 - 0.002·11 = 4.732; 3 ids + 7 = 10
      expect(run.stdout.trim()).toBe("p=4.7320 q=10");
    }
    // The same runtime where no `webgpu` package can be found: E1730, saying what to install.
    const bare = transpileRuntime(join(root, "js-bare"));
    const script = `import { load } from ${JSON.stringify(bare.entry)};
await load(${JSON.stringify(pristine)}).catch((e) => console.log(e.diagnostics[0].code + " " + e.diagnostics[0].hint));`;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000, cwd: root });
    expect(run.stdout).toContain("E1730 `npm install webgpu`, or pass `gpu`");
  });
});
