// The heart of `rmc import-onnx`: walks an ONNX graph back from its outputs
// and turns each recognised subgraph into one canonical IR node (linear,
// activations, embedding_bag, interact, concat, flatten, cross_layer). IR ids
// are the ONNX names of the nodes rmc's exporter names after them, weights keep
// their initializer names; dsl.ts then chooses the DSL names. Anything that
// fits no pattern is collected, so one error can list every such node.

import { OPS, withDefaults } from "../ir/ops.js";
import {
  type Attrs,
  type Graph,
  type Input,
  type Node,
  type TensorType,
  type Type,
  type WeightDecl,
  syntheticSpan,
  valueRef,
  weightRef,
} from "../ir/types.js";
import { OnnxBuilder } from "./builder.js";
import { DOC_PREFIX } from "./export.js";
import { lowerCrossLayer, lowerInteractDot } from "./lower.js";
import { type GraphIndex, matchTemplate, valueDims, valueElemType } from "./match.js";
import { matchInt8Layer } from "./int8-import.js";
import { findPooling, looksLikePooling, type FoundPooling } from "./pooling.js";
import { DT, type NodeProto, attrValue, tensorValues } from "./proto.js";

/** A node that fits no pattern, and why. */
export interface ImportFailure {
  node: NodeProto;
  reason: string;
}

/** Reductions that pool a padded [batch, L, dim] gather, by ONNX op. */
const PADDED_POOLS: Record<string, FoundPooling["pool"]> = { ReduceSum: "sum", ReduceMean: "mean", ReduceMax: "max" };

const ACTIVATIONS: Record<string, "relu" | "sigmoid" | "tanh"> = { Relu: "relu", Sigmoid: "sigmoid", Tanh: "tanh" };

/** Nodes of one chain that import follows from an output back to the inputs (a DLRM is tens deep). */
export const MAX_IMPORT_DEPTH = 1000;

/** Recognises an ONNX graph as canonical IR; see recogniseGraph. */
export class Recognizer {
  readonly failures: ImportFailure[] = [];
  private readonly nodes: { node: Node; at: number }[] = [];
  private readonly weightDecls = new Map<string, { decl: WeightDecl; data: Float32Array; at: number }>();
  readonly bagsInputs = new Map<string, { count: number; weighted: boolean }>();
  /** Torch-style padded index inputs and the weights input multiplied into their rows. */
  readonly paddedWeights = new Map<string, string>();
  private readonly values = new Map<string, string | null>();
  private readonly types = new Map<string, Type>();
  private readonly taken = new Set<string>();
  private depth = 0;

  constructor(
    private readonly g: GraphIndex,
    private readonly counts: ReadonlyMap<string, number>,
  ) {}

  /** The IR value computed by ONNX tensor `tensor`, or undefined when it (or something it reads) fits no pattern. */
  value(tensor: string): string | undefined {
    if (this.values.has(tensor)) return this.values.get(tensor) ?? undefined;
    // Recognition recurses from outputs to inputs, one level per node of a chain: a bound, rather than a stack overflow.
    if (this.depth >= MAX_IMPORT_DEPTH)
      return this.fail({ name: tensor, opType: "(chain)" }, `the graph is more than ${MAX_IMPORT_DEPTH} nodes deep here, over what rmc imports`);
    this.depth++;
    try {
      return this.valueOf(tensor);
    } finally {
      this.depth--;
    }
  }

  private valueOf(tensor: string): string | undefined {
    this.values.set(tensor, null);
    let id: string | undefined;
    const p = this.g.producer.get(tensor);
    if (this.g.inputs.has(tensor)) id = this.denseInput(tensor);
    else if (!p) this.fail({ name: tensor, opType: "(constant)" }, "a constant where a computed value is expected");
    else if (p.index !== 0) this.fail(p.node, `output ${p.index} is read, which no rmc op produces`);
    else id = this.recognise(p.node, tensor);
    this.values.set(tensor, id ?? null);
    return id;
  }

