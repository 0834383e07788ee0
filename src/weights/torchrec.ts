// TorchRec state dicts: the names `torchrec.models.dlrm.DLRM` and `DLRM_DCN`
// give their parameters, and what binding must do so that such a file binds
// unchanged (bind.ts asks this module before it matches names):
//
//   sparse_arch.embedding_bag_collection.embedding_bags.<table>.weight   a table
//   dense_arch.model._mlp.<l>._linear.{weight,bias}                      bottom mlp layer l
//   over_arch.model.0._mlp.<l>._linear.{weight,bias}                     top mlp layer l (all but the last)
//   over_arch.model.1.{weight,bias}                                      the top mlp's last layer
//   inter_arch.crossnet.{V_kernels,W_kernels,bias}.<l>                   low-rank cross layer l (DLRM_DCN)
//   inter_arch.crossnet.{kernels,bias}.<l>                               full-rank cross layer l
//
// each optionally under `model.` (the MLPerf reference saves DLRMTrain, which
// holds the DLRM as `model`) and `module.` (DistributedDataParallel). Three
// things differ from rmc's own layout, and are adapted here, exactly:
// - a cross layer's bias is [d, 1] (it broadcasts over a column); rmc's is [d];
// - DLRM's InteractionArch lists the pairwise dots in upper-triangle order,
//   (T0·T1), (T0·T2), …, (T1·T2), … (`triu_indices(F+1, F+1, 1)`), where rmc's
//   `interact op=dot` lists the lower triangle row by row (T1·T0), (T2·T0),
//   (T2·T1), …; the dots are the same numbers in another order, so the first
//   over-arch layer's input columns are permuted to rmc's order (the over arch
//   is the only reader of the interaction);
// - TorchRec's quantized EmbeddingBagCollection, saved with
//   `quant_state_dict_split_scale_bias`, keeps a table as `weight` (the packed
//   values) plus `weight_qscale` and `weight_qbias` (fp16 per row). Those are
//   FBGEMM's row-wise values: 4-/2-bit rows joined are byte for byte
//   `embedding_bag_4bit_prepack` rows; 8-bit rows get their fp16 scale and
//   bias widened to the f32 of the byte-prepack format (exact).
//
// Codes: E1387 a quantized TorchRec table whose parts do not fit together.

import { error, type Diagnostic } from "../diagnostics/index.js";
import { type Graph, type Node, type WeightDecl, refName, valueInputs, weightInputs } from "../ir/types.js";
import { f16ToF32 } from "../quant/half.js";
import { rowBytes } from "../quant/rowwise.js";
import type { SafetensorsDType } from "./dtypes.js";
import type { Tensor } from "./store.js";

/** A tensor as the binder sees it: its data, and its stored bytes (for prequantized tables). */
export type SourceTensor = Tensor & { readBytes(offset: number, out: Uint8Array): void };

/** What binding reads: a safetensors file, or a view of one (renamed, adapted). */
export interface WeightSource {
  readonly path: string;
  readonly tensors: ReadonlyMap<string, { dtype: SafetensorsDType; shape: readonly number[] }>;
  tensor(name: string): SourceTensor;
}

/** The optional wrappers around a TorchRec DLRM's names. */
const PREFIX = /^(?:module\.)?(?:model\.)?(?=(?:sparse|dense|inter|over)_arch\.)/;
const TABLES = "sparse_arch.embedding_bag_collection.embedding_bags.";

/** A TorchRec name without its `model.` / `module.` wrappers, or undefined if it is no TorchRec DLRM name. */
export function torchrecName(name: string): string | undefined {
  const m = PREFIX.exec(name);
  return m ? name.slice(m[0].length) : undefined;
}

/** The group a TorchRec name belongs to (for "cannot place" errors), or undefined. */
export function torchrecGroup(name: string): string | undefined {
  const bare = torchrecName(name);
  if (bare === undefined) return undefined;
  if (bare.startsWith("dense_arch.")) return "dense_arch";
  if (bare.startsWith("over_arch.")) return "over_arch";
  if (bare.startsWith("inter_arch.crossnet.")) return "inter_arch.crossnet";
  return undefined;
}

/** The TorchRec table names a DSL table weight answers to: `t` for `t.weight`; `A_k` and `Ak` for `A.k.weight`. */
export function torchrecTableNames(w: WeightDecl): string[] {
  const arr = /^(.+)\.(\d+)\.weight$/.exec(w.name);
  if (arr) return [`${arr[1]}_${arr[2]}`, `${arr[1]}${arr[2]}`];
  const one = /^(.+)\.weight$/.exec(w.name);
  return one ? [one[1]!] : [];
}

