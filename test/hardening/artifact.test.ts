// Artifacts do not trust their manifest: an edited manifest.json (a moved or
// misaligned weights offset, a dense buffer moved onto the lengths buffer, a
// huge header, a missing `ir`, a renamed output) used to load and predict
// other numbers, or crash with a TypeError; a named pipe in a file's place hung
// the loader, and a symbolic link could read outside the folder. Each is now a
// clear RmcError naming the field or file, and every single-field corruption
// of a real artifact's manifest either loads and predicts the same numbers or
// is refused — never a TypeError, never other numbers.

import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { RmcError } from "../../src/diagnostics/index.js";
import { load } from "../../src/runtime/index.js";
import { rmc, tempDir } from "../cli/helpers.js";
import { SHARDED_AND_STORED, smallArtifact, type SmallArtifact } from "./helpers.js";

const a = await smallArtifact(64);
const split = await smallArtifact(64, "wasm", SHARDED_AND_STORED);
const gpu = await smallArtifact(64, "wgsl");
const scratch = tempDir();
let copies = 0;

type Json = Record<string, any>;

/** A copy of the artifact (`from`, the plain one by default), its manifest changed by `edit` and its folder by `damage`. */
function variant(edit: (m: Json) => void, damage?: (dir: string) => void, from: SmallArtifact = a): string {
  const dir = join(scratch, `v${copies++}`);
  cpSync(from.dist, dir, { recursive: true });
  const m = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
  edit(m);
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(m));
  damage?.(dir);
  return dir;
}

const dense = Float32Array.from({ length: 3 * 40 }, (_, i) => ((i * 7) % 11) / 3 - 1);
const sparse = { lengths: Int32Array.from({ length: 80 }, (_, i) => i % 3), values: new Int32Array(80) };
sparse.values = Int32Array.from({ length: sparse.lengths.reduce((x, y) => x + y, 0) }, (_, i) => (i * 5) % 9);
const predictions = async (dir: string): Promise<Float32Array> => {
  const model = await load(dir, { threads: 1, preload: "all" });
  const out = (await model.predict({ dense, sparse })).ctr!;
  await model.close();
  return out;
};
const good = await predictions(a.dist);
const splitGood = await predictions(split.dist);
const gpuGood = await predictions(gpu.dist);

/** How loading `dir` and predicting ends: the outputs, or the error (which must be an RmcError). */
async function outcome(dir: string): Promise<Float32Array | RmcError> {
  try {
    const model = await load(dir, { threads: 1, preload: "all" });
    try {
      return (await model.predict({ dense, sparse })).ctr!;
    } finally {
      await model.close();
    }
  } catch (e) {
    expect(e, String((e as Error).stack)).toBeInstanceOf(RmcError);
    return e as RmcError;
  }
}

async function refused(dir: string, code: string, text: string): Promise<void> {
  const got = await outcome(dir);
  expect(got).toBeInstanceOf(RmcError);
  expect((got as RmcError).diagnostics[0]!.code).toBe(code);
  expect((got as RmcError).message).toContain(text);
}

it("a moved, misaligned or enormous layout field is refused, against the other fields or the code itself", async () => {
  await refused(
    variant((m) => (m.wasm.weights.offset = 0)),
    "E1747",
    "manifest.json gives wasm.weights.offset as 0, but the code was compiled for 64",
  );
  await refused(
    variant((m) => (m.wasm.weights.offset = 1)),
    "E1701",
    "wasm.weights.offset (1) must be a multiple of 16",
  );
  await refused(
    variant((m) => (m.wasm.headerBytes = 2 ** 31)),
    "E1747",
    "wasm.headerBytes as 2147483648",
  );
  await refused(
    variant((m) => (m.wasm.buffers.inputs[0].offset = m.wasm.buffers.inputs[1].lengthsOffset)),
    "E1701",
    "share bytes",
  );
  await refused(
    variant((m) => (m.wasm.workspaceBase = 2 ** 33)),
    "E1701",
    "wasm.workspaceBase must be a byte count within 32-bit memory",
  );
  // Renamed consistently everywhere the manifest names it: the code still knows its outputs.
  await refused(
    variant((m) => {
      m.model.outputs[0].name = m.ir.outputs[0].name = m.wasm.buffers.outputs[0].name = "p";
    }),
    "E1747",
    "wasm.buffers.outputs[0].name",
  );
});

it("a manifest without `ir`, or with a renamed output, is an error naming the field (load and rmc run)", async () => {
  const noIr = variant((m) => delete m.ir);
  await refused(noIr, "E1701", "`ir` (the IR the artifact was compiled from) is missing");
  const r = await rmc("run", noIr, "--data", a.data, "--threads", "1");
  expect(r.code).toBe(3);
  expect(r.err).toContain("E1701");
  expect(r.err).not.toContain("internal error");
  await refused(
    variant((m) => (m.ir.outputs[0].name = "p")),
    "E1701",
    "ir.outputs[0] must be output `ctr` of model.outputs",
  );
  await refused(
    variant((m) => (m.model.outputs[0].name = "p")),
    "E1701",
    "ir.outputs[0] must be output `p` of model.outputs",
  );
});