  /** Nodes sorted by their place in the file, weights by initializer order. */
  result(name: string, inputs: Input[], outputs: Graph["outputs"]): { graph: Graph; weights: Map<string, Float32Array> } {
    const nodes = [...this.nodes].sort((a, b) => a.at - b.at).map((n) => n.node);
    const ws = [...this.weightDecls.values()].sort((a, b) => a.at - b.at);
    return { graph: { name, inputs, weights: ws.map((w) => w.decl), nodes, outputs }, weights: new Map(ws.map((w) => [w.decl.name, w.data])) };
  }

  /** The type of an IR value made so far. */
  typeOf(id: string): Type | undefined {
    return this.types.get(id);
  }

  fail(node: NodeProto, reason: string): undefined {
    this.failures.push({ node, reason });
    return undefined;
  }

  private denseInput(name: string): string | undefined {
    const info = this.g.inputs.get(name)!;
    const dims = valueDims(info);
    if (valueElemType(info) !== DT.FLOAT || !dims || dims.length !== 2 || typeof dims[1] !== "number")
      return this.fail(
        { name, opType: "(graph input)" },
        `dense inputs must be float [batch, n] with a fixed n, got ${dims ? `[${dims.join(", ")}]` : "no shape"}; bags are NAME_ids / NAME_offsets pairs`,
      );
    this.types.set(name, { kind: "tensor", dtype: "f32", shape: ["B", dims[1]] });
    return name;
  }

  private recognise(n: NodeProto, tensor: string): string | undefined {
    const op = n.opType ?? "";
    if (op === "Identity") return this.value(n.input![0]!);
    if (Object.hasOwn(ACTIVATIONS, op)) return this.operands(n, [n.input![0]!], (xs) => this.add(n, ACTIVATIONS[op]!, xs, [], {}));
    if (op === "Gemm" || op === "MatMul") return this.linear(n, n, undefined);
    if (op === "Add") return this.add2(n, tensor);
    if (op === "Mul" && this.isInt8Scaling(n)) return this.int8Linear(n, tensor, false);
    if (op === "Concat") return this.concat(n);
    if (op === "Flatten")
      return attrValue(n, "axis") === 1
        ? this.operands(n, [n.input![0]!], (xs) => this.add(n, "flatten", xs, [], {}))
        : this.fail(n, "only Flatten with axis=1 is imported");
    if (op === "Reshape" && this.g.numbers(n.input![1]!)?.join() === "0,-1")
      return this.operands(n, [n.input![0]!], (xs) => this.add(n, "flatten", xs, [], {}));
    const padded = Object.hasOwn(PADDED_POOLS, op) ? this.paddedGather(n.input![0]!) : undefined;
    if (padded) return this.paddedPooling(n, padded.gather, padded.weights);
    if (looksLikePooling(this.g, tensor)) return this.pooled(n, tensor);
    return this.fail(n, "it is not part of any pattern rmc imports");
  }

  /** Converts operand tensors; calls `then` only when all of them convert (a failing operand has already been reported). */
  private operands(n: NodeProto, tensors: string[], then: (ids: string[]) => string | undefined): string | undefined {
    const ids = tensors.map((t) => this.value(t));
    return ids.every((x) => x !== undefined) ? then(ids as string[]) : undefined;
  }

  /** Adds an IR node named after the ONNX node `principal`, typed by the op table; a type error is a shape conflict. */
  private add(principal: NodeProto, op: keyof typeof OPS, values: string[], weights: string[], attrs: Attrs): string | undefined {
    const id = this.freshId(principal.name || principal.output?.[0] || op);
    const all = { ...withDefaults(OPS[op], attrs), ...docAttrs(principal.docString) };
    const inferred = OPS[op].infer({
      values: values.map((v) => this.types.get(v)!),
      weights: weights.map((w) => this.weightDecls.get(w)!.decl),
      attrs: all,
    });
    if (!inferred.ok) return this.fail(principal, `shape conflict: ${inferred.message}`);
    const node: Node = {
      id,
      op,
      inputs: [...values.map(valueRef), ...weights.map(weightRef)],
      attrs: all,
      type: inferred.type,
      span: syntheticSpan(),
    };
    this.nodes.push({ node, at: this.g.position.get(principal) ?? 0 });
    this.types.set(id, inferred.type);
    return id;
  }

