// WGSL backend, lowering of dense layers: linear layers at fp32/fp16/bf16
// (one tiled GEMM, bias and relu in the epilogue) and at int8 (a quantizer
// step into a scratch buffer, then the int8 GEMM with its dot4I8Packed
// variant), and DCNv2 cross layers (full rank: one GEMM with the cross
// epilogue; low rank: down-projection into scratch, then the up-projection
// with the epilogue). Each layer's weights become one weights buffer.

import { staticActScale } from "../../src/interp/precision.js";
import type { Step } from "../wasm/schedule.js";
import type { Lowering } from "./lower.js";
import { fixed, perSamples } from "./plan.js";
import { GEMM_TILE, type WeightElement, renderGemm } from "./kernels/gemm.js";
import { quantWords, renderInt8Gemm, renderQuantize } from "./kernels/gemm-int8.js";
import { WordPacker, denseValues, int8Codes } from "./weights.js";

const ELEMENT: Record<string, WeightElement> = { fp32: "f32", fp16: "f16", bf16: "bf16" };

/** Workgroup counts of a GEMM with `out` outputs. */
const gemmDispatch = (out: number): [ReturnType<typeof fixed>, ReturnType<typeof fixed>, ReturnType<typeof fixed>] => [fixed(Math.ceil(out / GEMM_TILE.outputs)), perSamples(GEMM_TILE.samples), fixed(1)];

/** linear: y = x·Wᵀ (+ b), relu folded, at the layer's precision. */
export function lowerLinear(ctx: Lowering, step: Step): void {
  const [wName, bName] = step.weights;
  const [out, inF] = ctx.decl(wName!).shape as [number, number];
  const x = ctx.bufferOf(step.reads[0]!);
  const y = ctx.resultBuffer(step);
  const wBuf = `w.${step.node.id}`;
  const packer = new WordPacker();
  const w = denseValues(ctx.store, wName!);
  const bias = bName ? denseValues(ctx.store, bName) : undefined;
  if (step.precision !== "int8") {
    const wAt = packer.matrix(w, out, inF, ELEMENT[step.precision]!);
    const biasAt = bias ? packer.vector(bias, step.precision as "fp32" | "fp16" | "bf16") : undefined;
    ctx.weights.push(packer.finish(wBuf));
    const spec = { inF, outF: out, element: ELEMENT[step.precision]!, wAt, biasAt, act: step.act, buffers: { x, w: wBuf, y } };
    ctx.emit(step, "", `linear ${inF}→${out} at ${step.precision}${step.act === "relu" ? ", relu" : ""}`, (h) => renderGemm(spec, h), gemmDispatch(out));
    return;
  }
  const smooth = Array.isArray(step.node.attrs.smooth) ? (step.node.attrs.smooth as number[]) : undefined;
  const actScale = staticActScale(step.node);
  const { q, scales, mul } = int8Codes(w, out, inF, smooth);
  const wAt = packer.codes(q, out, inF);
  // A static scale s is known now: store f32(s·sw[o]) so the GEMM multiplies once, as the interpreter does.
  const scalesAt = packer.vector(actScale === undefined ? scales : scales.map((sw) => Math.fround(actScale * sw)));
  const biasAt = bias ? packer.vector(bias) : undefined;
  const mulAt = mul ? packer.vector(mul) : undefined;
  ctx.weights.push(packer.finish(wBuf));
  const qBuf = ctx.batch.take(quantWords(inF) * 4);
  const how = `${actScale === undefined ? "dynamic" : "static"} scale${smooth ? ", smoothed" : ""}`;
  const quant = { inF, mulAt, staticScale: actScale, buffers: { x, w: wBuf, q: qBuf } };
  ctx.emit(step, "quantize", `int8 activation codes of linear ${inF}→${out} (${how})`, (h) => renderQuantize(quant, h), [perSamples(1), fixed(1), fixed(1)]);
  const gemm = { inF, outF: out, wAt, scalesAt, biasAt, static: actScale !== undefined, act: step.act, buffers: { q: qBuf, w: wBuf, y } };
  ctx.emit(step, "gemm", `int8 linear ${inF}→${out} (${how})${step.act === "relu" ? ", relu" : ""}`, (h) => renderInt8Gemm(gemm, h), gemmDispatch(out));
  ctx.batch.give(qBuf);
}

/** cross_layer: y = x0 ⊙ (W·xl + b) + xl, W full [d,d] or low rank up·down, relu folded. */
export function lowerCrossLayer(ctx: Lowering, step: Step): void {
  const [x0Id, xlId] = step.reads as [string, string];
  const d = ctx.width(x0Id);
  const rank = (step.node.attrs.rank as number | undefined) ?? 0;
  const element = ELEMENT[step.precision]!;
  const round = step.precision as "fp32" | "fp16" | "bf16";
  const x0 = ctx.bufferOf(x0Id);
  const xl = ctx.bufferOf(xlId);
  const y = ctx.resultBuffer(step);
  const wBuf = `w.${step.node.id}`;
  const packer = new WordPacker();
  const act = step.act;
  if (rank === 0) {
    const [wName, bName] = step.weights as [string, string];
    const wAt = packer.matrix(denseValues(ctx.store, wName), d, d, element);
    const biasAt = packer.vector(denseValues(ctx.store, bName), round);
    ctx.weights.push(packer.finish(wBuf));
    const spec = { inF: d, outF: d, element, wAt, biasAt, act, cross: { x0 }, buffers: { x: xl, w: wBuf, y } };
    ctx.emit(step, "", `cross layer d=${d} at ${step.precision}`, (h) => renderGemm(spec, h), gemmDispatch(d));
    return;
  }
  const [downName, upName, bName] = step.weights as [string, string, string];
  const downAt = packer.matrix(denseValues(ctx.store, downName), rank, d, element);
  const upAt = packer.matrix(denseValues(ctx.store, upName), d, rank, element);
  const biasAt = packer.vector(denseValues(ctx.store, bName), round);
  ctx.weights.push(packer.finish(wBuf));
  const h = ctx.batch.take(rank * 4);
  const down = { inF: d, outF: rank, element, wAt: downAt, act: "none" as const, buffers: { x: xl, w: wBuf, y: h } };
  ctx.emit(step, "down", `cross layer d=${d} rank ${rank}: down-projection at ${step.precision}`, (hd) => renderGemm(down, hd), gemmDispatch(rank));
  const up = { inF: rank, outF: d, element, wAt: upAt, biasAt, act, cross: { x0, xl }, buffers: { x: h, w: wBuf, y } };
  ctx.emit(step, "up", `cross layer d=${d} rank ${rank}: up-projection and cross at ${step.precision}`, (hd) => renderGemm(up, hd), gemmDispatch(d));
  ctx.batch.give(h);
}
