// Runtime: the weight shards of split tables (manifest.ts, ShardEntry). A
// shard's file is read — and checked against its sha256 — only when a
// request first looks up a row it holds, or at load when asked to preload
// (all shards, or all but the cold parts of hot/cold splits). Before each
// batch the ids of every feature that reads a split table are routed to the
// parts holding their rows, exactly as the kernels route them, and the parts
// not yet in memory are loaded; a table whose shards are all in is skipped.

import { RmcError, error } from "../diagnostics/index.js";
import type { FileEntry, InputSignature, Manifest, ShardEntry } from "./manifest.js";
import { RUNTIME_CODES as C } from "./codes.js";
import type { PreparedBatch } from "./inputs.js";

/** Which shards `load` reads at once: none (each on first use, the default), all but cold parts, or all. */
export type ShardPreload = "none" | "hot" | "all";

/** Fills one shard's destination (Wasm memory, a GPU buffer) from its file, checking it; throws on a bad file. */
export type ShardFiller = (shard: ShardEntry) => Promise<void>;

/** The shards of one table and how an id finds its part. */
interface TableShards {
  shards: ShardEntry[];
  /** Hot/cold split: the hot ids, ascending. */
  hot?: readonly number[];
  /** Reading features, as (index of the bags input in the signature, feature). */
  reads: { input: number; feature: number }[];
}

