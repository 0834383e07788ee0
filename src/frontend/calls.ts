// Front end, stage 4 (calls): the ops a model may call, each with its
// parameters and a `build` step that names and shapes the weights its node
// needs; and `lowerCall`, which turns one call (nested calls first) into IR
// nodes, filling in every attribute default and computing the node's type with
// the op table's type rule (src/ir/ops.ts), so a shape error names the call.

import { didYouMean } from "../diagnostics/index.js";
import { ACTIVATIONS, INTERACTIONS, opDef, withDefaults, type OpName } from "../ir/ops.js";
import { valueRef, weightRef, type Attrs, type Span, type TensorType, type Type, type WeightDecl, type WeightRole } from "../ir/types.js";
import { bindArgs, describe, toBool, toEnum, toInt, toInts, what, type Bound, type Param } from "./args.js";
import type { CallExpr, Expr } from "./ast.js";
import { CODES } from "./codes.js";
import type { BagsRef, LowerCtx, TableRef, Val } from "./context.js";
import { toBags, toTable, valueByName } from "./operands.js";
import { LIMITS } from "../ir/limits.js";

/** Converted arguments, by parameter name (`values` holds the variadic operands). */
type Converted = Map<string, unknown>;

/** What a call becomes: one IR node's op, operands and attributes; `declare` when its weights are new. */
interface NodePlan {
  op: OpName;
  values: Array<{ id: string; type: Type }>;
  weights: WeightDecl[];
  declare: boolean;
  attrs: Attrs;
}

/** One op of the language. */
interface CallSpec {
  summary: string;
  params: Param[];
  /** A correct call, shown in hints. */
  usage: string;
  build(a: Converted, id: string, ctx: LowerCtx, call: CallExpr): NodePlan | undefined;
}

const X: Param = { name: "x", kind: "value", positional: true, required: true, doc: "the input" };
const BIAS: Param = { name: "bias", kind: "bool", doc: "whether layers have a bias (default true)" };

/** The feature count of a `[B, n]` value, or undefined for other shapes (the type rule then explains). */
const width = (v: Val): number | undefined => (v.type.shape.length === 2 && typeof v.type.shape[1] === "number" ? v.type.shape[1] : undefined);

const weight = (name: string, role: WeightRole, shape: number[], span: Span): WeightDecl => ({ name, role, dtype: "f32", shape, attrs: {}, span });

const unary = (op: "relu" | "sigmoid" | "tanh" | "flatten", summary: string): CallSpec => ({
  summary,
  params: [X],
  usage: `${op}(x)`,
  build: (a) => ({ op, values: [a.get("x") as Val], weights: [], declare: true, attrs: {} }),
});

