// npm run bench:store — the Terabyte DLRM with tables beyond one memory: the
// same model and data through three artifacts, timed side by side in
// interleaved rounds after a warm-up pass:
//   memory — every table in the model's memory, at int4 (1.95 GB: it fits);
//   file   — int8, the hottest rows of each big table in memory (at most 10%
//            of all rows), the rest in the artifact's file store;
//   redis  — the same, its cold rows in a local Redis Cluster (3 masters, 3
//            replicas on loopback, started here and stopped at the end).
// Ids are Zipf-distributed (rmc gen-data). The stores' row caches are warmed
// on one half of the data and timed on the other (so the tail's ids miss, as
// new traffic's do), and each store is timed a second time with no cache at
// all, the worst case. For each artifact and batch size: samples/s, p50 and
// p99 of a predict call, store rows, blocks and bytes per batch, the cache's
// hit rate and the store's share of the call.
// `-- --quick` uses the same model with every table 100x smaller (a minute);
// `-- --dir D` keeps the data and artifacts in D and reuses them next time.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main as rmc } from "../src/cli/main.js";
import { load, type Model, type StagingStats } from "../src/runtime/index.js";
import { dataSchema } from "../src/data/schema.js";
import { readBatches } from "../src/data/tsv.js";
import type { Batch } from "../src/data/batch.js";
import { isBags } from "../src/data/batch.js";
import { parseModel } from "../src/frontend/index.js";
import { startCluster } from "./redis-cluster.js";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const quick = args.includes("--quick");
const ROWS = flag("rows", quick ? 8192 : 20480);
const ROUNDS = flag("rounds", 1);
const THREADS = flag("threads", 1);
const HOT_SHARE = 0.1;
const repo = fileURLToPath(new URL("../..", import.meta.url));

