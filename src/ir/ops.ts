// The op table: the single definition of every IR operation — its operands,
// its attributes and its type rule. The front end, the verifier, shape
// inference, the printer/parser and the interpreter all read this table, so an
// op is added here once and every stage learns of it.

import { ACT_VALUES } from "./attrs.js";
import { logicalTables } from "./tables.js";
import { BATCH, type Attrs, type AttrValue, type Dim, type Type, type TensorType, type WeightDecl, formatType, tensor } from "./types.js";

/** Attribute schema: how an attribute is checked and what it defaults to. */
export interface AttrSpec {
  /** `number`: a positive finite number, or null for "not set". */
  type: "int" | "ints" | "bool" | "enum" | "number" | "numbers";
  /** Allowed values, for `enum`. */
  values?: readonly string[];
  required?: boolean;
  default?: AttrValue;
  doc: string;
}

export type InferResult = { ok: true; type: Type } | { ok: false; message: string; hint?: string };

export interface InferArgs {
  values: Type[];
  weights: WeightDecl[];
  attrs: Attrs;
}

export interface OpDef {
  summary: string;
  /** Allowed number of value operands, inclusive. */
  values: [min: number, max: number];
  /** Allowed number of weight operands, inclusive; `infer` checks the exact count. */
  weights: [min: number, max: number];
  attrs: Record<string, AttrSpec>;
  infer(args: InferArgs): InferResult;
}

/** Activation functions an `mlp` may apply; `none` means no activation (the list is src/ir/attrs.ts's). */
export const ACTIVATIONS = ACT_VALUES;
export const POOLINGS = ["sum", "mean", "max"] as const;
export const INTERACTIONS = ["dot", "cat"] as const;
/** What a table does with an id outside its rows (a table attribute, `ids:` in the DSL): reject, clamp into range, or wrap. */
export const ID_POLICIES = ["error", "clamp", "modulo"] as const;
/** Precisions a `@precision(...)` pin may name. */
export const PRECISIONS = ["fp32", "fp16", "bf16", "int8", "int8a7", "int4", "int2"] as const;

/** Attributes every op accepts. `precision` is a user pin the precision search never overrides. */
export const COMMON_ATTRS: Record<string, AttrSpec> = {
  precision: { type: "enum", values: PRECISIONS, doc: "user pin: the precision this node must get" },
  buffer: { type: "ints", doc: "set by plan-memory: [offset, bytes] of this node's value in the Wasm workspace, per sample of batch capacity" },
  scratch: { type: "ints", doc: "set by plan-memory: [offset, bytes] of this node's per-sample scratch in the Wasm workspace" },
};

const ok = (type: Type): InferResult => ({ ok: true, type });
const fail = (message: string, hint?: string): InferResult => (hint === undefined ? { ok: false, message } : { ok: false, message, hint });
const fmt = (t: Type | WeightDecl): string => ("kind" in t ? formatType(t) : `${t.dtype}[${t.shape.join(",")}]`);

/** A tensor `[B, n]` of f32, or undefined. */
function features(t: Type | undefined): number | undefined {
  if (!t || t.kind !== "tensor" || t.dtype !== "f32" || t.shape.length !== 2 || t.shape[0] !== BATCH) return undefined;
  const n = t.shape[1];
  return typeof n === "number" ? n : undefined;
}

/** A tensor `[B, n]` of i8 activation codes (a linear layer with `out_scale` writes them), or undefined. */
function codes(t: Type | undefined): number | undefined {
  if (!t || t.kind !== "tensor" || t.dtype !== "i8" || t.shape.length !== 2 || t.shape[0] !== BATCH) return undefined;
  const n = t.shape[1];
  return typeof n === "number" ? n : undefined;
}

/** A tensor `[B, n, d]` of f32, as [n, d], or undefined. */
function featureSet(t: Type | undefined): [number, number] | undefined {
  if (!t || t.kind !== "tensor" || t.dtype !== "f32" || t.shape.length !== 3 || t.shape[0] !== BATCH) return undefined;
  const [, n, d] = t.shape;
  return typeof n === "number" && typeof d === "number" ? [n, d] : undefined;
}

const shapeIs = (w: WeightDecl | undefined, shape: number[]): boolean =>
  !!w && w.shape.length === shape.length && w.shape.every((d, i) => d === shape[i]);

