// The Redis store against a real Redis Cluster (cluster.ts: six redis-server
// processes on loopback, no mocks): `rmc store push` puts a synthetic
// artifact's store tables in, `check` reads them back, and RedisStore returns
// exactly the rows files' bytes, over tables of several row sizes and with a
// cache smaller than one call. Then what must be refused is: a corrupted
// block (naming table and block), a version the cluster does not hold
// (naming the ones it does), a dropped version (while another stays
// readable); and with a master killed mid-run, every read is either right or
// a clear RmcError within its timeout, never a wrong answer or a hang.

import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RmcError } from "../../src/diagnostics/index.js";
import { STORE_FORMAT, blockKey, indexCrcs, type StoreTable } from "../../src/store/format.js";
import { StoreTableWriter, storeVersion } from "../../src/store/write.js";
import { RedisStore, type RedisStoreOptions } from "../../src/store/redis.js";
import { checkStore, dropStore, pushStore, type TransferProgress } from "../../src/store/push.js";
import { keySlot, parseRedisUrl } from "../../src/store/cluster.js";
import { rmc } from "../cli/helpers.js";
import { startCluster, type TestCluster } from "../../bench/redis-cluster.js";

/** Row sizes of the FBGEMM formats: fp32 (4·dim), fp16 (2·dim), int8 (dim + 8 of scale and bias), int4 (dim/2 + 4). */
const TABLES = [
  { name: "emb.0.weight", format: "fp32", dim: 16, rows: 1000, rowBytes: 64 },
  { name: "emb.1.weight", format: "fp16", dim: 24, rows: 700, rowBytes: 48 },
  { name: "emb.2.weight.cold0", format: "int8", dim: 8, rows: 3000, rowBytes: 16 },
  { name: "emb.3.weight", format: "int4", dim: 10, rows: 5000, rowBytes: 9 },
];

interface Artifact {
  dir: string;
  version: string;
  tables: StoreTable[];
  /** Per table, the rows file's bytes (what every read must return). */
  rows: Map<string, Uint8Array>;
  crcs: Map<string, Uint32Array>;
}

/** An artifact folder with only what the store code reads: manifest.json (store section, files) and the rows and index files. */
function makeArtifact(seed: number): Artifact {
  const dir = mkdtempSync(join(tmpdir(), "rmc-store-"));
  mkdirSync(join(dir, "store"));
  let x = seed >>> 0 || 1;
  const rand = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) >>> 24) & 0xff;
  const written: { table: StoreTable; indexSha256: string }[] = [];
  const files: Record<string, { sha256: string; bytes: number }> = {};
  const rows = new Map<string, Uint8Array>();
  for (const t of TABLES) {
    const file = `store/${t.name}.rows`;
    const index = `store/${t.name}.index`;
    const w = new StoreTableWriter({ ...t, placement: "redis", file, index }, join(dir, file), join(dir, index));
    const bytes = Uint8Array.from({ length: t.rows * t.rowBytes }, rand);
    // In uneven pieces, as a backend streams them.
    for (let at = 0; at < bytes.length; at += 37 * t.rowBytes) w.write(bytes.subarray(at, Math.min(bytes.length, at + 37 * t.rowBytes)));
    const done = w.finish();
    written.push(done);
    rows.set(t.name, bytes);
    files[file] = { sha256: done.rowsSha256, bytes: bytes.length };
    files[index] = { sha256: done.indexSha256, bytes: statSync(join(dir, index)).size };
  }
  const version = storeVersion(written);
  const tables = written.map((w) => w.table);
  const store = { format: STORE_FORMAT, version, tables, stagingRows: 64 };
  writeFileSync(join(dir, "manifest.json"), JSON.stringify({ format: 2, store, files }, null, 2));
  const crcs = new Map(tables.map((t) => [t.name, indexCrcs(readFileSync(join(dir, t.index)), t.blocks)]));
  return { dir, version, tables, rows, crcs };
}

let cluster: TestCluster;
let a: Artifact;
let b: Artifact;
const stores: RedisStore[] = [];

