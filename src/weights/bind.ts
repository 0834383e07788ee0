// Binding a safetensors file to a model: every weight the graph declares is
// found by its DSL name (`bottom.0.weight`, `emb.3.weight`) or by its name in
// a facebookresearch/dlrm PyTorch state dict (`bot_l.0.weight`,
// `emb_l.3.weight`, `top_l.2.bias`), checked for dtype and shape, and placed
// in a WeightStore. Problems come back as diagnostics, all of them at once.
// A table may also arrive already quantized by PyTorch (a U8 tensor of FBGEMM
// rows, src/weights/prequantized.ts); it binds as a PrequantizedTable.
// TorchRec's DLRM / DLRM_DCN names bind too (torchrec.ts names and adapts
// them); other layouts are renamed first by a `--weights-map` (weights-map.ts).
//
// Codes: E1310 missing weights, E1311 shape, E1312 dtype, E1313 a weight
// given twice, E1314 PyTorch names the model cannot place, W1315 unused tensors,
// E1317 a U8 table whose row width is no prequantized format.

import { RmcError, error, hasErrors, suggest, type Diagnostic } from "../diagnostics/index.js";
import { type Graph, type Node, type WeightDecl, refName, valueInputs, weightInputs } from "../ir/types.js";
import { prequantizedFormat } from "../quant/rowwise.js";
import { SAFETENSORS_DTYPES, type SafetensorsDType } from "./dtypes.js";
import { PrequantizedTable, describeWidths, type PrequantizedFormat } from "./prequantized.js";
import { openSafetensors, type SafetensorsFile } from "./safetensors.js";
import type { Tensor, WeightStore } from "./store.js";
import { adaptTorchrec, torchrecGroup, torchrecName, torchrecNames, type WeightSource } from "./torchrec.js";

type SourceEntry = WeightSource["tensors"] extends ReadonlyMap<string, infer E> ? E : never;

/** Writing a model's weights is the inverse of binding; it lives in write.ts. */
export { writeWeights } from "./write.js";

/** The store of the weights found, and every problem (errors, and a warning for unused tensors). */
export interface BindResult {
  store: WeightStore;
  diagnostics: Diagnostic[];
  /**
   * Tables the file holds already quantized (DSL name → format). Their store
   * entries are PrequantizedTables; compile them at this precision, since
   * quantizing their dequantized values again would lose information.
   */
  prequantized: Map<string, PrequantizedFormat>;
}

/** PyTorch state-dict names the model accepts (PyTorch name → DSL name), and why any group is unavailable. */
export interface PytorchNames {
  aliases: Map<string, string>;
  /** `bot_l` / `top_l` → the reason the model has no such MLP to map them to. */
  unavailable: Map<string, string>;
}

/** Lists the facebookresearch/dlrm names of the graph's weights (emb_l by table order, bot_l / top_l by MLP role). */
export function pytorchNames(graph: Graph): PytorchNames {
  const aliases = new Map<string, string>();
  const unavailable = new Map<string, string>();
  graph.weights.filter((w) => w.role === "table").forEach((w, k) => aliases.set(`emb_l.${k}.weight`, w.name));
  const roles = mlpRoles(graph);
  for (const [prefix, found] of [
    ["bot_l", roles.bottom],
    ["top_l", roles.top],
  ] as const) {
    if (typeof found === "string") unavailable.set(prefix, found);
    else for (const [torch, dsl] of mlpLayerNames(prefix, found)) aliases.set(torch, dsl);
  }
  return { aliases, unavailable };
}

/**
 * PyTorch's DLRM builds each MLP as an nn.Sequential of Linear and activation
 * modules, alternating, so the i-th linear layer sits at index 2i.
 */
