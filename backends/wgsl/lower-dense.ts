// WGSL backend, lowering of dense layers: linear layers at fp32/fp16/bf16
// (one tiled GEMM, bias and activation in the epilogue) and at int8 (a
// quantizer step into a scratch buffer, then the int8 GEMM with its
// dot4I8Packed variant; folded quantization reuses the quantizer), and DCNv2 cross layers (full rank: one GEMM with the cross
// epilogue; low rank: down-projection into scratch, then the up-projection
// with the epilogue). Each layer's weights become one weights buffer.

import { staticActScale } from "../../src/ir/attrs.js";
import { smoothMultipliers } from "../../src/quant/dense.js";
import type { Step } from "../schedule.js";
import type { Lowering } from "./lowering.js";
import { fixed, perSamples } from "./plan.js";
import { GEMM_TILE, type WeightElement, renderGemm } from "./kernels/gemm.js";
import { quantWords, renderInt8Gemm, renderQuantize } from "./kernels/gemm-int8.js";
import { WordPacker, denseValues, int8Codes } from "./weights.js";

const ELEMENT: Record<string, WeightElement> = { fp32: "f32", fp16: "f16", bf16: "bf16" };

/** Workgroup counts of a GEMM with `out` outputs. */
const gemmDispatch = (out: number): [ReturnType<typeof fixed>, ReturnType<typeof fixed>, ReturnType<typeof fixed>] => [
  fixed(Math.ceil(out / GEMM_TILE.outputs)),
  perSamples(GEMM_TILE.samples),
  fixed(1),
];

/**
 * linear: y = x·Wᵀ (+ b), then the layer's activation, at its precision. A
 * layer with `out_scale` (fold-quant) writes the next layer's int8 codes: its
 * GEMM goes to a scratch buffer and the quantizer makes the codes from there
 * (a dispatch of its own, as the next layer's would have been: WGSL cannot
 * write the packed bytes from the GEMM's scattered outputs without atomics).
 * A layer reading codes skips its quantizer.
 */
export function lowerLinear(ctx: Lowering, step: Step): void {
  const [wName, bName] = step.weights;
  const [out, inF] = ctx.decl(wName!).shape as [number, number];
  const outScale = typeof step.node.attrs.out_scale === "number" ? Math.fround(step.node.attrs.out_scale) : undefined;
  const x = ctx.bufferOf(step.reads[0]!);
  const y = outScale === undefined ? ctx.resultBuffer(step) : ctx.batch.take(out * 4);
  const packer = new WordPacker();
  const w = denseValues(ctx.store, wName!);
  const bias = bName ? denseValues(ctx.store, bName) : undefined;
  const wBuf = `w.${step.node.id}`;
  if (step.precision !== "int8") {
    const wAt = packer.matrix(w, out, inF, ELEMENT[step.precision]!);
    const biasAt = bias ? packer.vector(bias, step.precision as "fp32" | "fp16" | "bf16") : undefined;
    const codes = outScale === undefined ? undefined : codesStep(ctx, step, packer, out);
    ctx.weights.push(packer.finish(wBuf));
    const spec = { inF, outF: out, element: ELEMENT[step.precision]!, wAt, biasAt, act: step.act, buffers: { x, w: wBuf, y } };
    ctx.emit(step, "", `linear ${inF}→${out} at ${step.precision}${actNote(step)}`, (h) => renderGemm(spec, h), gemmDispatch(out));
    codes?.(y);
    return;
  }
  const codesIn = ctx.typeOf(step.reads[0]!)?.dtype === "i8";
  const smooth = Array.isArray(step.node.attrs.smooth) ? (step.node.attrs.smooth as number[]) : undefined;
  const actScale = staticActScale(step.node);
  const { q, scales, mul } = int8Codes(w, out, inF, smooth);
  const wAt = packer.codes(q, out, inF);
  // A static scale s is known now: store f32(s·sw[o]) so the GEMM multiplies once, as the interpreter does.
  const scalesAt = packer.vector(actScale === undefined ? scales : scales.map((sw) => Math.fround(actScale * sw)));
  const biasAt = bias ? packer.vector(bias) : undefined;
  const mulAt = mul && !codesIn ? packer.vector(mul) : undefined;
  const codes = outScale === undefined ? undefined : codesStep(ctx, step, packer, out);
  ctx.weights.push(packer.finish(wBuf));
  const how = `${actScale === undefined ? "dynamic" : "static"} scale${smooth ? ", smoothed" : ""}${codesIn ? ", codes in" : ""}`;
  const qBuf = codesIn ? x : ctx.batch.take(quantWords(inF) * 4);
  if (!codesIn) {
    const quant = { inF, mulAt, staticScale: actScale, buffers: { x, w: wBuf, q: qBuf } };
    ctx.emit(step, "quantize", `int8 activation codes of linear ${inF}→${out} (${how})`, (h) => renderQuantize(quant, h), [
      perSamples(1),
      fixed(1),
      fixed(1),
    ]);
  }
  const gemm = { inF, outF: out, wAt, scalesAt, biasAt, static: actScale !== undefined, act: step.act, buffers: { q: qBuf, w: wBuf, y } };
  ctx.emit(step, "gemm", `int8 linear ${inF}→${out} (${how})${actNote(step)}`, (h) => renderInt8Gemm(gemm, h), gemmDispatch(out));
  if (!codesIn) ctx.batch.give(qBuf);
  codes?.(y);
}

const actNote = (step: Step): string => (step.act === "none" ? "" : `, ${step.act}`);

/**
 * For a layer with out_scale: packs the next layer's multipliers into this
 * layer's weights now, and returns the emitter of the quantizer step that
 * turns the f32 result `y` into this node's codes buffer (then freed).
 */
function codesStep(ctx: Lowering, step: Step, packer: WordPacker, out: number): (y: string) => void {
  const smooth = step.node.attrs.out_smooth;
  const mulAt = Array.isArray(smooth) ? packer.vector(smoothMultipliers(smooth as number[])) : undefined;
  const scale = Math.fround(step.node.attrs.out_scale as number);
  return (y) => {
    const codes = ctx.batch.take(quantWords(out) * 4);
    ctx.setBuffer(step.id, codes);
    const quant = { inF: out, mulAt, staticScale: scale, buffers: { x: y, w: `w.${step.node.id}`, q: codes } };
    ctx.emit(step, "codes", `int8 codes of linear ${step.node.id}'s output for the next layer (fold-quant)`, (h) => renderQuantize(quant, h), [
      perSamples(1),
      fixed(1),
      fixed(1),
    ]);
    ctx.batch.give(y);
  };
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
  if (step.act !== "none" && step.act !== "relu") throw new Error(`internal: cross layer %${step.node.id} with act=${step.act}`);
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
