// `rmc serve` for real: a server on a loopback port, concurrent requests over
// real sockets (fetch), in every wire form — KServe v2 JSON, its binary
// tensor extension, plain JSON samples — each answer equal to the reference
// interpreter on the same samples; requests batched together; metadata and
// health; every kind of bad input answered 4xx with the field named, and the
// next good request right; a full queue 503 with Retry-After and an expired
// request 504; a version swap under load that loses no request, each answer
// matching the version that served it; /metrics that parses and counts what
// was sent; SIGTERM draining what is in flight and exiting 0.

import { spawn } from "node:child_process";
import { connect } from "node:net";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseModel } from "../../src/frontend/index.js";
import { interpret } from "../../src/interp/interpreter.js";
import { dataSchema } from "../../src/data/schema.js";
import { readBatches } from "../../src/data/tsv.js";
import { isBags, type Batch } from "../../src/data/batch.js";
import { bindWeights } from "../../src/weights/bind.js";
import { openSafetensors } from "../../src/weights/safetensors.js";
import { runPipeline } from "../../src/pipeline/index.js";
import { createPassRegistry } from "../../passes/index.js";
import { serve, type Server } from "../../src/serve/server.js";
import { rmc, tempDir } from "../cli/helpers.js";

const SMALL = "examples/dlrm_kaggle_small.rmdl";
const NAME = "dlrm_kaggle_small";
const dir = tempDir();
const source = parseModel(readFileSync(SMALL, "utf8"), SMALL).graph!;
const graph = runPipeline(source, "canonicalize,infer-shapes,dce", createPassRegistry(), { out: () => {} });

/** One sample of a batch as a plain object, and the interpreter's prediction for it under weights `w`. */
interface Sample {
  dense: number[];
  sparse: number[][];
}
let samples: Sample[] = [];
const want = new Map<string, Float32Array>();

function sampleOf(b: Batch, i: number): Sample {
  const dense = Array.from((b.inputs.dense as Float32Array).subarray(i * 13, (i + 1) * 13));
  const bags = b.inputs.sparse!;
  if (!isBags(bags)) throw new Error("sparse is bags");
  const sparse: number[][] = [];
  let at = 0;
  for (let f = 0; f < 26; f++)
    for (let s = 0; s < b.size; s++) {
      const n = bags.lengths[f * b.size + s]!;
      if (s === i) sparse[f] = Array.from(bags.values.subarray(at, at + n));
      at += n;
    }
  return { dense, sparse };
}

/** KServe tensors for samples (JSON data). */
function kserve(ss: Sample[]): unknown {
  const lengths: number[] = [];
  const values: number[] = [];
  for (let f = 0; f < 26; f++)
    for (const s of ss) {
      lengths.push(s.sparse[f]!.length);
      values.push(...s.sparse[f]!);
    }
  return {
    inputs: [
      { name: "dense", datatype: "FP32", shape: [ss.length, 13], data: ss.flatMap((s) => s.dense) },
      { name: "sparse.lengths", datatype: "INT32", shape: [26, ss.length], data: lengths },
      { name: "sparse.values", datatype: "INT64", shape: [values.length], data: values },
    ],
  };
}

let server: Server;
let url = "";
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body),
  });