  private freshId(base: string): string {
    let id = base;
    for (let k = 2; this.taken.has(id); k++) id = `${base}_${k}`;
    this.taken.add(id);
    return id;
  }

  /** Registers initializer `name` as a weight ([out, in] for layers, transposed from [in, out] when `transpose`). */
  weight(user: NodeProto, name: string, role: WeightDecl["role"], transpose = false): string | undefined {
    const known = this.weightDecls.get(name);
    if (known)
      return known.decl.role === role ? name : this.fail(user, `initializer \`${name}\` is used both as a ${known.decl.role} and as a ${role}`);
    const init = this.g.initializers.get(name);
    const values = init ? tensorValues(init) : undefined;
    if (!init || !values || values.dtype !== DT.FLOAT) return this.fail(user, `\`${name}\` should be a float32 initializer (a ${role})`);
    let { dims } = values;
    let data = values.data as Float32Array;
    if (transpose && dims.length === 2) [dims, data] = [[dims[1]!, dims[0]!], transposed(data, dims[0]!, dims[1]!)];
    if (role === "bias" && dims.length === 2 && dims[0] === 1) dims = [dims[1]!];
    const index = (this.g.graph.initializer ?? []).indexOf(init);
    const decl: WeightDecl = {
      name,
      role,
      dtype: "f32",
      shape: dims,
      attrs: docAttrs(init.docString ?? undefined, ["precision", "ids"]),
      span: syntheticSpan(),
    };
    this.weightDecls.set(name, { decl, data, at: index });
    return name;
  }

  /** Gemm (+ C), or MatMul with a constant right side; `bias` is the Add of a MatMul + Add. */
  private linear(principal: NodeProto, mm: NodeProto, bias: string | undefined): string | undefined {
    const [x, w, c] = mm.input ?? [];
    if (!w || !this.g.initializers.has(w)) return this.fail(mm, "a MatMul / Gemm whose right side is no initializer");
    const gemm = mm.opType === "Gemm";
    if (gemm && (num(mm, "alpha", 1) !== 1 || num(mm, "beta", 1) !== 1 || num(mm, "transA", 0) !== 0))
      return this.fail(mm, "only Gemm with alpha=1, beta=1, transA=0 is imported");
    const biasName = gemm ? c || undefined : bias;
    const weight = this.weight(mm, w, "weight", !(gemm && num(mm, "transB", 0) === 1));
    const b = biasName === undefined ? undefined : this.weight(mm, biasName, "bias");
    if (weight === undefined || (biasName !== undefined && b === undefined)) return undefined;
    return this.operands(principal, [x!], (xs) => this.add(principal, "linear", xs, b === undefined ? [weight] : [weight, b], {}));
  }

  /** Add: a MatMul + bias (linear) or rmc's cross layer. */
  private add2(n: NodeProto, tensor: string): string | undefined {
    const [a, b] = n.input ?? [];
    const mm = this.g.opOf(a!, "MatMul");
    if (mm && this.g.initializers.has(b!)) return this.linear(n, mm, b);
    const mul = this.g.opOf(a!, "Mul");
    if (mul && this.isInt8Scaling(mul)) return this.int8Linear(n, tensor, true);
    if (mul) return this.crossLayer(n, tensor);
    return this.fail(n, "an Add that is neither a MatMul + bias nor a cross layer");
  }

  /** A Mul of Cast(MatMulInteger(…)): the scaling step of an int8 layer rmc exported (int8-import.ts). */
  private isInt8Scaling(mul: NodeProto): boolean {
    const cast = this.g.opOf(mul.input?.[0] ?? "", "Cast");
    return !!cast && !!this.g.opOf(cast.input?.[0] ?? "", "MatMulInteger");
  }