/** Checks one dense layer `W: [out, in]`, optional `b: [out]`, against an input width. */
function checkLinear(what: string, inFeatures: number, w: WeightDecl | undefined, b: WeightDecl | undefined): number | string {
  if (!w || w.shape.length !== 2) return `${what}: weight must be a matrix [out, in], got ${w ? fmt(w) : "nothing"}`;
  const [out, inW] = w.shape as [number, number];
  if (inW !== inFeatures)
    return `${what}: weight ${w.name} is ${fmt(w)} (in = ${inW}) but the input has ${inFeatures} features: f32[B,${inFeatures}]`;
  if (b && !shapeIs(b, [out])) return `${what}: bias ${b.name} is ${fmt(b)}, expected f32[${out}]`;
  return out;
}

const elementwise = (summary: string): OpDef => ({
  summary,
  values: [1, 1],
  weights: [0, 0],
  attrs: {},
  infer({ values: [x] }) {
    if (!x || x.kind !== "tensor" || x.dtype !== "f32") return fail(`expects an f32 tensor, got ${x ? formatType(x) : "nothing"}`);
    return ok(x);
  },
});

/** Output width of a dot interaction over `f` feature vectors. */
export const dotInteractionWidth = (dim: number, f: number, self: boolean): number => dim + (self ? (f * (f + 1)) / 2 : (f * (f - 1)) / 2);

/** The type of an interaction over its feature operands (x first), without tail operands. */
function interactionType(values: Type[], attrs: Attrs): InferResult {
  const [x, ...rest] = values;
  const dim = features(x);
  if (dim === undefined) return fail(`interact's first input must be a dense vector f32[B,d], got ${x ? formatType(x) : "nothing"}`);
  let f = 1;
  let flat = dim;
  for (const t of rest) {
    const v = features(t);
    const s = featureSet(t);
    const [n, d] = v !== undefined ? [1, v] : (s ?? [0, 0]);
    if (n === 0) return fail(`interact inputs must be f32[B,d] or f32[B,n,d], got ${t ? formatType(t) : "nothing"}`);
    if (attrs.op !== "cat" && d !== dim)
      return fail(
        `interact op=dot needs one dimension for all features: ${formatType(x!)} vs ${formatType(t!)}`,
        "project the dense input to the embedding dimension, e.g. mlp(dense, [..., " + d + "])",
      );
    f += n;
    flat += n * d;
  }
  return ok(tensor([BATCH, attrs.op === "cat" ? flat : dotInteractionWidth(dim, f, attrs.self === true)]));
}