/** Number of entries of an ascending list below `id` (src/ir/tables.ts `hotRank` does the same; the runtime imports nothing outside src/runtime and src/diagnostics). */
function rank(list: readonly number[], id: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The shard of `t` that holds table row `id` (column splits: every shard is needed, so the first is returned and the caller loads all). */
function shardOf(t: TableShards, id: number): ShardEntry | undefined {
  let row = id;
  if (t.hot) {
    const k = rank(t.hot, id);
    if (k < t.hot.length && t.hot[k] === id) return t.shards.find((s) => "hot" in s.holds);
    row = id - k;
  }
  for (const s of t.shards) {
    const h = s.holds;
    const range = "rows" in h ? h.rows : "cold" in h ? h.cold : undefined;
    if (range && row >= range[0] && row < range[1]) return s;
  }
  return undefined;
}

/** Shards of an artifact and which of them are in memory. */
export class ShardSet {
  private readonly loaded = new Set<string>();
  private readonly tables: TableShards[] = [];

  constructor(
    private readonly entries: readonly ShardEntry[],
    inputs: readonly InputSignature[],
    private readonly fill: ShardFiller,
  ) {
    const byTable = new Map<string, ShardEntry[]>();
    for (const s of entries) byTable.set(s.table, [...(byTable.get(s.table) ?? []), s]);
    for (const shards of byTable.values()) {
      const hot = shards.find((s) => "hot" in s.holds);
      const reads = shards[0]!.reads.map((r) => ({ input: inputs.findIndex((i) => i.name === r.input), feature: r.feature }));
      this.tables.push({ shards, reads, ...(hot && "hot" in hot.holds ? { hot: hot.holds.hot } : {}) });
    }
  }

  /** Names of the shards in memory (for tests and tools). */
  get resident(): string[] {
    return this.entries.filter((s) => this.loaded.has(s.name)).map((s) => s.name);
  }

  /** Loads the shards `mode` asks for at load time. */
  async preload(mode: ShardPreload): Promise<void> {
    if (mode === "none") return;
    for (const s of this.entries) if (mode === "all" || !("cold" in s.holds)) await this.load(s);
  }

  /**
   * Loads every shard that a row of `batch` lives in and that is not in memory
   * yet. Returns undefined (no promise to wait for) when every shard is in
   * memory already: the common case, checked once per call.
   */
  ensure(batch: PreparedBatch): Promise<void> | undefined {
    return this.loaded.size === this.entries.length ? undefined : this.ensureSome(batch);
  }

  private async ensureSome(batch: PreparedBatch): Promise<void> {
    for (const t of this.tables) {
      if (t.shards.every((s) => this.loaded.has(s.name))) continue;
      const wanted = new Set<ShardEntry>();
      for (const { input, feature } of t.reads) {
        const bags = batch.inputs[input];
        if (!bags || bags.kind !== "bags") continue;
        const from = bags.starts[feature]!;
        const to = bags.starts[feature + 1]!;
        if (from === to) continue;
        if ("cols" in t.shards[0]!.holds) {
          for (const s of t.shards) wanted.add(s);
          break;
        }
        for (let p = from; p < to; p++) {
          const s = shardOf(t, bags.ids[p]!);
          if (s && !this.loaded.has(s.name)) wanted.add(s);
        }
      }
      for (const s of wanted) await this.load(s);
    }
  }

  private async load(s: ShardEntry): Promise<void> {
    if (this.loaded.has(s.name)) return;
    try {
      await this.fill(s);
    } catch (cause) {
      throw shardLoadError(s, cause);
    }
    this.loaded.add(s.name);
  }
}

type Json = Record<string, unknown>;
const isObject = (x: unknown): x is Json => typeof x === "object" && x !== null && !Array.isArray(x);
const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
const isRange = (x: unknown, most: number): boolean =>
  Array.isArray(x) && x.length === 2 && isCount(x[0]) && isCount(x[1]) && x[0] < x[1] && x[1] <= most;

/** The first thing wrong with a manifest's `shards`, or undefined; `placed` checks a shard's destination for the target. */
export function shardsProblem(
  shards: unknown,
  m: Pick<Manifest, "files"> & { model: { inputs: InputSignature[] } },
  placed: (s: ShardEntry) => string | undefined,
): string | undefined {
  if (shards === undefined) return undefined;
  if (!Array.isArray(shards)) return "`shards` must be a list";
  for (const s of shards as unknown[]) {
    if (!isObject(s) || typeof s.name !== "string" || typeof s.table !== "string" || typeof s.file !== "string" || !isCount(s.rows))
      return `shard ${JSON.stringify(s)?.slice(0, 80)} needs name, table, file and rows`;
    const where = `shard \`${s.name}\``;
    const file = Object.hasOwn(m.files, s.file) ? (m.files as Record<string, FileEntry>)[s.file] : undefined;
    if (!file) return `${where}: its file \`${s.file}\` is not listed in \`files\``;
    const h = s.holds;
    const ok =
      isObject(h) &&
      (isRange(h.rows, s.rows) ||
        isRange(h.cold, s.rows) ||
        isRange(h.cols, Infinity) ||
        (Array.isArray(h.hot) && h.hot.every((x, i, a) => isCount(x) && x < (s.rows as number) && (i === 0 || x > a[i - 1]!))));
    if (!ok) return `${where}: \`holds\` must be rows, cols or cold [start, end) or an ascending hot id list, within the table's ${s.rows} rows`;
    if (!Array.isArray(s.reads) || s.reads.length === 0) return `${where}: \`reads\` must list the bag features that read it`;
    for (const r of s.reads as unknown[]) {
      const input = isObject(r) ? m.model.inputs.find((i) => i.name === r.input) : undefined;
      if (!input || input.kind !== "bags" || !isCount((r as Json).feature) || ((r as Json).feature as number) >= input.count)
        return `${where}: \`reads\` ${JSON.stringify(r)} is not a bag feature of the model`;
    }
    const bad = placed(s as unknown as ShardEntry);
    if (bad) return `${where}: ${bad}`;
  }
  return undefined;
}

/** E1705-style errors carry the shard's file; this names the table too, for the message a request sees. */
export function shardLoadError(s: ShardEntry, cause: unknown): RmcError {
  if (cause instanceof RmcError) {
    const d = cause.diagnostics[0]!;
    const message = `${d.message} (shard ${s.name} of table ${s.table}, loaded on first use)`;
    return new RmcError({ code: d.code, severity: "error", message, ...(d.hint ? { hint: d.hint } : {}) });
  }
  return new RmcError(error(C.fileMissing, `shard ${s.name} of table ${s.table}: ${(cause as Error).message}`));
}
