// The peer benchmark's report: throughput per peer, rmc's ratio to each peer,
// load time and memory, and issue 7's three targets at batch 64 stated as met
// or not with the numbers; and its place in BENCHMARKS.md, between two marker
// comments under the "Peers" heading (text around the markers is kept, so
// notes written by hand survive a rerun with --write).

import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import type { ChildResult } from "./child.js";
import { ALL_PEERS } from "./registry.js";
import type { BuildInfo } from "./setup.js";

const BEGIN = "<!-- peers:begin (written by `npm run bench -- --peers --write`) -->";
const END = "<!-- peers:end -->";
const HEADING = "## Peers: rmc against ONNX Runtime, TF.js and the interpreter (issue 7)";

/** CPU model (from /proc/cpuinfo where there is one), cores, memory, Node version. */
export function machineLine(node = process.version): string {
  let model = cpus()[0]?.model ?? "unknown CPU";
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m) model = m[1]!.trim();
  } catch {
    // not Linux: os.cpus() has it
  }
  return `${model}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${node}`;
}

const fmt = (x: number | undefined): string => (x === undefined ? "—" : Math.round(x).toLocaleString("en-US"));
const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined ? "—" : `${(a / b).toFixed(2)}x`);

/** The ratio columns: [label, numerator key, denominator key]. */
const RATIOS: [string, string, string][] = [
  ["fp32 / ORT Web fp32", "rmc-fp32", "ort-web-fp32"],
  ["auto / ORT Web int8", "rmc-auto", "ort-web-int8"],
  ["auto / ORT Web same plan", "rmc-auto", "ort-web-plan"],
  ["fp32 / TF.js", "rmc-fp32", "tfjs-wasm"],
  ["fp32 / ORT Node", "rmc-fp32", "ort-node"],
  ["auto / ORT Node", "rmc-auto", "ort-node"],
  ["fp32 / interpreter", "rmc-fp32", "interp"],
  ["fp32 / fp32 SIMD128", "rmc-fp32", "rmc-fp32-simd128"],
  ["auto / fp32", "rmc-auto", "rmc-fp32"],
  ["auto / ORT Node int8", "rmc-auto", "ort-node-int8"],
];

/** Issue 15's targets, one thread, at batch 64 and 512 (rmc's default load: the relaxed variant under Node 24). */
const TARGETS_15: [string, string, string, number][] = [
  ["rmc fp32 (relaxed) ≥ 0.9x ORT Node fp32", "rmc-fp32", "ort-node", 0.9],
  ["rmc auto (relaxed) ≥ 1.3x rmc fp32 (relaxed)", "rmc-auto", "rmc-fp32", 1.3],
  ["rmc auto (relaxed) ≥ 1.0x ORT Node int8", "rmc-auto", "ort-node-int8", 1.0],
];

/** Issue 7's targets at batch 64: [statement, numerator, denominator, at least]. */
const TARGETS: [string, string, string, number][] = [
  ["rmc Wasm fp32 ≥ 1.5x ORT Web fp32", "rmc-fp32", "ort-web-fp32", 1.5],
  ["rmc auto-precision ≥ 2x ORT Web int8", "rmc-auto", "ort-web-int8", 2],
  ["rmc Wasm fp32 ≥ 50% of ORT Node (native)", "rmc-fp32", "ort-node", 0.5],
];

interface Meta {
  machine: string;
  /** 1-minute load average at the start and the end of the run. */
  load: [number, number];
  date: string;
  command: string;
  quick: boolean;
}

