// Wasm backend, step 4 of 4: emits one function per scheduled step (its
// shapes, weight addresses and buffer offsets baked in) and `forward(ws, cap,
// batch)`, which computes the bags offsets and calls every step with the
// addresses of its buffers in the workspace (see src/runtime/manifest.ts).

import { RmcError, error } from "../../src/diagnostics/index.js";
import type { Graph, TensorType } from "../../src/ir/types.js";
import { WasmModule, type Expr, type FunctionBuilder, type Local } from "./module.js";
import type { PanelElement, WeightLayout } from "./layout.js";
import type { MemoryPlan } from "./plan.js";
import { resolveAlias, widthOf, type Schedule, type Step } from "../schedule.js";
import type { StageClock } from "../backend.js";
import { emitGemm } from "./kernels/gemm.js";
import { emitInt8Gemm } from "./kernels/gemm-int8.js";
import { emitI7Gemm } from "./kernels/gemm-i7.js";
import { a7ZeroOf, nonNegativeValues, staticActScale } from "../../src/ir/attrs.js";
import { bagTables, emitEmbeddingBag } from "./kernels/embedding.js";
import { emitInteract } from "./kernels/interact.js";
import { emitConcat, emitCrossEpilogue, emitHostMap, emitRelu } from "./kernels/elementwise.js";

export interface Generated {
  binary: Uint8Array;
  text: string;
}

interface Context {
  w: WasmModule;
  graph: Graph;
  sched: Schedule;
  layout: WeightLayout;
  plan: MemoryPlan;
  types: Map<string, TensorType>;
  /** Values known non-negative (int8a7 layers' zero points, as the interpreter derives them). */
  nonNegative: ReadonlySet<string>;
}

/** Host math the code imports (`env.sigmoid`, `env.tanh`), in a fixed order: for the ops, and for layers whose epilogue applies them. */
export function hostImports(sched: Schedule): string[] {
  return ["sigmoid", "tanh"].filter((fn) => sched.steps.some((s) => s.op === fn || s.act === fn));
}

/** Generates the module; `shared` selects the twin that imports a shared memory (worker threads), `relaxed` the relaxed-SIMD variant; `profile` keeps kernels as named functions. */
export function generateModule(
  graph: Graph,
  sched: Schedule,
  layout: WeightLayout,
  plan: MemoryPlan,
  opts: { shared: boolean; optimize: boolean; profile?: boolean; relaxed?: boolean; clock?: StageClock; label?: string },
): Generated {
  const moduleOpts = {
    sharedMemory: opts.shared,
    relaxed: opts.relaxed === true,
    optimize: opts.optimize,
    keepFunctions: opts.profile === true,
    ...(opts.clock ? { clock: opts.clock, label: opts.label ?? "module" } : {}),
  };
  return WasmModule.generate(moduleOpts, (w) => {
    for (const fn of hostImports(sched)) w.importUnaryF32(fn);
    const types = new Map<string, TensorType>();
    for (const i of graph.inputs) if (i.type.kind === "tensor") types.set(i.name, i.type);
    for (const n of graph.nodes) if (n.type?.kind === "tensor") types.set(n.id, n.type);
    const ctx: Context = { w, graph, sched, layout, plan, types, nonNegative: nonNegativeValues(graph) };
    const calls = sched.steps.map((step, i) => emitStep(ctx, step, `k${i}_${step.op}`));
    w.func("forward", ["i32", "i32", "i32"], (f) => forwardBody(ctx, f, calls), true);
  });
}

/** What `forward` hands a step's call: buffer addresses and its parameters, as fresh expressions. */
interface CallArgs {
  /** Address of a value's buffer (`id`, `id#scratch`, `input#offsets`). */
  ptr(value: string): Expr;
  batch(): Expr;
  ws(): Expr;
  cap(): Expr;
}

/** How `forward` calls a step. */
type Call = (a: CallArgs) => Expr[];