  /** An int8 layer back as a linear layer pinned int8, its weights dequantized from the uint8 values and scales. */
  private int8Linear(n: NodeProto, tensor: string, withBias: boolean): string | undefined {
    const m = matchInt8Layer(this.g, tensor, withBias);
    if (typeof m === "string") return this.fail(n, `not an int8 layer rmc reads back: ${m}`);
    const index = (this.g.graph.initializer ?? []).findIndex((i) => i.name === `${m.name}.u8` || i.name?.startsWith(`${m.name}.u8`));
    let weight = m.name;
    for (let k = 2; this.weightDecls.has(weight); k++) weight = `${m.name}_${k}`;
    this.weightDecls.set(weight, {
      decl: { name: weight, role: "weight", dtype: "f32", shape: m.shape, attrs: {}, span: syntheticSpan() },
      data: m.data,
      at: index,
    });
    const b = m.bias === undefined ? undefined : this.weight(n, m.bias, "bias");
    if (m.bias !== undefined && b === undefined) return undefined;
    return this.operands(n, [m.x], (xs) => this.add(n, "linear", xs, b === undefined ? [weight] : [weight, b], { precision: "int8" }));
  }

  private crossLayer(n: NodeProto, tensor: string): string | undefined {
    const mul = this.g.opOf(n.input![0]!, "Mul")!;
    const lin = this.g.opOf(mul.input![1]!, "Gemm");
    const lowRank = !!lin && !!this.g.opOf(lin.input![0]!, "Gemm");
    const t = new OnnxBuilder();
    const holes = lowRank ? { down: "?down", up: "?up", bias: "?bias" } : { weight: "?weight", bias: "?bias" };
    const root = lowerCrossLayer(t, "?x0", "?xl", holes, "?out");
    const m = matchTemplate(this.g, t, root, tensor, new Set(["?x0", "?xl", ...Object.values(holes)]));
    if (typeof m === "string") return this.fail(n, `an Add that is neither a MatMul + bias nor a cross layer (${m})`);
    const get = (h: string): string => m.bound.get(h)!;
    const ws = lowRank
      ? [this.weight(n, get("?down"), "weight"), this.weight(n, get("?up"), "weight"), this.weight(n, get("?bias"), "bias")]
      : [this.weight(n, get("?weight"), "weight"), this.weight(n, get("?bias"), "bias")];
    if (ws.some((w) => w === undefined)) return undefined;
    const rank = lowRank ? this.weightDecls.get(get("?down"))!.decl.shape[0]! : 0;
    return this.operands(n, [get("?x0"), get("?xl")], (xs) => this.add(n, "cross_layer", xs, ws as string[], { rank }));
  }

  /**
   * The rows a torch-style pooling reduces: Gather(table, idx) with idx a
   * graph input, or that times Unsqueeze(w, 2) with w a graph input (per-id
   * weights, torch's `emb(idx) * w.unsqueeze(2)`); undefined for anything else.
   */
  private paddedGather(tensor: string): { gather: NodeProto; weights?: string } | undefined {
    const direct = this.g.opOf(tensor, "Gather");
    if (direct) return this.g.inputs.has(direct.input?.[1] ?? "") ? { gather: direct } : undefined;
    const mul = this.g.opOf(tensor, "Mul");
    if (!mul) return undefined;
    for (const [a, w] of [
      [0, 1],
      [1, 0],
    ] as const) {
      const gather = this.g.opOf(mul.input?.[a] ?? "", "Gather");
      const unsq = this.g.opOf(mul.input?.[w] ?? "", "Unsqueeze");
      const axes = unsq && (unsq.input?.[1] ? this.g.numbers(unsq.input[1]) : (attrValue(unsq, "axes") as number[] | undefined));
      if (
        gather &&
        unsq &&
        this.g.inputs.has(gather.input?.[1] ?? "") &&
        this.g.inputs.has(unsq.input?.[0] ?? "") &&
        axes?.length === 1 &&
        (axes[0] === 2 || axes[0] === -1)
      )
        return { gather, weights: unsq.input![0]! };
    }
    return undefined;
  }