async function cli(...argv: string[]): Promise<string> {
  let out = "";
  const t0 = performance.now();
  let err = "";
  const code = await rmc(argv, { out: (s) => void (out += s), err: (s) => void (err += s) });
  if (code !== 0) throw new Error(`rmc ${argv.join(" ")} failed (${code}):\n${err}`);
  process.stderr.write(`  rmc ${argv[0]} ${argv.slice(1, 2).join("")} … ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return out;
}

/** The Terabyte model, or (quick) the same with every table 100x smaller. */
function modelFile(dir: string): string {
  const full = join(repo, "examples/dlrm_terabyte.rmdl");
  if (!quick) return full;
  const text = readFileSync(full, "utf8").replace(/rows: \[([^\]]*)\]/s, (_, list: string) => {
    const rows = list
      .split(",")
      .map((r) => r.trim())
      .filter(Boolean)
      .map((r) => Math.max(1, Math.round(Number(r) / 100)));
    return `rows: [${rows.join(", ")}]`;
  });
  const path = join(dir, "terabyte-small.rmdl");
  writeFileSync(path, text);
  return path;
}

/** A hot size K (rows per table) such that the rows in memory — hot parts and the tables of at most K rows kept whole — are at most 10% of all rows. */
function hotRows(rows: number[]): number {
  const total = rows.reduce((a, b) => a + b, 0);
  const inMemory = (k: number) => rows.reduce((s, r) => s + Math.min(r, k), 0);
  let lo = 1;
  let hi = Math.max(...rows);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (inMemory(mid) <= HOT_SHARE * total) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

interface Timed {
  name: string;
  model: Model;
}

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};

/** The data cut into batches of `size` (the last partial one dropped, so every call is the same size). */
function rebatch(batches: Batch[], size: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const b of batches)
    for (let s = 0; s + size <= b.size; s += size) {
      const inputs: Record<string, unknown> = {};
      for (const [name, v] of Object.entries(b.inputs)) {
        if (!isBags(v)) {
          const width = v.length / b.size;
          inputs[name] = v.subarray(s * width, (s + size) * width);
          continue;
        }
        const lengths = new Int32Array(v.count * size);
        const values: number[] = [];
        let at = 0;
        for (let f = 0; f < v.count; f++) {
          for (let x = 0; x < b.size; x++) {
            const n = v.lengths[f * b.size + x]!;
            if (x >= s && x < s + size) {
              lengths[f * size + (x - s)] = n;
              for (let k = 0; k < n; k++) values.push(v.values[at + k]!);
            }
            at += n;
          }
        }
        inputs[name] = { lengths, values: Int32Array.from(values) };
      }
      out.push(inputs);
    }
  return out;
}

const delta = (a: StagingStats | undefined, b: StagingStats | undefined) =>
  a && b
    ? {
        calls: a.calls - b.calls,
        rows: a.rows - b.rows,
        hits: a.hits - b.hits,
        blocks: a.blocks - b.blocks,
        bytes: a.bytes - b.bytes,
        fetchMs: a.fetchMs - b.fetchMs,
        stageMs: a.stageMs - b.stageMs,
      }
    : undefined;

async function main(): Promise<void> {
  const keep = args.includes("--dir") ? args[args.indexOf("--dir") + 1]! : undefined;
  const dir = keep ?? mkdtempSync(join(tmpdir(), "rmc-bench-store-"));
  if (keep) mkdirSync(keep, { recursive: true });
  const have = (p: string) => existsSync(join(p, "manifest.json")) || existsSync(p + ".done");
  const cluster = await startCluster();
  try {
    const model = modelFile(dir);
    const parsed = parseModel(readFileSync(model, "utf8"), model);
    if (!parsed.graph) throw new Error(`${model}: ${parsed.diagnostics.map((d) => d.message).join("; ")}`);
    const graph = parsed.graph;
    const tableRows = graph.weights.filter((w) => w.role === "table").map((w) => w.shape[0]!);
    const K = hotRows(tableRows);
    const big = graph.weights.filter((w) => w.role === "table" && w.shape[0]! > K).map((w) => w.name);
    const inMemoryRows = tableRows.reduce((s, r) => s + Math.min(r, K), 0);
    process.stderr.write(
      `bench:store: ${model}, ${ROWS} rows; hot parts capped at K=${K} rows per table (with the tables of at most K rows, ${((100 * inMemoryRows) / tableRows.reduce((a, b) => a + b, 0)).toFixed(1)}% of all rows)\n`,
    );
    const data = join(dir, "data.tsv");
    if (!existsSync(data))
      await cli("gen-data", model, "--init", "random", "--rows", String(2 * ROWS), "--seed", "3", "--ids-per-bag", "1", "-o", data);
    const common = ["--init", "random", "--seed", "1", "--row-range", "minmax"];
    const art = (name: string) => join(dir, name);
    if (!have(art("memory"))) await cli("compile", model, ...common, "--precision", "int4", "--memory-budget", "3800MiB", "-o", art("memory"));
    const storeArgs = [
      "--precision",
      "int8",
      "--calib",
      data,
      "--calib-rows",
      String(Math.min(ROWS, 4096)),
      "--passes",
      `canonicalize,infer-shapes,dce,split-tables{hot=${K}}`,
      "--store-tables",
      big.join(","),
    ];
    if (!have(art("file"))) await cli("compile", model, ...common, ...storeArgs, "-o", art("file"));
    if (!have(art("redis"))) await cli("compile", model, ...common, ...storeArgs, "--store", "redis", "-o", art("redis"));
    // split-tables keeps as hot the ids the calibration data looked up most, at most K per table: with a sample of
    // calibration rows that is far fewer than K, so say how many rows the hot parts really hold.
    const parts = (
      JSON.parse(readFileSync(join(art("file"), "manifest.json"), "utf8")) as { store: { tables: { placement: string; rows: number }[] } }
    ).store.tables;
    const hot = parts.filter((t) => t.placement === "memory").reduce((a, t) => a + t.rows, 0);
    const cold = parts.filter((t) => t.placement !== "memory").reduce((a, t) => a + t.rows, 0);
    process.stderr.write(
      `  hot parts of the placed tables: ${hot} rows in memory, ${cold} in the store (${((100 * hot) / (hot + cold)).toFixed(3)}%)\n`,
    );
    await cli("store", "push", art("redis"), "--redis", `redis://${cluster.nodes.join(",")}`); // a fresh cluster each run
    const all: Batch[] = [];
    for await (const b of readBatches(data, dataSchema(graph), { batchSize: 4096 })) all.push(b);
    // The first half warms the caches, the second is timed: new ids in the tail miss, as they would in traffic.
    const warm = all.slice(0, all.length / 2);
    const batches = all.slice(all.length / 2);
    // Fresh models (empty row caches) for each batch size, so the second size is not timed on rows the first one cached.
    const open = async (): Promise<Timed[]> => [
      { name: "memory (int4)", model: await load(art("memory"), { threads: THREADS }) },
      { name: "file (int8, hot in memory)", model: await load(art("file"), { threads: THREADS }) },
      { name: "file, no row cache", model: await load(art("file"), { threads: THREADS, cache: 0 }) },
      { name: "redis (int8, hot in memory)", model: await load(art("redis"), { threads: THREADS, redis: cluster.nodes }) },
      { name: "redis, no row cache", model: await load(art("redis"), { threads: THREADS, redis: cluster.nodes, cache: 0 }) },
    ];
    const lines: string[] = [];
    for (const size of [64, 512]) {
      const runs = await open();
      const calls = rebatch(batches, size);
      const times = new Map(runs.map((r) => [r.name, [] as number[]]));
      for (const r of runs) for (const c of rebatch(warm, size)) await r.model.predict(c as never); // warm-up: V8's tiers, the page cache, the row cache
      const before = new Map(runs.map((r) => [r.name, r.model.storeStats()]));
      // Call by call, every artifact in turn, so drift in the machine's load falls on all of them alike.
      for (let round = 0; round < ROUNDS; round++)
        for (const c of calls)
          for (const r of runs) {
            const t0 = performance.now();
            await r.model.predict(c as never);
            times.get(r.name)!.push(performance.now() - t0);
          }
      const base = times.get(runs[0]!.name)!.reduce((a, b) => a + b, 0);
      for (const r of runs) {
        const t = times.get(r.name)!;
        const total = t.reduce((a, b) => a + b, 0);
        const d = delta(r.model.storeStats(), before.get(r.name));
        const n = t.length;
        const store = d
          ? ` | ${(d.rows / n).toFixed(0)} rows, ${(d.blocks / n).toFixed(0)} blocks, ${(d.bytes / n / 1024).toFixed(0)} KiB | ${d.rows ? ((100 * d.hits) / d.rows).toFixed(1) : "100.0"}% | ${((100 * d.stageMs) / total).toFixed(0)}%`
          : " | — | — | —";
        lines.push(
          `| ${size} | ${r.name} | ${Math.round((n * size * 1000) / total)} | ${(base / total).toFixed(2)}x | ${percentile(t, 0.5).toFixed(2)} | ${percentile(t, 0.99).toFixed(2)}${store} |`,
        );
      }
      for (const r of runs) await r.model.close();
    }
    console.log(`
${quick ? "quick: tables 100x smaller; " : ""}${ROWS} rows of Zipf ids timed after ${ROWS} others warmed the caches, ${ROUNDS} round(s), ${THREADS} thread(s), artifacts interleaved call by call
`);
    console.log(
      "| batch | artifact | samples/s | vs memory | p50 ms | p99 ms | store per batch (rows, blocks, bytes) | cache hit rate | staging share |",
    );
    console.log("|---|---|---|---|---|---|---|---|---|");
    for (const l of lines) console.log(l);
  } finally {
    cluster.stop();
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