function emitStep(ctx: Context, step: Step, name: string): Call {
  const { w, layout, types, sched } = ctx;
  const addr = (weight: string | undefined) => (weight === undefined ? undefined : layout.weights.get(weight)!.offset);
  const out = step.id;
  const width = (id: string) => widthOf(types.get(resolveAlias(sched.aliases, id))!);
  switch (step.op) {
    case "linear":
      return linearCall(ctx, step, name);
    case "relu":
    case "sigmoid":
    case "tanh": {
      if (step.op === "relu") emitRelu(w, name);
      else emitHostMap(w, name, step.op);
      const n = width(out);
      return ({ ptr, batch }) => [w.call(name, [ptr(step.reads[0]!), ptr(out), w.mul(batch(), w.i32(n))])];
    }
    case "embedding_bag":
      return embeddingCall(ctx, step, name);
    case "interact": {
      const dim = width(step.reads[0]!);
      const inputs = step.reads.map((id) => ({ width: width(id), vectors: width(id) / dim }));
      const tail = typeof step.node.attrs.tail === "number" ? step.node.attrs.tail : 0;
      emitInteract(w, name, {
        inputs,
        dim,
        op: step.node.attrs.op as "dot" | "cat",
        self: step.node.attrs.self === true,
        outWidth: width(out),
        tail,
      });
      const fixed = ctx.plan.fixed.get(step.id) ?? 0;
      return ({ ptr, batch, ws }) => [w.call(name, [...step.reads.map(ptr), ptr(out), w.add(ws(), w.i32(fixed)), batch()])];
    }
    case "concat": {
      emitConcat(w, name, step.reads.map(width));
      return ({ ptr, batch }) => [w.call(name, [...step.reads.map(ptr), ptr(out), batch()])];
    }
    case "cross_layer":
      return crossCall(ctx, step, name);
    case "flatten":
      throw new Error("internal: flatten is scheduled as an alias, not a step");
  }
}

/**
 * A linear layer: the f32/f16/bf16 GEMM, the int8 or the int8a7 GEMM, relu in the
 * epilogue; sigmoid and tanh (host math) in a second pass over the output,
 * in place. Folded quantization (fold-quant) runs in the int8 GEMM.
 */
function linearCall(ctx: Context, step: Step, name: string): Call {
  const { w, layout, types } = ctx;
  const addr = (weight: string | undefined) => (weight === undefined ? undefined : layout.weights.get(weight)!.offset);
  const [wt, b] = step.weights;
  const [outF, inF] = ctx.graph.weights.find((x) => x.name === wt)!.shape as [number, number];
  const inner = step.act === "relu" ? "relu" : "none";
  const host = step.act === "sigmoid" || step.act === "tanh" ? step.act : undefined;
  const codesIn = types.get(step.reads[0]!)?.dtype === "i8";
  const codesOut =
    typeof step.node.attrs.out_scale === "number" ? { scale: Math.fround(step.node.attrs.out_scale), ...foldedMultipliers(ctx, step) } : undefined;
  // Codes out are made in the GEMM's epilogue, before a host activation could run.
  if (((codesIn || codesOut) && step.precision !== "int8") || (codesOut && host))
    throw new RmcError(
      error(
        "E1809",
        `the wasm backend folds quantization (${codesIn ? "i8 input" : "out_scale"}) only in int8 layers, and writes codes only after no activation or relu; %${step.node.id} is ${step.precision}${host ? ` with ${host}` : ""}`,
        step.span,
        "run fold-quant only after assign-precision, on the IR it makes",
      ),
    );
  let call: Call;
  if (step.precision === "int8a7") {
    const form = layout.weights.get(wt!)!.form;
    if (form.kind !== "panels-i8q") throw new Error(`internal: ${wt} is not laid out as int8a7 panels`);
    const at = addr(wt)!;
    const zero = a7ZeroOf(step.node, ctx.nonNegative);
    emitI7Gemm(w, name, { inF, outF, weights: at, scales: at + form.scalesAt, corr: at + form.corrAt, bias: addr(b), act: inner, zero });
    call = ({ ptr, batch }) => [w.call(name, [ptr(step.reads[0]!), ptr(step.id), ptr(`${step.id}#scratch`), batch()])];
  } else if (step.precision === "int8") {
    const form = layout.weights.get(wt!)!.form;
    if (form.kind !== "panels-i8") throw new Error(`internal: ${wt} is not laid out as int8 panels`);
    const spec = {
      inF,
      outF,
      weights: addr(wt)!,
      scales: addr(wt)! + form.scalesAt,
      bias: addr(b),
      act: inner,
      actScale: staticActScale(step.node),
      ...(form.mulAt !== undefined ? { actMul: addr(wt)! + form.mulAt } : {}),
    } as const;
    emitInt8Gemm(w, name, { ...spec, ...(codesIn ? { codesIn } : {}), ...(codesOut ? { codesOut } : {}) });
    call = ({ ptr, batch }) => [
      w.call(name, [ptr(step.reads[0]!), ptr(step.id), codesIn ? ptr(step.reads[0]!) : ptr(`${step.id}#scratch`), batch()]),
    ];
  } else {
    emitGemm(w, name, { inF, outF, weights: addr(wt)!, bias: addr(b), act: inner, element: panelElement(step.precision) });
    call = ({ ptr, batch }) => [w.call(name, [ptr(step.reads[0]!), ptr(step.id), batch()])];
  }
  if (!host) return call;
  emitHostMap(w, `${name}_${host}`, host);
  return (a) => [...call(a), w.call(`${name}_${host}`, [a.ptr(step.id), a.ptr(step.id), w.mul(a.batch(), w.i32(outF))])];
}