const inferPath = `/v2/models/${NAME}/infer`;
/** Predictions of a KServe JSON answer, as f32 values. */
const ctrOf = async (r: Response): Promise<Float32Array> =>
  Float32Array.from(((await r.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data);

beforeAll(async () => {
  for (const [seed, name] of [
    ["4", "w1"],
    ["5", "w2"],
  ] as const) {
    expect((await rmc("init-weights", SMALL, "--seed", seed, "-o", join(dir, `${name}.safetensors`))).code).toBe(0);
    expect((await rmc("compile", SMALL, "--weights", join(dir, `${name}.safetensors`), "-o", join(dir, name))).code).toBe(0);
  }
  expect(
    (await rmc("gen-data", SMALL, "--weights", join(dir, "w1.safetensors"), "--rows", "300", "--seed", "2", "-o", join(dir, "d.tsv"))).code,
  ).toBe(0);
  const batches: Batch[] = [];
  for await (const b of readBatches(join(dir, "d.tsv"), dataSchema(source), { batchSize: 300 })) batches.push(b);
  samples = Array.from({ length: 300 }, (_, i) => sampleOf(batches[0]!, i));
  for (const w of ["w1", "w2"])
    want.set(w, interpret(graph, bindWeights(graph, openSafetensors(join(dir, `${w}.safetensors`))).store, batches[0]!).outputs.ctr!);
  server = await serve({
    models: [{ dir: join(dir, "w1") }],
    port: 0,
    threads: 1,
    maxDelayUs: 3000,
    maxBatch: 64,
    maxBody: 1 << 20,
    requestTimeoutMs: 1500,
    logLevel: "warn",
    log: () => {},
  });
  url = server.url;
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe("rmc serve", () => {
  it("answers concurrent requests in every wire form exactly as the interpreter, batching them", async () => {
    const w1 = want.get("w1")!;
    const jobs = Array.from({ length: 60 }, async (_, r) => {
      const from = (r * 5) % 290;
      const n = 1 + (r % 4);
      const ss = samples.slice(from, from + n);
      const expected = w1.subarray(from, from + n);
      if (r % 3 === 0) {
        const res = await post(inferPath, kserve(ss));
        expect(res.status).toBe(200);
        expect(await ctrOf(res)).toEqual(expected);
      } else if (r % 3 === 1) {
        // The binary extension: the dense tensor's bytes after the JSON header, the output asked back as bytes.
        const req = kserve(ss) as { inputs: { name: string; data?: number[]; parameters?: unknown }[]; outputs?: unknown };
        const dense = Float32Array.from(req.inputs[0]!.data!);
        delete req.inputs[0]!.data;
        req.inputs[0]!.parameters = { binary_data_size: dense.byteLength };
        req.outputs = [{ name: "ctr", parameters: { binary_data: true } }];
        const head = Buffer.from(JSON.stringify(req));
        const res = await post(inferPath, Buffer.concat([head, Buffer.from(dense.buffer)]), {
          "content-type": "application/octet-stream",
          "inference-header-content-length": String(head.length),
        });
        expect(res.status).toBe(200);
        const len = Number(res.headers.get("inference-header-content-length"));
        const body = Buffer.from(await res.arrayBuffer());
        const header = JSON.parse(body.subarray(0, len).toString()) as { outputs: { parameters: { binary_data_size: number } }[] };
        expect(header.outputs[0]!.parameters.binary_data_size).toBe(n * 4);
        expect(new Float32Array(body.buffer.slice(body.byteOffset + len, body.byteOffset + len + n * 4))).toEqual(expected);
      } else {
        const res = await post(inferPath, ss);
        expect(res.status).toBe(200);
        const got = ((await res.json()) as { outputs: { ctr: number[][] } }).outputs.ctr.map((x) => x[0]!);
        expect(Float32Array.from(got)).toEqual(expected);
      }
    });
    await Promise.all(jobs);
    const text = await (await fetch(`${url}/metrics`)).text();
    // Requests were batched: some predict calls held more samples than any one request (at most 4).
    const big = [...text.matchAll(/rmc_batch_size_bucket\{le="(\d+)",model="[^"]+"\} (\d+)/g)].find(([, le]) => le === "4");
    const count = Number(/rmc_batch_size_count\{model="[^"]+"\} (\d+)/.exec(text)![1]);
    expect(Number(big![2])).toBeLessThan(count);
  });

  it("describes itself: health, server and model metadata with the input signature", async () => {
    expect((await fetch(`${url}/v2/health/live`)).status).toBe(200);
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
    const meta = (await (await fetch(`${url}/v2/models/${NAME}`)).json()) as {
      name: string;
      versions: string[];
      inputs: { name: string; datatype: string; shape: number[] }[];
    };
    expect(meta.name).toBe(NAME);
    expect(meta.inputs).toEqual([
      { name: "dense", datatype: "FP32", shape: [-1, 13] },
      { name: "sparse.lengths", datatype: "INT32", shape: [26, -1] },
      { name: "sparse.values", datatype: "INT64", shape: [-1] },
    ]);
    expect((await fetch(`${url}/v2/models/${NAME}/ready`)).status).toBe(200);
    expect((await fetch(`${url}/v2/models/nope/ready`)).status).toBe(404);
  });

  it("answers every bad input 4xx naming the problem, and the next good request right", async () => {
    const good = kserve(samples.slice(0, 2)) as { inputs: Record<string, unknown>[] };
    const clone = () => JSON.parse(JSON.stringify(good)) as { inputs: Record<string, unknown>[] };
    const cases: [string, unknown, number, RegExp][] = [
      ["malformed JSON", "{ inputs: [", 400, /not JSON/],
      [
        "wrong tensor name",
        (() => {
          const b = clone();
          b.inputs[0]!.name = "dense2";
          return b;
        })(),
        400,
        /dense2|tensor `dense` is missing/,
      ],
      [
        "wrong shape",
        (() => {
          const b = clone();
          b.inputs[0]!.shape = [2, 12];
          return b;
        })(),
        400,
        /shape \[2,12\] holds 24 values but data has 26/,
      ],
      [
        "wrong dtype",
        (() => {
          const b = clone();
          b.inputs[1]!.datatype = "BYTES";
          return b;
        })(),
        400,
        /datatype "BYTES"/,
      ],
      [
        "id out of range",
        (() => {
          const b = clone();
          (b.inputs[2]!.data as number[])[0] = 10_000_000;
          return b;
        })(),
        400,
        /id 10000000 is outside/,
      ],
      // JSON has no Infinity, but 1e999 parses to it.
      [
        "non-finite dense",
        `[{ "dense": [1e999, ${Array(12).fill(0).join(", ")}], "sparse": ${JSON.stringify(samples[0]!.sparse)} }]`,
        400,
        /Infinity, not a finite number/,
      ],
      ["unknown model", good, 404, /no model `nope`/],
      ["over --max-body", { pad: "x".repeat(2 << 20) }, 413, /over the 1048576-byte limit/],
    ];
    for (const [what, body, status, message] of cases) {
      const res = await post(what === "unknown model" ? "/v2/models/nope/infer" : inferPath, body);
      expect(res.status, what).toBe(status);
      expect(((await res.json()) as { error: string }).error, what).toMatch(message);
      const ok = await post(inferPath, good);
      expect(ok.status, `after ${what}`).toBe(200);
      expect(await ctrOf(ok)).toEqual(want.get("w1")!.subarray(0, 2));
    }
  });

  it("cuts off a client that stops halfway through its request (408), serving everyone else meanwhile", async () => {
    const good = kserve(samples.slice(0, 2));
    const socket = connect(server.port, "127.0.0.1");
    let answer = "";
    socket.on("data", (d) => (answer += d.toString()));
    const closed = new Promise<number>((resolve) => socket.on("close", () => resolve(performance.now())));
    await new Promise<void>((resolve) => socket.on("connect", () => resolve()));
    const started = performance.now();
    socket.write(`POST ${inferPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{"inputs": [`);
    for (let i = 0; i < 5; i++) {
      const ok = await post(inferPath, good);
      expect(ok.status).toBe(200);
      expect(await ctrOf(ok)).toEqual(want.get("w1")!.subarray(0, 2));
    }
    const at = await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(answer).toMatch(/not received whole within 1500 ms/);
    expect(at - started).toBeLessThan(10_000);
  });

  it("refuses when the queue is full (503, Retry-After) and drops a request whose timeout passes in the queue (504)", async () => {
    const s = await serve({
      models: [{ dir: join(dir, "w1") }],
      port: 0,
      threads: 1,
      maxDelayUs: 300_000,
      maxBatch: 64,
      maxQueue: 4,
      logLevel: "warn",
      log: () => {},
    });
    try {
      const at = `${s.url}${inferPath}`;
      const send = (body: unknown) => fetch(at, { method: "POST", body: JSON.stringify(body) });
      const first = send(kserve(samples.slice(0, 3)));
      await new Promise((r) => setTimeout(r, 50));
      const full = await send(kserve(samples.slice(3, 6)));
      expect(full.status).toBe(503);
      expect(full.headers.get("retry-after")).toBe("1");
      const late = await send({ ...(kserve(samples.slice(6, 7)) as object), parameters: { timeout: 1000 } });
      expect(late.status).toBe(504);
      expect((await first).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it("swaps in a new version under load without losing a request; each answer is the version's that served it", async () => {
    let stop = false;
    const seen: { version: string; from: number; got: Float32Array }[] = [];
    const failures: number[] = [];
    const client = async (c: number) => {
      for (let k = 0; !stop; k++) {
        const from = (c * 37 + k * 11) % 295;
        const res = await post(inferPath, kserve(samples.slice(from, from + 3)));
        if (res.status !== 200) failures.push(res.status);
        const body = (await res.json()) as { model_version: string; outputs: { data: number[] }[] };
        seen.push({ version: body.model_version, from, got: Float32Array.from(body.outputs[0]!.data) });
      }
    };
    const clients = Array.from({ length: 8 }, (_, c) => client(c));
    await new Promise((r) => setTimeout(r, 300));
    const load = await post(`/v2/repository/models/${NAME}/load`, { parameters: { path: join(dir, "w2") } });
    expect(load.status).toBe(200);
    const { version } = (await load.json()) as { version: string };
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all(clients);
    expect(failures).toEqual([]);
    const versions = new Set(seen.map((s) => s.version));
    expect(versions.size).toBe(2);
    for (const s of seen) expect(s.got, `version ${s.version}`).toEqual(want.get(s.version === version ? "w2" : "w1")!.subarray(s.from, s.from + 3));
    // A version that fails to load leaves the current one serving.
    const bad = await post(`/v2/repository/models/${NAME}/load`, { parameters: { path: join(dir, "nowhere") } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(new RegExp(`version ${version} keeps serving`));
    expect((await post(inferPath, kserve(samples.slice(0, 1)))).status).toBe(200);
  });

  it("exports Prometheus metrics that parse and count the requests sent", async () => {
    const before = await fetch(`${url}/metrics`).then((r) => r.text());
    const count = (text: string, status: string) =>
      [...text.matchAll(new RegExp(`rmc_requests_total\\{model="${NAME}",version="\\d+",status="${status}"\\} (\\d+)`, "g"))].reduce(
        (s, m) => s + Number(m[1]),
        0,
      );
    for (let k = 0; k < 7; k++) await post(inferPath, kserve(samples.slice(k, k + 1)));
    for (let k = 0; k < 3; k++) await post(inferPath, "{bad");
    const after = await fetch(`${url}/metrics`).then((r) => r.text());
    expect(count(after, "200") - count(before, "200")).toBe(7);
    expect(count(after, "400") - count(before, "400")).toBe(3);
    for (const line of after.split("\n"))
      if (line && !line.startsWith("#")) expect(line).toMatch(/^[a-z_]+(\{[^}]*\})? -?[\d.e+-]+$|^[a-z_]+(\{[^}]*\})? (NaN|\+Inf)$/);
    expect(after).toContain("rmc_queue_depth");
    expect(after).toContain("rmc_compute_utilization");
  });

  it("drains what is in flight on SIGTERM and exits 0 (the rmc serve command)", async () => {
    const child = spawn(
      process.execPath,
      ["build/src/cli/main.js", "serve", join(dir, "w1"), "--port", "0", "--threads", "1", "--max-delay-us", "200000"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let err = "";
    const listening = new Promise<string>((resolve) =>
      child.stderr.on("data", (d: Buffer) => {
        err += d.toString();
        const m = /"url":"(http:\/\/[^"]+)"/.exec(err);
        if (m) resolve(m[1]!);
      }),
    );
    const at = await listening;
    const pending = fetch(`${at}${inferPath}`, { method: "POST", body: JSON.stringify(kserve(samples.slice(0, 2))) });
    await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGTERM");
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await ctrOf(res)).toEqual(want.get("w1")!.subarray(0, 2));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(0);
  });
});