function mlpLayerNames(prefix: string, mlp: Node): [string, string][] {
  const ws = weightInputs(mlp);
  const per = mlp.attrs.bias === false ? 1 : 2;
  const names: [string, string][] = [];
  for (let i = 0; i * per < ws.length; i++) {
    names.push([`${prefix}.${2 * i}.weight`, ws[i * per]!]);
    if (per === 2 && ws[i * per + 1] !== undefined) names.push([`${prefix}.${2 * i}.bias`, ws[i * per + 1]!]);
  }
  return names;
}

/** `%4` (`top.0.weight`, ...): an mlp named by its node and first weight. */
function describeMlp(n: Node): string {
  const first = weightInputs(n)[0];
  return `\`%${n.id}\`${first ? ` (\`${first}\`, ...)` : ""}`;
}

/**
 * The bottom MLP reads a dense graph input; the top MLP feeds a model output,
 * directly or through one sigmoid. Each is a node, or a reason there is no
 * unique one.
 */
export function mlpRoles(graph: Graph): { bottom: Node | string; top: Node | string } {
  const mlps = graph.nodes.filter((n) => n.op === "mlp");
  const denseInputs = new Set(graph.inputs.filter((i) => i.type.kind === "tensor").map((i) => i.name));
  const bottoms = mlps.filter((n) => valueInputs(n).some((v) => denseInputs.has(v)));
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const feedsOutput = (m: Node): boolean =>
    graph.outputs.some((o) => {
      const v = o.value.startsWith("%") ? refName(o.value) : o.value;
      const n = byId.get(v);
      return v === m.id || (n?.op === "sigmoid" && valueInputs(n)[0] === m.id);
    });
  const tops = mlps.filter(feedsOutput);
  const pick = (found: Node[], one: string, many: string): Node | string =>
    found.length === 1
      ? found[0]!
      : found.length === 0
        ? `no mlp ${one}`
        : `${found.length} mlps ${many} (${found.map(describeMlp).join(", ")}), so the name is ambiguous`;
  return {
    bottom: pick(bottoms, "reads a dense graph input", "read a dense graph input"),
    top: pick(tops, "feeds a model output (directly or through a sigmoid)", "feed model outputs"),
  };
}

/** Safetensors dtypes accepted for a declared weight: f32 weights also load from F16 / BF16 (widened exactly). */
function acceptedDTypes(w: WeightDecl): SafetensorsDType[] {
  const all = Object.keys(SAFETENSORS_DTYPES) as SafetensorsDType[];
  return w.dtype === "f32" ? ["F32", "F16", "BF16"] : all.filter((d) => SAFETENSORS_DTYPES[d].dtype === w.dtype);
}

const listNames = (names: string[], max = 20): string =>
  names
    .slice(0, max)
    .map((n) => `\`${n}\``)
    .join(", ") + (names.length > max ? `, and ${names.length - max} more` : "");

