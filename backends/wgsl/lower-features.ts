// WGSL backend, lowering of the feature ops: embedding bags (a node's tables
// in as few weights buffers as the binding limit allows, one step per buffer
// and storage format; split tables through their parts, one buffer each), the dot and cat interactions, concat (steps of up to
// seven inputs each; a dot interaction with more inputs first gathers them
// into one scratch buffer), and standalone relu/sigmoid/tanh.

import { dotInteractionWidth } from "../../src/ir/ops.js";
import { rowRangeOf, precisionOf } from "../../src/ir/attrs.js";
import { type RowFormat, type RowRange, rowBytes } from "../../src/quant/rowwise.js";
import type { Step } from "../schedule.js";
import type { Lowering } from "./lowering.js";
import { fixed, perSamples } from "./plan.js";
import { WG } from "./render.js";
import { type BagTable, type TableFormat, renderEmbedding } from "./kernels/embedding.js";
import { MAX_INPUT_BINDINGS, renderCopy, renderDot } from "./kernels/interact.js";
import { type ElementwiseOp, renderElementwise } from "./kernels/elementwise.js";
import { type WeightsBuffer, WGSL_CODES, tableBytes, tableChunks } from "./weights.js";
import { RmcError } from "../../src/diagnostics/index.js";
import { type LogicalTable, type TablePart, nodeTables } from "../../src/ir/tables.js";
import { shardFile } from "../shards.js";
import { type PartRoute, renderGather } from "./kernels/gather.js";

/** (ceil(n/64), B, 1): one invocation per element of a sample's n. */
const perElement = (n: number): [ReturnType<typeof fixed>, ReturnType<typeof fixed>, ReturnType<typeof fixed>] => [
  fixed(Math.ceil(n / WG)),
  perSamples(1),
  fixed(1),
];

interface PlacedTable extends BagTable {
  name: string;
  format: TableFormat;
  /** How its n-bit rows were given their scale and bias. */
  range: RowRange;
  bytes: number;
}

/** The bag buffers and pooling of one embedding_bag node. */
interface BagContext {
  node: Step["node"];
  bags: { offsets: string; ids: string; weights?: string };
  pool: "sum" | "mean" | "max";
  dim: number;
  outW: number;
  out: string;
}

/**
 * embedding_bag: whole tables grouped into buffers under the binding limit,
 * one step per buffer and format; tables split by split-tables read through
 * their parts (each part a buffer filled from its own shard file).
 */
export function lowerEmbeddingBag(ctx: Lowering, step: Step): void {
  const node = step.node;
  const bags = ctx.bags.get(ctx.resolve(step.reads[0]!))!;
  const tables = nodeTables(node, new Map(ctx.graph.weights.map((w) => [w.name, w])));
  const dim = tables[0]?.dim ?? 0;
  const bc: BagContext = { node, bags, pool: node.attrs.pool as BagContext["pool"], dim, outW: ctx.width(step.id), out: ctx.resultBuffer(step) };
  const whole = tables.map((t, slot) => ({ t, slot })).filter(({ t }) => t.layout === "whole");
  if (whole.length > 0) lowerWholeTables(ctx, step, bc, whole);
  const gathered = tables.some((t) => t.layout === "rows" || t.layout === "hot")
    ? ctx.batch.pin(`gather.${node.id}`, { perSample: 0, perId: dim * 4, fixed: 16 })
    : "";
  tables.forEach((t, slot) => {
    if (t.layout === "cols") lowerColumnParts(ctx, step, bc, t, slot);
    else if (t.layout !== "whole") lowerRowParts(ctx, step, bc, t, slot, gathered);
  });
}

