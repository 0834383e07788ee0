// Wasm backend, step 2 of 4: where each weight lives in linear memory and in
// which form the kernels want it. Dense layers are packed into panels of
// PANEL output columns (`[k][PANEL]`, zero-padded), so the GEMM loads one
// vector per column group per k; biases are padded to whole panels; tables
// keep one row per id, padded to whole vectors, in f32 or f16. The blob is
// streamed to weights.bin row by row, never built whole in memory.

import { closeSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { RmcError, error } from "../../src/diagnostics.js";
import type { Graph, WeightDecl } from "../../src/ir/types.js";
import type { WeightStore } from "../../src/weights/store.js";
import { f16ToF32, f32ToF16 } from "../../src/weights/dtypes.js";
import { tempPath } from "../../src/util/fs.js";
import type { Step } from "./schedule.js";
import { weightPrecision } from "../../src/ir/precision.js";

/** Output columns per GEMM panel (two f32x4 vectors). */
export const PANEL = 8;
/** Where the weights blob starts in linear memory. */
export const WEIGHTS_OFFSET = 64;
/** Wasm32 can address 4 GiB; keep room for workspaces. */
export const MAX_MEMORY = 4 * 2 ** 30;

/** How one weight is stored. */
export type WeightForm =
  | { kind: "panels"; rows: number; cols: number } // [out=rows, in=cols] matrix → ceil(rows/PANEL) panels of [cols][PANEL]
  | { kind: "vector"; length: number } // bias, padded to whole panels
  | { kind: "table"; rows: number; dim: number; stride: number; f16: boolean }; // stride in elements (multiple of 4)

export interface PlacedWeight {
  name: string;
  /** Absolute address in linear memory. */
  offset: number;
  bytes: number;
  form: WeightForm;
  /** Values rounded to fp16 before use (a precision pin), even when stored as f32. */
  roundF16: boolean;
}

export interface WeightLayout {
  weights: Map<string, PlacedWeight>;
  /** Bytes of the blob (weights.bin), from WEIGHTS_OFFSET. */
  bytes: number;
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;
const panels = (rows: number): number => Math.ceil(rows / PANEL);

/** The form a weight takes: tables keep rows (f16 when stored at fp16), matrices become panels, vectors padded. */
function formOf(decl: WeightDecl, precision: string): WeightForm {
  const [rows, cols] = decl.shape as [number, number];
  if (decl.role === "table") {
    const dim = cols;
    return { kind: "table", rows, dim, stride: align(dim, 4), f16: precision === "fp16" };
  }
  if (decl.shape.length === 1) return { kind: "vector", length: rows };
  return { kind: "panels", rows, cols };
}

function formBytes(f: WeightForm): number {
  if (f.kind === "panels") return panels(f.rows) * PANEL * f.cols * 4;
  if (f.kind === "vector") return panels(f.length) * PANEL * 4;
  return f.rows * f.stride * (f.f16 ? 2 : 4);
}

/** Places every weight the steps read; a blob too big for wasm32 is an error naming the largest tables. */
export function layoutWeights(graph: Graph, steps: Step[]): WeightLayout {
  const decls = new Map(graph.weights.map((w) => [w.name, w]));
  const weights = new Map<string, PlacedWeight>();
  let at = WEIGHTS_OFFSET;
  for (const step of steps)
    for (const name of step.weights) {
      if (weights.has(name)) continue;
      const decl = decls.get(name)!;
      const precision = weightPrecision(decl, step.node);
      const form = formOf(decl, precision);
      const bytes = formBytes(form);
      // Dense layers at fp16 keep f32 storage for now (fp16 loads come with the quantization work); their values are rounded.
      weights.set(name, { name, offset: at, bytes, form, roundF16: precision === "fp16" && form.kind !== "table" });
      at = align(at + bytes, 64);
    }
  const total = at - WEIGHTS_OFFSET;
  if (at > MAX_MEMORY - 64 * 2 ** 20) {
    const big = [...weights.values()].sort((a, b) => b.bytes - a.bytes).slice(0, 3);
    throw new RmcError(
      error(
        "E1802",
        `the weights need ${(total / 2 ** 30).toFixed(2)} GiB, more than a wasm32 memory can hold (4 GiB, minus room to run); largest: ${big.map((w) => `${w.name} ${(w.bytes / 2 ** 20).toFixed(0)} MiB`).join(", ")}`,
        decls.get(big[0]!.name)?.span,
        "store tables at lower precision (`@precision(fp16)` on the table) or split them across artifacts (the split-tables pass)",
      ),
    );
  }
  return { weights, bytes: total };
}

/** Streams the packed blob to `path` (temp file + rename). */
export function writeWeightsBlob(path: string, layout: WeightLayout, store: WeightStore): void {
  const tmp = tempPath(path);
  const fd = openSync(tmp, "w");
  try {
    let pos = 0;
    const pad = (to: number) => {
      if (to > pos) writeSync(fd, new Uint8Array(to - pos));
      pos = Math.max(pos, to);
    };
    for (const w of layout.weights.values()) {
      pad(w.offset - WEIGHTS_OFFSET);
      for (const chunk of packWeight(w, store)) {
        writeSync(fd, chunk);
        pos += chunk.byteLength;
      }
    }
    pad(layout.bytes);
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

const toF16Value = (x: number): number => f16ToF32(f32ToF16(x));

/** The packed bytes of one weight, in chunks (tables a few thousand rows at a time). */
export function* packWeight(w: PlacedWeight, store: WeightStore): Generator<Uint8Array> {
  const t = store.get(w.name);
  if (!t) throw new RmcError(`weight \`${w.name}\` is missing from the weight store`, "E1803");
  const f = w.form;
  const round = w.roundF16 ? toF16Value : (x: number) => x;
  if (f.kind === "panels") {
    const src = t.toFloat32();
    const out = new Float32Array(panels(f.rows) * PANEL * f.cols);
    for (let r = 0; r < f.rows; r++) {
      const p = Math.floor(r / PANEL);
      const c = r % PANEL;
      for (let k = 0; k < f.cols; k++) out[(p * f.cols + k) * PANEL + c] = round(src[r * f.cols + k]!);
    }
    yield new Uint8Array(out.buffer);
    return;
  }
  if (f.kind === "vector") {
    const out = new Float32Array(panels(f.length) * PANEL);
    const src = t.toFloat32();
    for (let i = 0; i < f.length; i++) out[i] = round(src[i]!);
    yield new Uint8Array(out.buffer);
    return;
  }
  const rowsPerChunk = Math.max(1, Math.floor((4 << 20) / (f.stride * 4)));
  const row = new Float32Array(f.dim);
  for (let r0 = 0; r0 < f.rows; r0 += rowsPerChunk) {
    const n = Math.min(rowsPerChunk, f.rows - r0);
    const out = f.f16 ? new Uint16Array(n * f.stride) : new Float32Array(n * f.stride);
    for (let r = 0; r < n; r++) {
      t.readRow(r0 + r, row, 0);
      for (let d = 0; d < f.dim; d++) out[r * f.stride + d] = f.f16 ? f32ToF16(row[d]!) : row[d]!;
    }
    yield new Uint8Array(out.buffer);
  }
}