/** The ops of the language, by the name a model calls them with. */
export const CALLS: Record<string, CallSpec> = {
  linear: {
    summary: "a dense layer: x W^T + b",
    params: [X, { name: "out", kind: "int", positional: true, required: true, doc: "the number of output features" }, BIAS],
    usage: "linear(x, 64) or linear(x, out: 64, bias: false)",
    build(a, id, ctx, call) {
      const x = a.get("x") as Val;
      const out = a.get("out") as number;
      const n = width(x);
      const ws = n === undefined ? [] : [weight(`${id}.weight`, "weight", [out, n], call.span)];
      if (n !== undefined && a.get("bias") !== false) ws.push(weight(`${id}.bias`, "bias", [out], call.span));
      return { op: "linear", values: [x], weights: ws, declare: true, attrs: {} };
    },
  },
  mlp: {
    summary: "a stack of dense layers with an activation after each",
    params: [
      X,
      { name: "sizes", kind: "ints", positional: true, required: true, doc: "the output width of each layer, e.g. [64, 16]" },
      { name: "act", kind: "enum", values: ACTIVATIONS, doc: "the activation after each hidden layer" },
      { name: "final", kind: "enum", values: ACTIVATIONS, doc: "the activation after the last layer" },
      BIAS,
    ],
    usage: "mlp(x, [64, 16], act: relu, final: sigmoid)",
    build(a, id, ctx, call) {
      const x = a.get("x") as Val;
      const sizes = a.get("sizes") as number[];
      const act = (a.get("act") as string | undefined) ?? "relu";
      const bias = a.get("bias") !== false;
      let n = width(x);
      const ws: WeightDecl[] = [];
      for (let i = 0; n !== undefined && i < sizes.length; n = sizes[i++]) {
        ws.push(weight(`${id}.${i}.weight`, "weight", [sizes[i]!, n], call.span));
        if (bias) ws.push(weight(`${id}.${i}.bias`, "bias", [sizes[i]!], call.span));
      }
      return {
        op: "mlp",
        values: [x],
        weights: ws,
        declare: true,
        attrs: { sizes, act, final: (a.get("final") as string | undefined) ?? act, bias },
      };
    },
  },
  relu: unary("relu", "max(x, 0)"),
  sigmoid: unary("sigmoid", "1 / (1 + exp(-x))"),
  tanh: unary("tanh", "tanh(x)"),
  flatten: unary("flatten", "[B, n, d] -> [B, n*d]"),
  embedding_bag: {
    summary: "pools the table rows each bag names",
    params: [
      { name: "tables", kind: "table", positional: true, required: true, doc: "a table, a table array, or one table of an array (`emb[3]`)" },
      { name: "bags", kind: "bags", positional: true, required: true, doc: "a bags input, or one of its features (`sparse[3]`)" },
    ],
    usage: "embedding_bag(emb, sparse) or embedding_bag(emb[3], sparse[3])",
    build: (a, id, ctx, call) => planEmbeddingBag(ctx, a.get("tables") as TableRef, a.get("bags") as BagsRef, call),
  },
  interact: {
    summary: "DLRM feature interaction (pairwise dots or concatenation)",
    params: [
      { name: "values", kind: "values", min: 2, doc: "the dense vector, then the features to interact with it" },
      { name: "op", kind: "enum", values: INTERACTIONS, doc: "`dot` (pairwise dot products) or `cat` (concatenation)" },
      { name: "self", kind: "bool", doc: "include each feature's dot with itself" },
    ],
    usage: "interact(bottom, pooled, op: dot)",
    build(a) {
      const attrs: Attrs = {};
      if (a.has("op")) attrs.op = a.get("op") as string;
      if (a.has("self")) attrs.self = a.get("self") as boolean;
      return { op: "interact", values: a.get("values") as Val[], weights: [], declare: true, attrs };
    },
  },
  concat: {
    summary: "joins [B, n] values along the feature axis",
    params: [{ name: "values", kind: "values", min: 1, doc: "the values to join" }],
    usage: "concat(a, b)",
    build: (a) => ({ op: "concat", values: a.get("values") as Val[], weights: [], declare: true, attrs: {} }),
  },
  cross: {
    summary: "a DCNv2 cross network",
    params: [
      X,
      { name: "layers", kind: "int", positional: true, required: true, doc: "the number of cross layers", max: LIMITS.count },
      { name: "rank", kind: "int", allowZero: true, doc: "0 for full-rank layers, r > 0 for low-rank ones" },
    ],
    usage: "cross(x, layers: 3, rank: 512)",
    build(a, id, ctx, call) {
      const x = a.get("x") as Val;
      const layers = a.get("layers") as number;
      const rank = (a.get("rank") as number | undefined) ?? 0;
      const d = width(x);
      const ws: WeightDecl[] = [];
      for (let l = 0; d !== undefined && l < layers; l++) {
        if (rank > 0) ws.push(weight(`${id}.${l}.down`, "weight", [rank, d], call.span), weight(`${id}.${l}.up`, "weight", [d, rank], call.span));
        else ws.push(weight(`${id}.${l}.weight`, "weight", [d, d], call.span));
        ws.push(weight(`${id}.${l}.bias`, "bias", [d], call.span));
      }
      return { op: "cross", values: [x], weights: ws, declare: true, attrs: { layers, rank } };
    },
  },
};

/** An embedding_bag over a whole table array (stacked) or over one table (unstacked). */
function planEmbeddingBag(ctx: LowerCtx, t: TableRef, b: BagsRef, call: CallExpr): NodePlan | undefined {
  const name = (r: { sym: { name: string }; index?: number }) => (r.index === undefined ? r.sym.name : `${r.sym.name}[${r.index}]`);
  const featureCount = b.index === undefined ? b.sym.type.count : 1;
  const single = t.index !== undefined || t.sym.count === undefined;
  const tableCount = single ? 1 : t.sym.count!;
  if (tableCount !== featureCount) {
    const tables = single ? `one table (\`${name(t)}\`)` : `${tableCount} tables (\`${name(t)}\`)`;
    const feats = `${featureCount} bag feature${featureCount > 1 ? "s" : ""} (\`${name(b)}\`)`;
    const hint = single
      ? `pick one feature: embedding_bag(${name(t)}, ${b.sym.name}[i])`
      : featureCount === 1
        ? `pick one table too: embedding_bag(${t.sym.name}[i], ${name(b)})`
        : "table i reads bag feature i, so the counts must match";
    return ctx.error(CODES.countMismatch, `embedding_bag reads ${tables} but ${feats}`, call.span, hint);
  }
  const weights = single ? [t.sym.weights[t.index ?? 0]!] : t.sym.weights;
  const bags = single ? [b.index ?? 0] : weights.map((_, i) => i);
  return {
    op: "embedding_bag",
    values: [{ id: b.sym.name, type: b.sym.type }],
    weights,
    declare: false,
    attrs: { pool: t.sym.pool, bags, stacked: !single },
  };
}

