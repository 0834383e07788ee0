// ONNX export (`rmc export-onnx`): a model after the default pipeline
// (canonicalize, infer-shapes, dce) becomes an opset-17 ONNX model whose
// initializers are the model's weights under their DSL names. Each IR node's
// main ONNX node carries the IR id as its name, so `rmc import-onnx` gives the
// same ids back; IR attributes ONNX has no place for (precision pins, static
// scales) ride along as `rmc {...}` JSON in doc strings. The per-op subgraphs
// are in lower.ts; the conventions are documented in docs/onnx.md.

import { RmcError, error } from "../diagnostics/index.js";
import { type Attrs, type Graph, type Node, type TensorType, type WeightDecl, refName, valueInputs, weightInputs } from "../ir/types.js";
import { runPipeline, DEFAULT_PIPELINE } from "../pipeline/index.js";
import { createPassRegistry } from "../../passes/index.js";
import { int8Weights, roundedWeights, runnableLayerPrecision, tableAt } from "../interp/precision.js";
import { pinOf, precisionOf, smoothOf, staticActScale } from "../ir/attrs.js";
import { smoothMultipliers } from "../quant/dense.js";
import type { WeightStore } from "../weights/store.js";
import { OnnxBuilder } from "./builder.js";
import {
  ACTIVATION_OPS,
  type BagsDecode,
  type Operand,
  bagsInputNames,
  decodeBags,
  lowerConcat,
  lowerCrossLayer,
  lowerInt8Linear,
  lowerInt8LinearExact,
  lowerInteractDot,
  lowerLinear,
  lowerPooling,
  lowerStack,
} from "./lower.js";
import {
  DT,
  IR_VERSION,
  ONNX_CODES,
  OPSET,
  type ModelProto,
  type TensorProto,
  type ValueInfoProto,
  encodeModel,
  floatTensor,
  uint8Tensor,
} from "./proto.js";
import { externalize } from "./external.js";

/** What export writes. */
export interface ExportOptions {
  /**
   * fp32 (default): every layer and table in f32, precision attributes ignored.
   * plan: the graph's precision attributes (pins, or a plan applied by
   * assign-precision) are honoured: int8 linear layers in ONNX's dynamic int8
   * form, fp16/bf16 layers with their weights rounded, row-wise tables
   * dequantized (f32 rows holding exactly the values rmc reads).
   * int8: as plan, and every linear layer without a pin is int8.
   */
  precision?: ExportPrecision;
  /**
   * The form of int8 layers. dynamic (default): ONNX's DynamicQuantizeLinear
   * (one uint8 scale per tensor; ORT fuses it with MatMulInteger), close to
   * rmc's numbers but not equal. exact: rmc's own scheme (per-row or static
   * scales) from primitive ops, matching rmc's int8 results.
   */
  int8Form?: "dynamic" | "exact";
  /** Recorded as the model's producer_version. */
  producerVersion?: string;
}

/** The export modes (see ExportOptions.precision). */
export const EXPORT_PRECISIONS = ["fp32", "plan", "int8"] as const;
export type ExportPrecision = (typeof EXPORT_PRECISIONS)[number];

/** Metadata key of the input list (names, kinds, bag counts), so an import knows inputs nothing reads. */
export const INPUTS_METADATA = "rmc.inputs";
/** Prefix of doc strings that carry IR attributes. */
export const DOC_PREFIX = "rmc ";
/** ONNX's protobuf limit: one message under 2 GiB. */
const MAX_MODEL_BYTES = 2 ** 31 - 1;
/** Weights up to this many bytes stay inside the model (the rest of the message keeps 16 MiB for the graph). */
export const MAX_INLINE_BYTES = MAX_MODEL_BYTES - (1 << 24);

/** The IR attributes of a node or weight that the ONNX form does not express, as a doc string. */
export function attrsDoc(attrs: Attrs, keys: readonly string[]): string | undefined {
  const kept = Object.fromEntries(keys.filter((k) => attrs[k] !== undefined && attrs[k] !== null).map((k) => [k, attrs[k]]));
  return Object.keys(kept).length ? DOC_PREFIX + JSON.stringify(kept) : undefined;
}

/** IR attributes written to node doc strings (the rest are the op's ONNX form). */
const NODE_DOC_KEYS = ["precision", "act_scale", "smooth"] as const;
/** IR attributes written to initializer doc strings (`ids` is also the Clip/Mod in the graph). */
const WEIGHT_DOC_KEYS = ["precision", "ids"] as const;

