// The artifact in a real browser: compiles the small DLRM for WebGPU and for
// Wasm, serves the artifacts and the runtime on localhost, and runs them in
// headless Chromium (Debian's, driven by playwright-core) — through WebGPU
// when the browser offers an adapter, through Wasm otherwise — comparing the
// outputs with the reference interpreter. The test says which path it used.
// Needs /usr/bin/chromium (.ci/run installs it); RMC_SKIP_BROWSER=1 skips it
// on a developer machine without one.

import { createServer, type Server } from "node:http";
import { existsSync, readFileSync, statSync } from "node:fs";
import { extname, join, normalize } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser } from "playwright-core";
import { parseModel } from "../../src/frontend/index.js";
import { interpret } from "../../src/interp/interpreter.js";
import { initWeights } from "../../src/weights/init.js";
import { dataSchema } from "../../src/data/schema.js";
import { InputSampler, rawToBatch } from "../../src/data/synth.js";
import { Rng } from "../../src/util/rng.js";
import { isBags } from "../../src/data/batch.js";
import { canonical, compileTo, tempDir } from "../backends/wasm/helpers.js";
import { transpileRuntime } from "../runtime/transpile.js";

const CHROMIUM = "/usr/bin/chromium";
const skip = process.env.RMC_SKIP_BROWSER === "1";
if (!skip && !existsSync(CHROMIUM))
  throw new Error(
    `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does) or set RMC_SKIP_BROWSER=1 on a developer machine`,
  );

const FLAGS = [
  "--no-sandbox",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--enable-unsafe-webgpu",
  "--use-webgpu-adapter=swiftshader",
  "--enable-unsafe-swiftshader",
];
const TYPES: Record<string, string> = {
  ".js": "text/javascript",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".html": "text/html",
  ".wgsl": "text/plain",
  ".bin": "application/octet-stream",
};

const page = (haveWgsl: boolean): string => `<!doctype html><meta charset="utf-8"><title>rmc</title>
<script type="module">
import { load } from "/rt/src/runtime/index.js";
window.runModel = async (inputs) => {
  const typed = {};
  for (const [name, v] of Object.entries(inputs))
    typed[name] = Array.isArray(v) ? Float32Array.from(v) : { lengths: Int32Array.from(v.lengths), values: Int32Array.from(v.values) };
  let path = "wasm";
  if (${haveWgsl} && navigator.gpu && (await navigator.gpu.requestAdapter().catch(() => null))) path = "wgsl";
  const model = await load(new URL("/" + path + "/", location.href), { threads: 1 });
  try {
    const out = await model.predict(typed);
    return { path, outputs: Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v)])) };
  } finally {
    await model.close();
  }
};
window.ready = true;
</script>`;

describe.skipIf(skip)("the artifact in headless Chromium", () => {
  let server: Server;
  let browser: Browser;
  let base = "";
  const source = parseModel(readFileSync("examples/dlrm_kaggle_small.rmdl", "utf8"), "examples/dlrm_kaggle_small.rmdl").graph!;
  const graph = canonical(source);
  const weights = initWeights(source, { seed: 12, dist: "trained" });

  beforeAll(async () => {
    const root = tempDir();
    const rt = join(root, "rt");
    transpileRuntime(rt);
    const dirs: Record<string, string> = { rt, wasm: await compileTo(graph, weights, { dir: join(root, "wasm") }) };
    const wgsl = await import("../../backends/wgsl/index.js").catch(() => undefined);
    if (wgsl) {
      await wgsl.wgslBackend.compile(graph, weights, { outDir: join(root, "wgsl"), emitText: false, features: [], compilerVersion: "test" });
      dirs.wgsl = join(root, "wgsl");
    }
    server = createServer((req, res) => {
      // Cross-origin isolation, so the page may share memory with workers as a deployment would.
      res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
      res.setHeader("Cross-Origin-Embedder-Policy", "require-corp");
      const url = new URL(req.url ?? "/", "http://localhost");
      if (url.pathname === "/") return void res.writeHead(200, { "content-type": "text/html" }).end(page(dirs.wgsl !== undefined));
      const [, top, ...rest] = url.pathname.split("/");
      const dir = dirs[top ?? ""];
      const file = dir ? normalize(join(dir, ...rest)) : "";
      if (!dir || !file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) return void res.writeHead(404).end("not found");
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it("loads and runs the artifact, equal to the interpreter, and says which path it took", async () => {
    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on("pageerror", (e) => errors.push(String(e)));
    await tab.goto(base);
    await tab.waitForFunction(() => (globalThis as unknown as { ready?: boolean }).ready === true);
    const schema = dataSchema(source);
    const batch = rawToBatch(schema, new InputSampler(schema, { idsPerBag: [0, 3] }).sample(new Rng(3), 16));
    const inputs: Record<string, unknown> = {};
    for (const [name, v] of Object.entries(batch.inputs))
      inputs[name] = isBags(v) ? { lengths: Array.from(v.lengths), values: Array.from(v.values) } : Array.from(v);
    // Errors thrown in the page carry browser stack frames (http://127.0.0.1/...) that vitest cannot map: keep the message only.
    const result = (await tab
      .evaluate((x) => (globalThis as unknown as { runModel: (i: unknown) => Promise<unknown> }).runModel(x), inputs)
      .catch((e: Error) => {
        throw new Error(`in the page: ${e.message.split("\n")[0]}`);
      })) as { path: string; outputs: Record<string, number[]> };
    expect(errors).toEqual([]);
    console.log(`browser test: headless Chromium ran the ${result.path === "wgsl" ? "WebGPU (WGSL)" : "WebAssembly"} artifact`);
    const want = interpret(graph, weights, batch).outputs.ctr!;
    const got = result.outputs.ctr!;
    expect(got).toHaveLength(16);
    if (result.path === "wasm") expect(Float32Array.from(got)).toEqual(want);
    else for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(1e-4 * Math.max(1e-3, Math.abs(want[i]!)));
  });
});
