// WGSL backend, lowering of the feature ops: embedding bags (a node's tables
// in as few weights buffers as the binding limit allows, one step per buffer
// and storage format), the dot and cat interactions, concat (steps of up to
// seven inputs each; a dot interaction with more inputs first gathers them
// into one scratch buffer), and standalone relu/sigmoid/tanh.

import { dotInteractionWidth } from "../../src/ir/ops.js";
import { weightPrecision } from "../../src/ir/precision.js";
import type { Step } from "../wasm/schedule.js";
import type { Lowering } from "./lower.js";
import { fixed, perSamples } from "./plan.js";
import { WG } from "./render.js";
import { type BagTable, type TableFormat, renderEmbedding } from "./kernels/embedding.js";
import { MAX_INPUT_BINDINGS, renderCopy, renderDot } from "./kernels/interact.js";
import { type ElementwiseOp, renderElementwise } from "./kernels/elementwise.js";
import { type WeightsBuffer, WGSL_CODES, tableBytes, tableChunks } from "./weights.js";
import { RmcError } from "../../src/diagnostics.js";

/** (ceil(n/64), B, 1): one invocation per element of a sample's n. */
const perElement = (n: number): [ReturnType<typeof fixed>, ReturnType<typeof fixed>, ReturnType<typeof fixed>] => [fixed(Math.ceil(n / WG)), perSamples(1), fixed(1)];

interface PlacedTable extends BagTable {
  name: string;
  format: TableFormat;
  bytes: number;
}

/** embedding_bag: tables grouped into buffers under the binding limit, one step per buffer and format. */
export function lowerEmbeddingBag(ctx: Lowering, step: Step): void {
  const node = step.node;
  const bags = ctx.bags.get(ctx.resolve(step.reads[0]!))!;
  const feats = node.attrs.bags as number[];
  const dim = ctx.decl(step.weights[0]!).shape[1]!;
  const outW = ctx.width(step.id);
  const out = ctx.resultBuffer(step);
  const groups: PlacedTable[][] = [[]];
  let used = 0;
  step.weights.forEach((name, t) => {
    const decl = ctx.decl(name);
    const format = weightPrecision(decl, node) as TableFormat;
    const rows = decl.shape[0]!;
    const bytes = tableBytes(format, rows, dim);
    if (used + bytes > ctx.bindingLimit && groups[groups.length - 1]!.length > 0) {
      groups.push([]);
      used = 0;
    }
    groups[groups.length - 1]!.push({ name, format, bytes, rows, feature: feats[t]!, byteAt: used, col: t * dim });
    used += bytes;
  });
  groups.forEach((tables, g) => {
    const buffer = `tables.${node.id}${groups.length > 1 ? `.${g}` : ""}`;
    ctx.weights.push(tablesBuffer(ctx, buffer, tables, dim));
    for (const format of [...new Set(tables.map((t) => t.format))]) {
      const mine = tables.filter((t) => t.format === format);
      const spec = { pool: node.attrs.pool as "sum" | "mean" | "max", weighted: bags.weights !== undefined, dim, format, outW, tables: mine, buffers: { ...bags, tables: buffer, out } };
      const suffix = groups.length > 1 || tables.length !== mine.length ? `${format}${groups.length > 1 ? `-${g}` : ""}` : "";
      const summary = `embedding bags (${spec.pool}${spec.weighted ? ", weighted" : ""}) over ${mine.length} ${format} table(s) of dim ${dim}: ${mine.map((t) => t.name).join(", ")}`;
      ctx.emit(step, suffix, summary, (h) => renderEmbedding(spec, h), perElement(mine.length * dim));
    }
  });
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
        yield* tableChunks(tensor, t.format, t.rows, dim);
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
    ctx.emit(step, suffix, `copy ${inputs.length} input(s) into columns ${col}..${col + width - 1} of ${outW}`, (h) => renderCopy(spec, h), perElement(width));
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