/** Exports `graph` (DSL or IR form) with `weights` as ONNX model bytes; the same inputs always give the same bytes. */
export function exportOnnx(graph: Graph, weights: WeightStore, opts: ExportOptions = {}): Uint8Array {
  return encodeModel(buildModel(graph, weights, opts, true));
}

/**
 * As exportOnnx, with ONNX external data when the weights take more than
 * `above` bytes (default: what one protobuf message holds): initializers of
 * 1 KiB or more then go to the side file `location` (relative to the model),
 * whose bytes are `chunks`, in order. Under the threshold, `chunks` is empty.
 */
export function exportOnnxExternal(
  graph: Graph,
  weights: WeightStore,
  opts: ExportOptions & { location: string; above?: number },
): { model: Uint8Array; chunks: Uint8Array[] } {
  const above = opts.above ?? MAX_INLINE_BYTES;
  const model = buildModel(graph, weights, opts, false);
  const bytes = (model.graph!.initializer ?? []).reduce((n, t) => n + (t.rawData?.length ?? 0), 0);
  if (bytes <= above) {
    if (bytes > MAX_INLINE_BYTES) checkSize(runPipeline(graph, DEFAULT_PIPELINE, createPassRegistry(), { out: () => {} }));
    return { model: encodeModel(model), chunks: [] };
  }
  const out = externalize(model, opts.location);
  return { model: encodeModel(out.model), chunks: out.chunks };
}

function buildModel(graph: Graph, weights: WeightStore, opts: ExportOptions, limit: boolean): ModelProto {
  const canonical = runPipeline(graph, DEFAULT_PIPELINE, createPassRegistry(), { out: () => {} });
  if (limit) checkSize(canonical);
  const b = new OnnxBuilder();
  // An output named after the node it returns is that node's own output; other output names stay free for their Identity.
  b.reserve(...canonical.outputs.filter((o) => o.name !== o.value).map((o) => o.name));
  const inputs = canonical.inputs.flatMap((i) => inputInfos(i.name, i.type));
  b.reserve(...inputs.map((i) => i.name!));
  const mode = opts.precision ?? "fp32";
  const int8 = new Set(canonical.nodes.filter((n) => n.op === "linear" && exportedPrecision(n, canonical, mode) === "int8").map((n) => n.id));
  const readers = new Map<string, Node>();
  for (const n of canonical.nodes)
    for (const w of int8.has(n.id) ? weightInputs(n).slice(1) : weightInputs(n)) if (!readers.has(w)) readers.set(w, n);
  for (const w of canonical.weights) {
    const reader = readers.get(w.name);
    if (reader) b.initializer(weightTensor(w, weights, reader, mode === "fp32" ? "fp32" : exportedPrecision(reader, canonical, mode, w)));
  }
  const ctx: LowerCtx = { b, graph: canonical, weights, values: new Map(), decoders: new Map(), int8, int8Form: opts.int8Form ?? "dynamic" };
  for (const i of canonical.inputs) if (i.type.kind === "tensor") ctx.values.set(i.name, { name: i.name, shape: i.type.shape.slice(1) as number[] });
  for (const node of canonical.nodes) {
    b.scope = node.id;
    ctx.values.set(node.id, { name: lowerNode(ctx, node), shape: (node.type as TensorType).shape.slice(1) as number[] });
  }
  const outputs = canonical.outputs.map((o): ValueInfoProto => {
    const v = ctx.values.get(o.value.startsWith("%") ? refName(o.value) : o.value)!;
    if (v.name !== o.name) b.nodes.push({ input: [v.name], output: [o.name], name: `output.${o.name}`, opType: "Identity" });
    return tensorInfo(o.name, DT.FLOAT, ["B", ...v.shape]);
  });
  const metadata = canonical.inputs.map((i) =>
    i.type.kind === "bags"
      ? { name: i.name, bags: i.type.count, weighted: i.type.weighted }
      : { name: i.name, dense: (i.type as TensorType).shape[1] },
  );
  return {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: "", version: OPSET }],
    producerName: "rmc",
    producerVersion: opts.producerVersion ?? "",
    graph: { name: canonical.name, node: b.nodes, initializer: b.initializers, input: inputs, output: outputs },
    metadataProps: [{ key: INPUTS_METADATA, value: JSON.stringify(metadata) }],
  };
}

interface LowerCtx {
  b: OnnxBuilder;
  graph: Graph;
  weights: WeightStore;
  values: Map<string, Operand>;
  decoders: Map<string, BagsDecode>;
  int8: Set<string>;
  int8Form: "dynamic" | "exact";
}

