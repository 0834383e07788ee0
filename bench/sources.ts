// `npm run bench:sources [-- --rows=N]`: how fast each data source feeds the
// reader. Writes N Criteo-shaped rows (1 label, 13 dense, 26 sparse hex ids;
// default 200,000) as plain TSV, gzip, four files under a glob, and Parquet
// (hex string ids, and INT64 ids), then times `readBatches` (the path of
// `rmc run`, `verify` and `--calib`) over each for the Kaggle DLRM's schema,
// best of three, and reports rows/s and the file sizes. Every source must give
// the same number of samples.

import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { parquetWriteBuffer } from "hyparquet-writer";
import { parseModel } from "../src/frontend/index.js";
import { dataSchema } from "../src/data/schema.js";
import { readBatches } from "../src/data/tsv.js";
import { Rng, hashSeed } from "../src/util/rng.js";

const rows = Number(process.argv.find((a) => a.startsWith("--rows="))?.slice(7) ?? 200_000);
const dir = mkdtempSync(join(tmpdir(), "rmc-bench-sources-"));
const graph = parseModel(readFileSync("examples/dlrm_kaggle.rmdl", "utf8"), "dlrm_kaggle.rmdl").graph!;
const schema = dataSchema(graph);

const rng = new Rng(hashSeed("bench-sources", 7));
const rnd = (): number => rng.next();
const label: number[] = [];
const dense: (number | null)[][] = Array.from({ length: 13 }, () => []);
const ids: bigint[][] = Array.from({ length: 26 }, () => []);
const lines: string[] = [];
for (let r = 0; r < rows; r++) {
  const y = rnd() < 0.25 ? 1 : 0;
  label.push(y);
  const fields = [String(y)];
  for (let d = 0; d < 13; d++) {
    const v = rnd() < 0.1 ? null : Math.floor(Math.expm1(rnd() * 6));
    dense[d]!.push(v);
    fields.push(v === null ? "" : String(v));
  }
  for (let c = 0; c < 26; c++) {
    const id = BigInt(Math.floor(rnd() * 2 ** 32));
    ids[c]!.push(id);
    fields.push(id.toString(16).padStart(8, "0"));
  }
  lines.push(fields.join("\t"));
}
const tsv = lines.join("\n") + "\n";
const file = (name: string, data: string | Uint8Array): string => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};
const plain = file("day.tsv", tsv);
const gz = file("day.tsv.gz", gzipSync(tsv));
const quarter = Math.ceil(rows / 4);
for (let i = 0; i < 4; i++) file(`part_${i}.tsv`, lines.slice(i * quarter, (i + 1) * quarter).join("\n") + "\n");
const columns = (hexIds: boolean) => [
  { name: "label", data: label, type: "INT32" },
  ...dense.map((d, i) => ({ name: `I${i + 1}`, data: d, type: "DOUBLE" })),
  ...ids.map((c, i) =>
    hexIds
      ? { name: `C${i + 1}`, data: c.map((x) => x.toString(16).padStart(8, "0")), type: "STRING" }
      : { name: `C${i + 1}`, data: c, type: "INT64" },
  ),
];
const pqHex = file("day-hex.parquet", new Uint8Array(parquetWriteBuffer({ columnData: columns(true) as never, rowGroupSize: 65536 })));
const pqInt = file("day-int.parquet", new Uint8Array(parquetWriteBuffer({ columnData: columns(false) as never, rowGroupSize: 65536 })));

async function time(source: string): Promise<{ seconds: number; samples: number }> {
  let best = Infinity;
  let samples = 0;
  for (let k = 0; k < 3; k++) {
    const t = performance.now();
    samples = 0;
    for await (const b of readBatches(source, schema, { batchSize: 4096 })) samples += b.size;
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  if (samples !== rows) throw new Error(`${source}: ${samples} samples, expected ${rows}`);
  return { seconds: best, samples };
}

const mib = (p: string): string => (statSync(p).size / 2 ** 20).toFixed(1);
console.log(`${rows} Criteo-shaped rows (1 label, 13 dense, 26 sparse), readBatches for dlrm_kaggle, best of 3`);
console.log("| source | file MiB | s | rows/s |\n|---|---|---|---|");
for (const [name, source, size] of [
  ["TSV", plain, mib(plain)],
  ["gzip TSV", gz, mib(gz)],
  ["4 files, glob", join(dir, "part_*.tsv"), mib(plain)],
  ["Parquet, hex string ids", pqHex, mib(pqHex)],
  ["Parquet, INT64 ids", pqInt, mib(pqInt)],
] as const) {
  const r = await time(source);
  console.log(`| ${name} | ${size} | ${r.seconds.toFixed(2)} | ${Math.round(r.samples / r.seconds).toLocaleString("en-US")} |`);
}
rmSync(dir, { recursive: true, force: true });