/** The whole report in Markdown (its first line is the section heading). */
export function renderReport(results: ChildResult[], info: BuildInfo, meta: Meta): string {
  const present = ALL_PEERS.filter((p) => results.some((r) => r.loads.some((l) => l.key === p.key)));
  const rows = results
    .flatMap((r) => r.rows.map((row) => ({ ...row, threads: r.threads })))
    .sort((a, b) => a.ids - b.ids || a.batch - b.batch || a.threads - b.threads);
  const out: string[] = [];
  out.push(
    `Machine: ${meta.machine}. Date: ${meta.date}. Command: \`${meta.command}\`${meta.quick ? " (--quick: short rounds, rough numbers)" : ""}.`,
  );
  const busy = Math.max(...meta.load) > 1;
  out.push(
    `Load average ${meta.load[0].toFixed(1)} at the start, ${meta.load[1].toFixed(1)} at the end${busy ? ": other jobs shared the machine during the run, so absolute figures move between rows measured at different moments; the ratios within a row, measured in alternating rounds, hold better. Two-thread rows on a shared 2-core machine mostly measure contention (thread pools that spin wait lose the most)" : ""}.`,
  );
  out.push(
    "Same model, weights and input batches for every peer; each process loads all peers, checks their outputs against the reference interpreter, warms them up, then times them in turns (rotating order) and reports each one's median round.\n",
  );
  out.push("Samples/s:\n");
  out.push(`| ids/bag | batch | threads | ${present.map((p) => p.label).join(" | ")} |`);
  out.push(`|---|---|---|${present.map(() => "---|").join("")}`);
  for (const r of rows) out.push(`| ${r.ids} | ${r.batch} | ${r.threads} | ${present.map((p) => fmt(r.rates[p.key])).join(" | ")} |`);
  const ratios = RATIOS.filter(([, a, b]) => present.some((p) => p.key === a) && present.some((p) => p.key === b));
  if (ratios.length) {
    out.push("\nrmc / peer (same process, same batch):\n");
    out.push(`| ids/bag | batch | threads | ${ratios.map(([l]) => l).join(" | ")} |`);
    out.push(`|---|---|---|${ratios.map(() => "---|").join("")}`);
    for (const r of rows)
      out.push(`| ${r.ids} | ${r.batch} | ${r.threads} | ${ratios.map(([, a, b]) => ratio(r.rates[a], r.rates[b])).join(" | ")} |`);
  }
  out.push("\nLoad (files → first prediction at batch 64) and memory (resident set added, after GC):\n");
  out.push("| peer | threads | what ran | load | RSS added | \\|diff\\| vs fp32 interpreter: max / mean | checked against |");
  out.push("|---|---|---|---|---|---|---|");
  for (const r of results)
    for (const l of r.loads)
      out.push(
        `| ${l.label} | ${r.threads} | ${l.detail} | ${fmt(l.loadMs)} ms | ${l.rssMiB.toFixed(0)} MiB | ${l.maxErr.toExponential(1)} / ${l.meanErr.toExponential(1)} | ${l.checkedAgainst} (≤ ${l.tolerance}) |`,
      );
  const sizes = Object.entries(info.bytes).map(([k, v]) => `${k} ${(v / 2 ** 20).toFixed(1)} MiB`);
  out.push(`\nFiles: ${sizes.join(", ")}.`);
  const built = Object.entries(info.seconds).map(([k, v]) => `${k} ${v.toFixed(1)} s`);
  if (built.length) out.push(`Built in this run: ${built.join(", ")}.`);
  const skipped = results.flatMap((r) =>
    r.skipped.map((s) => `${ALL_PEERS.find((p) => p.key === s.key)?.label ?? s.key} at ${r.threads} threads: ${s.why}`),
  );
  if (skipped.length) out.push(`Not run: ${[...new Set(skipped)].join("; ")}.`);
  out.push("\nIssue 7's targets at batch 64, one thread (two-thread rows in brackets: see the load note above):\n");
  for (const [what, a, b, atLeast] of TARGETS) {
    const at64 = rows.filter((r) => r.batch === 64 && r.rates[a] !== undefined && r.rates[b] !== undefined);
    const one = at64.filter((r) => r.threads === 1);
    if (!one.length) {
      out.push(`- ${what}: not measured on one thread in this run`);
      continue;
    }
    const part = (r: (typeof rows)[number]): string =>
      `${r.ids} id${r.ids > 1 ? "s" : ""}/bag${r.threads > 1 ? `, ${r.threads} threads` : ""}: ${fmt(r.rates[a])} vs ${fmt(r.rates[b])} = ${(r.rates[a]! / r.rates[b]!).toFixed(2)}x`;
    const met = one.filter((r) => r.rates[a]! / r.rates[b]! >= atLeast).length;
    const verdict = met === one.length ? "**met**" : met === 0 ? "**not met**" : `**met in ${met} of ${one.length} rows**`;
    const more = at64.filter((r) => r.threads > 1);
    out.push(`- ${what}: ${verdict} (${one.map(part).join("; ")})${more.length ? ` [${more.map(part).join("; ")}]` : ""}`);
  }
  out.push("\nIssue 15's targets, one thread, batch 64 and 512:\n");
  for (const [what, a, b, atLeast] of TARGETS_15) {
    const one = rows.filter((r) => r.threads === 1 && (r.batch === 64 || r.batch === 512) && r.rates[a] !== undefined && r.rates[b] !== undefined);
    if (!one.length) {
      out.push(`- ${what}: not measured in this run`);
      continue;
    }
    const met = one.filter((r) => r.rates[a]! / r.rates[b]! >= atLeast).length;
    const verdict = met === one.length ? "**met**" : met === 0 ? "**not met**" : `**met in ${met} of ${one.length} rows**`;
    out.push(
      `- ${what}: ${verdict} (${one.map((r) => `${r.ids} ids/bag, batch ${r.batch}: ${(r.rates[a]! / r.rates[b]!).toFixed(2)}x`).join("; ")})`,
    );
  }
  // Thread scaling at batch 512: the same peer at 2 threads against 1, rows of the two processes.
  for (const key of ["rmc-fp32", "rmc-auto"]) {
    const pairs = rows
      .filter((r) => r.threads === 2 && r.batch === 512 && r.rates[key] !== undefined)
      .map((r2) => [r2, rows.find((r1) => r1.threads === 1 && r1.batch === 512 && r1.ids === r2.ids && r1.rates[key] !== undefined)] as const)
      .filter(([, r1]) => r1 !== undefined);
    if (!pairs.length) continue;
    const label = ALL_PEERS.find((p) => p.key === key)!.label;
    const scale = pairs.map(([r2, r1]) => r2.rates[key]! / r1!.rates[key]!);
    out.push(
      `- ${label}, 2 threads ≥ 1.7x 1 thread at batch 512: ${scale.every((x) => x >= 1.7) ? "**met**" : "**not met**"} (${pairs.map(([r2], i) => `${r2.ids} ids/bag: ${scale[i]!.toFixed(2)}x`).join("; ")})`,
    );
  }
  return `${out.join("\n")}\n`;
}

/** Replaces the generated part of the Peers section in BENCHMARKS.md (adding the section at the top when missing); atomic. */
export function updateBenchmarks(path: string, report: string): void {
  const text = readFileSync(path, "utf8");
  const block = `${BEGIN}\n${report}${END}`;
  let next: string;
  const b = text.indexOf(BEGIN);
  const e = text.indexOf(END);
  if (b >= 0 && e > b) next = text.slice(0, b) + block + text.slice(e + END.length);
  else {
    const first = text.indexOf("\n## ");
    const at = first < 0 ? text.length : first + 1;
    next = `${text.slice(0, at)}${HEADING}\n\n${block}\n\n${text.slice(at)}`;
  }
  writeFileSync(`${path}.tmp-peers`, next);
  renameSync(`${path}.tmp-peers`, path);
}