function lowerWholeTables(ctx: Lowering, step: Step, bc: BagContext, whole: { t: LogicalTable; slot: number }[]): void {
  const { node, dim } = bc;
  const groups: PlacedTable[][] = [[]];
  let used = 0;
  for (const { t, slot } of whole) {
    const decl = t.parts[0]!.decl;
    // A staging table is a buffer of its own that the runtime writes before each call (backends/staging.ts).
    if (typeof decl.attrs.staging === "string") {
      lowerStagingTable(ctx, step, bc, t, slot, decl.attrs.staging);
      continue;
    }
    const format = precisionOf(decl, node) as TableFormat;
    const bytes = tableBytes(format, t.rows, dim);
    if (used + bytes > ctx.bindingLimit && groups[groups.length - 1]!.length > 0) {
      groups.push([]);
      used = 0;
    }
    groups[groups.length - 1]!.push({
      name: decl.name,
      format,
      range: rowRangeOf(decl),
      bytes,
      rows: t.rows,
      feature: t.feature,
      byteAt: used,
      col: slot * dim,
    });
    used += bytes;
  }
  groups.forEach((tables, g) => {
    const buffer = `tables.${node.id}${groups.length > 1 ? `.${g}` : ""}`;
    ctx.weights.push(tablesBuffer(ctx, buffer, tables, dim));
    for (const format of [...new Set(tables.map((t) => t.format))]) {
      const mine = tables.filter((t) => t.format === format);
      const spec = {
        pool: bc.pool,
        weighted: bc.bags.weights !== undefined,
        dim,
        format,
        outW: bc.outW,
        tables: mine,
        buffers: { ...bc.bags, tables: buffer, out: bc.out },
      };
      const suffix = groups.length > 1 || tables.length !== mine.length ? `${format}${groups.length > 1 ? `-${g}` : ""}` : "";
      const summary = `embedding bags (${spec.pool}${spec.weighted ? ", weighted" : ""}) over ${mine.length} ${format} table(s) of dim ${dim}: ${mine.map((t) => t.name).join(", ")}`;
      ctx.emit(step, suffix, summary, (h) => renderEmbedding(spec, h), perElement(mine.length * dim));
    }
  });
}

/** A staging table: its own buffer, filled per call by the runtime, read like any whole table. */
function lowerStagingTable(ctx: Lowering, step: Step, bc: BagContext, t: LogicalTable, slot: number, table: string): void {
  const decl = t.parts[0]!.decl;
  const format = precisionOf(decl, bc.node) as TableFormat;
  const rowBytesEach = format === "fp32" ? bc.dim * 4 : rowBytes(format as RowFormat, bc.dim);
  const buffer = `staging.${table}`;
  ctx.weights.push({
    name: buffer,
    bytes: Math.max(4, tableBytes(format, t.rows, bc.dim)),
    staging: { table, rows: t.rows, rowBytes: rowBytesEach },
    *chunks() {},
  });
  const tables = [
    {
      name: decl.name,
      format,
      range: rowRangeOf(decl),
      bytes: tableBytes(format, t.rows, bc.dim),
      rows: t.rows,
      feature: t.feature,
      byteAt: 0,
      col: slot * bc.dim,
    },
  ];
  const spec = {
    pool: bc.pool,
    weighted: bc.bags.weights !== undefined,
    dim: bc.dim,
    format,
    outW: bc.outW,
    tables,
    buffers: { ...bc.bags, tables: buffer, out: bc.out },
  };
  const summary = `embedding bags (${spec.pool}${spec.weighted ? ", weighted" : ""}) over the staged rows of ${table} (${format}, dim ${bc.dim})`;
  ctx.emit(step, `staged-${table}`, summary, (h) => renderEmbedding(spec, h), perElement(bc.dim));
}

/** The weights buffer of one part of a split table: its rows, in a shard file of its own. */
function partBuffer(ctx: Lowering, bc: BagContext, part: TablePart): { name: string; format: TableFormat; rows: number; width: number } {
  const decl = part.decl;
  const format = precisionOf(decl, bc.node) as TableFormat;
  const [rows, width] = decl.shape as [number, number];
  const name = `part.${decl.name}`;
  if (!ctx.weights.some((w) => w.name === name))
    ctx.weights.push({
      ...tablesBuffer(
        ctx,
        name,
        [{ name: decl.name, format, range: rowRangeOf(decl), bytes: tableBytes(format, rows, width), rows, feature: 0, byteAt: 0, col: 0 }],
        width,
      ),
      file: shardFile(decl.name),
    });
  return { name, format, rows, width };
}