  /**
   * The form torch.onnx.export writes for `nn.Embedding` + `sum(dim=1)` (or
   * mean / max): Gather(table, idx) → ReduceSum/Mean/Max over axis 1, where
   * idx is an integer graph input [batch, L], optionally times per-id weights
   * w [batch, L]. It becomes a one-feature bags input named like idx (each
   * sample's L ids are one bag; with w, a weighted_bags input carrying w) and
   * an unstacked lookup. rmc's mean divides by the number of ids, as
   * ReduceMean does.
   */
  private paddedPooling(n: NodeProto, gather: NodeProto, weights: string | undefined): string | undefined {
    const [table, idx] = gather.input ?? [];
    const info = this.g.inputs.get(idx ?? "");
    const dims = valueDims(info);
    const axes = n.input?.[1] ? this.g.numbers(n.input[1]) : (attrValue(n, "axes") as number[] | undefined);
    const init = this.g.initializers.get(table ?? "");
    if (!init || init.dataType !== DT.FLOAT || (init.dims ?? []).length !== 2)
      return this.fail(n, `its Gather reads \`${table}\`, which is no float [rows, dim] initializer`);
    if (!info || !dims || dims.length !== 2 || (valueElemType(info) !== DT.INT64 && valueElemType(info) !== DT.INT32))
      return this.fail(n, `its Gather's indices \`${idx}\` are not an integer graph input [batch, ids]`);
    if (weights !== undefined) {
      const wInfo = this.g.inputs.get(weights);
      const wDims = valueDims(wInfo);
      if (valueElemType(wInfo) !== DT.FLOAT || !wDims || wDims.length !== 2 || wDims[1] !== dims[1])
        return this.fail(n, `its per-id weights \`${weights}\` are not a float graph input shaped like \`${idx}\` [batch, ${dims[1]}]`);
    }
    // The gathered rows are [batch, L, dim]: the ids axis is 1 (or -2).
    if (num(gather, "axis", 0) !== 0 || !axes || axes.length !== 1 || (axes[0] !== 1 && axes[0] !== -2) || num(n, "keepdims", 1) !== 0)
      return this.fail(n, "an embedding pooling must Gather along axis 0 and reduce axis 1 with keepdims=0");
    const weighted = weights !== undefined;
    const known = this.bagsInputs.get(idx!);
    if (known && (known.count !== 1 || known.weighted !== weighted))
      return this.fail(n, `\`${idx}\` is read both with and without per-id weights, or as a bags input`);
    if (weighted && this.paddedWeights.get(idx!) !== undefined && this.paddedWeights.get(idx!) !== weights)
      return this.fail(n, `\`${idx}\` is weighted by two different inputs`);
    if (weighted) this.paddedWeights.set(idx!, weights);
    this.bagsInputs.set(idx!, { count: 1, weighted });
    const found: FoundPooling = {
      table: table!,
      feature: 0,
      pool: PADDED_POOLS[n.opType ?? ""]!,
      ids: "error",
      bags: idx!,
      count: 1,
      weighted,
      match: { bound: new Map(), covered: new Set() },
    };
    return this.embeddingBag(n, [found], false);
  }

  /** A pooled table on its own: an unstacked embedding_bag. */
  private pooled(n: NodeProto, tensor: string): string | undefined {
    const p = this.pooling(n, tensor);
    return p && this.embeddingBag(n, [p], false);
  }

  private pooling(n: NodeProto, tensor: string): FoundPooling | undefined {
    const p = findPooling(this.g, tensor, this.counts);
    if (typeof p === "string") return this.fail(n, `not an embedding-bag pooling rmc recognises: ${p}`);
    const known = this.bagsInputs.get(p.bags);
    if (known && (known.count !== p.count || known.weighted !== p.weighted))
      return this.fail(n, `bags input \`${p.bags}\` is read with ${p.count} and ${known.count} features`);
    this.bagsInputs.set(p.bags, { count: p.count, weighted: p.weighted });
    return p;
  }

  private embeddingBag(principal: NodeProto, found: FoundPooling[], stacked: boolean): string | undefined {
    const pools = new Set(found.map((p) => p.pool));
    const inputs = new Set(found.map((p) => p.bags));
    if (pools.size > 1 || inputs.size > 1)
      return this.fail(
        principal,
        `stacked tables must pool alike from one bags input (found ${[...pools].join(", ")} from ${[...inputs].join(", ")})`,
      );
    const tables = found.map((p) => this.weight(principal, p.table, "table"));
    if (tables.some((t) => t === undefined)) return undefined;
    for (const p of found) if (p.ids !== "error") this.weightDecls.get(p.table)!.decl.attrs.ids = p.ids;
    const bags = found[0]!.bags;
    this.types.set(bags, { kind: "bags", ...this.bagsInputs.get(bags)! });
    return this.add(principal, "embedding_bag", [bags], tables as string[], { pool: found[0]!.pool, bags: found.map((p) => p.feature), stacked });
  }