export const OPS = {
  linear: {
    summary: "y = x W^T + b (W: [out, in], b optional)",
    values: [1, 1],
    weights: [1, 2],
    attrs: {
      act_scale: { type: "number", doc: "int8 layers: the static (calibrated) activation scale; absent or null: a dynamic scale per row" },
      smooth: { type: "numbers", doc: "int8 layers: per-input-channel smoothing factors s (activations x/s, weights W·s); absent or null: none" },
      act: { type: "enum", values: ACTIVATIONS, doc: "activation applied to the output in the layer's epilogue (fuse-epilogue); absent: none" },
      out_scale: {
        type: "number",
        doc: "fold-quant: the output is i8[B,out], the int8 codes the next int8 layer would make of y (after act): clamp(rne(f32(y·r[k])·f32(1/out_scale)), ±127), NaN → 0",
      },
      out_smooth: { type: "numbers", doc: "fold-quant: the next layer's smoothing factors s, so r[k] = f32(1/s[k]) above; absent: r = 1" },
    },
    infer({ values: [x], weights: [w, b], attrs }) {
      const n = features(x) ?? codes(x);
      if (n === undefined)
        return fail(
          `linear expects a matrix input f32[B,n], got ${x ? formatType(x) : "nothing"}`,
          "flatten a [B,n,d] input first with flatten(...)",
        );
      // i8 codes already are this layer's quantized activations: only an int8 layer with a static scale can read them.
      const precision = w?.attrs.precision ?? attrs.precision;
      if (codes(x) !== undefined && (precision !== "int8" || typeof attrs.act_scale !== "number"))
        return fail(
          `linear reads int8 codes ${formatType(x!)} but is not an int8 layer with a static act_scale`,
          "codes come from fold-quant; rerun the pipeline from before fold-quant",
        );
      // int8a7 quantizes its activations dynamically per row and is never smoothed (docs/numerics.md).
      if (precision === "int8a7" && (typeof attrs.act_scale === "number" || Array.isArray(attrs.smooth)))
        return fail(
          `linear at int8a7 has ${typeof attrs.act_scale === "number" ? "a static act_scale" : "smoothing factors"}; int8a7 layers quantize activations dynamically per row, unsmoothed`,
          "use int8 for static scales or smoothing (--act static, --smooth)",
        );
      const out = checkLinear("linear", n, w, b);
      if (Array.isArray(attrs.smooth) && attrs.smooth.length !== n)
        return fail(`linear: smooth has ${attrs.smooth.length} factors for ${n} input features`);
      if (typeof out === "string") return fail(out);
      if (Array.isArray(attrs.out_smooth) && attrs.out_smooth.length !== out)
        return fail(`linear: out_smooth has ${attrs.out_smooth.length} factors for ${out} outputs`);
      return ok(tensor([BATCH, out], typeof attrs.out_scale === "number" ? "i8" : "f32"));
    },
  },
  mlp: {
    summary: "a stack of linear layers, `act` after each hidden one and `final` after the last",
    values: [1, 1],
    weights: [1, Infinity],
    attrs: {
      sizes: { type: "ints", required: true, doc: "output width of each layer" },
      act: { type: "enum", values: ACTIVATIONS, default: "relu", doc: "activation after each hidden layer" },
      final: { type: "enum", values: ACTIVATIONS, default: "relu", doc: "activation after the last layer" },
      bias: { type: "bool", default: true, doc: "whether each layer has a bias" },
    },
    infer({ values: [x], weights, attrs }) {
      let n = features(x);
      if (n === undefined)
        return fail(`mlp expects a matrix input f32[B,n], got ${x ? formatType(x) : "nothing"}`, "flatten a [B,n,d] input first with flatten(...)");
      const sizes = attrs.sizes as number[];
      const per = attrs.bias === false ? 1 : 2;
      if (weights.length !== sizes.length * per)
        return fail(`mlp with ${sizes.length} layers needs ${sizes.length * per} weights, got ${weights.length}`);
      for (let i = 0; i < sizes.length; i++) {
        const out = checkLinear(`mlp layer ${i}`, n, weights[i * per], per === 2 ? weights[i * per + 1] : undefined);
        if (typeof out === "string") return fail(out);
        if (out !== sizes[i]) return fail(`mlp layer ${i}: weight gives ${out} outputs but sizes says ${sizes[i]}`);
        n = out;
      }
      return ok(tensor([BATCH, n]));
    },
  },
  relu: elementwise("max(x, 0)"),
  sigmoid: elementwise("1 / (1 + exp(-x))"),
  tanh: elementwise("tanh(x)"),
  embedding_bag: {
    summary: "pool the rows of each table named by one bag feature per sample",
    values: [1, 1],
    weights: [1, Infinity],
    attrs: {
      pool: { type: "enum", values: POOLINGS, default: "sum", doc: "how the rows of a bag combine" },
      bags: { type: "ints", required: true, doc: "for each table, the bag feature it reads" },
      stacked: { type: "bool", default: true, doc: "output [B, tables, dim] (true) or [B, dim] for one table (false)" },
      parts: { type: "ints", doc: "split tables (split-tables): for each table, how many consecutive weight operands hold it; absent: one each" },
    },
    infer({ values: [bags], weights, attrs }) {
      if (!bags || bags.kind !== "bags") return fail(`embedding_bag reads a bags input, got ${bags ? formatType(bags) : "nothing"}`);
      const feats = attrs.bags as number[];
      const parts = Array.isArray(attrs.parts) ? (attrs.parts as number[]) : undefined;
      if (!parts && feats.length !== weights.length) return fail(`embedding_bag has ${weights.length} tables but ${feats.length} bag features`);
      for (const f of feats)
        if (!Number.isInteger(f) || f < 0 || f >= bags.count)
          return fail(`bag feature ${f} is out of range for ${formatType(bags)} (0..${bags.count - 1})`);
      const tables = logicalTables(feats, parts, weights);
      if (typeof tables === "string") return fail(tables);
      const dim = tables[0]?.dim;
      for (const t of tables)
        if (t.dim !== dim)
          return fail(`tables of one embedding_bag must share a dimension: ${tables[0]!.name} has dim ${dim}, ${t.name} has dim ${t.dim}`);
      if (attrs.stacked === false) {
        if (tables.length !== 1) return fail(`an unstacked embedding_bag has exactly one table, got ${tables.length}`);
        return ok(tensor([BATCH, dim as number]));
      }
      return ok(tensor([BATCH, tables.length, dim as number]));
    },
  },
  interact: {
    summary: "DLRM feature interaction: x followed by pairwise dots (op=dot) or all features flattened (op=cat)",
    values: [2, Infinity],
    weights: [0, 0],
    attrs: {
      op: { type: "enum", values: INTERACTIONS, default: "dot", doc: "dot: x ++ strict lower triangle of Z Z^T; cat: x ++ flatten(rest)" },
      self: { type: "bool", default: false, doc: "include each feature's dot with itself (op=dot)" },
      tail: {
        type: "int",
        doc: "fuse-interaction: the last `tail` value operands are not features; each is appended, flattened, after the interaction's output (a fused concat); absent: 0",
      },
    },
    infer({ values, attrs }) {
      const tail = typeof attrs.tail === "number" ? attrs.tail : 0;
      if (values.length - tail < 2)
        return fail(`interact needs at least two feature operands besides its ${tail} tail operand(s), got ${values.length - tail}`);
      let tailWidth = 0;
      for (const t of values.slice(values.length - tail)) {
        const v = features(t);
        const s = featureSet(t);
        if (v === undefined && s === undefined)
          return fail(`interact's tail operands must be f32[B,n] or f32[B,n,d], got ${t ? formatType(t) : "nothing"}`);
        tailWidth += v ?? s![0] * s![1];
      }
      const inner = interactionType(values.slice(0, values.length - tail), attrs);
      return inner.ok && inner.type.kind === "tensor" ? ok(tensor([BATCH, (inner.type.shape[1] as number) + tailWidth])) : inner;
    },
  },
  concat: {
    summary: "join f32[B,n] inputs along the feature axis",
    values: [1, Infinity],
    weights: [0, 0],
    attrs: {},
    infer({ values }) {
      let total = 0;
      for (const t of values) {
        const n = features(t);
        if (n === undefined) return fail(`concat joins f32[B,n] inputs, got ${t ? formatType(t) : "nothing"}`, "flatten it first with flatten(...)");
        total += n;
      }
      return ok(tensor([BATCH, total]));
    },
  },
  flatten: {
    summary: "f32[B, d1, d2, ...] -> f32[B, d1*d2*...]",
    values: [1, 1],
    weights: [0, 0],
    attrs: {},
    infer({ values: [x] }) {
      if (!x || x.kind !== "tensor" || x.dtype !== "f32" || x.shape.length < 2 || x.shape[0] !== BATCH)
        return fail(`flatten expects f32[B,...], got ${x ? formatType(x) : "nothing"}`);
      return ok(tensor([BATCH, (x.shape.slice(1) as number[]).reduce((a, b) => a * b, 1)]));
    },
  },
  cross: {
    summary: "DCNv2 cross network: x_{l+1} = x0 * (W_l x_l + b_l) + x_l, W full or low-rank (up · down)",
    values: [1, 1],
    weights: [2, Infinity],
    attrs: {
      layers: { type: "int", required: true, doc: "number of cross layers" },
      rank: { type: "int", default: 0, doc: "0: full-rank W [d,d]; r > 0: W = up [d,r] · down [r,d]" },
    },
    infer({ values: [x], weights, attrs }) {
      const d = features(x);
      if (d === undefined) return fail(`cross expects f32[B,d], got ${x ? formatType(x) : "nothing"}`);
      const layers = attrs.layers as number;
      const per = (attrs.rank as number) > 0 ? 3 : 2;
      if (weights.length !== layers * per) return fail(`cross with ${layers} layers needs ${layers * per} weights, got ${weights.length}`);
      for (let l = 0; l < layers; l++) {
        const err = checkCrossWeights(d, attrs.rank as number, weights.slice(l * per, (l + 1) * per));
        if (err) return fail(`cross layer ${l}: ${err}`);
      }
      return ok(tensor([BATCH, d]));
    },
  },
  cross_layer: {
    summary: "one DCNv2 layer: x0 * (W xl + b) + xl",
    values: [2, 2],
    weights: [2, 3],
    attrs: {
      rank: { type: "int", default: 0, doc: "0: full-rank W; r > 0: low-rank up · down" },
      act: { type: "enum", values: ["relu", "none"], doc: "activation applied to the output in the layer's epilogue (fuse-epilogue); absent: none" },
    },
    infer({ values: [x0, xl], weights, attrs }) {
      const d = features(x0);
      if (d === undefined) return fail(`cross_layer expects x0 as f32[B,d], got ${x0 ? formatType(x0) : "nothing"}`);
      if (features(xl) !== d) return fail(`cross_layer inputs differ: x0 is ${formatType(x0!)}, xl is ${xl ? formatType(xl) : "nothing"}`);
      const err = checkCrossWeights(d, attrs.rank as number, weights);
      return err ? fail(err) : ok(tensor([BATCH, d]));
    },
  },
} satisfies Record<string, OpDef>;