/** TorchRec names (without wrappers) → DSL names, and why a group has no place in this model. */
export interface TorchrecNames {
  aliases: Map<string, string>;
  unavailable: Map<string, string>;
  /** The first over-arch weight, when the over arch reads a dot interaction: its column permutation. */
  permuted?: { name: string; columns: Int32Array };
}

/** Lists the TorchRec names of the graph's weights; `roles` are bind.ts's bottom and top mlps. */
export function torchrecNames(graph: Graph, roles: { bottom: Node | string; top: Node | string }): TorchrecNames {
  const aliases = new Map<string, string>();
  const unavailable = new Map<string, string>();
  for (const w of graph.weights)
    if (w.role === "table" && w.attrs.part_of === undefined) for (const t of torchrecTableNames(w)) aliases.set(`${TABLES}${t}.weight`, w.name);
  const layers = (n: Node): [string, string | undefined][] => {
    const ws = weightInputs(n);
    const per = n.attrs.bias === false ? 1 : 2;
    const out: [string, string | undefined][] = [];
    for (let i = 0; i < ws.length; i += per) out.push([ws[i]!, per === 2 ? ws[i + 1] : undefined]);
    return out;
  };
  const put = (prefix: string, [weight, bias]: [string, string | undefined]): void => {
    aliases.set(`${prefix}.weight`, weight);
    if (bias) aliases.set(`${prefix}.bias`, bias);
  };
  if (typeof roles.bottom === "string") unavailable.set("dense_arch", roles.bottom);
  else layers(roles.bottom).forEach((l, i) => put(`dense_arch.model._mlp.${i}._linear`, l));
  let permuted: TorchrecNames["permuted"];
  if (typeof roles.top === "string") unavailable.set("over_arch", roles.top);
  else {
    const ls = layers(roles.top);
    ls.forEach((l, i) => put(i === ls.length - 1 ? "over_arch.model.1" : `over_arch.model.0._mlp.${i}._linear`, l));
    const columns = interactionColumns(graph, roles.top);
    const first = ls.length > 1 ? "over_arch.model.0._mlp.0._linear.weight" : "over_arch.model.1.weight";
    if (columns) permuted = { name: first, columns };
  }
  const crosses = graph.nodes.filter((n) => n.op === "cross");
  if (crosses.length !== 1)
    unavailable.set(
      "inter_arch.crossnet",
      crosses.length === 0 ? "the model has no cross network" : `the model has ${crosses.length} cross networks, so the name is ambiguous`,
    );
  else {
    const c = crosses[0]!;
    const ws = weightInputs(c);
    const lowRank = (c.attrs.rank as number) > 0;
    const per = lowRank ? 3 : 2;
    for (let l = 0; l * per < ws.length; l++) {
      const [a, b, bias] = ws.slice(l * per, (l + 1) * per);
      if (lowRank) {
        aliases.set(`inter_arch.crossnet.V_kernels.${l}`, a!);
        aliases.set(`inter_arch.crossnet.W_kernels.${l}`, b!);
        aliases.set(`inter_arch.crossnet.bias.${l}`, bias!);
      } else {
        aliases.set(`inter_arch.crossnet.kernels.${l}`, a!);
        aliases.set(`inter_arch.crossnet.bias.${l}`, b!);
      }
    }
  }
  return { aliases, unavailable, ...(permuted ? { permuted } : {}) };
}

/**
 * For a top mlp reading `interact op=dot` (no self, no tail) directly: column
 * c of rmc's input is column columns[c] of TorchRec's. Undefined otherwise.
 */
function interactionColumns(graph: Graph, top: Node): Int32Array | undefined {
  const src = graph.nodes.find((n) => n.id === valueInputs(top)[0]);
  if (!src || src.op !== "interact" || src.attrs.op === "cat" || src.attrs.self === true || typeof src.attrs.tail === "number") return undefined;
  const first = graph.weights.find((w) => w.name === weightInputs(top)[0]);
  const width = first?.shape.length === 2 ? first.shape[1]! : NaN;
  const d = featureWidth(graph, valueInputs(src)[0]!);
  // width = d + V(V-1)/2 for V vectors.
  const v = Math.round((1 + Math.sqrt(1 + 8 * (width - d))) / 2);
  if (!Number.isInteger(d) || d + (v * (v - 1)) / 2 !== width) return undefined;
  const columns = new Int32Array(width);
  for (let k = 0; k < d; k++) columns[k] = k;
  // TorchRec's pair (a, b), a < b, sits at row-major position a·V − a(a+1)/2 + (b − a − 1) of the upper triangle; rmc's (b, a) at b(b−1)/2 + a.
  for (let b = 1; b < v; b++) for (let a = 0; a < b; a++) columns[d + (b * (b - 1)) / 2 + a] = d + a * v - (a * (a + 1)) / 2 + (b - a - 1);
  return columns;
}

