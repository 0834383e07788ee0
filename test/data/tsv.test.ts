import { afterAll, describe, expect, it } from "vitest";
import { isBags, type Bags, type Batch } from "../../src/data/batch.js";
import { dataSchema } from "../../src/data/schema.js";
import { parseLine, readBatches } from "../../src/data/tsv.js";
import { RmcError } from "../../src/diagnostics/index.js";
import { kaggleGraph, smallGraph, tempDir } from "./fixtures.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const schema = dataSchema(smallGraph()); // ctr, cvr | d[2] | s: 3 bags (rows 10, 1000, 2^31-1) | w: 1 weighted bag (rows 7)
const f32 = (xs: number[]): Float32Array => Float32Array.from(xs);
const log1p = (x: number): number => Math.fround(Math.log(1 + x));

async function readAll(path: string, opts: Parameters<typeof readBatches>[2] = {}): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of readBatches(path, schema, opts)) out.push(b);
  return out;
}

const bags = (b: Batch, name: string): Bags => {
  const x = b.inputs[name]!;
  if (!isBags(x)) throw new Error(`${name} is not bags`);
  return x;
};

async function readError(text: string, name = "bad.tsv"): Promise<string> {
  const path = tmp.file(name, text);
  try {
    await readAll(path);
  } catch (e) {
    expect(e).toBeInstanceOf(RmcError);
    return (e as Error).message;
  }
  throw new Error("expected an error");
}

describe("readBatches", () => {
  const lines = [
    ["1", "0", "3", "", "a,FF", "", "12", "2:0.5,3"],
    ["0", "1", "", "7", "", "1,1a", "", "9"],
    ["1", "1", "-4", "2.5", "13", "0003e8", "", ""],
  ].map((fields) => fields.join("\t"));

  it("parses labels, log1p dense values, KJT bags, weights and hex modulo exactly", async () => {
    const [b, ...more] = await readAll(tmp.file("ok.tsv", lines.join("\n") + "\n"));
    expect(more).toHaveLength(0);
    expect(b!.size).toBe(3);
    expect(b!.labels).toEqual({ ctr: f32([1, 0, 1]), cvr: f32([0, 1, 1]) });
    // -4 is clamped to 0 before log1p; empty is missing = 0.
    expect(b!.inputs.d).toEqual(f32([log1p(3), 0, 0, log1p(7), 0, log1p(2.5)]));
    const s = bags(b!, "s");
    // Key-major: feature 0 for samples 0..2, then feature 1, then feature 2.
    expect(Array.from(s.lengths)).toEqual([2, 0, 1, 0, 2, 1, 1, 0, 0]);
    // a%10, ff%10 | 13%10 | 1%1000, 0x1a%1000 | 0x3e8%1000 | 0x12 (no table: kept)
    expect(Array.from(s.values)).toEqual([0, 5, 9, 1, 26, 0, 18]);
    expect(s.weights).toBeUndefined();
    const w = bags(b!, "w");
    expect(Array.from(w.lengths)).toEqual([2, 1, 0]);
    expect(Array.from(w.values)).toEqual([2, 3, 9 % 7]);
    expect(w.weights).toEqual(f32([0.5, 1, 1]));
  });

  it("reduces ids longer than 13 hex digits exactly", async () => {
    const id = "fedcba9876543210";
    const b = parseLine(`0\t0\t\t\t\t${id}\t\t`, schema);
    const want = Number(BigInt(`0x${id}`) % 1000n);
    expect(Array.from(bags(b, "s").values)).toEqual([want]);
    const u = parseLine(`0\t0\t\t\t\t\t${id}\t`, schema);
    expect(Array.from(bags(u, "s").values)).toEqual([Number(BigInt(`0x${id}`) % BigInt(2 ** 31 - 1))]);
    const c = parseLine(`0\t0\t\t\t${"f".repeat(30)}\t\t\t`, schema);
    expect(Array.from(bags(c, "s").values)).toEqual([Number(BigInt(`0x${"f".repeat(30)}`) % 10n)]);
  });

  it("detects unlabeled files, handles CRLF and a missing final newline", async () => {
    const text = lines.map((l) => l.split("\t").slice(2).join("\t")).join("\r\n");
    const [b] = await readAll(tmp.file("unlabeled.tsv", text));
    expect(b!.labels).toBeUndefined();
    expect(b!.size).toBe(3);
    expect(b!.inputs.d).toEqual(f32([log1p(3), 0, 0, log1p(7), 0, log1p(2.5)]));
    expect(Array.from(bags(b!, "w").values)).toEqual([2, 3, 2]);
  });

  it("splits into batches, honours limit, skips blank lines and counts them for line numbers", async () => {
    const path = tmp.file("many.tsv", [...lines, "", ...lines].join("\n"));
    const batches = await readAll(path, { batchSize: 2 });
    expect(batches.map((b) => b.size)).toEqual([2, 2, 2]);
    expect(Array.from(bags(batches[1]!, "s").lengths)).toEqual([1, 2, 1, 0, 0, 1]);
    const limited = await readAll(path, { batchSize: 2, limit: 3 });
    expect(limited.map((b) => b.size)).toEqual([2, 1]);
    const err = await readError([...lines, "", "1\t0\t3"].join("\n"), "blank.tsv");
    expect(err).toContain("blank.tsv:5:");
  });

  it("keeps raw values with dense: none", async () => {
    const [b] = await readAll(tmp.file("raw.tsv", lines.join("\n")), { dense: "none" });
    expect(b!.inputs.d).toEqual(f32([3, 0, 0, 7, -4, 2.5]));
  });

  it("reads the Kaggle layout", () => {
    const k = dataSchema(kaggleGraph());
    const fields = ["1", ...Array.from({ length: 13 }, (_, i) => String(i)), ...Array.from({ length: 26 }, (_, i) => (0x68fd1e64 + i).toString(16))];
    const b = parseLine(fields.join("\t"), k);
    expect(b.labels).toEqual({ ctr: f32([1]) });
    expect(b.inputs.dense).toEqual(f32(Array.from({ length: 13 }, (_, i) => Math.log1p(i))));
    expect(Array.from(bags(b, "sparse").values)).toEqual(Array.from({ length: 26 }, (_, i) => (0x68fd1e64 + i) % (10 + 37 * i)));
  });
});