/**
 * Where the multipliers of a layer with `out_smooth` live: the reading
 * layer's own (it stores 1/s for its quantizer), which must be the same
 * factors — fold-quant copies them from there.
 */
function foldedMultipliers(ctx: Context, step: Step): { mul?: number } {
  const smooth = step.node.attrs.out_smooth;
  if (!Array.isArray(smooth)) return {};
  const reader = ctx.sched.steps.find((s) => s.reads.includes(step.id));
  const placed = reader ? ctx.layout.weights.get(reader.weights[0]!) : undefined;
  const form = placed?.form;
  const same =
    form?.kind === "panels-i8" &&
    form.smooth !== undefined &&
    form.mulAt !== undefined &&
    form.smooth.length === smooth.length &&
    form.smooth.every((v, i) => v === smooth[i]);
  if (!same || !placed || form?.kind !== "panels-i8" || form.mulAt === undefined)
    throw new RmcError(
      error(
        "E1809",
        `%${step.node.id} has out_smooth, but its reader ${reader ? `%${reader.node.id}` : "(none)"} is not an int8 layer smoothed by the same factors`,
        step.span,
        "out_smooth must be the smooth of the layer that reads the codes (fold-quant writes it so)",
      ),
    );
  return { mul: placed.offset + form.mulAt };
}

function embeddingCall(ctx: Context, step: Step, name: string): Call {
  const { w, layout, graph, plan } = ctx;
  const bagsInput = step.reads[0]!;
  const input = graph.inputs.find((i) => i.name === bagsInput)!;
  const weighted = input.type.kind === "bags" && input.type.weighted;
  // Split tables route each id to its part (kernels/embedding.ts).
  const { tables, dim } = bagTables(graph, step.node, layout);
  emitEmbeddingBag(w, name, {
    tables,
    dim,
    pool: step.node.attrs.pool as "sum" | "mean" | "max",
    weighted,
    outWidth: widthOf(step.node.type as TensorType),
  });
  const bags = plan.bags.get(bagsInput)!;
  return ({ ptr, batch, ws }) => {
    const header = (off: number) => w.loadI32(ws(), bags.slot * 8 + off);
    return [w.call(name, [ptr(`${bagsInput}#offsets`), header(0), weighted ? header(4) : w.i32(0), ptr(step.id), batch()])];
  };
}