  /** Concat: stacked pooled tables, the dot or cat interaction, or a plain concat. */
  private concat(n: NodeProto): string | undefined {
    const ins = n.input ?? [];
    const unsqueezed = ins.map((i) => this.g.opOf(i, "Unsqueeze"));
    if (unsqueezed.every((u) => u && this.g.numbers(u.input![1]!)?.join() === "1" && looksLikePooling(this.g, u.input![0]!))) {
      const found = unsqueezed.map((u) => this.pooling(u!, u!.input![0]!));
      return found.every((p) => p !== undefined) ? this.embeddingBag(n, found as FoundPooling[], true) : undefined;
    }
    if (attrValue(n, "axis") !== 1 && attrValue(n, "axis") !== -1) return this.fail(n, "only Concat along axis 1 is imported");
    const tri = ins.length === 2 ? this.g.opOf(ins[1]!, "Gather") : undefined;
    if (tri && this.g.opOf(tri.input![0]!, "Reshape")) return this.interactDot(n);
    const catMarker = docAttrs(n.docString ?? undefined, ["op"]).op === "interact";
    const flattened = ins.map((i) => this.g.opOf(i, "Flatten"));
    if (catMarker || flattened.some((f) => f && f.name?.startsWith(`${n.name}/`))) {
      const operands = ins.map((i, k) => (flattened[k] && flattened[k]!.name?.startsWith(`${n.name}/`) ? flattened[k]!.input![0]! : i));
      return this.operands(n, operands, (xs) => this.add(n, "interact", xs, [], { op: "cat", self: false }));
    }
    return this.operands(n, ins, (xs) => this.add(n, "concat", xs, [], {}));
  }

  private interactDot(n: NodeProto): string | undefined {
    const gram = this.g.opOf(this.g.opOf(this.g.opOf(n.input![1]!, "Gather")!.input![0]!, "Reshape")!.input![0]!, "MatMul");
    const stack = gram && this.g.opOf(gram.input![0]!, "Concat");
    if (!stack) return this.fail(n, "a Concat that looks like the dot interaction but has no Concat → MatMul(T, Tᵀ) → Reshape → Gather");
    const tensors = (stack.input ?? []).map((t) => this.g.opOf(t, "Unsqueeze")?.input?.[0] ?? t);
    return this.operands(n, tensors, (ids) => {
      const shapes = ids.map((id) => (this.types.get(id) as TensorType).shape.slice(1) as number[]);
      let why = "";
      for (const self of [false, true]) {
        const t = new OnnxBuilder();
        const holes = ids.map((_, k) => `?v${k}`);
        const root = lowerInteractDot(
          t,
          holes.map((name, k) => ({ name, shape: shapes[k]! })),
          self,
          "?out",
        );
        const m = matchTemplate(this.g, t, root, n.output![0]!, new Set(holes));
        if (typeof m !== "string") return this.add(n, "interact", ids, [], { op: "dot", self });
        why = m;
      }
      return this.fail(n, `not the dot interaction rmc writes: ${why}`);
    });
  }
}

/** A numeric attribute with its default. */
const num = (n: NodeProto, name: string, dflt: number): number => {
  const v = attrValue(n, name);
  return typeof v === "number" ? v : dflt;
};

/** IR attributes carried in an `rmc {...}` doc string (only the given keys). */
function docAttrs(doc: string | undefined | null, keys: readonly string[] = ["precision", "act_scale", "smooth"]): Attrs {
  if (!doc || !doc.startsWith(DOC_PREFIX)) return {};
  try {
    const parsed = JSON.parse(doc.slice(DOC_PREFIX.length)) as Attrs;
    return Object.fromEntries(keys.filter((k) => parsed[k] !== undefined).map((k) => [k, parsed[k]!]));
  } catch {
    return {};
  }
}

/** A [rows, cols] matrix transposed. */
function transposed(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}