const open = async (art: Artifact, o: Partial<RedisStoreOptions> = {}): Promise<RedisStore> => {
  const s = await RedisStore.open({
    nodes: cluster.nodes.slice(0, 2),
    version: art.version,
    tables: art.tables,
    crcs: art.crcs,
    cacheBytes: 0,
    ...o,
  });
  stores.push(s);
  return s;
};

/** Reads `ids` of table `t` and compares them with the rows file, byte for byte. */
async function expectRows(s: RedisStore, art: Artifact, t: StoreTable, ids: number[]): Promise<void> {
  const out = new Uint8Array(ids.length * t.rowBytes);
  await s.getRows(t, ids, out);
  const want = new Uint8Array(out.length);
  const file = art.rows.get(t.name)!;
  ids.forEach((id, i) => want.set(file.subarray(id * t.rowBytes, (id + 1) * t.rowBytes), i * t.rowBytes));
  expect(Buffer.compare(Buffer.from(out), Buffer.from(want)), `rows of ${t.name}`).toBe(0);
}

const someIds = (t: StoreTable, n: number, seed: number): number[] => Array.from({ length: n }, (_, i) => (i * 7919 + seed * 104729) % t.rows);

async function rejection(p: Promise<unknown>): Promise<RmcError> {
  const e = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(e).toBeInstanceOf(RmcError);
  return e as RmcError;
}

