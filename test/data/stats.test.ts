import { afterAll, describe, expect, it } from "vitest";
import { dataStats, formatDataStats } from "../../src/data/stats.js";
import { RmcError } from "../../src/diagnostics/index.js";
import { tempDir } from "./fixtures.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe("dataStats", () => {
  // 1 label, 2 dense, 2 sparse.
  const text = ["1\t3\t\tAB\t1,2", "0\t5\t-1\tab\t", "0\t\t2.5\t00c\t3:0.5", "1\t1\t\tab\t2"].join("\r\n") + "\r\n";

  it("summarises labels, dense and sparse columns exactly on a small file", async () => {
    const path = tmp.file("small.tsv", text);
    const s = await dataStats(path, { labels: 1, dense: 2, sparse: 2, top: 2 });
    expect(s.rows).toBe(4);
    expect(s.labels).toEqual([{ column: "label", positives: 2, ctr: 0.5 }]);
    expect(s.dense[0]).toEqual({ column: "I1", missing: 0.25, mean: 3, min: 1, max: 5 });
    expect(s.dense[1]).toEqual({ column: "I2", missing: 0.5, mean: 0.75, min: -1, max: 2.5 });
    expect(s.sparse[0]).toMatchObject({ column: "C1", empty: 0, meanIds: 1, distinct: 2 });
    expect(s.sparse[0]!.top).toEqual([
      { key: "ab", count: 3, error: 0 },
      { key: "00c", count: 1, error: 0 },
    ]);
    expect(s.sparse[1]).toMatchObject({ column: "C2", empty: 0.25, meanIds: 4 / 3, distinct: 3 });
    expect(s.sparse[1]!.top[0]).toEqual({ key: "2", count: 2, error: 0 });
    const report = formatDataStats(s);
    expect(report).toContain("4 rows, 5 columns (1 label, 2 dense, 2 sparse)");
    expect(report).toMatch(/label\s+0\.5000\s+2/);
    expect(report).toMatch(/C2\s+25\.0%\s+1\.33\s+~3\s+2 2, /);
  });

  it("treats a file with dense + sparse columns as unlabeled when the label count is not given", async () => {
    const path = tmp.file(
      "unlabeled.tsv",
      text
        .split("\r\n")
        .map((l) => l.split("\t").slice(1).join("\t"))
        .join("\n"),
    );
    const s = await dataStats(path, { dense: 2, sparse: 2 });
    expect(s.columns).toEqual({ labels: 0, dense: 2, sparse: 2 });
    expect(s.labels).toEqual([]);
    expect(s.rows).toBe(4);
  });

  it("explains a column-count mismatch and how to fix it", async () => {
    const path = tmp.file("small2.tsv", text);
    const err = await dataStats(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RmcError);
    expect((err as Error).message).toMatch(/small2\.tsv:1: found 5 fields, expected 40 \(1 label \+ 13 dense \+ 26 sparse, Criteo's layout\)/);
    expect((err as RmcError).diagnostics[0]!.hint).toMatch(/--dense/);
  });

  it("names the line of a bad field", async () => {
    const path = tmp.file("bad.tsv", "1\t3\t\tab\t1\n1\t3\t\tab\tzz\n");
    await expect(dataStats(path, { dense: 2, sparse: 2 })).rejects.toThrow(/bad\.tsv:2: field C2: `zz` is not a hex id/);
    const path2 = tmp.file("bad2.tsv", "1\t3\t\tab\t1\n1\t3\t\tab\n");
    await expect(dataStats(path2, { dense: 2, sparse: 2 })).rejects.toThrow(/bad2\.tsv:2: expected 5 fields, found 4/);
  });
});