/**
 * The precision node `n` computes at, as the interpreter reads it: a layer's
 * is its first weight's (a pin on the weight, else on the node), which
 * applies to its bias too; in int8 mode an unpinned linear layer is int8.
 * A table is read at its own precision (`table`, one of the node's weights):
 * the tables of one embedding_bag may each be stored differently, as an auto
 * plan chooses them. fp32 mode ignores precisions.
 */
function exportedPrecision(n: Node, g: Graph, mode: ExportPrecision, table?: WeightDecl): string {
  if (mode === "fp32") return "fp32";
  if (n.op === "embedding_bag") return table ? precisionOf(table, n) : "fp32";
  const decl = g.weights.find((d) => d.name === weightInputs(n)[0]);
  if (!decl) return "fp32";
  if (mode === "int8" && n.op === "linear" && pinOf(decl) === undefined && pinOf(n) === undefined) return "int8";
  return runnableLayerPrecision(n, decl);
}

/** Emits one IR node's ONNX subgraph; returns the tensor holding its value. */
function lowerNode(ctx: LowerCtx, node: Node): string {
  const { b } = ctx;
  const operands = valueInputs(node).map((id) => ctx.values.get(id)!);
  const ws = weightInputs(node);
  const doc = attrsDoc(node.attrs, NODE_DOC_KEYS);
  const named = { name: node.id, ...(doc ? { doc } : {}) };
  switch (node.op) {
    case "relu":
    case "sigmoid":
    case "tanh":
      return b.node(ACTIVATION_OPS[node.op], [operands[0]!.name], named);
    case "linear":
      if (ctx.int8.has(node.id))
        return ctx.int8Form === "exact"
          ? lowerInt8LinearExact(b, operands[0]!.name, int8Tensors(ctx, node), staticActScale(node), ws[1], node.id, doc)
          : lowerInt8Linear(b, operands[0]!.name, int8Tensors(ctx, node), ws[1], node.id, doc);
      return lowerLinear(b, operands[0]!.name, ws[0]!, ws[1], node.id, doc);
    case "embedding_bag":
      return lowerEmbeddingBag(ctx, node, doc);
    case "interact":
      // Without the marker, a cat interaction reads back as concat(x, flatten(...)): the same numbers, another IR.
      if (node.attrs.op === "cat") return lowerConcat(b, operands, node.id, attrsDoc({ ...node.attrs, op: "interact" }, [...NODE_DOC_KEYS, "op"]));
      return lowerInteractDot(b, operands, node.attrs.self === true, node.id, doc);
    case "concat":
      return lowerConcat(b, operands, node.id, doc);
    case "flatten":
      return b.node("Flatten", [operands[0]!.name], { ...named, attrs: { axis: 1 } });
    case "cross_layer": {
      const w = ws.length === 3 ? { down: ws[0]!, up: ws[1]!, bias: ws[2]! } : { weight: ws[0]!, bias: ws[1]! };
      return lowerCrossLayer(b, operands[0]!.name, operands[1]!.name, w, node.id, doc);
    }
    default:
      throw new RmcError(
        error(
          ONNX_CODES.unsupported,
          `${node.op} %${node.id} has no ONNX form`,
          node.span,
          "export runs after canonicalize; only its primitive ops are exported",
        ),
      );
  }
}

/** Pools every table of an embedding_bag node; stacked nodes concatenate the pooled [B, dim] values to [B, T, dim]. */
function lowerEmbeddingBag(ctx: LowerCtx, node: Node, doc: string | undefined): string {
  const bagsId = valueInputs(node)[0]!;
  const input = ctx.graph.inputs.find((i) => i.name === bagsId)!;
  if (input.type.kind !== "bags")
    throw new RmcError(error(ONNX_CODES.unsupported, `embedding_bag %${node.id} reads ${bagsId}, which is not a bags input`, node.span));
  const { count, weighted } = input.type;
  let decode = ctx.decoders.get(bagsId);
  if (!decode) ctx.decoders.set(bagsId, (decode = decodeBags(ctx.b, bagsId, count)));
  const feats = node.attrs.bags as number[];
  const stacked = node.attrs.stacked !== false;
  const pooled = weightInputs(node).map((table, t) => {
    const decl = ctx.graph.weights.find((w) => w.name === table)!;
    const spec = {
      table,
      rows: decl.shape[0]!,
      feature: ctx.b.int64([feats[t]!], []),
      pool: node.attrs.pool as "sum" | "mean" | "max",
      weighted,
      ids: ((decl.attrs.ids as string | undefined) ?? "error") as "error" | "clamp" | "modulo",
    };
    return lowerPooling(ctx.b, decode, spec, stacked ? undefined : node.id);
  });
  if (!stacked) {
    if (doc) ctx.b.nodes[ctx.b.nodes.length - 1]!.docString = doc;
    return pooled[0]!;
  }
  return lowerStack(ctx.b, pooled, node.id, doc);
}