// On a developer machine without redis-server, RMC_SKIP_REDIS=1 skips these; CI never does (.ci/run installs it).
describe.skipIf(process.env.RMC_SKIP_REDIS === "1")("the Redis store on a real Redis Cluster", () => {
  beforeAll(async () => {
    cluster = await startCluster();
    a = makeArtifact(1);
    b = makeArtifact(2);
  });

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    cluster?.stop();
    for (const art of [a, b]) if (art) rmSync(art.dir, { recursive: true, force: true });
  });

  describe("Redis Cluster plumbing", () => {
    it("computes the slot Redis computes (CLUSTER KEYSLOT), hash tags included", () => {
      for (const key of ["foo", "123456789", "{user1000}.following", blockKey("0123456789abcdef", "emb.0.weight", 17)])
        expect(keySlot(key), key).toBe(Number(cluster.cli(cluster.masters()[0]!, "cluster", "keyslot", key).trim()));
    });

    it("reads redis://host:port[,host:port…] and refuses anything else with E1744 and the expected form", () => {
      expect(parseRedisUrl("redis://127.0.0.1:7000,10.0.0.2:7001")).toEqual(["127.0.0.1:7000", "10.0.0.2:7001"]);
      for (const bad of ["127.0.0.1:7000", "redis://", "redis://host", "redis://h:99999", "http://h:1", "redis://a:1,,b:2"]) {
        const e = (() => {
          try {
            parseRedisUrl(bad);
          } catch (e) {
            return e as RmcError;
          }
        })();
        expect(e?.diagnostics[0]?.code, bad).toBe("E1744");
        expect(e?.diagnostics[0]?.hint).toContain("redis://host:port");
      }
    });
  });

  describe("push, check and read", () => {
    it("pushes every block, then the meta key, reporting progress", async () => {
      const seen: TransferProgress[] = [];
      // Small batches: several batches per table, several in flight.
      const r = await pushStore(a.dir, cluster.nodes, (p) => seen.push(p), { batchBytes: 20 * 1024 });
      const blocks = a.tables.reduce((n, t) => n + t.blocks, 0);
      expect(r).toMatchObject({
        version: a.version,
        tables: 4,
        blocks,
        bytes: TABLES.reduce((n, t) => n + t.rows * t.rowBytes, 0),
        replicasBehind: 0,
      });
      expect(seen.at(-1)).toEqual({ blocks, totalBlocks: blocks, bytes: r.bytes, totalBytes: r.bytes });
      expect(seen.length).toBeGreaterThan(4);
      const c = await checkStore(a.dir, cluster.nodes);
      expect(c).toMatchObject({ meta: "complete", missing: [], corrupt: [], blocks });
    });

    it("returns exactly the rows written, for every row size, through a cache smaller than one call", async () => {
      const s = await open(a, { cacheBytes: 2000 });
      for (const t of a.tables) {
        await expectRows(s, a, t, someIds(t, 300, 1));
        await expectRows(s, a, t, [t.rows - 1, 0, t.rows - 1, 5, 5]); // the short last block, duplicates
        await expectRows(s, a, t, someIds(t, 300, 1)); // again, partly from the cache
      }
      const st = s.stats();
      expect(st.hits).toBeGreaterThan(0);
      expect(st.hits).toBeLessThan(st.rows);
    });

    it("reads from masters only when replica reads are off, with the same bytes", async () => {
      const s = await open(a, { replicaReads: false, cacheBytes: 1 << 20 });
      for (const t of a.tables) await expectRows(s, a, t, someIds(t, 500, 3));
    });

    it("is idempotent: pushing again leaves the same state", async () => {
      await pushStore(a.dir, cluster.nodes);
      expect(await checkStore(a.dir, cluster.nodes)).toMatchObject({ meta: "complete", missing: [], corrupt: [] });
    });
  });

  describe("a compiled model reading its tables from the cluster", () => {
    it("predicts as the all-in-memory artifact; another version's store is refused", async () => {
      const dir = mkdtempSync(join(tmpdir(), "rmc-redis-model-"));
      const model = "examples/dlrm_kaggle_small.rmdl";
      const w = join(dir, "w.safetensors");
      const d = join(dir, "d.tsv");
      expect((await rmc("init-weights", model, "--seed", "4", "-o", w)).code).toBe(0);
      expect((await rmc("gen-data", model, "--weights", w, "--rows", "1500", "--seed", "2", "-o", d)).code).toBe(0);
      const memory = join(dir, "memory");
      const redis = join(dir, "redis");
      expect((await rmc("compile", model, "--weights", w, "-o", memory)).code).toBe(0);
      const c = await rmc("compile", model, "--weights", w, "--store", "redis", "--store-tables", "emb.2.weight,emb.9.weight", "-o", redis);
      expect(c.code, c.err).toBe(0);
      const url = `redis://${cluster.nodes.join(",")}`;
      // Before the push the cluster holds no rows of this version: refused, saying what to run.
      const early = await rmc("run", redis, "--data", d, "--redis", cluster.nodes.join(","), "--threads", "1");
      expect(early.code).not.toBe(0);
      expect(early.err).toMatch(/E1742: .*holds no store version/);
      expect((await rmc("store", "push", redis, "--redis", url)).code).toBe(0);
      const want = join(dir, "want.tsv");
      const got = join(dir, "got.tsv");
      expect((await rmc("run", memory, "--data", d, "--threads", "1", "--predictions", want)).code).toBe(0);
      const r = await rmc("run", redis, "--data", d, "--redis", cluster.nodes.join(","), "--threads", "1", "--predictions", got);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/store: \d+ rows staged/);
      expect(readFileSync(got, "utf8")).toBe(readFileSync(want, "utf8"));
      // A retrained model (other weights, so other rows and another version) does not read this one's rows.
      const w2 = join(dir, "w2.safetensors");
      expect((await rmc("init-weights", model, "--seed", "5", "-o", w2)).code).toBe(0);
      const other = join(dir, "other");
      expect(
        (await rmc("compile", model, "--weights", w2, "--store", "redis", "--store-tables", "emb.2.weight,emb.9.weight", "-o", other)).code,
      ).toBe(0);
      const refused = await rmc("run", other, "--data", d, "--redis", cluster.nodes.join(","), "--threads", "1");
      expect(refused.err).toMatch(/E1742: .*holds no store version .*: it holds .*version/);
      rmSync(dir, { recursive: true, force: true });
    });
  });

  describe("what a store refuses", () => {
    it("refuses a corrupted block naming its table and block; check lists it; push repairs it", async () => {
      const t = a.tables[0]!;
      const key = blockKey(a.version, t.name, 2);
      // Same length, other bytes: only the CRC can tell. WAIT on the same connection: the replicas have it too.
      cluster.script(cluster.masters()[0]!, `SET ${key} ${"x".repeat(t.blockRows * t.rowBytes)}\nWAIT 1 2000\n`);
      const s = await open(a);
      const e = await rejection(s.getRows(t, [2 * t.blockRows + 3], new Uint8Array(t.rowBytes)));
      expect(e.diagnostics[0]!.code).toBe("E1741");
      expect(e.message).toContain(`block 2 of table ${t.name}`);
      expect((await checkStore(a.dir, cluster.nodes)).corrupt).toEqual([{ table: t.name, block: 2 }]);
      cluster.script(cluster.masters()[0]!, `SET ${key} short\nWAIT 1 2000\n`);
      const e2 = await rejection(s.getRows(t, [2 * t.blockRows], new Uint8Array(t.rowBytes)));
      expect(e2.message).toMatch(new RegExp(`block 2 of table ${t.name.replace(/\./g, "\\.")} .* is 5 bytes`));
      await pushStore(a.dir, cluster.nodes);
      await expectRows(await open(a), a, t, [2 * t.blockRows + 3]);
    });

    it("refuses a missing block with E1740 naming table and block", async () => {
      const t = a.tables[1]!;
      cluster.script(cluster.masters()[0]!, `DEL ${blockKey(a.version, t.name, 1)}\nWAIT 1 2000\n`);
      const s = await open(a);
      const e = await rejection(s.getRows(t, [t.blockRows + 1], new Uint8Array(t.rowBytes)));
      expect(e.diagnostics[0]!.code).toBe("E1740");
      expect(e.message).toContain(`block 1 of table ${t.name}`);
      expect((await checkStore(a.dir, cluster.nodes)).missing).toEqual([{ table: t.name, block: 1 }]);
      await pushStore(a.dir, cluster.nodes);
    });

    it("refuses a version the cluster does not hold with E1742, naming the versions it holds", async () => {
      const e = await rejection(open({ ...a, version: "00000000deadbeef" }));
      expect(e.diagnostics[0]!.code).toBe("E1742");
      expect(e.message).toContain("no store version 00000000deadbeef");
      expect(e.message).toContain(a.version);
      expect(e.diagnostics[0]!.hint).toContain("rmc store push");
    });

    it("keeps two versions side by side; dropping one leaves the other readable", async () => {
      expect(b.version).not.toBe(a.version);
      await pushStore(b.dir, cluster.nodes);
      const sb = await open(b);
      for (const t of b.tables) await expectRows(sb, b, t, someIds(t, 100, 5));
      const dropped = await dropStore(b.dir, cluster.nodes);
      expect(dropped.keys).toBe(1 + b.tables.reduce((n, t) => n + t.blocks, 0));
      const e = await rejection(open(b));
      expect(e.diagnostics[0]!.code).toBe("E1742");
      expect(e.message).toContain(a.version);
      expect(e.message).not.toContain(`${b.version},`);
      // A store opened before the drop finds the blocks gone: refused, not wrong.
      const t = b.tables[0]!;
      expect((await rejection(sb.getRows(t, [t.rows - 1], new Uint8Array(t.rowBytes)))).diagnostics[0]!.code).toBe("E1740");
      const sa = await open(a);
      for (const t of a.tables) await expectRows(sa, a, t, someIds(t, 100, 6));
      expect((await checkStore(b.dir, cluster.nodes)).meta).toBe("missing");
    });

    it("refuses an unreachable cluster with E1740 within the timeout", async () => {
      const t0 = Date.now();
      const e = await rejection(open(a, { nodes: ["127.0.0.1:1"], timeoutMs: 500 }));
      expect(["E1740", "E1743"]).toContain(e.diagnostics[0]!.code);
      expect(Date.now() - t0).toBeLessThan(2000);
    });
  });

  describe("rmc store", () => {
    it("push, check and drop through the CLI, exit 1 from check on bad blocks", async () => {
      const url = `redis://${cluster.nodes.slice(0, 3).join(",")}`;
      const push = await rmc("store", "push", b.dir, "--redis", url);
      expect(push.err).toBe("");
      expect(push.code).toBe(0);
      expect(push.out).toMatch(new RegExp(`^pushed store version ${b.version} to Redis Cluster .*: 4 tables, \\d+ blocks`));
      expect(await rmc("store", "check", b.dir, "--redis", url)).toMatchObject({ code: 0, out: expect.stringMatching(/blocks intact/) });
      const t = b.tables[3]!;
      cluster.script(cluster.masters()[0]!, `DEL ${blockKey(b.version, t.name, 0)}\nSET ${blockKey(b.version, t.name, 1)} bad\n`);
      const check = await rmc("store", "check", b.dir, "--redis", url);
      expect(check.code).toBe(1);
      expect(check.out).toContain(`missing: table ${t.name} block 0`);
      expect(check.out).toContain(`corrupted: table ${t.name} block 1`);
      const drop = await rmc("store", "drop", b.dir, "--redis", url);
      expect(drop).toMatchObject({ code: 0, out: expect.stringMatching(new RegExp(`^dropped store version ${b.version} .*: \\d+ keys`)) });
    });

    it("refuses a bad --redis (E1744), a bad action and an artifact without Redis tables", async () => {
      const bad = await rmc("store", "push", a.dir, "--redis", "localhost:7000");
      expect(bad.code).toBe(3);
      expect(bad.err).toMatch(/E1744.*not a Redis Cluster address[\s\S]*redis:\/\/host:port/);
      expect((await rmc("store", "pull", a.dir, "--redis", "redis://h:1")).code).toBe(2);
      const empty = mkdtempSync(join(tmpdir(), "rmc-store-"));
      writeFileSync(join(empty, "manifest.json"), JSON.stringify({ format: 2, files: {} }));
      const none = await rmc("store", "check", empty, "--redis", `redis://${cluster.nodes[0]}`);
      expect(none.code).toBe(3);
      expect(none.err).toContain("E1746");
      rmSync(empty, { recursive: true });
    });
  });

  // Last: it leaves the cluster with one master fewer.
  describe("a master killed mid-run", () => {
    it("reads fail over to a replica and stay right, or fail clearly within the timeout; never wrong, never hung", async () => {
      const timeoutMs = 1500;
      const s = await open(a, { timeoutMs });
      const outcomes = { ok: 0, refused: 0 };
      let killedAt = 0;
      const t0 = Date.now();
      for (let round = 0; Date.now() - t0 < 6000; round++) {
        if (round === 3) {
          cluster.killMaster(0);
          killedAt = Date.now();
        }
        const started = Date.now();
        const t = a.tables[round % a.tables.length]!;
        try {
          await expectRows(s, a, t, someIds(t, 200, round));
          outcomes.ok++;
        } catch (e) {
          // The only acceptable failure is a clear one: a store error, not a mismatch of bytes (expectRows would throw an AssertionError).
          expect(e).toBeInstanceOf(RmcError);
          expect(["E1740", "E1743"]).toContain((e as RmcError).diagnostics[0]!.code);
          outcomes.refused++;
        }
        expect(Date.now() - started, "one call's time").toBeLessThan(timeoutMs + 1000);
      }
      expect(killedAt).toBeGreaterThan(0);
      await cluster.waitHealthy(20_000).catch(() => {}); // the dead master's replica took over (no replica of its own now)
      for (const t of a.tables) await expectRows(s, a, t, someIds(t, 300, 99));
      // And with the whole cluster gone: refused within the timeout, and close() does not wait on it.
      cluster.stop();
      const t1 = Date.now();
      const e = await rejection(s.getRows(a.tables[0]!, someIds(a.tables[0]!, 50, 7), new Uint8Array(50 * 64)));
      expect(["E1740", "E1743"]).toContain(e.diagnostics[0]!.code);
      expect(Date.now() - t1).toBeLessThan(timeoutMs + 500);
      await s.close();
      expect(Date.now() - t1).toBeLessThan(timeoutMs + 1500);
      expect(outcomes.ok, JSON.stringify(outcomes)).toBeGreaterThan(3);
    });
  });
});