/** Converts every bound argument by its parameter's kind (all of them, so each bad one is reported). */
function convertArgs(ctx: LowerCtx, call: CallExpr, params: readonly Param[], bound: Bound): Converted | undefined {
  const out: Converted = new Map();
  let ok = true;
  for (const p of params) {
    if (p.kind === "values") {
      const vals = bound.values.map((e) => toValue(ctx, e, `each input of ${call.op}`));
      if (vals.every((v) => v !== undefined)) out.set("values", vals);
      else ok = false;
      continue;
    }
    const e = bound.args.get(p.name);
    if (!e) continue;
    const v = convertOne(ctx, call.op, p, e);
    if (v === undefined) ok = false;
    else out.set(p.name, v);
  }
  return ok ? out : undefined;
}

function convertOne(ctx: LowerCtx, op: string, p: Param, e: Expr): unknown {
  switch (p.kind) {
    case "value":
      return toValue(ctx, e, what(op, p.name));
    case "table":
      return toTable(ctx, e, op);
    case "bags":
      return toBags(ctx, e, op);
    case "int":
      return toInt(ctx, e, op, p.name, p.allowZero, p.max);
    case "ints":
      return toInts(ctx, e, op, p.name);
    case "bool":
      return toBool(ctx, e, op, p.name);
    case "enum":
      return toEnum(ctx, e, op, p.name, p.values!);
    default:
      return undefined;
  }
}

/** A dense value: a name, or a nested call lowered into nodes of the current statement. `subject` names the slot in messages. */
export function toValue(ctx: LowerCtx, e: Expr, subject: string): Val | undefined {
  if (e.kind === "call") return lowerCall(ctx, e, false);
  if (e.kind === "name" || e.kind === "index") return valueByName(ctx, e);
  return ctx.error(CODES.wrongKind, `${subject} must be a value (a name or a call), got ${describe(e)}`, e.span);
}

/** Lowers one call into IR nodes; `outer` calls take the statement's name as their id. */
export function lowerCall(ctx: LowerCtx, call: CallExpr, outer: boolean): Val | undefined {
  const spec = Object.prototype.hasOwnProperty.call(CALLS, call.op) ? CALLS[call.op] : undefined;
  if (!spec) {
    if (call.op === "embedding")
      return ctx.error(
        CODES.unknownOp,
        "`embedding(...)` declares a table; it does not compute a value",
        call.opSpan,
        "declare it with `table NAME: embedding(dim: D, rows: R)` and read it with embedding_bag(NAME, BAGS)",
      );
    return ctx.error(
      CODES.unknownOp,
      `unknown op \`${call.op}\``,
      call.opSpan,
      didYouMean(call.op, Object.keys(CALLS)) ?? `the ops are ${Object.keys(CALLS).join(", ")}`,
    );
  }
  const bound = bindArgs(ctx, call, spec.params, spec.usage);
  const args = convertArgs(ctx, call, spec.params, bound.bound);
  if (!bound.ok || !args) return undefined;
  if (!ctx.spend(nodeCost(call.op, args), call.span)) return undefined;
  const id = ctx.nodeId(call.op, outer);
  const plan = spec.build(args, id, ctx, call);
  return plan && addNode(ctx, plan, id, call.span);
}

/** What a call counts against LIMITS.nodes: one, or one per layer of an mlp or cross network (canonicalize makes a node of each). */
function nodeCost(op: string, args: Converted): number {
  if (op === "mlp") return (args.get("sizes") as number[]).length;
  if (op === "cross") return args.get("layers") as number;
  return 1;
}

/** Types a planned node with the op table's rule and adds it (and its new weights) to the graph. */
function addNode(ctx: LowerCtx, plan: NodePlan, id: string, span: Span): Val | undefined {
  const def = opDef(plan.op)!;
  const attrs = withDefaults(def, plan.attrs);
  if (ctx.stmt?.precision) attrs.precision = ctx.stmt.precision;
  const typed = def.infer({ values: plan.values.map((v) => v.type), weights: plan.weights, attrs });
  if (!typed.ok) return ctx.error(CODES.shapeMismatch, typed.message, span, typed.hint);
  if (plan.declare) ctx.weights.push(...plan.weights);
  ctx.nodes.push({
    id,
    op: plan.op,
    inputs: [...plan.values.map((v) => valueRef(v.id)), ...plan.weights.map((w) => weightRef(w.name))],
    attrs,
    type: typed.type,
    span,
  });
  return { id, type: typed.type as TensorType };
}
