// npm run soak -- --minutes M: a long run of the runtime and `rmc serve`,
// looking for wrong answers, unclean errors and memory that grows. It
// compiles examples/dlrm_kaggle_small.rmdl (trained init, seed 1) into a temp
// folder, loads it with worker threads, serves it on a loopback port (in this
// process, so one RSS covers both), and drives both with random requests from
// a pool (bench/soak-requests.ts): valid ones checked against the
// interpreter's predictions, broken ones that must be refused with their
// error code (400 over HTTP), and the next valid one must still be right.
// Prints requests and memory every --report-s seconds (default 30), then the
// RSS growth per 100k requests from the end of the warm-up (the first fifth of
// the run) to the end, and a last line `SOAK {json}` for test/hardening/soak.test.ts.
// Options: --minutes M (default 1), --threads N (default 2), --report-s S, --concurrency C (default 4 a driver).

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main as rmc } from "../src/cli/main.js";
import { RmcError } from "../src/diagnostics/index.js";
import { parseModel } from "../src/frontend/index.js";
import { runPipeline } from "../src/pipeline/index.js";
import { createPassRegistry } from "../passes/index.js";
import { load } from "../src/runtime/index.js";
import { serve } from "../src/serve/server.js";
import { Rng } from "../src/util/rng.js";
import { loadWeights } from "../src/weights/bind.js";
import { invalidPool, validPool, type Invalid, type Valid } from "./soak-requests.js";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const MINUTES = flag("minutes", 1);
const THREADS = flag("threads", 2);
const REPORT_S = flag("report-s", 30);
const CONCURRENCY = flag("concurrency", 4);
const repo = fileURLToPath(new URL("../..", import.meta.url));
const MODEL = join(repo, "examples/dlrm_kaggle_small.rmdl");
/** One request in this many is broken. */
const INVALID_EVERY = 5;

/** Counts of what happened, by driver. */
const counts = { predict: 0, http: 0, refused: 0, wrong: 0, unclean: 0 };
const problems: string[] = [];
const note = (what: string) => {
  if (problems.length < 20) problems.push(what);
};

/** Compiled f32 code against the interpreter: both round every product and sum to f32, but sums may be ordered differently. */
function agrees(got: Float32Array | undefined, want: Float32Array): boolean {
  if (!got || got.length !== want.length) return false;
  for (let i = 0; i < want.length; i++) if (!(Math.abs(got[i]! - want[i]!) <= 1e-6 + 1e-4 * Math.abs(want[i]!))) return false;
  return true;
}

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