describe("reader errors name the file, line and field", () => {
  it("wrong field count", async () => {
    expect(await readError(`${lines3()}\n1\t0\t3`)).toMatch(/bad\.tsv:2: expected 8 fields \(2 labels \+ 2 dense \+ 4 sparse\), found 3/);
    expect(await readError("1\t2\t3")).toMatch(/bad\.tsv:1: expected 8 fields .* or 6 without labels, found 3/);
    // An unlabeled file must stay unlabeled.
    expect(await readError(`0\t3\ta\t\t\t\n1\t0\t0\t3\ta\t\t\t`)).toMatch(/bad\.tsv:2: expected 6 fields \(2 dense \+ 4 sparse\), found 8/);
  });
  it("bad number, label, hex id, weight", async () => {
    expect(await readError(`${lines3()}\n1\t0\t3\t1x\t\t\t\t`)).toMatch(/bad\.tsv:2: field I2 \(d\[1\]\): `1x` is not a number/);
    expect(await readError(`2\t0\t3\t1\t\t\t\t`)).toMatch(/bad\.tsv:1: label ctr: `2` is not 0 or 1/);
    expect(await readError(`1\t0\t3\t1\t\tab,xz\t\t`)).toMatch(/bad\.tsv:1: field C2 \(s feature 1\): `xz` is not a hex id/);
    expect(await readError(`1\t0\t3\t1\t\tab,\t\t`)).toMatch(/bad\.tsv:1: field C2 \(s feature 1\): empty id/);
    expect(await readError(`1\t0\t3\t1\t\t\t\t5:x`)).toMatch(/bad\.tsv:1: field C4 \(w feature 0\): bad weight in `5:x`/);
    expect(await readError(`1\t0\t3\t1\ta:2\t\t\t`)).toMatch(/field C1 \(s feature 0\): `a:2` has a weight but s is not a weighted_bags input/);
  });
  it("takes the number and id spellings docs/data.md lists, and refuses the others", async () => {
    // Dense: sign, fraction alone, trailing point, exponent; sparse: upper- and lower-case hex of any length.
    const ok = ["1\t0\t1e3\t+3\tA\tfF\t\t", "0\t1\t.5\t3.\t0003E8\t\t\t", "0\t0\t-4\t1.5E-2\t\t\t\t"].join("\n");
    const [b] = await readAll(tmp.file("spell.tsv", ok + "\n"), { dense: "none" });
    expect(b!.inputs.d).toEqual(f32([1000, 3, 0.5, 3, -4, 0.015]));
    expect(Array.from(bags(b!, "s").values.slice(0, 3))).toEqual([10 % 10, 0x3e8 % 10, 0xff % 1000]);
    for (const bad of ["0x10", "inf", "nan", "1,5", " 3", "3 "])
      expect(await readError(`1\t0\t${bad}\t1\t\t\t\t`), bad).toMatch(/E0702|is not a number/);
    for (const bad of ["0x1f", "a,,b", "g"]) expect(await readError(`1\t0\t3\t1\t${bad}\t\t\t`), bad).toMatch(/hex id|empty id/);
  });

  it("missing file", async () => {
    await expect(readAll("/nonexistent/rmc/x.tsv")).rejects.toThrow(/cannot read \/nonexistent\/rmc\/x\.tsv: no such file/);
  });
  it("parseLine reports its own location", () => {
    expect(() => parseLine("1\t0\t3\tq\t\t\t\t", schema, { file: "x.tsv", line: 7 })).toThrow(/x\.tsv:7: field I2 \(d\[1\]\): `q` is not a number/);
  });
});

function lines3(): string {
  return "1\t0\t3\t1\t\t\t\t";
}