/** Binds the file's tensors to the graph's weight declarations; see BindResult. Does not close the file. */
export function bindWeights(graph: Graph, given: WeightSource): BindResult {
  const { aliases, unavailable } = pytorchNames(graph);
  const torchrec = torchrecNames(graph, mlpRoles(graph));
  for (const [group, why] of torchrec.unavailable) unavailable.set(group, why);
  const adapted = adaptTorchrec(given, torchrec, graph);
  const file = adapted.source;
  // A table split into parts (an artifact's IR) is in the file whole: it is bound as the table, and read through its parts.
  const parts = graph.weights.filter((w) => typeof w.attrs.part_of === "string");
  const tables = new Map(parts.map((w) => [w.attrs.part_of as string, w]));
  const whole = [...tables]
    .filter(([t]) => file.tensors.has(t))
    .map(([name, p]) => ({ ...p, name, attrs: {}, shape: [...file.tensors.get(name)!.shape] }));
  const decls = [...graph.weights.filter((w) => !tables.has(w.attrs.part_of as string) || !file.tensors.has(w.attrs.part_of as string)), ...whole];
  const declared = new Set(decls.map((w) => w.name));
  const sources = new Map<string, string[]>();
  const unused: string[] = [];
  const unplaceable = new Map<string, string[]>();
  let torchrecFile = false;
  for (const name of file.tensors.keys()) {
    const bare = torchrecName(name);
    if (bare !== undefined) torchrecFile = true;
    const target = declared.has(name) ? name : (aliases.get(name) ?? (bare !== undefined ? torchrec.aliases.get(bare) : undefined));
    const group = /^(bot_l|top_l)\.\d+\.(weight|bias)$/.exec(name)?.[1] ?? torchrecGroup(name);
    if (target !== undefined) sources.set(target, [...(sources.get(target) ?? []), name]);
    else if (group !== undefined && unavailable.has(group)) unplaceable.set(group, [...(unplaceable.get(group) ?? []), name]);
    else unused.push(name);
  }
  const diagnostics: Diagnostic[] = [...adapted.diagnostics];
  for (const [group, names] of unplaceable)
    diagnostics.push(
      error(
        "E1314",
        `${file.path}: cannot place ${group.includes("_arch") ? "TorchRec" : "PyTorch"} tensors ${listNames(names, 4)}: ${unavailable.get(group)}`,
        undefined,
        "rename the tensors to the model's weight names",
      ),
    );

  const store = new Map<string, Tensor>();
  const prequantized = new Map<string, PrequantizedFormat>();
  const missing: WeightDecl[] = [];
  for (const w of decls) {
    const from = sources.get(w.name) ?? [];
    if (from.length === 0) missing.push(w);
    else if (from.length > 1)
      diagnostics.push(error("E1313", `${file.path}: weight \`${w.name}\` is in the file twice, as ${listNames(from)}; keep one`, w.span));
    else {
      const bound = bindTensor(file, from[0]!, w);
      if ("problem" in bound) diagnostics.push(bound.problem);
      else {
        store.set(w.name, bound.tensor);
        if (bound.tensor instanceof PrequantizedTable) prequantized.set(w.name, bound.tensor.format);
      }
    }
  }
  // The other name a missing weight would also bind from: TorchRec's when the file is a TorchRec state dict.
  if (missing.length > 0) diagnostics.push(missingError(file, missing, torchrecFile ? torchrec.aliases : aliases, unused));
  if (unused.length > 0)
    diagnostics.push({
      code: "W1315",
      severity: "warning",
      message: `${file.path}: ${unused.length} tensor${unused.length > 1 ? "s" : ""} in the file ${unused.length > 1 ? "are" : "is"} not used by the model: ${listNames(unused)}`,
    });
  return { store, diagnostics, prequantized };
}

/** The tensor for declaration `w` from file tensor `source`, or why it does not fit. */
function bindTensor(file: WeightSource, source: string, w: WeightDecl): { tensor: Tensor } | { problem: Diagnostic } {
  const entry = file.tensors.get(source)!;
  if (entry.dtype === "U8" && isFloatTable(w)) return bindPrequantized(file, source, entry, w);
  const problem = checkTensor(file, source, w);
  return problem ? { problem } : { tensor: file.tensor(source) };
}

/** Tables of f32 values are the ones PyTorch's prepack ops can stand in for. */
const isFloatTable = (w: WeightDecl): boolean => w.role === "table" && w.dtype === "f32" && w.shape.length === 2;

const labelOf = (source: string, w: WeightDecl): string => (source === w.name ? `tensor \`${source}\`` : `tensor \`${source}\` (→ \`${w.name}\`)`);

/**
 * A U8 `[rows, width]` tensor for a table declared `[rows, dim]`: FBGEMM rows
 * of the format whose row width is `width` (rowwise.ts prequantizedFormat).
 */
