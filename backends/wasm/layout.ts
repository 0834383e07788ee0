// Wasm backend, step 2 of 4: where each weight lives in linear memory and in
// which form the kernels want it. Dense layers are packed into panels of
// PANEL output columns (`[k][PANEL]`, zero-padded; f32, or f16/bf16 bit
// patterns), so the GEMM loads one vector per column group per k; int8 layers
// into k-pair panels for `i32x4.dot_i16x8_s`, followed by their scales (int8a7
// into k-quad panels, `panels-i8q`, with scales and zero-point corrections);
// biases are padded to whole panels; tables keep one row per id, in f32 or
// f16 (padded to whole vectors) or FBGEMM's row-wise int8/int4/int2 bytes.
// The parts of split tables (split-tables) come last, each a shard with an
// address range of its own that its own file fills (weights.bin holds the
// rest); a hot part's ids stay in weights.bin — as a rank bitmap of the
// table's rows, or as the ascending id list where that is smaller — since
// every lookup of its table consults them. Files are streamed row by row,
// never built whole in memory.

import { closeSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { RmcError, error } from "../../src/diagnostics/index.js";
import type { Graph, WeightDecl } from "../../src/ir/types.js";
import type { Tensor, WeightStore } from "../../src/weights/store.js";
import { f32ToBf16, f32ToF16 } from "../../src/quant/half.js";
import { type RowFormat, type RowRange, quantizeRow, rowBytes } from "../../src/quant/rowwise.js";
import { rowRangeOf } from "../../src/ir/attrs.js";
import { nodeTables } from "../../src/ir/tables.js";
import { quantizeInt8Weights, toBf16, toF16, smoothMultipliers, smoothWeights } from "../../src/quant/dense.js";
import { prequantizedIn } from "../../src/weights/prequantized.js";
import { tempPath } from "../../src/util/fs.js";
import type { Step } from "../schedule.js";
import { precisionOf } from "../../src/ir/attrs.js";

/** Output columns per GEMM panel (two f32x4 vectors). */
export const PANEL = 8;
/** Where the weights blob starts in linear memory. */
export const WEIGHTS_OFFSET = 64;
/** Wasm32 can address 4 GiB; keep room for workspaces. */
export const MAX_MEMORY = 4 * 2 ** 30;

/** How a table's rows are stored. */
export type TableFormat = "fp32" | "fp16" | RowFormat;
/** Element type of dense weight panels. */
export type PanelElement = "f32" | "f16" | "bf16";

/** How one weight is stored. */
export type WeightForm =
  | { kind: "panels"; rows: number; cols: number; element: PanelElement } // [out=rows, in=cols] → ceil(rows/PANEL) panels of [cols][PANEL]
  | { kind: "panels-i8"; rows: number; cols: number; scalesAt: number; smooth?: readonly number[]; mulAt?: number } // int8: panels of [ceil(cols/2)][PANEL][2] bytes of the (smoothed) weights, then f32 scales (padded to panels) at byte scalesAt; a smoothed layer then has its activation multipliers 1/s (f32, padded to 4) at byte mulAt
  | { kind: "panels-i8q"; rows: number; cols: number; scalesAt: number; corrAt: number } // int8a7: panels of [ceil(cols/4)][PANEL][4] bytes, then f32 scales and i32 −64·Σw at byte scalesAt and corrAt (each padded to panels)
  | { kind: "vector"; length: number; round: "fp32" | "fp16" | "bf16" } // bias (values rounded to `round`), padded to whole panels
  | { kind: "table"; rows: number; dim: number; format: TableFormat; rowBytes: number; range: RowRange } // range: how n-bit rows were given their scale and bias
  | { kind: "ids"; ids: readonly number[]; tableRows: number }; // a hot part's table rows, ascending, in hotIdsBytes's form (a rank bitmap, or the blocked list of u16 or i32 by tableRows)

export interface PlacedWeight {
  name: string;
  /** Absolute address in linear memory. */
  offset: number;
  bytes: number;
  form: WeightForm;
  /** The precision it is stored at (a table's, or its layer's). */
  precision: string;
  /** A part of a split table: its bytes are a shard file of their own, loaded into its range when first used. */
  shard?: boolean;
  /** A staging table (backends/staging.ts): an address range the runtime fills per call; no file holds it. */
  staging?: boolean;
}

export interface WeightLayout {
  weights: Map<string, PlacedWeight>;
  /** Bytes of every weight's range, shards included, from WEIGHTS_OFFSET. */
  bytes: number;
  /** Bytes of weights.bin: everything but the shards, from WEIGHTS_OFFSET. */
  blobBytes: number;
  /** The shards, in address order (after the blob). */
  shards: PlacedWeight[];
  /** The staging tables, in address order (after the shards). */
  staging: PlacedWeight[];
}

/** The key a hot part's id list is placed under. */
export const hotIdsKey = (part: string): string => `${part}#ids`;

/** Hot ids per block of the embedding kernel's two-level search. */
export const HOT_BLOCK = 16;

/** Bytes per hot id: 2 when every id the table can be asked for is below the 16-bit padding value (up to 65,535 rows), else 4. */
export const hotIdBytes = (tableRows: number): 2 | 4 => (tableRows <= 0xffff ? 2 : 4);

/** Where a hot list's pivots (each block's last id) start, after the ids padded to whole blocks: in bytes, for ids of `idBytes` each. */
export const hotPivotsAt = (count: number, idBytes: number): number => Math.ceil(count / HOT_BLOCK) * HOT_BLOCK * idBytes;

/** Table rows per group of a hot part's rank bitmap. */
export const RANK_GROUP = 64;
/** Bytes per group of a rank bitmap: 64 bits (bit r: row 64g + r is hot), then the number of hot rows before the group (u32). */
export const RANK_GROUP_BYTES = 12;

/**
 * How the embedding kernel finds a hot id: `rank`, a bitmap of the table's
 * rows with a running count (one load, a bit test and a popcount per id), when
 * that is no bigger than the id list; else `list`, the ascending ids searched
 * by SIMD counts (or by binary search past 32 blocks).
 */
export function hotSearchForm(count: number, tableRows: number): "rank" | "list" {
  return Math.ceil(tableRows / RANK_GROUP) * RANK_GROUP_BYTES <= hotListBytes(count, tableRows) ? "rank" : "list";
}

/** Bytes of a hot part's id list in the `list` form (hotIdsBytes). */
const hotListBytes = (count: number, tableRows: number): number => {
  const idBytes = hotIdBytes(tableRows);
  return hotPivotsAt(count, idBytes) + align(Math.ceil(count / HOT_BLOCK), 16 / idBytes) * idBytes;
};

/**
 * A hot part's ids in the form hotSearchForm picks: the rank bitmap (groups of
 * RANK_GROUP table rows, RANK_GROUP_BYTES each, little-endian), or the list of
 * listIdsBytes.
 */
export function hotIdsBytes(ids: readonly number[], tableRows: number): Uint8Array {
  if (hotSearchForm(ids.length, tableRows) === "list") return listIdsBytes(ids, tableRows);
  const groups = Math.ceil(tableRows / RANK_GROUP);
  const out = new Uint8Array(groups * RANK_GROUP_BYTES);
  const view = new DataView(out.buffer);
  let before = 0;
  let k = 0;
  for (let g = 0; g < groups; g++) {
    let bits = 0n;
    for (; k < ids.length && ids[k]! < (g + 1) * RANK_GROUP; k++) bits |= 1n << BigInt(ids[k]! - g * RANK_GROUP);
    view.setBigUint64(g * RANK_GROUP_BYTES, bits, true);
    view.setUint32(g * RANK_GROUP_BYTES + 8, before, true);
    before = k;
  }
  return out;
}

/**
 * A hot part's ascending ids for the two-level SIMD search (kernels/embedding.ts),
 * as u16 or i32 (hotIdBytes): the ids padded to whole blocks of HOT_BLOCK, then
 * each block's last id (the block's pivot), padded to a whole 16-byte vector.
 * Padding is the largest value (0xffff, or 0x7fffffff for i32), above every row
 * id, so a search never counts it as below a key.
 */
function listIdsBytes(ids: readonly number[], tableRows: number): Uint8Array {
  const blocks = Math.ceil(ids.length / HOT_BLOCK);
  const pivotsAt = hotPivotsAt(ids.length, 1);
  const idBytes = hotIdBytes(tableRows);
  const length = hotListBytes(ids.length, tableRows) / idBytes;
  const out = idBytes === 4 ? new Int32Array(length).fill(0x7fffffff) : new Uint16Array(length).fill(0xffff);
  out.set(ids);
  for (let b = 0; b < blocks; b++) out[pivotsAt + b] = out[b * HOT_BLOCK + HOT_BLOCK - 1]!;
  return new Uint8Array(out.buffer);
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;
const panels = (rows: number): number => Math.ceil(rows / PANEL);
/** Bytes of one k-pair of an int8 panel: PANEL outputs × 2 inputs. */
export const I8_PAIR_BYTES = PANEL * 2;
/** Bytes of one k-group of an int8a7 panel: PANEL outputs × 4 inputs. */
export const I8Q_GROUP_BYTES = PANEL * 4;

/**
 * Bytes from one table row to the next. fp32/fp16 rows are padded to whole
 * vectors (aligned loads); row-wise quantized rows are packed tightly, exactly
 * as FBGEMM (and a PyTorch-prequantized tensor) lays them out, because Wasm
 * loads need no alignment and padding an int4 row of dim 16 (12 bytes) to 16
 * would cost a third more memory for no measurable gain.
 */
export function tableRowBytes(format: TableFormat, dim: number): number {
  if (format === "fp32") return align(dim, 4) * 4;
  if (format === "fp16") return align(dim, 4) * 2;
  return rowBytes(format, dim);
}

/** A table's form at `precision` (its rows as the kernels read them, padded as tableRowBytes says). */
export const tableForm = (decl: WeightDecl, precision: string): Extract<WeightForm, { kind: "table" }> =>
  formOf(decl, precision) as Extract<WeightForm, { kind: "table" }>;

/** The form a weight takes at `precision`: tables keep rows, matrices become panels (f32/f16/bf16 or int8), vectors padded. */
export function formOf(decl: WeightDecl, precision: string, smooth?: readonly number[]): WeightForm {
  const [rows, cols] = decl.shape as [number, number];
  if (decl.role === "table")
    return {
      kind: "table",
      rows,
      dim: cols,
      format: precision as TableFormat,
      rowBytes: tableRowBytes(precision as TableFormat, cols),
      range: rowRangeOf(decl),
    };
  if (decl.shape.length === 1) return { kind: "vector", length: rows, round: precision === "fp16" || precision === "bf16" ? precision : "fp32" };
  if (precision === "int8a7") {
    const scalesAt = panels(rows) * Math.ceil(cols / 4) * I8Q_GROUP_BYTES;
    return { kind: "panels-i8q", rows, cols, scalesAt, corrAt: scalesAt + panels(rows) * PANEL * 4 };
  }
  if (precision === "int8") {
    const scalesAt = panels(rows) * Math.ceil(cols / 2) * I8_PAIR_BYTES;
    return { kind: "panels-i8", rows, cols, scalesAt, ...(smooth ? { smooth, mulAt: scalesAt + panels(rows) * PANEL * 4 } : {}) };
  }
  return { kind: "panels", rows, cols, element: precision === "fp16" ? "f16" : precision === "bf16" ? "bf16" : "f32" };
}

function formBytes(f: WeightForm): number {
  if (f.kind === "panels") return panels(f.rows) * PANEL * f.cols * (f.element === "f32" ? 4 : 2);
  if (f.kind === "panels-i8") return f.scalesAt + panels(f.rows) * PANEL * 4 + (f.smooth ? align(f.cols, 4) * 4 : 0);
  if (f.kind === "panels-i8q") return f.corrAt + panels(f.rows) * PANEL * 4;
  if (f.kind === "vector") return panels(f.length) * PANEL * 4;
  if (f.kind === "ids") return hotIdsBytes(f.ids, f.tableRows).byteLength;
  return f.rows * f.rowBytes;
}

/** One weight to place, with its form. */
interface Wanted {
  name: string;
  form: WeightForm;
  precision: string;
  shard: boolean;
  staging: boolean;
}

/** Every weight the steps read, in step order: the blob's first, then the shards (hot parts' id lists go to the blob). */
function wantedWeights(graph: Graph, steps: Step[]): Wanted[] {
  const decls = new Map(graph.weights.map((w) => [w.name, w]));
  const seen = new Map<string, Wanted>();
  const blob: Wanted[] = [];
  const shards: Wanted[] = [];
  const staging: Wanted[] = [];
  for (const step of steps)
    for (const name of step.weights) {
      const decl = decls.get(name)!;
      const precision = step.op === "embedding_bag" ? precisionOf(decl, step.node) : step.precision;
      const placed = seen.get(name);
      if (placed) {
        if (placed.precision !== precision)
          throw new RmcError(
            error(
              "E1815",
              `weight @${name} is read at ${placed.precision} and at ${precision} (node %${step.node.id}); one weight has one stored form`,
              step.span,
              "give the layers that share it one precision",
            ),
          );
        continue;
      }
      const smooth =
        step.op === "linear" && Array.isArray(step.node.attrs.smooth) && decl.role === "weight" ? (step.node.attrs.smooth as number[]) : undefined;
      const shard = decl.attrs.part_of !== undefined;
      const isStaging = decl.attrs.staging !== undefined;
      const w: Wanted = { name, form: formOf(decl, precision, smooth), precision, shard, staging: isStaging };
      seen.set(name, w);
      (isStaging ? staging : shard ? shards : blob).push(w);
      if (Array.isArray(decl.attrs.hot)) {
        const table = nodeTables(step.node, decls).find((t) => t.parts.some((p) => p.decl.name === name))!;
        blob.push({
          name: hotIdsKey(name),
          form: { kind: "ids", ids: decl.attrs.hot as number[], tableRows: table.rows },
          precision: "i32",
          shard: false,
          staging: false,
        });
      }
    }
  return [...blob, ...shards, ...staging];
}

/** Places every weight the steps read; a blob too big for wasm32 is an error naming the largest tables. */
export function layoutWeights(graph: Graph, steps: Step[]): WeightLayout {
  const decls = new Map(graph.weights.map((w) => [w.name, w]));
  const weights = new Map<string, PlacedWeight>();
  let at = WEIGHTS_OFFSET;
  let blobEnd = WEIGHTS_OFFSET;
  for (const w of wantedWeights(graph, steps)) {
    const bytes = formBytes(w.form);
    weights.set(w.name, {
      name: w.name,
      offset: at,
      bytes,
      form: w.form,
      precision: w.precision,
      ...(w.shard ? { shard: true } : {}),
      ...(w.staging ? { staging: true } : {}),
    });
    at = align(at + bytes, 64);
    if (!w.shard && !w.staging) blobEnd = at;
  }
  const total = at - WEIGHTS_OFFSET;
  if (at > MAX_MEMORY - 64 * 2 ** 20) {
    const big = [...weights.values()].sort((a, b) => b.bytes - a.bytes).slice(0, 3);
    throw new RmcError(
      error(
        "E1802",
        `the weights need ${(total / 2 ** 30).toFixed(2)} GiB, more than a wasm32 memory can hold (4 GiB, minus room to run); largest: ${big.map((w) => `${w.name} ${(w.bytes / 2 ** 20).toFixed(0)} MiB`).join(", ")}`,
        decls.get(big[0]!.name)?.span,
        "store tables at lower precision (`@precision(int8)` or `int4` on the table, or `--precision int4`); splitting tables (split-tables) does not help here: all of a Wasm model's weights, shards too, share its one memory",
      ),
    );
  }
  const shards = [...weights.values()].filter((w) => w.shard);
  const staged = [...weights.values()].filter((w) => w.staging);
  return { weights, bytes: total, blobBytes: blobEnd - WEIGHTS_OFFSET, shards, staging: staged };
}

/** Streams the packed blob (every weight but the shards) to `path` (temp file + rename). */
export function writeWeightsBlob(path: string, layout: WeightLayout, store: WeightStore): void {
  writeWeightsFile(
    path,
    [...layout.weights.values()].filter((w) => !w.shard && !w.staging),
    WEIGHTS_OFFSET,
    layout.blobBytes,
    store,
  );
}

/** Streams one shard's bytes to `path` (temp file + rename). */
export function writeShard(path: string, shard: PlacedWeight, store: WeightStore): void {
  writeWeightsFile(path, [shard], shard.offset, shard.bytes, store);
}

/** Writes `weights` at their offsets (minus `base`), zero-padded to `bytes`. */
function writeWeightsFile(path: string, weights: PlacedWeight[], base: number, bytes: number, store: WeightStore): void {
  const tmp = tempPath(path);
  const fd = openSync(tmp, "w");
  try {
    let pos = 0;
    const pad = (to: number) => {
      if (to > pos) writeSync(fd, new Uint8Array(to - pos));
      pos = Math.max(pos, to);
    };
    for (const w of weights) {
      pad(w.offset - base);
      for (const chunk of packWeight(w, store)) {
        writeSync(fd, chunk);
        pos += chunk.byteLength;
      }
    }
    pad(bytes);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    rmSync(tmp, { force: true });
    throw e;
  }
}

const ROUND: Record<"fp32" | "fp16" | "bf16", (x: number) => number> = { fp32: (x) => x, fp16: toF16, bf16: toBf16 };

/** The packed bytes of one weight, in chunks (tables a few thousand rows at a time). */
export function* packWeight(w: PlacedWeight, store: WeightStore): Generator<Uint8Array> {
  if (w.form.kind === "ids") return yield hotIdsBytes(w.form.ids, w.form.tableRows);
  const t = store.get(w.name);
  if (!t) throw new RmcError(`weight \`${w.name}\` is missing from the weight store`, "E1803");
  const f = w.form;
  if (f.kind === "panels") yield packPanels(t.toFloat32(), f.rows, f.cols, f.element);
  else if (f.kind === "panels-i8")
    yield* packInt8Panels(f.smooth ? smoothWeights(t.toFloat32(), f.rows, f.cols, f.smooth) : t.toFloat32(), f.rows, f.cols, f.smooth);
  else if (f.kind === "panels-i8q") yield* packI8QPanels(t.toFloat32(), f.rows, f.cols);
  else if (f.kind === "vector") {
    const out = new Float32Array(panels(f.length) * PANEL);
    const src = t.toFloat32();
    for (let i = 0; i < f.length; i++) out[i] = ROUND[f.round](src[i]!);
    yield new Uint8Array(out.buffer);
  } else yield* packTable(t, f);
}

/** [rows, cols] → panels of [cols][PANEL], zero-padded, as f32 or as f16/bf16 bit patterns. */
function packPanels(src: Float32Array, rows: number, cols: number, element: PanelElement): Uint8Array {
  const n = panels(rows) * PANEL * cols;
  const out = element === "f32" ? new Float32Array(n) : new Uint16Array(n);
  const narrow = element === "f16" ? f32ToF16 : element === "bf16" ? f32ToBf16 : (x: number) => x;
  for (let r = 0; r < rows; r++) {
    const p = Math.floor(r / PANEL);
    const c = r % PANEL;
    for (let k = 0; k < cols; k++) out[(p * cols + k) * PANEL + c] = narrow(src[r * cols + k]!);
  }
  return new Uint8Array(out.buffer);
}

/**
 * int8 weights for `i32x4.dot_i16x8_s`: per panel and per pair of inputs
 * (k, k+1), 16 bytes = PANEL outputs × (k, k+1), so extending the low half
 * to i16 gives outputs 0-3 and the high half outputs 4-7, each lane pair
 * ready to multiply with the activations' (k, k+1). An odd `in` is padded with
 * a zero weight. Then the f32 per-channel scales, padded to whole panels.
 */
function* packInt8Panels(src: Float32Array, rows: number, cols: number, smooth?: readonly number[]): Generator<Uint8Array> {
  const { q, scales } = quantizeInt8Weights(src, rows, cols);
  const pairs = Math.ceil(cols / 2);
  const out = new Int8Array(panels(rows) * pairs * I8_PAIR_BYTES);
  for (let r = 0; r < rows; r++) {
    const base = Math.floor(r / PANEL) * pairs * I8_PAIR_BYTES + (r % PANEL) * 2;
    for (let k = 0; k < cols; k++) out[base + (k >> 1) * I8_PAIR_BYTES + (k & 1)] = q[r * cols + k]!;
  }
  yield new Uint8Array(out.buffer);
  const padded = new Float32Array(panels(rows) * PANEL);
  padded.set(scales);
  yield new Uint8Array(padded.buffer);
  if (smooth) {
    const mul = new Float32Array(align(cols, 4));
    mul.set(smoothMultipliers(smooth));
    yield new Uint8Array(mul.buffer);
  }
}

/**
 * int8a7 weights (the int8 quantizer's) for 4-input dots: per panel and per
 * group of inputs 4g..4g+3, 32 bytes: outputs 0-3 then 4-7, each output's 4
 * weights adjacent, so one v128 holds 4 outputs × 4 inputs (kernels/gemm-i7.ts).
 * Inputs past `cols` are zero weights. Then the f32 scales and the i32
 * corrections −64·Σ_k q[o,k], each padded to whole panels.
 */
function* packI8QPanels(src: Float32Array, rows: number, cols: number): Generator<Uint8Array> {
  const { q, scales } = quantizeInt8Weights(src, rows, cols);
  const groups = Math.ceil(cols / 4);
  const out = new Int8Array(panels(rows) * groups * I8Q_GROUP_BYTES);
  const corr = new Int32Array(panels(rows) * PANEL);
  for (let r = 0; r < rows; r++) {
    const base = Math.floor(r / PANEL) * groups * I8Q_GROUP_BYTES + (r % PANEL) * 4;
    for (let k = 0; k < cols; k++) {
      out[base + (k >> 2) * I8Q_GROUP_BYTES + (k & 3)] = q[r * cols + k]!;
      corr[r] = corr[r]! - 64 * q[r * cols + k]!;
    }
  }
  const padded = new Float32Array(panels(rows) * PANEL);
  padded.set(scales);
  yield new Uint8Array(out.buffer);
  yield new Uint8Array(padded.buffer);
  yield new Uint8Array(corr.buffer);
}

/** A table's rows in its format: f32 or f16 padded to vectors, or FBGEMM row-wise bytes (a prequantized tensor's own bytes). */
export function* packTable(t: Tensor, f: Extract<WeightForm, { kind: "table" }>): Generator<Uint8Array> {
  const rowsPerChunk = Math.max(1, Math.floor((4 << 20) / f.rowBytes));
  const row = new Float32Array(f.dim);
  const stored = f.format === "fp32" || f.format === "fp16" ? undefined : prequantizedIn(t, f.format);
  for (let r0 = 0; r0 < f.rows; r0 += rowsPerChunk) {
    const n = Math.min(rowsPerChunk, f.rows - r0);
    const out = new Uint8Array(n * f.rowBytes);
    const f32s = f.format === "fp32" ? new Float32Array(out.buffer) : undefined;
    const f16s = f.format === "fp16" ? new Uint16Array(out.buffer) : undefined;
    for (let r = 0; r < n; r++) {
      if (stored) {
        stored.readRowBytes(r0 + r, out, r * f.rowBytes);
        continue;
      }
      t.readRow(r0 + r, row, 0);
      if (f32s) f32s.set(row, (r * f.rowBytes) / 4);
      else if (f16s) for (let d = 0; d < f.dim; d++) f16s[(r * f.rowBytes) / 2 + d] = f32ToF16(row[d]!);
      else quantizeRow(f.format as RowFormat, row, out, r * f.rowBytes, f.range);
    }
    yield out;
  }
}