interface Sample {
  s: number;
  requests: number;
  rssMiB: number;
  heapMiB: number;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "rmc-soak-"));
  const quiet = { out: () => {}, err: (s: string) => void process.stderr.write(s) };
  let code = await rmc(["init-weights", MODEL, "--dist", "trained", "--seed", "1", "-o", join(dir, "w.safetensors")], quiet);
  if (code === 0) code = await rmc(["compile", MODEL, "--weights", join(dir, "w.safetensors"), "-o", join(dir, "dist")], quiet);
  if (code !== 0) throw new Error("compile failed");
  const source = parseModel(readFileSync(MODEL, "utf8"), MODEL).graph!;
  const graph = runPipeline(source, "canonicalize,infer-shapes,dce", createPassRegistry(), { out: () => {} });
  const weights = loadWeights(graph, join(dir, "w.safetensors")).store;
  const valid = validPool(graph, weights, 220, 7);
  const model = await load(join(dir, "dist"), { threads: THREADS });
  const invalid = invalidPool(valid, model.inputs, 8);
  const server = await serve({
    models: [{ dir: join(dir, "dist") }],
    host: "127.0.0.1",
    port: 0,
    threads: 1,
    logLevel: "warn",
    log: () => {},
  });
  const url = `${server.url}/v2/models/${model.manifest.model.name}/infer`;
  console.log(
    `soak: ${model.manifest.model.name}, ${valid.length} valid and ${invalid.length} broken requests in the pool, ${THREADS} threads in-process + rmc serve (1 thread) at ${server.url}, ${CONCURRENCY}+${CONCURRENCY} in flight, ${MINUTES} min`,
  );

  const end = performance.now() + MINUTES * 60_000;
  const pick = (rng: Rng): { valid?: Valid; invalid?: Invalid } =>
    rng.int(INVALID_EVERY) === 0 ? { invalid: invalid[rng.int(invalid.length)]! } : { valid: valid[rng.int(valid.length)]! };

  async function viaPredict(seed: number): Promise<void> {
    const rng = new Rng(seed);
    while (performance.now() < end) {
      const { valid: v, invalid: bad } = pick(rng);
      counts.predict++;
      if (v) {
        try {
          if (!agrees((await model.predict(v.request as never)).ctr, v.want)) (counts.wrong++, note(`predict: wrong answer, batch ${v.size}`));
        } catch (e) {
          counts.unclean++;
          note(`predict: valid batch ${v.size} refused: ${(e as Error).message}`);
        }
        continue;
      }
      try {
        await model.predict(bad!.request as never);
        counts.unclean++;
        note(`predict: ${bad!.kind} accepted`);
      } catch (e) {
        const got = e instanceof RmcError ? e.diagnostics[0]!.code : String(e);
        if (got === bad!.code) counts.refused++;
        else (counts.unclean++, note(`predict: ${bad!.kind}: ${got}, expected ${bad!.code}`));
      }
    }
  }

  const withBody = invalid.filter((i) => i.body !== undefined);
  async function viaHttp(seed: number): Promise<void> {
    const rng = new Rng(seed);
    while (performance.now() < end) {
      const { valid: v } = pick(rng);
      const bad = v ? undefined : withBody[rng.int(withBody.length)]!;
      counts.http++;
      try {
        const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: v ? v.body : bad!.body! });
        const text = await res.text();
        if (v) {
          const out = res.status === 200 ? (JSON.parse(text) as { outputs: { name: string; data: number[] }[] }).outputs : [];
          const ctr = out.find((o) => o.name === "ctr");
          if (res.status !== 200) (counts.unclean++, note(`http: valid batch ${v.size}: ${res.status} ${text.slice(0, 200)}`));
          else if (!agrees(ctr && Float32Array.from(ctr.data), v.want)) (counts.wrong++, note(`http: wrong answer, batch ${v.size}`));
        } else if (res.status === 400 && (JSON.parse(text) as { error?: unknown }).error) counts.refused++;
        else (counts.unclean++, note(`http: ${bad!.kind}: ${res.status} ${text.slice(0, 200)}`));
      } catch (e) {
        counts.unclean++;
        note(`http: ${(e as Error).message}`);
      }
    }
  }

  const samples: Sample[] = [];
  const t0 = performance.now();
  const sample = () => {
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    const s: Sample = {
      s: Math.round((performance.now() - t0) / 1000),
      requests: counts.predict + counts.http,
      rssMiB: mib(m.rss),
      heapMiB: mib(m.heapUsed),
    };
    samples.push(s);
    console.log(
      `${String(s.s).padStart(5)} s  ${String(s.requests).padStart(9)} requests (${counts.refused} refused as they should be)  wrong ${counts.wrong}  unclean ${counts.unclean}  rss ${s.rssMiB} MiB  heapUsed ${s.heapMiB} MiB`,
    );
  };
  sample();
  const timer = setInterval(sample, REPORT_S * 1000);
  await Promise.all([
    ...Array.from({ length: CONCURRENCY }, (_, i) => viaPredict(100 + i)),
    ...Array.from({ length: CONCURRENCY }, (_, i) => viaHttp(200 + i)),
  ]);
  clearInterval(timer);
  sample();
  await server.close();
  await model.close();
  rmSync(dir, { recursive: true, force: true });

  // Warm-up: V8's tiers, the buffers grown to the largest batch, fetch's connections; the first fifth of the run (one report at least).
  const warm = samples.find((s) => s.s >= (MINUTES * 60) / 5 && s !== samples[0]) ?? samples[1]!;
  const last = samples[samples.length - 1]!;
  const per100k = last.requests > warm.requests ? ((last.rssMiB - warm.rssMiB) / (last.requests - warm.requests)) * 1e5 : 0;
  const heapPer100k = last.requests > warm.requests ? ((last.heapMiB - warm.heapMiB) / (last.requests - warm.requests)) * 1e5 : 0;
  console.log(
    `\n${last.requests} requests (${counts.predict} predict, ${counts.http} HTTP; ${counts.refused} broken ones refused), ${counts.wrong} wrong answers, ${counts.unclean} unclean`,
  );
  console.log(
    `rss ${warm.rssMiB} MiB after warm-up (${warm.s} s, ${warm.requests} requests) → ${last.rssMiB} MiB at the end: ${per100k.toFixed(2)} MiB per 100k requests (heapUsed ${heapPer100k.toFixed(2)} MiB per 100k)`,
  );
  for (const p of problems) console.log(`  problem: ${p}`);
  console.log(
    `SOAK ${JSON.stringify({ ...counts, requests: last.requests, warm, last, rssPer100kMiB: per100k, heapPer100kMiB: heapPer100k, samples })}`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
