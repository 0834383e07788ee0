// The data sources through the CLI: `rmc run DIST/` on gzip, a glob, several
// --data, Parquet (with --columns) and standard input (`--data -`, the built
// CLI as a child process with its stdin piped) all report what the plain TSV
// file gives; gen-data writes gzip; compile's --calib reads the same sources.

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { parquetWriteBuffer } from "hyparquet-writer";
import { beforeAll, describe, expect, it } from "vitest";
import { readCalibration } from "../../src/cli/precision.js";
import { parseModel } from "../../src/frontend/index.js";
import { smallArtifact, type SmallArtifact } from "../hardening/helpers.js";
import { rmc } from "./helpers.js";

let a: SmallArtifact;
let tsv: string;
beforeAll(async () => {
  a = await smallArtifact(600);
  tsv = readFileSync(a.data, "utf8");
}, 60_000);

/** `rmc run` output without its timing line: the metrics. */
const metrics = (out: string): string =>
  out
    .split("\n")
    .filter((l) => !/samples in .* s \(/.test(l))
    .join("\n");

async function runOn(...data: string[]): Promise<string> {
  const r = await rmc("run", a.dist, "--threads", "1", ...data);
  expect(r.code, r.err).toBe(0);
  return metrics(r.out);
}

/** The TSV rows of the small model (label, 3 dense, 2 sparse) as Parquet columns under `names`. */
function toParquet(path: string, names: string[]): void {
  const rows = tsv
    .trimEnd()
    .split("\n")
    .map((l) => l.split("\t"));
  const col = (i: number): string[] => rows.map((r) => r[i]!);
  const columnData = [
    { name: names[0], data: col(0).map(Number), type: "INT32" },
    ...[1, 2, 3].map((i) => ({ name: names[i], data: col(i).map((v) => (v === "" ? null : Number(v))), type: "DOUBLE" })),
    ...[4, 5].map((i) => ({ name: names[i], data: col(i), type: "STRING" })),
  ];
  writeFileSync(path, new Uint8Array(parquetWriteBuffer({ columnData: columnData as never, rowGroupSize: 250 })));
}

describe("rmc run DIST/ on data as users have it", () => {
  it("gives the TSV file's metrics for gzip, a glob, several --data and Parquet", async () => {
    const expected = await runOn("--data", a.data);
    expect(expected).toMatch(/output ctr:[\s\S]*NE/);
    const gz = join(a.root, "day_0.gz");
    writeFileSync(gz, gzipSync(tsv));
    expect(await runOn("--data", gz)).toBe(expected);
    const lines = tsv.trimEnd().split("\n");
    writeFileSync(join(a.root, "part_1.tsv"), lines.slice(0, 200).join("\n") + "\n");
    writeFileSync(join(a.root, "part_2.tsv"), gzipSync(lines.slice(200).join("\n") + "\n"));
    expect(await runOn("--data", join(a.root, "part_*.tsv"))).toBe(expected);
    expect(await runOn("--data", join(a.root, "part_1.tsv"), "--data", join(a.root, "part_2.tsv"))).toBe(expected);
    const pq = join(a.root, "d.parquet");
    toParquet(pq, ["label", "I1", "I2", "I3", "C1", "C2"]);
    expect(await runOn("--data", pq)).toBe(expected);
    const renamed = join(a.root, "renamed.parquet");
    toParquet(renamed, ["click", "i1", "i2", "i3", "c1", "c2"]);
    expect(await runOn("--data", renamed, "--columns", "label=click,I1=i1,I2=i2,I3=i3,C1=c1,C2=c2")).toBe(expected);
    const map = join(a.root, "columns.json");
    writeFileSync(map, JSON.stringify({ label: "click", I1: "i1", I2: "i2", I3: "i3", C1: "c1", C2: "c2" }));
    expect(await runOn("--data", renamed, "--columns", map)).toBe(expected);
    const missing = await rmc("run", a.dist, "--data", renamed);
    expect(missing.code).not.toBe(0);
    expect(missing.err).toMatch(/renamed\.parquet: no column `I1` for dense column I1.*E0776|E0776.*renamed\.parquet: no column `I1`/s);
    const bad = await rmc("run", a.dist, "--data", renamed, "--columns", "label");
    expect(bad.err).toMatch(/E0971/);
  });

  it("reads standard input with --data -, plain or gzipped (the built CLI with its stdin piped)", async () => {
    expect(existsSync("build/src/cli/main.js"), "build first (npx tsc -p tsconfig.json)").toBe(true);
    const expected = await runOn("--data", a.data);
    const child = spawnSync(process.execPath, ["build/src/cli/main.js", "run", a.dist, "--threads", "1", "--data", "-"], {
      input: gzipSync(tsv),
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(child.status, child.stderr).toBe(0);
    expect(metrics(child.stdout)).toBe(expected);
    const stats = spawnSync(process.execPath, ["build/src/cli/main.js", "data-stats", "-", "--dense", "3", "--sparse", "2", "--json"], {
      input: tsv,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(stats.status, stats.stderr).toBe(0);
    const local = await rmc("data-stats", a.data, "--dense", "3", "--sparse", "2", "--json");
    expect({ ...JSON.parse(stats.stdout), path: "" }).toEqual({ ...JSON.parse(local.out), path: "" });
    const pq = spawnSync(process.execPath, ["build/src/cli/main.js", "data-stats", "-"], {
      input: readFileSync(join(a.root, "d.parquet")),
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(pq.status).not.toBe(0);
    expect(pq.stderr).toMatch(/E0774/);
  });
});

describe("gen-data and --calib", () => {
  it("gen-data -o D.tsv.gz writes the same samples gzipped", async () => {
    const gz = join(a.root, "gen.tsv.gz");
    const r = await rmc("gen-data", a.model, "--weights", a.weights, "--rows", "600", "--seed", "9", "-o", gz);
    expect(r.code, r.err).toBe(0);
    expect(gunzipSync(readFileSync(gz)).toString("utf8")).toBe(tsv);
  });

  it("--calib reads gzip and globs as it reads the TSV file", async () => {
    const graph = parseModel(readFileSync(a.model, "utf8"), a.model).graph!;
    const calib = (v: string[]) => readCalibration(graph, { positionals: [], flags: { calib: v, "calib-rows": "500" } }, "compile");
    const expected = await calib([a.data]);
    expect(expected!.reduce((n, b) => n + b.size, 0)).toBe(500);
    expect(await calib([join(a.root, "day_0.gz")])).toEqual(expected);
    expect(await calib([join(a.root, "part_*.tsv")])).toEqual(expected);
  });
});