/** A table split by columns: each part pools its columns of the slot, like a narrower table. */
function lowerColumnParts(ctx: Lowering, step: Step, bc: BagContext, t: LogicalTable, slot: number): void {
  for (const part of t.parts) {
    const buf = partBuffer(ctx, bc, part);
    const spec = {
      pool: bc.pool,
      weighted: bc.bags.weights !== undefined,
      dim: buf.width,
      format: buf.format,
      outW: bc.outW,
      tables: [{ rows: buf.rows, feature: t.feature, byteAt: 0, col: slot * bc.dim + part.start }],
      buffers: { ...bc.bags, tables: buf.name, out: bc.out },
    };
    ctx.emit(
      step,
      `${part.decl.name}`,
      `embedding bags (${bc.pool}) over columns ${part.start}..${part.end - 1} of ${t.name} (${buf.format})`,
      (h) => renderEmbedding(spec, h),
      perElement(buf.width),
    );
  }
}

/** A table split by rows (or hot/cold): every part gathers the rows of its ids, then one step pools them in bag order. */
function lowerRowParts(ctx: Lowering, step: Step, bc: BagContext, t: LogicalTable, slot: number, gathered: string): void {
  const hotIds = t.layout === "hot" ? t.parts[0]!.hot! : undefined;
  const hot = hotIds ? `hot.${t.name}` : undefined;
  if (hotIds && hot && !ctx.weights.some((w) => w.name === hot)) {
    const words = Uint32Array.from(hotIds);
    ctx.weights.push({
      name: hot,
      bytes: words.byteLength,
      *chunks() {
        yield new Uint8Array(words.buffer);
      },
    });
  }
  for (const part of t.parts) {
    const buf = partBuffer(ctx, bc, part);
    const route: PartRoute =
      part.kind === "hot"
        ? { kind: "hot", count: hotIds!.length }
        : part.kind === "cold"
          ? { kind: "cold", start: part.start, end: part.end, count: hotIds!.length }
          : { kind: "rows", start: part.start, end: part.end };
    const spec = {
      dim: bc.dim,
      format: buf.format,
      feature: t.feature,
      rows: buf.rows,
      route,
      buffers: { offsets: bc.bags.offsets, ids: bc.bags.ids, tables: buf.name, ...(hot ? { hot } : {}), out: gathered },
    };
    ctx.emit(
      step,
      `gather-${part.decl.name}`,
      `gather the rows of ${t.name} that ${part.decl.name} holds (${buf.format})`,
      (h) => renderGather(spec, h),
      perElement(bc.dim),
    );
  }
  const spec = {
    pool: bc.pool,
    weighted: bc.bags.weights !== undefined,
    dim: bc.dim,
    format: "fp32" as const,
    outW: bc.outW,
    tables: [{ rows: t.rows, feature: t.feature, byteAt: 0, col: slot * bc.dim }],
    buffers: { ...bc.bags, tables: gathered, out: bc.out },
    gathered: true,
  };
  ctx.emit(
    step,
    `pool-${t.name}`,
    `embedding bags (${bc.pool}) over the gathered rows of ${t.name}`,
    (h) => renderEmbedding(spec, h),
    perElement(bc.dim),
  );
}

