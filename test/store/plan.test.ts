// The store's capacity plan, on a table small enough to count by hand: its
// blocks and bytes per master, the rows and blocks a batch of calibration
// samples reads, the hot part's share, and the fit on hosts.

import { describe, expect, it } from "vitest";
import { parseModel } from "../../src/frontend/index.js";
import { runPipeline } from "../../src/pipeline/index.js";
import { createPassRegistry } from "../../passes/index.js";
import { REDIS_KEY_OVERHEAD, capacityPlan } from "../../src/store/plan.js";
import type { Batch } from "../../src/data/batch.js";
import { blockRowsFor } from "../../src/store/format.js";
import { rmc } from "../cli/helpers.js";

const src = `model m {
  input dense: f32[2]
  input s: bags[1]
  table t: embedding(dim: 16, rows: 1000)
  top = mlp(concat(dense, embedding_bag(t, s[0])), [1], final: sigmoid)
  output y = top
}`;
// 4 samples: ids 0, 1, 300, 300 — fp32 rows of 64 bytes, 64 to a 4 KiB block: rows 0 and 1 in block 0, row 300 in block 4.
const batch: Batch = {
  size: 4,
  inputs: { dense: new Float32Array(8), s: { count: 1, batch: 4, lengths: Int32Array.of(1, 1, 1, 1), values: Int32Array.of(0, 1, 300, 300) } },
};

const graph = (passes: string, calibration?: Batch[]) =>
  runPipeline(parseModel(src, "m.rmdl").graph!, passes, createPassRegistry(), { out: () => {} }, calibration ? { calibration } : {});
describe("capacityPlan", () => {
  it("counts bytes per master, and rows and blocks per batch, as by hand", () => {
    const g = graph("canonicalize,infer-shapes,place-tables{tables=t.weight,store=redis}");
    const p = capacityPlan(g, { masters: 2, replicas: 1, batch: 4 }, [batch])!;
    expect(p.placement).toBe("redis");
    expect(p.tables).toEqual([
      {
        table: "t.weight",
        format: "fp32",
        rows: 1000,
        rowBytes: 64,
        blocks: 16,
        bytes: 64000,
        lookupsPerSample: 1,
        hotShare: 0,
        rowsPerBatch: 3,
        blocksPerBatch: 2,
      },
    ]);
    expect(p.perMaster).toBe(Math.ceil((64000 + 16 * REDIS_KEY_OVERHEAD) / 2));
    expect(p.cluster).toBe(p.perMaster * 4);
    expect(p.perRequest).toEqual({ rows: 3 / 4, bytes: (2 * 64 * 64) / 4, hotShare: 0 });
  });

  it("credits a hot part with the lookups it answers", () => {
    const g = graph("canonicalize,infer-shapes,split-tables{hot=1},place-tables{tables=t.weight}", [batch]);
    const p = capacityPlan(g, { masters: 1, replicas: 0, batch: 4 }, [batch])!;
    // The hottest row is 300 (twice): those two lookups never reach the store.
    expect(p.tables[0]!.hotShare).toBe(0.5);
    expect(p.tables[0]!.rowsPerBatch).toBe(2);
    expect(p.tables[0]!.rows).toBe(999);
  });

  it("says whether the cluster fits the hosts, and how many it would take", () => {
    const g = graph("canonicalize,infer-shapes,place-tables{tables=t.weight}");
    const one = capacityPlan(g, { masters: 3, replicas: 1, hosts: 1, hostMemory: 2 ** 30 })!;
    expect(one.fit!.fits).toBe(false);
    expect(one.fit!.note).toContain("use at least 2 hosts");
    const small = capacityPlan(g, { masters: 3, replicas: 1, hosts: 2, hostMemory: 40_000 })!;
    expect(small.fit).toMatchObject({ fits: false, nodesPerHost: 3 });
    expect(small.fit!.hostsNeeded).toBe(Math.ceil(small.cluster / (40_000 * 0.75)));
    expect(capacityPlan(g, { masters: 3, replicas: 1, hosts: 2, hostMemory: 2 ** 30 })!.fit!.fits).toBe(true);
    expect(capacityPlan(graph("canonicalize,infer-shapes"), { masters: 3, replicas: 1 })).toBeUndefined();
  });
});

describe("rmc store plan", () => {
  it("plans MLPerf DLRM-v2's store from the model's shapes alone", async () => {
    const r = await rmc("store", "plan", "examples/dcnv2.rmdl", "--precision", "int8", "--hosts", "2", "--host-memory", "64GiB");
    expect(r.code, r.err).toBe(0);
    const blocks = Math.ceil(40_000_000 / blockRowsFor(136));
    // The five 40M-row tables leave memory (largest first), at int8: 136-byte rows (128 codes, f32 scale and bias).
    for (const t of [0, 9, 19, 20, 21]) expect(r.out).toContain(`| emb.${t}.weight | int8 | 40000000 | 136 | ${blocks} |`);
    expect(r.out).toMatch(/2 host\(s\) of 64\.00 GiB: fits: 3 Redis node\(s\) per host/);
    const tight = await rmc("store", "plan", "examples/dcnv2.rmdl", "--precision", "int8", "--hosts", "2", "--host-memory", "16GiB");
    expect(tight.out).toMatch(/does not fit: the busiest host would need .* hosts of 16\.00 GiB would do/);
  });
});
