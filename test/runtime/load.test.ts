// Runtime: loading checks the artifact (format version, manifest shape, file
// sizes and checksums, options) and names what is wrong; traps and failing
// workers become RmcErrors, not hangs; close() ends the worker threads, and a
// process using the built runtime exits.

import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, expect, test } from "vitest";
import { RmcError } from "../../src/diagnostics/index.js";
import { load } from "../../src/runtime/index.js";
import { readFileChecked } from "../../src/runtime/host/node.js";
import { WorkerPool } from "../../src/runtime/wasm/pool.js";
import { wasmApi } from "../../src/runtime/host/platform.js";
import { buildFakeModule, writeFakeArtifact, type FakeSpec } from "./fake-artifact.js";
import { randomBatch, referencePredict } from "./reference.js";
import { transpileRuntime } from "./transpile.js";

const root = mkdtempSync(join(tmpdir(), "rmc-runtime-load-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const spec: FakeSpec = { weighted: false, rows: [100, 50], ids: ["error", "error"] };
const pristine = join(root, "pristine");
writeFakeArtifact(pristine, spec);
const runtimeJs = transpileRuntime(join(root, "js"));

/** A copy of the good artifact, changed by `damage`. */
function damaged(name: string, damage: (dir: string) => void): string {
  const dir = join(root, name);
  cpSync(pristine, dir, { recursive: true });
  damage(dir);
  return dir;
}

const editManifest = (dir: string, edit: (m: Record<string, any>) => void): void => {
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
  edit(manifest);
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
};

async function loadError(dir: string | URL, opts: Parameters<typeof load>[1] = { threads: 1 }): Promise<RmcError> {
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

const flipByte = (file: string, at: number): void => {
  const bytes = readFileSync(file);
  bytes[at]! ^= 0xff;
  writeFileSync(file, bytes);
};

test("a changed weights or code file is a checksum error naming the file", async () => {
  const weights = damaged("bad-weights", (dir) => flipByte(join(dir, "weights.bin"), 700));
  const err = await loadError(weights);
  expect(err.diagnostics[0]!.code).toBe("E1705");
  expect(err.message).toBe(`${join(weights, "weights.bin")}: checksum mismatch: the file is corrupted or was changed after compilation`);
  const code = damaged("bad-code", (dir) => flipByte(join(dir, "model.wasm"), 20));
  expect((await loadError(code)).message).toContain(`${join(code, "model.wasm")}: checksum mismatch`);
});

test("missing and truncated files are named", async () => {
  const missing = damaged("missing", (dir) => unlinkSync(join(dir, "weights.bin")));
  const err = await loadError(missing);
  expect(err.diagnostics[0]!.code).toBe("E1703");
  expect(err.message).toContain(`${join(missing, "weights.bin")}: file not found`);
  const short = damaged("short", (dir) => writeFileSync(join(dir, "weights.bin"), readFileSync(join(pristine, "weights.bin")).subarray(0, 100)));
  const shortErr = await loadError(short);
  expect(shortErr.diagnostics[0]!.code).toBe("E1704");
  expect(shortErr.message).toContain("weights.bin: 100 bytes, but manifest.json lists 1020");
  const noManifest = await loadError(join(root, "no-such-folder"));
  expect(noManifest.diagnostics[0]!.code).toBe("E1700");
  expect(noManifest.message).toContain("not a compiled artifact folder");
});

test("another format version is refused with both versions and a hint to recompile", async () => {
  const future = damaged("future", (dir) => editManifest(dir, (m) => (m.format = 99)));
  const err = await loadError(future);
  expect(err.diagnostics[0]!.code).toBe("E1702");
  expect(err.message).toContain("artifact format 99 (written by rmc 0.0.0-test), but this runtime reads format 2");
  expect(err.diagnostics[0]!.hint).toContain("recompile");
});

test("a malformed manifest is refused before anything is read", async () => {
  const cases: [string, (dir: string) => void, string, string][] = [
    ["json", (dir) => writeFileSync(join(dir, "manifest.json"), "{ not json"), "E1701", "not valid JSON"],
    ["target", (dir) => editManifest(dir, (m) => (m.target = "webgl")), "E1701", "target `webgl` is not one this runtime runs (wasm, wgsl)"],
    ["wgsl", (dir) => editManifest(dir, (m) => (m.target = "wgsl")), "E1701", "`wgsl` (the shaders and dispatch plan) is missing"],
    ["buffer", (dir) => editManifest(dir, (m) => (m.wasm.buffers.outputs[1].offset = 30)), "E1701", "output `q` has no buffer inside perSample"],
    ["overlap", (dir) => editManifest(dir, (m) => (m.wasm.workspaceBase = 1500)), "E1701", "overlaps the workspaces"],
    ["escape", (dir) => editManifest(dir, (m) => (m.files["../secret"] = m.files["weights.bin"])), "E1701", "points outside the artifact folder"],
    ["import", (dir) => editManifest(dir, (m) => m.wasm.imports.push("erf")), "E1706", "imports `env.erf`, which this runtime does not provide"],
  ];
  for (const [name, damage, code, text] of cases) {
    const err = await loadError(damaged(`manifest-${name}`, damage));
    expect(err.diagnostics[0]!.code).toBe(code);
    expect(err.message).toContain(text);
  }
});

test("bad options and a missing worker script are errors; threads = 1 without a threads module", async () => {
  expect((await loadError(pristine, { threads: 0 })).message).toContain("load option `threads` must be a whole number");
  expect((await loadError(pristine, { batchCapacity: 2.5 })).diagnostics[0]!.code).toBe("E1709");
  const nowhere = pathToFileURL(join(root, "nowhere", "worker.js"));
  const err = await loadError(pristine, { threads: 2, workerUrl: nowhere });
  expect(err.diagnostics[0]!.code).toBe("E1721");
  expect(err.message).toContain("worker script not found");
  const single = damaged("single", (dir) => editManifest(dir, (m) => (m.wasm.threadsModule = "")));
  const model = await load(single, { threads: 4, workerUrl: runtimeJs.workerUrl });
  expect(model.threads).toBe(1);
  const batch = randomBatch(5, 100, false, 3, [0, 50]);
  expect((await model.predict(batch)).p).toEqual(referencePredict(batch, spec).p);
  await model.close();
});

test("a worker that fails at start-up is an error, not a hang", async () => {
  const broken = join(root, "js", "src", "runtime", "wasm", "broken-worker.js");
  writeFileSync(broken, 'throw new Error("boom at start");\n');
  const err = await loadError(pristine, { threads: 2, workerUrl: pathToFileURL(broken) });
  expect(err.diagnostics[0]!.code).toBe("E1721");
  expect(err.message).toContain("boom at start");
});

test("a worker that dies mid-batch fails that batch clearly, and a new thread takes its place", async () => {
  const dir = join(root, "crash");
  const crashing = join(root, "js", "src", "runtime", "wasm", "crash-worker.js");
  // Wraps worker.js's own listener: exits the thread on the first job after `crash` appears, and counts jobs. A
  // listener of its own, attached before worker.js's, would start the port and could swallow the "init" message.
  writeFileSync(
    crashing,
    `import { parentPort } from "node:worker_threads";
import { appendFileSync, existsSync, mkdirSync, unlinkSync } from "node:fs";
const dir = ${JSON.stringify(dir)};
mkdirSync(dir, { recursive: true });
const on = parentPort.on.bind(parentPort);
parentPort.on = (event, listener) =>
  on(event, event !== "message" ? listener : (m) => {
    if (m.type === "run") {
      if (existsSync(dir + "/crash")) { unlinkSync(dir + "/crash"); process.exit(3); }
      appendFileSync(dir + "/runs", "r");
    }
    listener(m);
  });
await import("./worker.js");
`,
  );
  const model = await load(pristine, { threads: 2, workerUrl: pathToFileURL(crashing) });
  const batch = randomBatch(8, 200, false, 2, [0, 50]);
  const expected = referencePredict(batch, spec).p;
  expect((await model.predict(batch)).p).toEqual(expected);
  writeFileSync(join(dir, "crash"), "");
  const err = await model.predict(batch).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RmcError);
  expect((err as RmcError).diagnostics[0]!.code).toBe("E1721");
  expect((err as RmcError).message).toContain("exited unexpectedly");
  // The next batches run on two threads again (the replacement counts its jobs) and are right.
  for (let i = 0; i < 3; i++) expect((await model.predict(batch)).p).toEqual(expected);
  expect(readFileSync(join(dir, "runs"), "utf8")).toBe("rrrr");
  await model.close();
});

test("a trap in the code is an RmcError, on the main thread and in workers", async () => {
  const trapping = join(root, "trap");
  writeFakeArtifact(trapping, { ...spec, trap: true });
  for (const threads of [1, 2]) {
    const model = await load(trapping, { threads, workerUrl: runtimeJs.workerUrl });
    const err = await model.predict(randomBatch(6, 200, false, 2, [0, 50])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RmcError);
    expect((err as RmcError).diagnostics[0]!.code).toBe("E1720");
    expect((err as RmcError).message).toContain("trapped");
    await model.close();
  }
});

test("close() ends the worker threads and the model refuses to predict", async () => {
  const memory = new (wasmApi().Memory)({ initial: 1, maximum: 65536, shared: true });
  const module = await wasmApi().compile(buildFakeModule(false, true));
  const pool = await WorkerPool.start(runtimeJs.workerUrl, 2, { module, memory, imports: ["sigmoid", "tanh"] });
  expect(pool.size).toBe(2);
  await pool.close();
  expect(pool.size).toBe(0);
  const model = await load(pristine, { threads: 2, workerUrl: runtimeJs.workerUrl });
  await model.close();
  await model.close();
  const err = await model.predict(randomBatch(7, 3, false, 2, [0, 50])).catch((e: unknown) => e);
  expect((err as RmcError).diagnostics[0]!.code).toBe("E1722");
});

test("weights stream into shared memory in chunks, hashed on the way", async () => {
  const file = join(pristine, "weights.bin");
  const entry = JSON.parse(readFileSync(join(pristine, "manifest.json"), "utf8")).files["weights.bin"];
  const target = new Uint8Array(new SharedArrayBuffer(entry.bytes + 8), 8, entry.bytes);
  await readFileChecked(file, "w.bin", entry, target, 7);
  expect(Buffer.from(target)).toEqual(readFileSync(file));
  const wrong = { ...entry, sha256: "0".repeat(64) };
  await expect(readFileChecked(file, "w.bin", wrong, target, 7)).rejects.toThrow("w.bin: checksum mismatch");
});

test("a process using the built runtime with worker threads exits, with or without close()", () => {
  const script = (close: boolean): string => `
    import { load } from ${JSON.stringify(pathToFileURL(runtimeJs.entry).href)};
    const model = await load(${JSON.stringify(pristine)}, { threads: 2 });
    const size = 300;
    const dense = Float32Array.from({ length: size * 3 }, (_, i) => (i % 7) - 3);
    const lengths = new Int32Array(2 * size).fill(1);
    const values = Int32Array.from({ length: 2 * size }, (_, i) => i % 50);
    const { p } = await model.predict({ dense, sparse: { lengths, values } });
    console.log(JSON.stringify({ threads: model.threads, p: Array.from(p) }));
    ${close ? "await model.close();" : ""}`;
  for (const close of [true, false]) {
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script(close)], { encoding: "utf8", timeout: 30_000 });
    expect(child.signal).toBeNull();
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
    const { threads, p } = JSON.parse(child.stdout) as { threads: number; p: number[] };
    expect(threads).toBe(2);
    const size = 300;
    const want = referencePredict(
      {
        dense: Float32Array.from({ length: size * 3 }, (_, i) => (i % 7) - 3),
        sparse: { lengths: new Int32Array(2 * size).fill(1), values: Int32Array.from({ length: 2 * size }, (_, i) => i % 50) },
      },
      spec,
    );
    expect(Float32Array.from(p)).toEqual(want.p);
  }
});