it("only regular files inside the folder are read: a named pipe, a folder, a link out, a path out", async () => {
  const fifo = variant(
    () => undefined,
    (dir) => {
      rmSync(join(dir, "weights.bin"));
      execFileSync("mkfifo", [join(dir, "weights.bin")]);
    },
  );
  await refused(fifo, "E1703", "weights.bin: is a named pipe (FIFO), not a regular file");
  const manifestFifo = join(scratch, "fifo-manifest");
  mkdirSync(manifestFifo);
  execFileSync("mkfifo", [join(manifestFifo, "manifest.json")]);
  await refused(manifestFifo, "E1700", "manifest.json: is a named pipe (FIFO)");
  const folder = variant(
    () => undefined,
    (dir) => {
      rmSync(join(dir, "weights.bin"));
      mkdirSync(join(dir, "weights.bin"));
    },
  );
  await refused(folder, "E1703", "is a folder, not a regular file");
  const outside = join(scratch, "elsewhere.bin");
  cpSync(join(a.dist, "weights.bin"), outside);
  const link = variant(
    () => undefined,
    (dir) => {
      rmSync(join(dir, "weights.bin"));
      symlinkSync(outside, join(dir, "weights.bin"));
    },
  );
  await refused(link, "E1703", "outside the artifact folder");
  // A link that stays inside is an ordinary file.
  const inside = variant(
    () => undefined,
    (dir) => {
      cpSync(join(dir, "weights.bin"), join(dir, "real.bin"));
      rmSync(join(dir, "weights.bin"));
      symlinkSync("real.bin", join(dir, "weights.bin"));
    },
  );
  expect(await outcome(inside)).toEqual(good);
  for (const name of [
    "../elsewhere.bin",
    "/etc/passwd",
    "C:/w.bin",
    "http://example.com/w.bin",
    "%2e%2e/w.bin",
    "a//w.bin",
    "./w.bin",
    "a\\..\\w.bin",
  ]) {
    const dir = variant((m) => {
      m.files[name] = m.files["weights.bin"];
      m.wasm.weights.file = name;
    });
    await refused(dir, "E1701", "points outside the artifact folder or is not a plain relative path");
  }
});

/** Every place in the manifest worth corrupting: top-level fields, the signature, the layout, the files, the IR's lists. */
function paths(m: Json): string[][] {
  const out: string[][] = [];
  const walk = (x: unknown, at: string[], depth: number): void => {
    out.push(at);
    if (depth === 0 || typeof x !== "object" || x === null) return;
    for (const key of Object.keys(x)) walk((x as Json)[key], [...at, key], depth - 1);
  };
  for (const key of Object.keys(m)) {
    // The compile's provenance is for `rmc explain` only (test/cli/explain.test.ts corrupts it): the runtime never reads it.
    if (key === "provenance") continue;
    if (key === "ir") walk(m.ir, ["ir"], 2);
    else if (key === "model") walk(m.model, ["model"], 5);
    else walk(m[key], [key], 4);
  }
  return out.filter((p) => p.length > 0 && !(p[0] === "model" && p[2] === "features" && Number(p[3]) > 1));
}

const CORRUPT: unknown[] = [undefined, null, "x", -1, 1.5, 2 ** 40, [], {}];

it.each([
  ["a plain artifact", a, () => good],
  ["an artifact with weight shards and a file store", split, () => splitGood],
  ["a WebGPU artifact", gpu, () => gpuGood],
] as const)(
  "any one field of %s set to a wrong value: the same numbers or an RmcError, never a TypeError or other numbers",
  async (_, from, want) => {
    const m = JSON.parse(readFileSync(join(from.dist, "manifest.json"), "utf8"));
    const all = paths(m);
    expect(all.length).toBeGreaterThan(80);
    let accepted = 0;
    for (const path of all)
      for (const value of CORRUPT) {
        const dir = variant(
          (copy) => {
            const parent = path.slice(0, -1).reduce((x: Json, k) => x[k], copy);
            if (value === undefined) delete parent[path[path.length - 1]!];
            else parent[path[path.length - 1]!] = value;
          },
          undefined,
          from,
        );
        const got = await outcome(dir);
        if (!(got instanceof RmcError)) {
          accepted++;
          expect(got, `${path.join(".")} = ${JSON.stringify(value)}`).toEqual(want());
        }
        rmSync(dir, { recursive: true, force: true });
      }
    // Some fields are free (names in messages, spans, precisions' values): most corruptions are refused.
    expect(accepted).toBeLessThan((all.length * CORRUPT.length) / 4);
  },
);