/** The int8 initializers of a linear layer, quantized exactly as rmc quantizes it (per-channel, clip search, smoothing). */
function int8Tensors(ctx: LowerCtx, node: Node): { weight: string; zeroPoint: string; scales: string; smooth?: string } {
  const name = weightInputs(node)[0]!;
  const tensor = ctx.weights.get(name)!;
  const [out, inF] = tensor.shape as [number, number];
  const smooth = smoothOf(node);
  const { q, scales } = int8Weights(tensor, smooth);
  const shifted = new Uint8Array(out * inF);
  for (let o = 0; o < out; o++) for (let k = 0; k < inF; k++) shifted[k * out + o] = q[o * inF + k]! + 128;
  const b = ctx.b;
  const weight = b.initializer(uint8Tensor(b.fresh(`${name}.u8`), [inF, out], shifted));
  const scaleName = b.initializer(floatTensor(b.fresh(`${name}.scale`), [out], scales));
  const smoothName = smooth ? b.initializer(floatTensor(b.fresh(`${name}.smooth`), [inF], smoothMultipliers(smooth))) : undefined;
  return {
    weight,
    zeroPoint: b.initializer(uint8Tensor(b.fresh("const.u8.128"), [], Uint8Array.of(128))),
    scales: scaleName,
    ...(smoothName ? { smooth: smoothName } : {}),
  };
}

/**
 * A weight as a float32 initializer holding the values rmc computes with at
 * `precision`: a table's rows as stored (dequantized), a layer's weights
 * rounded to fp16/bf16; rmc-only attributes go in the doc string.
 */
function weightTensor(w: WeightDecl, store: WeightStore, reader: Node, precision: string): TensorProto {
  const t = store.get(w.name);
  if (!t) throw new RmcError(error(ONNX_CODES.shape, `weight @${w.name} is not in the weights`, w.span));
  if (t.shape.length !== w.shape.length || t.shape.some((d, i) => d !== w.shape[i]))
    throw new RmcError(
      error(
        ONNX_CODES.shape,
        `weight @${w.name}: the weights hold shape [${t.shape.join(",")}] but the model declares [${w.shape.join(",")}]`,
        w.span,
      ),
    );
  let values: Float32Array;
  if (reader.op === "embedding_bag") values = tableAt(t, precision, w).toFloat32();
  else if (precision === "fp16" || precision === "bf16") values = roundedWeights(t, precision);
  else values = t.toFloat32();
  return floatTensor(w.name, w.shape, values, attrsDoc(w.attrs, WEIGHT_DOC_KEYS));
}

/** The ONNX inputs of a graph input: a dense f32 [B, n], or the ids / offsets (/ weights) of a bags input. */
function inputInfos(name: string, type: Graph["inputs"][number]["type"]): ValueInfoProto[] {
  if (type.kind === "tensor") return [tensorInfo(name, DT.FLOAT, ["B", ...(type.shape.slice(1) as number[])])];
  const io = bagsInputNames(name);
  const infos = [tensorInfo(io.ids, DT.INT64, [`N_${name}`]), tensorInfo(io.offsets, DT.INT64, [`${type.count}*B+1`])];
  return type.weighted ? [...infos, tensorInfo(io.weights, DT.FLOAT, [`N_${name}`])] : infos;
}

/** A value info with static sizes and named (symbolic) dimensions. */
function tensorInfo(name: string, elemType: number, dims: readonly (number | string)[]): ValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) } } } };
}

/** Refuses models whose weights cannot fit one protobuf message (ONNX external data is not written). */
function checkSize(g: Graph): void {
  const bytes = g.weights.reduce((n, w) => n + w.shape.reduce((a, d) => a * d, 4), 0);
  if (bytes > MAX_INLINE_BYTES)
    throw new RmcError(
      error(
        ONNX_CODES.exportLimit,
        `${g.name}: the weights take ${(bytes / 2 ** 30).toFixed(2)} GiB; an ONNX file holds at most 2 GiB in one protobuf message`,
        undefined,
        "export it with ONNX external data (rmc export-onnx writes it past --external-data-above; exportOnnxExternal from code)",
      ),
    );
}
