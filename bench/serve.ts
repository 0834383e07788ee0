// npm run bench:serve — `rmc serve` under load: the Kaggle-shaped DLRM with
// 100k-row tables (bench/dlrm_kaggle_100k.rmdl), one sample per request
// (KServe v2 JSON), driven by autocannon over loopback at 1, 16, 64 and 256
// concurrent connections, with batching on (the defaults: --max-batch 512,
// --max-delay-us 2000) and off (--max-delay-us 0 --max-batch 1); beside them
// the same samples through `predict` in-process at batch 64. The server runs
// as its own process (`rmc serve`, one compute thread) so the load generator
// does not share its event loop. Reported: requests (= samples) per second,
// p50, p99 and p99.9 latency, and the ratios the issue asks for.
// Options: --seconds S per run (default 8), --threads N (default 1).

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { main as rmc } from "../src/cli/main.js";
import { load } from "../src/runtime/index.js";
import { parseModel } from "../src/frontend/index.js";
import { dataSchema } from "../src/data/schema.js";
import { InputSampler, rawToBatch } from "../src/data/synth.js";
import { isBags, type Batch } from "../src/data/batch.js";
import { Rng } from "../src/util/rng.js";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const SECONDS = flag("seconds", 8);
const THREADS = flag("threads", 1);
const repo = fileURLToPath(new URL("../..", import.meta.url));
const MODEL = join(repo, "bench/dlrm_kaggle_100k.rmdl");

/** One KServe v2 JSON body per sample of `b`. */
function bodies(b: Batch): string[] {
  const out: string[] = [];
  const bags = b.inputs.sparse!;
  if (!isBags(bags)) throw new Error("sparse must be bags");
  const starts: number[] = [0];
  for (let k = 0; k < bags.lengths.length; k++) starts.push(starts[k]! + bags.lengths[k]!);
  for (let i = 0; i < b.size; i++) {
    const lengths: number[] = [];
    const values: number[] = [];
    for (let f = 0; f < 26; f++) {
      const k = f * b.size + i;
      lengths.push(bags.lengths[k]!);
      for (let j = starts[k]!; j < starts[k + 1]!; j++) values.push(bags.values[j]!);
    }
    out.push(
      JSON.stringify({
        inputs: [
          { name: "dense", datatype: "FP32", shape: [1, 13], data: Array.from((b.inputs.dense as Float32Array).subarray(i * 13, (i + 1) * 13)) },
          { name: "sparse.lengths", datatype: "INT32", shape: [26, 1], data: lengths },
          { name: "sparse.values", datatype: "INT64", shape: [values.length], data: values },
        ],
      }),
    );
  }
  return out;
}

/** `rmc serve DIST` as a child process; resolves with its URL once it listens. */
function startServer(dist: string, extra: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [join(repo, "build/src/cli/main.js"), "serve", dist, "--port", "0", "--threads", String(THREADS), "--log-level", "warn", ...extra],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let err = "";
  return new Promise((resolve, reject) => {
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /"url":"(http:\/\/[^"]+)"/.exec(err);
      if (m) resolve({ url: m[1]!, child });
    });
    child.on("exit", (code) => reject(new Error(`rmc serve exited ${code}: ${err}`)));
  });
}

const stop = (child: ChildProcess): Promise<void> => new Promise((resolve) => (child.once("exit", () => resolve()), child.kill("SIGTERM")));

async function drive(url: string, connections: number, body: string[]): Promise<autocannon.Result> {
  let i = 0;
  return autocannon({
    url: `${url}/v2/models/dlrm_kaggle_100k/infer`,
    connections,
    duration: SECONDS,
    method: "POST",
    headers: { "content-type": "application/json" },
    requests: [
      {
        setupRequest: (req) => {
          req.body = body[i++ % body.length]!;
          return req;
        },
      },
    ],
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "rmc-bench-serve-"));
  try {
    const dist = join(dir, "dist");
    const code = await rmc(["compile", MODEL, "--init", "trained", "--seed", "1", "-o", dist], {
      out: () => {},
      err: (s) => void process.stderr.write(s),
    });
    if (code !== 0) throw new Error("compile failed");
    const graph = parseModel(readFileSync(MODEL, "utf8"), MODEL).graph!;
    const schema = dataSchema(graph);
    const batch = rawToBatch(schema, new InputSampler(schema, { idsPerBag: 1 }).sample(new Rng(5), 4096));
    const body = bodies(batch);
    // In-process: the same samples, batches of 64, one predict at a time.
    const model = await load(dist, { threads: THREADS });
    const chunk = rawToBatch(schema, new InputSampler(schema, { idsPerBag: 1 }).sample(new Rng(6), 64));
    for (let k = 0; k < 300; k++) await model.predict(chunk.inputs);
    const t0 = performance.now();
    let calls = 0;
    while (performance.now() - t0 < SECONDS * 1000) {
      await model.predict(chunk.inputs);
      calls++;
    }
    const inProcess = (calls * 64 * 1000) / (performance.now() - t0);
    await model.close();
    const rows: { mode: string; connections: number; rps: number; p50: number; p99: number; p999: number; errors: number }[] = [];
    for (const [mode, extra] of [
      ["batching on", []],
      ["batching off", ["--max-delay-us", "0", "--max-batch", "1"]],
    ] as const) {
      const { url, child } = await startServer(dist, [...extra]);
      try {
        await drive(url, 16, body.slice(0, 512)); // warm-up: V8's tiers, the connections
        for (const connections of [1, 16, 64, 256]) {
          const r = await drive(url, connections, body);
          rows.push({
            mode,
            connections,
            rps: r.requests.average,
            p50: r.latency.p50,
            p99: r.latency.p99,
            p999: r.latency.p99_9,
            errors: r.errors + r.non2xx,
          });
        }
      } finally {
        await stop(child);
      }
    }
    console.log(
      `\n${SECONDS} s per run, one sample per request (KServe v2 JSON), ${THREADS} compute thread(s); in-process predict at batch 64: ${Math.round(inProcess)} samples/s\n`,
    );
    console.log("| batching | connections | requests/s | vs batching off | vs in-process | p50 ms | p99 ms | p99.9 ms | errors |");
    console.log("|---|---|---|---|---|---|---|---|---|");
    for (const r of rows) {
      const off = rows.find((x) => x.mode === "batching off" && x.connections === r.connections)!;
      console.log(
        `| ${r.mode} | ${r.connections} | ${Math.round(r.rps)} | ${(r.rps / off.rps).toFixed(2)}x | ${((100 * r.rps) / inProcess).toFixed(0)}% | ${r.p50} | ${r.p99} | ${r.p999} | ${r.errors} |`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