/** The feature width of value `id` (f32[B, d]): from its type, or for an mlp not yet typed, its last size. */
function featureWidth(graph: Graph, id: string): number {
  const node = graph.nodes.find((n) => n.id === id);
  const type = node ? node.type : graph.inputs.find((i) => i.name === id)?.type;
  if (type && type.kind === "tensor" && type.shape.length === 2) return type.shape[1] as number;
  const sizes = node?.op === "mlp" ? node.attrs.sizes : undefined;
  return Array.isArray(sizes) && typeof sizes[sizes.length - 1] === "number" ? (sizes[sizes.length - 1] as number) : NaN;
}

/** A `[out, in]` weight whose input columns are read in another order: column c is the source's columns[c]. */
class PermutedColumns implements SourceTensor {
  readonly dtype;
  readonly shape;
  constructor(
    private readonly src: SourceTensor,
    private readonly columns: Int32Array,
  ) {
    this.dtype = src.dtype;
    this.shape = src.shape;
  }
  readRow(i: number, out: Float32Array, offset = 0): void {
    const row = new Float32Array(this.columns.length);
    this.src.readRow(i, row, 0);
    for (let c = 0; c < row.length; c++) out[offset + c] = row[this.columns[c]!]!;
  }
  toFloat32(): Float32Array {
    const [rows, cols] = this.shape as [number, number];
    const out = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) this.readRow(r, out, r * cols);
    return out;
  }
  readBytes(): void {
    throw new Error("internal: a permuted weight has no stored bytes");
  }
}

/** A `[d, 1]` cross bias read as `[d]`: the same elements. */
class Squeezed implements SourceTensor {
  readonly dtype;
  readonly shape;
  constructor(private readonly src: SourceTensor) {
    this.dtype = src.dtype;
    this.shape = [src.shape[0]!];
  }
  readRow(i: number, out: Float32Array, offset = 0): void {
    this.src.readRow(i, out, offset);
  }
  toFloat32(): Float32Array {
    return this.src.toFloat32();
  }
  readBytes(offset: number, out: Uint8Array): void {
    this.src.readBytes(offset, out);
  }
}

/**
 * A TorchRec quantized table (`weight` U8 [rows, packed], `weight_qscale` and
 * `weight_qbias` F16 [rows, 1]) as one U8 [rows, width] tensor of FBGEMM rows:
 * packed values, then scale and bias (f32 for 8-bit, fp16 for 4-/2-bit).
 */
class JoinedRows implements SourceTensor {
  readonly dtype = "u8" as const;
  readonly shape: readonly number[];
  private readonly width: number;
  constructor(
    private readonly parts: { weight: SourceTensor; scale: SourceTensor; bias: SourceTensor },
    private readonly rows: number,
    private readonly packed: number,
    private readonly eight: boolean,
  ) {
    this.width = packed + (eight ? 8 : 4);
    this.shape = [rows, this.width];
  }
  readBytes(offset: number, out: Uint8Array): void {
    const first = Math.floor(offset / this.width);
    const last = Math.min(this.rows, Math.ceil((offset + out.length) / this.width));
    const n = last - first;
    const data = new Uint8Array(n * this.packed);
    const scale = new Uint8Array(n * 2);
    const bias = new Uint8Array(n * 2);
    this.parts.weight.readBytes(first * this.packed, data);
    this.parts.scale.readBytes(first * 2, scale);
    this.parts.bias.readBytes(first * 2, bias);
    const rows = new Uint8Array(n * this.width);
    const view = new DataView(rows.buffer);
    for (let r = 0; r < n; r++) {
      const at = r * this.width;
      rows.set(data.subarray(r * this.packed, (r + 1) * this.packed), at);
      if (this.eight) {
        view.setFloat32(at + this.packed, f16ToF32(scale[2 * r]! | (scale[2 * r + 1]! << 8)), true);
        view.setFloat32(at + this.packed + 4, f16ToF32(bias[2 * r]! | (bias[2 * r + 1]! << 8)), true);
      } else {
        rows.set(scale.subarray(2 * r, 2 * r + 2), at + this.packed);
        rows.set(bias.subarray(2 * r, 2 * r + 2), at + this.packed + 2);
      }
    }
    const skip = offset - first * this.width;
    out.set(rows.subarray(skip, skip + out.length));
  }
  readRow(i: number, out: Float32Array, offset = 0): void {
    const bytes = new Uint8Array(this.width);
    this.readBytes(i * this.width, bytes);
    for (let k = 0; k < this.width; k++) out[offset + k] = bytes[k]!;
  }
  toFloat32(): Float32Array {
    const out = new Float32Array(this.rows * this.width);
    for (let r = 0; r < this.rows; r++) this.readRow(r, out, r * this.width);
    return out;
  }
}

