// The runtime-only package (packages/runtime): `npm run pack:runtime` builds
// and packs it; the tarball installs offline in an empty folder with nothing
// but itself (no binaryen, chevrotain or protobufjs: the test lists what got
// installed), and a plain Node script there loads a compiled artifact and
// predicts exactly what the in-repo runtime predicts, with worker threads too.

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { load } from "../../src/runtime/index.js";
import { SMALL_MODEL } from "../hardening/helpers.js";
import { rmc } from "../cli/helpers.js";

const work = mkdtempSync(join(tmpdir(), "rmc-runtime-pkg-"));
const dist = join(work, "dist");
let tarball: string;
const npm = (args: string[], cwd: string): string => execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

beforeAll(async () => {
  const model = join(work, "small.rmdl");
  writeFileSync(model, SMALL_MODEL);
  const r = await rmc("compile", model, "--init", "trained", "--seed", "4", "-o", dist);
  expect(r.code, r.err).toBe(0);
  tarball = execFileSync(process.execPath, ["packages/runtime/pack.mjs", work], { encoding: "utf8" }).trim().split("\n").pop()!;
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Samples for the small model (dense f32[3], sparse bags[2]), as plain objects.
const samples = Array.from({ length: 9 }, (_, i) => ({ dense: [i / 3, -i / 7, 0.5], sparse: [[i % 7, (i * 3) % 11], i % 2 ? [] : [i]] }));

describe("the rmc-runtime tarball", () => {
  it("holds only the runtime's compiled code and its declarations", () => {
    const files = execFileSync("tar", ["tzf", tarball], { encoding: "utf8" }).trim().split("\n");
    expect(files).toContain("package/dist/runtime/index.js");
    expect(files).toContain("package/dist/runtime/index.d.ts");
    expect(files).toContain("package/dist/runtime/wasm/worker.js");
    const bad = files.filter((f) => !/^package\/(package\.json|README\.md|dist\/.*\.(js|d\.ts))$/.test(f));
    expect(bad).toEqual([]);
    // Nothing of the compiler: no front end, passes, backends or ONNX.
    expect(files.filter((f) => /\/(frontend|passes|backends|onnx|pipeline|driver|cli)\//.test(f))).toEqual([]);
  });

  it("installs offline with no dependencies, and predicts what the in-repo runtime predicts", async () => {
    const app = join(work, "app");
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    npm(["install", "--offline", "--no-audit", "--no-fund", tarball], app);
    const installed = readdirSync(join(app, "node_modules")).filter((n) => !n.startsWith("."));
    expect(installed).toEqual(["rmc-runtime"]);
    // npm's own view: rmc-runtime alone; its optional peers (ioredis, webgpu) are listed but not installed (no version).
    type Tree = { version?: string; dependencies?: Record<string, Tree> };
    const tree = JSON.parse(npm(["ls", "--all", "--json"], app)) as Tree;
    const versions = (t: Tree): string[] => Object.entries(t.dependencies ?? {}).flatMap(([n, d]) => (d.version ? [n, ...versions(d)] : versions(d)));
    expect(versions(tree)).toEqual(["rmc-runtime"]);
    expect(Object.keys(tree.dependencies!["rmc-runtime"]!.dependencies ?? {}).sort()).toEqual(["ioredis", "webgpu"]);
    for (const compilerDep of ["binaryen", "chevrotain", "protobufjs", "onnx-proto", "immer"]) expect(installed).not.toContain(compilerDep);

    writeFileSync(
      join(app, "predict.mjs"),
      [
        'import { load } from "rmc-runtime";',
        "const [dir, threads, json] = process.argv.slice(2);",
        "const model = await load(dir, { threads: Number(threads) });",
        "const out = await model.predict(JSON.parse(json));",
        "await model.close();",
        "console.log(JSON.stringify(Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v)]))));",
      ].join("\n"),
    );
    const reference = await load(dist, { threads: 1 });
    const expected = await reference.predict(samples);
    await reference.close();
    for (const threads of ["1", "2"]) {
      const out = execFileSync(process.execPath, ["predict.mjs", dist, threads, JSON.stringify(samples)], { cwd: app, encoding: "utf8" });
      const got = JSON.parse(out) as Record<string, number[]>;
      expect(Object.keys(got)).toEqual(["ctr"]);
      expect(Float32Array.from(got.ctr!)).toEqual(expected.ctr);
    }
  });
});
