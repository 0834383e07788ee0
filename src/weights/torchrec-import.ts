// `rmc import-torchrec`: the model text (.rmdl) of a TorchRec DLRM or
// DLRM_DCN state dict, read from the tensors' names and shapes plus a small
// table config (what a state dict does not hold: which features read which
// table, and how they pool). The text declares exactly the weights the state
// dict binds to unchanged (torchrec.ts), so `rmc compile MODEL.rmdl --weights
// STATE.safetensors` follows. The config:
//
//   { "name": "dlrm", "tables": [ { "name": "t_cat_0", "features": ["cat_0"], "pooling": "sum" }, … ] }
//
// in EmbeddingBagConfig order (SparseArch concatenates the features table by
// table, each table's features in order; the interaction follows that order).
//
// Codes: E1388 a config that is malformed or disagrees with the state dict;
// E1389 a state dict without a DLRM's dense and over arches.

import { RmcError, error, type Diagnostic } from "../diagnostics/index.js";
import { prequantizedFormat } from "../quant/rowwise.js";
import { torchrecName } from "./torchrec.js";

type Shapes = ReadonlyMap<string, { dtype: string; shape: readonly number[] }>;

/** One EmbeddingBagConfig, as the config file gives it. */
export interface TableConfig {
  name: string;
  features: string[];
  pooling: "sum" | "mean" | "max";
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TABLES = "sparse_arch.embedding_bag_collection.embedding_bags.";

/** Reads the table config (parsed JSON); every problem is an E1388 naming `path`. */
export function parseTableConfig(json: unknown, path: string): { name?: string; tables: TableConfig[] } {
  const fail = (m: string, hint?: string) => new RmcError(error("E1388", `${path}: ${m}`, undefined, hint));
  const obj = Array.isArray(json) ? { tables: json } : json;
  if (typeof obj !== "object" || obj === null || !Array.isArray((obj as { tables?: unknown }).tables))
    throw fail('the table config must be { "tables": [ { "name": …, "features": [ … ], "pooling": "sum" }, … ] }');
  const { name, tables } = obj as { name?: unknown; tables: unknown[] };
  if (name !== undefined && (typeof name !== "string" || !IDENT.test(name)))
    throw fail(`"name" must be a model name (letters, digits, _), got ${JSON.stringify(name)}`);
  if (tables.length === 0) throw fail("the table config lists no tables");
  const problems: Diagnostic[] = [];
  const out: TableConfig[] = [];
  tables.forEach((t, i) => {
    const at = `table ${i}`;
    if (typeof t !== "object" || t === null) return void problems.push(error("E1388", `${path}: ${at} must be an object`));
    const { name: tn, features, pooling } = t as Record<string, unknown>;
    if (typeof tn !== "string" || !IDENT.test(tn))
      return void problems.push(
        error(
          "E1388",
          `${path}: ${at}: "name" must be the TorchRec table name, letters, digits and _, got ${JSON.stringify(tn)}`,
          undefined,
          "rename it with --weights-map",
        ),
      );
    const feats = features === undefined ? [tn] : features;
    if (!Array.isArray(feats) || feats.length === 0 || feats.some((f) => typeof f !== "string"))
      return void problems.push(error("E1388", `${path}: table \`${tn}\`: "features" must be a non-empty list of feature names`));
    const pool = typeof pooling === "string" ? pooling.toLowerCase() : pooling === undefined ? "sum" : pooling;
    if (pool !== "sum" && pool !== "mean" && pool !== "max")
      return void problems.push(error("E1388", `${path}: table \`${tn}\`: "pooling" must be sum, mean or max, got ${JSON.stringify(pooling)}`));
    if (out.some((o) => o.name === tn)) return void problems.push(error("E1388", `${path}: table \`${tn}\` is listed twice`));
    out.push({ name: tn, features: feats as string[], pooling: pool });
  });
  if (problems.length) throw new RmcError(problems);
  return { ...(typeof name === "string" ? { name } : {}), tables: out };
}

/** The layer widths of a TorchRec MLP (`<prefix>._mlp.N._linear.weight`, [out, in]) and its input width. */
function mlpSizes(bare: Map<string, readonly number[]>, prefix: string): { in: number; sizes: number[] } | undefined {
  const sizes: number[] = [];
  let inF = 0;
  for (let i = 0; ; i++) {
    const s = bare.get(`${prefix}._mlp.${i}._linear.weight`);
    if (!s || s.length !== 2) break;
    if (i === 0) inF = s[1]!;
    sizes.push(s[0]!);
  }
  return sizes.length ? { in: inF, sizes } : undefined;
}

/** The model text for a TorchRec DLRM / DLRM_DCN state dict with these tensors and this table config. */
export function torchrecModel(tensors: Shapes, config: { name?: string; tables: TableConfig[] }, file: string, modelName: string): string {
  const bare = new Map<string, readonly number[]>();
  const dtypes = new Map<string, string>();
  for (const [name, e] of tensors) {
    const b = torchrecName(name);
    if (b !== undefined) {
      bare.set(b, e.shape);
      dtypes.set(b, e.dtype);
    }
  }
  const dense = mlpSizes(bare, "dense_arch.model");
  const overHidden = mlpSizes(bare, "over_arch.model.0");
  const overLast = bare.get("over_arch.model.1.weight");
  if (!dense || !overLast || overLast.length !== 2)
    throw new RmcError(
      error(
        "E1389",
        `${file}: not a TorchRec DLRM state dict: it lacks ${!dense ? "dense_arch.model._mlp.0._linear.weight" : "over_arch.model.1.weight"}`,
        undefined,
        "import-torchrec reads torchrec.models.dlrm.DLRM and DLRM_DCN state dicts (optionally under `model.`); for other layouts write the model and give --weights-map",
      ),
    );
  const dim = dense.sizes[dense.sizes.length - 1]!;
  const problems: Diagnostic[] = [];
  const rows = new Map<string, number>();
  for (const t of config.tables) {
    const s = bare.get(`${TABLES}${t.name}.weight`);
    if (!s || s.length !== 2) {
      problems.push(error("E1388", `${file}: table \`${t.name}\` of the config is not in the state dict (no \`${TABLES}${t.name}.weight\`)`));
      continue;
    }
    const quantized = dtypes.get(`${TABLES}${t.name}.weight`) === "U8";
    if (!quantized && s[1] !== dim)
      problems.push(
        error("E1388", `${file}: table \`${t.name}\` has dim ${s[1]}, the dense arch ends at ${dim}; a DLRM's tables and dense output share one dim`),
      );
    if (quantized && !bare.has(`${TABLES}${t.name}.weight_qscale`) && !prequantizedFormat(dim, s[1]!))
      problems.push(error("E1388", `${file}: U8 table \`${t.name}\` [${s.join(", ")}] is no row-wise format of dim ${dim}`));
    rows.set(t.name, s[0]!);
  }
  const listed = new Set(config.tables.map((t) => t.name));
  const extra = [...bare.keys()].filter(
    (k) => k.startsWith(TABLES) && k.endsWith(".weight") && !listed.has(k.slice(TABLES.length, -".weight".length)),
  );
  if (extra.length)
    problems.push(
      error(
        "E1388",
        `${file}: the config does not list the state dict's table${extra.length > 1 ? "s" : ""} ${extra.map((k) => `\`${k.slice(TABLES.length, -".weight".length)}\``).join(", ")}`,
      ),
    );
  if (problems.length) throw new RmcError(problems);

  const features = config.tables.flatMap((t) => t.features);
  const lines = [
    `// Written by \`rmc import-torchrec\` from ${file.split(/[\\/]/).pop()}: a TorchRec ${bare.has("inter_arch.crossnet.bias.0") ? "DLRM_DCN" : "DLRM"}.`,
    `// It declares the weights under the names the state dict binds to unchanged (docs/torchrec.md).`,
    `model ${config.name ?? modelName} {`,
    `  input dense:  f32[${dense.in}]`,
    `  input sparse: bags[${features.length}]  // ${features.join(", ")}`,
    "",
  ];
  // A table array when the tables are P_0 … P_{K-1}, one feature each, alike; else one table statement each.
  const arr = /^(.*)_0$/.exec(config.tables[0]!.name)?.[1];
  const asArray =
    arr !== undefined &&
    IDENT.test(arr) &&
    config.tables.every((t, k) => t.name === `${arr}_${k}` && t.features.length === 1 && t.pooling === config.tables[0]!.pooling);
  let pooled: string[];
  if (asArray) {
    const list = config.tables.map((t) => rows.get(t.name)!);
    lines.push(`  table ${arr}[${list.length}]: embedding(dim: ${dim}, pool: ${config.tables[0]!.pooling}, rows: [${list.join(", ")}])`);
    pooled = ["pooled"];
  } else {
    for (const t of config.tables) lines.push(`  table ${t.name}: embedding(dim: ${dim}, pool: ${t.pooling}, rows: ${rows.get(t.name)})`);
    pooled = features.map((_, i) => `e${i}`);
  }
  lines.push("", `  bottom = mlp(dense, [${dense.sizes.join(", ")}], act: relu)`);
  if (asArray) lines.push(`  pooled = embedding_bag(${arr}, sparse)`);
  else {
    let i = 0;
    for (const t of config.tables) for (const f of t.features) lines.push(`  e${i} = embedding_bag(${t.name}, sparse[${i++}])  // ${f}`);
  }
  let topIn = "z";
  const v0 = bare.get("inter_arch.crossnet.V_kernels.0");
  const full = bare.get("inter_arch.crossnet.kernels.0");
  if (v0 || full) {
    let layers = 0;
    while (bare.has(`inter_arch.crossnet.bias.${layers}`)) layers++;
    lines.push(`  z = interact(bottom, ${pooled.join(", ")}, op: cat)`);
    lines.push(`  crossed = cross(z, layers: ${layers}${v0 ? `, rank: ${v0[0]}` : ""})`);
    topIn = "crossed";
  } else lines.push(`  z = interact(bottom, ${pooled.join(", ")}, op: dot)`);
  const top = [...(overHidden?.sizes ?? []), overLast[0]!];
  // TorchRec's over arch ends in a bare Linear (the logit); rmc's model gives the probability, as MLPerf's evaluation does.
  lines.push(`  top = mlp(${topIn}, [${top.join(", ")}], act: relu, final: sigmoid)`, "  output ctr = top", "}", "");
  return lines.join("\n");
}