/**
 * The file as binding should see it: cross biases squeezed, the first
 * over-arch weight permuted, split quantized tables joined (their
 * `weight_qscale` / `weight_qbias` entries taken away). Names are the file's.
 */
export function adaptTorchrec(source: WeightSource, names: TorchrecNames, graph: Graph): { source: WeightSource; diagnostics: Diagnostic[] } {
  const tensors = new Map(source.tensors);
  const made = new Map<string, SourceTensor>();
  const diagnostics: Diagnostic[] = [];
  const decls = new Map(graph.weights.map((w) => [w.name, w]));
  for (const [name, entry] of source.tensors) {
    const bare = torchrecName(name);
    if (bare === undefined) continue;
    if (/^inter_arch\.crossnet\.bias\.\d+$/.test(bare) && entry.shape.length === 2 && entry.shape[1] === 1) {
      tensors.set(name, { dtype: entry.dtype, shape: [entry.shape[0]!] });
      made.set(name, new Squeezed(source.tensor(name)));
    } else if (names.permuted?.name === bare && entry.shape.length === 2 && entry.shape[1] === names.permuted.columns.length) {
      made.set(name, new PermutedColumns(source.tensor(name), names.permuted.columns));
    } else if (bare.startsWith(TABLES) && bare.endsWith(".weight_qscale")) {
      const base = name.slice(0, -"_qscale".length);
      const joined = joinQuantized(source, base, decls.get(names.aliases.get(bare.slice(0, -"_qscale".length)) ?? ""));
      if ("problem" in joined) diagnostics.push(joined.problem);
      else {
        tensors.set(base, { dtype: "U8", shape: joined.tensor.shape });
        made.set(base, joined.tensor);
      }
      tensors.delete(name);
      tensors.delete(`${base}_qbias`);
    }
  }
  if (made.size === 0 && tensors.size === source.tensors.size) return { source, diagnostics };
  return {
    source: { path: source.path, tensors, tensor: (name) => made.get(name) ?? source.tensor(name) },
    diagnostics,
  };
}

/** The joined rows of the quantized table whose weight is `base` (`….weight`), for declaration `w`. */
function joinQuantized(source: WeightSource, base: string, w: WeightDecl | undefined): { tensor: JoinedRows } | { problem: Diagnostic } {
  const fail = (why: string) => ({
    problem: error(
      "E1387",
      `${source.path}: the quantized TorchRec table \`${base}\` ${why}`,
      w?.span,
      "save the quantized EmbeddingBagCollection with quant_state_dict_split_scale_bias, or dequantize the table",
    ),
  });
  const weight = source.tensors.get(base);
  const scale = source.tensors.get(`${base}_qscale`);
  const bias = source.tensors.get(`${base}_qbias`);
  if (!weight || !bias)
    return fail(`needs \`weight\`, \`weight_qscale\` and \`weight_qbias\`; \`${!weight ? "weight" : "weight_qbias"}\` is missing`);
  if (!w) return fail("matches no table of the model");
  const [rows, dim] = w.shape as [number, number];
  const perRow = (e: { shape: readonly number[] }) => (e.shape.length === 2 && e.shape[1] === 1) || e.shape.length === 1;
  if (weight.dtype !== "U8" || weight.shape.length !== 2 || weight.shape[0] !== rows)
    return fail(
      `weight is ${weight.dtype} [${weight.shape.join(", ")}]; the model's table is [${rows}, ${dim}], so it must be U8 [${rows}, packed bytes]`,
    );
  for (const [what, e] of [
    ["weight_qscale", scale!],
    ["weight_qbias", bias],
  ] as const)
    if (e.dtype !== "F16" || !perRow(e) || e.shape[0] !== rows) return fail(`${what} is ${e.dtype} [${e.shape.join(", ")}], not F16 [${rows}, 1]`);
  const packed = weight.shape[1]!;
  // 8-bit rows hold dim bytes; 4-bit ceil(dim/2); 2-bit ceil(dim/4) (4-bit wins where they coincide, as for prepacked rows).
  const eight = packed === dim;
  if (!eight && packed !== rowBytes("int4", dim) - 4 && packed !== rowBytes("int2", dim) - 4)
    return fail(`weight has ${packed} bytes a row, which is no 8-, 4- or 2-bit packing of dim ${dim}`);
  const parts = { weight: source.tensor(base), scale: source.tensor(`${base}_qscale`), bias: source.tensor(`${base}_qbias`) };
  return { tensor: new JoinedRows(parts, rows, packed, eight) };
}