function bindPrequantized(file: WeightSource, source: string, entry: SourceEntry, w: WeightDecl): { tensor: Tensor } | { problem: Diagnostic } {
  const [rows, dim] = w.shape as [number, number];
  const label = labelOf(source, w);
  const widths = describeWidths(dim);
  if (entry.shape.length !== 2 || entry.shape[0] !== rows)
    return {
      problem: error(
        "E1311",
        `${file.path}: ${label} is U8 [${entry.shape.join(", ")}], the model declares [${rows}, ${dim}]; a table prequantized by PyTorch is U8 [${rows}, width], each row ${widths}`,
        w.span,
      ),
    };
  const width = entry.shape[1]!;
  const format = prequantizedFormat(dim, width);
  if (!format)
    return {
      problem: error(
        "E1317",
        `${file.path}: ${label} is U8 [${rows}, ${width}], which is no prequantized layout of the declared [${rows}, ${dim}]: each row must be ${widths}`,
        w.span,
        torchrecName(source) !== undefined
          ? "a TorchRec quantized EmbeddingBagCollection keeps FBGEMM TBE rows (scale and bias first, padded); save it with quant_state_dict_split_scale_bias (weight, weight_qscale, weight_qbias), which rmc reads"
          : "quantize the table with torch.ops.quantized.embedding_bag_byte_prepack or embedding_bag_4bit_prepack, or store it as F32 / F16 / BF16",
      ),
    };
  const tensor = file.tensor(source);
  return {
    tensor: new PrequantizedTable(w.name, format, rows, dim, { byteLength: rows * width, read: (offset, out) => tensor.readBytes(offset, out) }),
  };
}

/** Checks one tensor's dtype and shape against its declaration. */
function checkTensor(file: WeightSource, source: string, w: WeightDecl): Diagnostic | undefined {
  const entry = file.tensors.get(source)!;
  const label = labelOf(source, w);
  const ok = acceptedDTypes(w);
  if (!ok.includes(entry.dtype)) {
    const accepted = ok.join(", ") + (isFloatTable(w) ? ", or U8 rows prequantized by PyTorch" : "");
    return error("E1312", `${file.path}: ${label} is ${entry.dtype}, the model declares ${w.dtype} (accepted: ${accepted})`, w.span);
  }
  if (entry.shape.length !== w.shape.length || entry.shape.some((d, i) => d !== w.shape[i]))
    return error("E1311", `${file.path}: ${label} is [${entry.shape.join(", ")}], the model declares [${w.shape.join(", ")}]`, w.span);
  return undefined;
}

/** One error for all missing weights, with the PyTorch names that would also do and near-miss names in the file. */
function missingError(file: WeightSource, missing: WeightDecl[], aliases: Map<string, string>, unused: string[]): Diagnostic {
  const torchName = new Map([...aliases].map(([torch, dsl]) => [dsl, torch]));
  const items = missing.map((w) => {
    const alt = torchName.get(w.name);
    const near = suggest(w.name, unused) ?? (alt ? suggest(alt, unused) : undefined);
    const notes = [alt ? `or \`${alt}\`` : "", near ? `the file has \`${near}\`` : ""].filter(Boolean);
    return `\`${w.name}\`${notes.length ? ` (${notes.join("; ")})` : ""}`;
  });
  const n = missing.length;
  return error(
    "E1310",
    `${file.path}: ${n} weight${n > 1 ? "s" : ""} the model declares ${n > 1 ? "are" : "is"} not in the file: ${items.join(", ")}`,
  );
}

/**
 * Opens a weights file and binds it; throws an RmcError with every problem if
 * any is an error. Returns the store, the warnings, and the open file (close
 * it when the weights are no longer read).
 */
export function loadWeights(graph: Graph, path: string): { store: WeightStore; warnings: Diagnostic[]; file: SafetensorsFile } {
  const file = openSafetensors(path);
  const { store, diagnostics } = bindWeights(graph, file);
  if (hasErrors(diagnostics)) {
    file.close();
    throw new RmcError(diagnostics);
  }
  return { store, warnings: diagnostics, file };
}