/** Weights of one cross layer: full `[W: d×d, b: d]` or low-rank `[down: r×d, up: d×r, b: d]`. */
function checkCrossWeights(d: number, rank: number, ws: WeightDecl[]): string | undefined {
  const want: number[][] = rank > 0 ? [[rank, d], [d, rank], [d]] : [[d, d], [d]];
  if (ws.length !== want.length) return `expects ${want.length} weights, got ${ws.length}`;
  for (let i = 0; i < want.length; i++)
    if (!shapeIs(ws[i], want[i]!)) return `weight ${ws[i]!.name} is ${fmt(ws[i]!)}, expected f32[${want[i]!.join(",")}] for input f32[B,${d}]`;
  return undefined;
}

export type OpName = keyof typeof OPS;
export const OP_NAMES = Object.keys(OPS) as OpName[];
export const isOpName = (s: string): s is OpName => Object.prototype.hasOwnProperty.call(OPS, s);
export const opDef = (name: string): OpDef | undefined => (isOpName(name) ? (OPS[name] as OpDef) : undefined);

/** Attributes with their defaults filled in (attrs the op does not know are kept as they are). */
export function withDefaults(op: OpDef, attrs: Attrs): Attrs {
  const out: Attrs = { ...attrs };
  for (const [k, spec] of Object.entries(op.attrs)) if (out[k] === undefined && spec.default !== undefined) out[k] = spec.default;
  return out;
}