function tablesBuffer(ctx: Lowering, name: string, tables: PlacedTable[], dim: number): WeightsBuffer {
  const bytes = tables.reduce((n, t) => n + t.bytes, 0);
  return {
    name,
    bytes: Math.max(4, bytes),
    *chunks() {
      for (const t of tables) {
        const tensor = ctx.store.get(t.name);
        if (!tensor) throw new RmcError(`table \`${t.name}\` is missing from the weight store`, WGSL_CODES.missingWeight);
        yield* tableChunks(tensor, t.format, t.rows, dim, t.range);
      }
      if (bytes === 0) yield new Uint8Array(4);
    },
  };
}

/** Copies `ids` side by side into `out` from column `start`, in steps of up to seven inputs. */
function copyInto(ctx: Lowering, step: Step, ids: string[], out: string, outW: number, label: string, start = 0): void {
  for (let i = 0, col = start; i < ids.length; i += MAX_INPUT_BINDINGS) {
    const inputs = ids.slice(i, i + MAX_INPUT_BINDINGS).map((id) => ({ buffer: ctx.bufferOf(id), width: ctx.width(id) }));
    const width = inputs.reduce((n, x) => n + x.width, 0);
    const spec = { inputs, col, outW, out };
    const suffix = ids.length > MAX_INPUT_BINDINGS ? `${label}${i / MAX_INPUT_BINDINGS}` : label;
    ctx.emit(
      step,
      suffix,
      `copy ${inputs.length} input(s) into columns ${col}..${col + width - 1} of ${outW}`,
      (h) => renderCopy(spec, h),
      perElement(width),
    );
    col += width;
  }
}

/** concat: inputs side by side. */
export function lowerConcat(ctx: Lowering, step: Step): void {
  copyInto(ctx, step, step.reads, ctx.resultBuffer(step), ctx.width(step.id), "");
}

/**
 * interact: cat is a concat; dot reads its inputs directly when they fit the
 * bindings, else from a gathered copy. Tail operands (fuse-interaction: a
 * concat folded in) are copied after the interaction's columns.
 */
export function lowerInteract(ctx: Lowering, step: Step): void {
  const outW = ctx.width(step.id);
  if (step.node.attrs.op === "cat") return copyInto(ctx, step, step.reads, ctx.resultBuffer(step), outW, "");
  const tail = typeof step.node.attrs.tail === "number" ? step.node.attrs.tail : 0;
  const reads = step.reads.slice(0, step.reads.length - tail);
  const d = ctx.width(reads[0]!);
  const self = step.node.attrs.self === true;
  const out = ctx.resultBuffer(step);
  const vectors = reads.reduce((n, id) => n + ctx.width(id) / d, 0);
  const width = dotInteractionWidth(d, vectors, self);
  const summary = `dot interaction of ${reads.length} inputs, dim ${d}${self ? ", with self" : ""}`;
  if (reads.length <= MAX_INPUT_BINDINGS) {
    const inputs = reads.map((id) => ({ buffer: ctx.bufferOf(id), vectors: ctx.width(id) / d }));
    const spec = { dim: d, inputs, self, outW, width, out };
    ctx.emit(step, "", summary, (h) => renderDot(spec, h), perElement(width));
  } else {
    const total = reads.reduce((n, id) => n + ctx.width(id), 0);
    const gathered = ctx.batch.take(total * 4);
    copyInto(ctx, step, reads, gathered, total, "gather");
    const spec = { dim: d, inputs: [{ buffer: gathered, vectors: total / d }], self, outW, width, out };
    ctx.emit(step, "dot", summary, (h) => renderDot(spec, h), perElement(width));
    ctx.batch.give(gathered);
  }
  if (tail > 0) copyInto(ctx, step, step.reads.slice(reads.length), out, outW, "tail", width);
}

/** relu, sigmoid, tanh on their own. */
export function lowerElementwise(ctx: Lowering, step: Step): void {
  const width = ctx.width(step.id);
  const buffers = { x: ctx.bufferOf(step.reads[0]!), y: ctx.resultBuffer(step) };
  ctx.emit(step, "", `${step.op} over ${width} features`, (h) => renderElementwise(step.op as ElementwiseOp, width, buffers, h), perElement(width));
}
