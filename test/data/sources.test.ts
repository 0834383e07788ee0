// Data as users have it (src/data/sources.ts, parquet.ts, glob.ts): the same
// samples as plain TSV, gzip (one member or several), split over files named
// by a glob, and Parquet (string ids, integer ids, renamed columns, list
// columns) must give the very same batches and data-stats; broken inputs get
// located errors.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { parquetWriteBuffer } from "hyparquet-writer";
import { afterAll, describe, expect, it } from "vitest";
import type { Batch } from "../../src/data/batch.js";
import { dataSchema } from "../../src/data/schema.js";
import { dataStats } from "../../src/data/stats.js";
import { readBatches } from "../../src/data/tsv.js";
import { expandGlob, globRegExp, naturalCompare } from "../../src/data/glob.js";
import { RmcError } from "../../src/diagnostics/index.js";
import { smallGraph, tempDir } from "./fixtures.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

// ctr, cvr | d[2] | s: 3 bags | w: 1 weighted bag: 8 columns.
const schema = dataSchema(smallGraph());

/** Deterministic rows: labels, dense values (some missing), hex ids (some multi-hot, some empty), a weighted bag. */
function rows(n: number): { labels: number[]; dense: (number | null)[]; ids: number[][]; weighted: [number, number][] }[] {
  let s = 12345;
  const rnd = (): number => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
  return Array.from({ length: n }, () => ({
    labels: [rnd() < 0.3 ? 1 : 0, rnd() < 0.1 ? 1 : 0],
    dense: [rnd() < 0.2 ? null : Math.floor(rnd() * 1000), rnd() < 0.2 ? null : Math.round(rnd() * 1e4) / 100 - 20],
    ids: [0, 1, 2].map((c) =>
      c === 2 && rnd() < 0.3 ? [] : Array.from({ length: c === 1 ? 1 + Math.floor(rnd() * 3) : 1 }, () => Math.floor(rnd() * 2 ** 40)),
    ),
    weighted: [[Math.floor(rnd() * 100), Math.round(rnd() * 100) / 8]],
  }));
}
const data = rows(700);
const hex = (x: number): string => x.toString(16);
const tsvLine = (r: (typeof data)[number]): string =>
  [
    ...r.labels.map(String),
    ...r.dense.map((v) => (v === null ? "" : String(v))),
    ...r.ids.map((b) => b.map(hex).join(",")),
    r.weighted.map(([id, w]) => `${hex(id)}:${w}`).join(","),
  ].join("\t");
const tsv = data.map(tsvLine).join("\n") + "\n";
const plain = tmp.file("all.tsv", tsv);

async function read(sources: string | string[], opts: Parameters<typeof readBatches>[2] = {}): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of readBatches(sources, schema, { batchSize: 128, ...opts })) out.push(b);
  return out;
}

/** The error a read fails with: its first diagnostic's code and the message. */
async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(RmcError);
    return { code: (e as RmcError).diagnostics[0]!.code, message: (e as Error).message };
  }
  throw new Error("expected an error");
}

const writeBytes = (name: string, bytes: Uint8Array): string => {
  const p = join(tmp.dir, name);
  writeFileSync(p, bytes);
  return p;
};

type Column = { name: string; data: unknown[]; type?: string };
/** Parquet with the rows' columns under `names`; `ids` picks string (hex) or INT64 ids for the unweighted bags' single-id columns. */
function parquet(name: string, names: string[], ids: "string" | "int64", rowGroupSize = 300): string {
  const cols: Column[] = [
    { name: names[0]!, data: data.map((r) => r.labels[0]), type: "INT32" },
    { name: names[1]!, data: data.map((r) => r.labels[1] === 1), type: "BOOLEAN" },
    { name: names[2]!, data: data.map((r) => r.dense[0]), type: "DOUBLE" },
    { name: names[3]!, data: data.map((r) => r.dense[1]), type: "DOUBLE" },
    ids === "int64"
      ? { name: names[4]!, data: data.map((r) => BigInt(r.ids[0]![0]!)), type: "INT64" }
      : { name: names[4]!, data: data.map((r) => hex(r.ids[0]![0]!)), type: "STRING" },
    { name: names[5]!, data: data.map((r) => r.ids[1]!.map(hex).join(",")), type: "STRING" },
    { name: names[6]!, data: data.map((r) => r.ids[2]!.map(hex).join(",")), type: "STRING" },
    { name: names[7]!, data: data.map((r) => r.weighted.map(([id, w]) => `${hex(id)}:${w}`).join(",")), type: "STRING" },
  ];
  return writeBytes(name, new Uint8Array(parquetWriteBuffer({ columnData: cols as never, rowGroupSize })));
}
const CRITEO_NAMES = ["label1", "label2", "I1", "I2", "C1", "C2", "C3", "C4"];