/** Checks one attribute value against its schema; returns a message or undefined. */
export function checkAttr(name: string, spec: AttrSpec, v: AttrValue): string | undefined {
  switch (spec.type) {
    case "int":
      return Number.isInteger(v) && (v as number) >= 0 ? undefined : `attribute ${name} must be a non-negative integer, got ${JSON.stringify(v)}`;
    case "ints":
      return Array.isArray(v) && v.every((x) => Number.isInteger(x) && (x as number) >= 0)
        ? undefined
        : `attribute ${name} must be a list of non-negative integers, got ${JSON.stringify(v)}`;
    case "bool":
      return typeof v === "boolean" ? undefined : `attribute ${name} must be true or false, got ${JSON.stringify(v)}`;
    case "enum":
      return typeof v === "string" && spec.values!.includes(v)
        ? undefined
        : `attribute ${name} must be one of ${spec.values!.join(", ")}, got ${JSON.stringify(v)}`;
    case "number":
      return v === null || (typeof v === "number" && Number.isFinite(v) && v > 0)
        ? undefined
        : `attribute ${name} must be a positive number (or null), got ${printable(v)}`;
    case "numbers":
      return v === null || (Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isFinite(x) && x > 0))
        ? undefined
        : `attribute ${name} must be a list of positive numbers (or null)`;
  }
}

/** JSON drops NaN and infinities (they print as null); name them. */
const printable = (v: AttrValue): string => (typeof v === "number" && !Number.isFinite(v) ? String(v) : JSON.stringify(v));

/** Batch-size substitution: the concrete shape of a type for batch size `b`. */
export const concreteShape = (t: TensorType, b: number): number[] => t.shape.map((d: Dim) => (d === BATCH ? b : d));