function crossCall(ctx: Context, step: Step, name: string): Call {
  const { w, layout, types } = ctx;
  const d = widthOf(types.get(step.id)!);
  const rank = step.node.attrs.rank as number;
  const addr = (i: number) => layout.weights.get(step.weights[i]!)!.offset;
  const [x0, xl] = step.reads as [string, string];
  const element = panelElement(step.precision);
  if (rank > 0) {
    emitGemm(w, `${name}_down`, { inF: d, outF: rank, weights: addr(0), bias: undefined, act: "none", element });
    emitGemm(w, `${name}_up`, { inF: rank, outF: d, weights: addr(1), bias: addr(2), act: "none", element });
  } else emitGemm(w, `${name}_w`, { inF: d, outF: d, weights: addr(0), bias: addr(1), act: "none", element });
  if (step.act !== "none" && step.act !== "relu")
    throw new RmcError(error("E1814", `the wasm backend applies only relu after a cross layer; %${step.node.id} has act=${step.act}`, step.span));
  emitCrossEpilogue(w, `${name}_out`, step.act === "relu");
  // The scratch holds t = W·xl (+ b) first; with a low rank, h = down·xl after it.
  const tBytes = Math.ceil((d * 4) / 16) * 16;
  return ({ ptr, batch, cap }) => {
    const t = () => ptr(`${step.id}#scratch`);
    const h = () => w.add(ptr(`${step.id}#scratch`), w.mul(cap(), w.i32(tBytes)));
    const calls: Expr[] = [];
    if (rank > 0) calls.push(w.call(`${name}_down`, [ptr(xl), h(), batch()]), w.call(`${name}_up`, [h(), t(), batch()]));
    else calls.push(w.call(`${name}_w`, [ptr(xl), t(), batch()]));
    calls.push(w.call(`${name}_out`, [ptr(x0), t(), ptr(xl), ptr(step.id), w.mul(batch(), w.i32(d))]));
    return calls;
  };
}

/** The panel element type of an f32/f16/bf16 layer. */
const panelElement = (precision: string): PanelElement => (precision === "fp16" ? "f16" : precision === "bf16" ? "bf16" : "f32");

function forwardBody(ctx: Context, f: FunctionBuilder, calls: Call[]): Expr[] {
  const { w, plan, sched } = ctx;
  const [ws, cap, batch] = f.params as [Local, Local, Local];
  const base = f.local("i32");
  const body: Expr[] = [base.set(w.add(ws.get(), w.i32(plan.headerBytes)))];
  const at = (offset: number) => w.add(base.get(), w.mul(cap.get(), w.i32(offset)));
  const ptr = (value: string): Expr => {
    const [id, suffix] = value.split("#") as [string, string | undefined];
    if (suffix === "offsets") return at(plan.bags.get(id)!.offsets.offset);
    const resolved = resolveAlias(sched.aliases, id);
    const buf = plan.values.get(suffix ? `${resolved}#${suffix}` : resolved);
    if (!buf) throw new Error(`internal: no buffer planned for ${value}`);
    return at(buf.offset);
  };
  // Offsets of each bags input: prefix sums of its lengths, count*batch + 1 entries.
  for (const [name, bags] of plan.bags) {
    const i = f.local("i32");
    const lengths = f.local("i32");
    const offsets = f.local("i32");
    const type = ctx.graph.inputs.find((inp) => inp.name === name)!.type;
    const n = type.kind === "bags" ? type.count : 0;
    body.push(lengths.set(at(bags.lengths.offset)), offsets.set(at(bags.offsets.offset)), w.storeI32(offsets.get(), w.i32(0)));
    body.push(
      f.forRange(i, w.i32(0), () => w.mul(batch.get(), w.i32(n)), 1, [
        w.storeI32(
          w.add(offsets.get(), w.shl(i.get(), w.i32(2))),
          w.add(w.loadI32(w.add(offsets.get(), w.shl(i.get(), w.i32(2)))), w.loadI32(w.add(lengths.get(), w.shl(i.get(), w.i32(2))))),
          4,
        ),
      ]),
    );
  }
  const args: CallArgs = { ptr, batch: () => batch.get(), ws: () => ws.get(), cap: () => cap.get() };
  for (const call of calls) body.push(...call(args));
  return body;
}
