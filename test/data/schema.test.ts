import { describe, expect, it } from "vitest";
import { dataSchema, describeSchema, UNBOUNDED_ROWS } from "../../src/data/schema.js";
import { kaggleGraph, smallGraph } from "./fixtures.js";

describe("dataSchema", () => {
  it("lays out Criteo's 40 columns for the Kaggle shape", () => {
    const s = dataSchema(kaggleGraph());
    expect(s.labels).toEqual(["ctr"]);
    expect(s.denseColumns).toBe(13);
    expect(s.sparseColumns).toBe(26);
    expect(s.labeledColumns).toBe(40);
    expect(s.unlabeledColumns).toBe(39);
    expect(s.sparse[3]).toEqual({ input: "sparse", feature: 3, weighted: false, rows: 10 + 37 * 3, table: "emb.3", column: 3 });
    expect(describeSchema(s)).toBe("40 columns: label ctr, 13 dense (dense), 26 sparse (sparse)");
  });

  it("takes the smallest table when several read a feature, and no bound when none does", () => {
    const s = dataSchema(smallGraph());
    expect(s.labels).toEqual(["ctr", "cvr"]);
    expect(s.dense).toEqual([{ input: "d", width: 2, column: 0 }]);
    expect(s.sparse.map((f) => [f.input, f.feature, f.rows, f.table, f.weighted, f.column])).toEqual([
      ["s", 0, 10, "s.b", false, 0],
      ["s", 1, 1000, "s.c", false, 1],
      ["s", 2, UNBOUNDED_ROWS, "s:2", false, 2],
      ["w", 0, 7, "w.t", true, 3],
    ]);
    expect(s.bags).toEqual([
      { name: "s", count: 3, weighted: false, column: 0 },
      { name: "w", count: 1, weighted: true, column: 3 },
    ]);
    expect(s.labeledColumns).toBe(8);
    expect(describeSchema(s)).toBe("8 columns: labels ctr, cvr, 2 dense (d), 3 sparse (s), 1 weighted sparse (w)");
  });
});