describe("data sources give the same samples as plain TSV", () => {
  it("reads gzip, concatenated gzip members, and files split over a glob in natural order", async () => {
    const expected = await read(plain);
    expect(expected.reduce((n, b) => n + b.size, 0)).toBe(700);
    const gz = writeBytes("all.tsv.gz", gzipSync(tsv));
    expect(await read(gz)).toEqual(expected);
    // Two gzip members, cut mid-line: the reader sees one stream.
    const cut = tsv.indexOf("\n", 5000) - 7;
    const twoMembers = writeBytes("two.gz", Buffer.concat([gzipSync(tsv.slice(0, cut)), gzipSync(tsv.slice(cut))]));
    expect(await read(twoMembers)).toEqual(expected);
    // day_0 … day_10, the last one without a final line break and gzipped: batches run on across files.
    const lines = tsv.trimEnd().split("\n");
    const parts = [0, 2, 10].map((d, i) => ({ d, text: lines.slice(i * 250, (i + 1) * 250).join("\n") }));
    tmp.file("day_10.tsv", "");
    for (const { d, text } of parts) {
      if (d === 10) writeBytes(`day_${d}.tsv`, gzipSync(text));
      else tmp.file(`day_${d}.tsv`, text + "\n");
    }
    expect(expandGlob(join(tmp.dir, "day_*.tsv")).map((p) => p.slice(tmp.dir.length + 1))).toEqual(["day_0.tsv", "day_2.tsv", "day_10.tsv"]);
    expect(await read(join(tmp.dir, "day_*.tsv"))).toEqual(expected);
    expect(await read(["day_0.tsv", "day_2.tsv", "day_10.tsv"].map((f) => join(tmp.dir, f)))).toEqual(expected);
  });

  it("reads Parquet by column name, with string or integer ids, renamed columns, and row groups of any size", async () => {
    const expected = await read(plain);
    expect(await read(parquet("hex.parquet", CRITEO_NAMES, "string"))).toEqual(expected);
    expect(await read(parquet("int.parquet", CRITEO_NAMES, "int64", 97))).toEqual(expected);
    const renamed = ["click", "buy", "f0", "f1", "cat0", "cat1", "cat2", "wcat"];
    const file = parquet("renamed.parquet", renamed, "int64");
    const columns = Object.fromEntries(CRITEO_NAMES.map((n, i) => [n, renamed[i]!]));
    expect(await read(file, { columns })).toEqual(expected);
    // A Parquet file among text files, under one limit.
    const limited = await read([plain, file], { columns, limit: 900 });
    expect(limited.reduce((n, b) => n + b.size, 0)).toBe(900);
  });

  it("reads a list column as a multi-hot bag, and Parquet without label columns as unlabeled", async () => {
    const n = 50;
    const col = <T>(f: (r: (typeof data)[number]) => T): T[] => data.slice(0, n).map(f);
    const buf = parquetWriteBuffer({
      columnData: [
        { name: "I1", data: col((r) => r.dense[0]) },
        { name: "I2", data: col((r) => r.dense[1]) },
        { name: "C1", data: col((r) => r.ids[0]!.map(BigInt)) },
        { name: "C2", data: col((r) => r.ids[1]!.map(BigInt)) },
        { name: "C3", data: col((r) => r.ids[2]!.map(BigInt)) },
        { name: "C4", data: col((r) => r.weighted.map(([id, w]) => `${hex(id)}:${w}`).join(",")) },
      ] as never,
      schema: [
        { name: "root", num_children: 6 },
        { name: "I1", type: "DOUBLE", repetition_type: "OPTIONAL" },
        { name: "I2", type: "DOUBLE", repetition_type: "OPTIONAL" },
        ...["C1", "C2", "C3"].flatMap((name) => [
          { name, repetition_type: "OPTIONAL", num_children: 1, converted_type: "LIST" },
          { name: "list", repetition_type: "REPEATED", num_children: 1 },
          { name: "element", type: "INT64", repetition_type: "OPTIONAL" },
        ]),
        { name: "C4", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
      ] as never,
    });
    const file = writeBytes("lists.parquet", new Uint8Array(buf));
    const unlabeled = tmp.file(
      "unlabeled.tsv",
      data
        .slice(0, n)
        .map((r) => tsvLine(r).split("\t").slice(2).join("\t"))
        .join("\n"),
    );
    const expected = await read(unlabeled);
    expect(expected[0]!.labels).toBeUndefined();
    expect(await read(file)).toEqual(expected);
  });

  it("gives data-stats the same numbers from gzip, a glob and Parquet", async () => {
    const layout = { labels: 2, dense: 2, sparse: 4 };
    const base = await dataStats(plain, layout);
    const same = (s: Awaited<ReturnType<typeof dataStats>>): void => expect({ ...s, path: "" }).toEqual({ ...base, path: "" });
    same(await dataStats(join(tmp.dir, "all.tsv.gz"), layout));
    same(await dataStats(join(tmp.dir, "day_*.tsv"), layout));
    same(await dataStats(join(tmp.dir, "hex.parquet"), layout));
  });
});

describe("broken data sources get located errors", () => {
  it("names the file and line of corrupt or truncated gzip data", async () => {
    const gz = gzipSync(tsv);
    const corrupt = Buffer.from(gz);
    for (let i = 2000; i < 2100; i++) corrupt[i] = corrupt[i]! ^ 0x5a;
    const e1 = await failure(read(writeBytes("corrupt.gz", corrupt)));
    expect(e1.code).toBe("E0773");
    expect(e1.message).toMatch(/corrupt\.gz: corrupt gzip data after line \d+/);
    const e2 = await failure(read(writeBytes("truncated.gz", gz.subarray(0, gz.length - 300))));
    expect(e2.code).toBe("E0773");
    expect(e2.message).toMatch(/truncated\.gz: corrupt gzip data after line [1-9]\d+ .*truncated/);
    // A bad field inside gzip data is located like one in plain text.
    const bad = writeBytes("bad.gz", gzipSync(tsv.replace(/\n[^\n]*/, "\n1\t0\tq\t1\ta\tb\tc\td")));
    expect((await failure(read(bad))).message).toMatch(/bad\.gz:2: field I1 \(d\[0\]\): `q` is not a number/);
  });

  it("names the Parquet file, row and column of a missing column or a bad value", async () => {
    const missing = await failure(read(parquet("short.parquet", ["label1", "label2", "I1", "I2", "C1", "C2", "C3", "cat4"], "string")));
    expect(missing.code).toBe("E0776");
    expect(missing.message).toMatch(/short\.parquet: no column `C4` for sparse column C4; the file has label1, label2, I1, I2, C1, C2, C3, cat4/);
    expect((await failure(read(join(tmp.dir, "short.parquet"), { columns: { C5: "x" } }))).code).toBe("E0775");
    const floats = writeBytes(
      "float-ids.parquet",
      new Uint8Array(
        parquetWriteBuffer({
          columnData: [
            { name: "I1", data: [1, 2, 3], type: "DOUBLE" },
            { name: "I2", data: [1, 2, 3], type: "DOUBLE" },
            { name: "C1", data: [1, 2.5, 3], type: "DOUBLE" },
            ...["C2", "C3", "C4"].map((name) => ({ name, data: ["1", "2", "3"], type: "STRING" })),
          ] as never,
        }),
      ),
    );
    const e = await failure(read(floats));
    expect(e.code).toBe("E0777");
    expect(e.message).toMatch(/float-ids\.parquet: row 2: column C1: 2\.5 is not an id/);
    // A value the TSV parser refuses is located by row too.
    const labels = parquetWriteBuffer({
      columnData: [
        { name: "label1", data: [0, 2], type: "INT32" },
        { name: "label2", data: [0, 0], type: "INT32" },
        ...["I1", "I2"].map((name) => ({ name, data: [1, 2], type: "DOUBLE" })),
        ...["C1", "C2", "C3", "C4"].map((name) => ({ name, data: ["1", "2"], type: "STRING" })),
      ] as never,
    });
    expect((await failure(read(writeBytes("labels.parquet", new Uint8Array(labels))))).message).toMatch(
      /labels\.parquet: row 2: label ctr: `2` is not 0 or 1/,
    );
    const notParquet = writeBytes("fake.parquet", Buffer.from("PAR1 and then nothing like a footer"));
    expect((await failure(read(notParquet))).code).toBe("E0778");
  });

  it("names a glob that matches nothing, a missing file and a directory", async () => {
    expect((await failure(read(join(tmp.dir, "nothing_*.tsv")))).code).toBe("E0770");
    expect((await failure(read(join(tmp.dir, "absent.tsv")))).message).toMatch(/absent\.tsv: no such file/);
    expect((await failure(read(tmp.dir))).message).toMatch(/it is a directory/);
    expect((await failure(read(["-", "-"]))).code).toBe("E0771");
    // A file whose name looks like a pattern is read as itself.
    const literal = tmp.file("all[1].tsv", tsv);
    expect(await read(literal)).toEqual(await read(plain));
  });
});

describe("glob matching", () => {
  it("matches *, ? and classes within one path segment, and sorts digit runs as numbers", () => {
    expect(globRegExp("day_*.gz").test("day_12.gz")).toBe(true);
    expect(globRegExp("day_*.gz").test("day_1/x.gz")).toBe(false);
    expect(globRegExp("day_?.gz").test("day_12.gz")).toBe(false);
    expect(globRegExp("day_[0-2].gz").test("day_2.gz")).toBe(true);
    expect(globRegExp("day_[!0-2].gz").test("day_2.gz")).toBe(false);
    expect(globRegExp("a+b(1).tsv").test("a+b(1).tsv")).toBe(true);
    expect(["day_10", "day_2", "day_1", "day_0"].sort(naturalCompare)).toEqual(["day_0", "day_1", "day_2", "day_10"]);
  });
});
