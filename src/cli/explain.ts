// What `rmc explain DIST/ NODE` knows of one node or weight of a compiled
// artifact, gathered from its manifest alone: the source line, the passes that
// created, changed or fused it (the compile's provenance, src/driver/
// provenance.ts), why it has its precision (the plan's decision: a pin, a
// search step and its NE, a mode, a plan file or a repair), the fusions and
// splits it is part of, its activation buffer, and where its weights live
// (the main weights file, a shard, or the store). commands/explain.ts prints it.

import { join } from "node:path";
import { RmcError, error, suggest } from "../diagnostics/index.js";
import type { Graph, Node, Span, WeightDecl } from "../ir/types.js";
import { formatType, weightInputs } from "../ir/types.js";
import { isDenseOp, layerPrecision, pinOf, precisionOf } from "../ir/attrs.js";
import type { Manifest } from "../runtime/manifest.js";
import type { Decision } from "../precision/decision.js";
import { PROVENANCE_FORMAT, type History, type Provenance } from "../driver/provenance.js";

/** Diagnostic code: a name that is no node, weight or source name of the artifact. */
export const E_UNKNOWN_NAME = "E0955";

/** Where one weight's bytes are. */
export type WeightLocation =
  | { kind: "weights-file"; file: string }
  | { kind: "shard"; file: string; table: string; holds: unknown }
  | { kind: "store"; placement: string; file: string; index: string; blocks: number; format: string };

/** Why a unit has its precision. */
export interface PrecisionWhy {
  unit: string;
  precision: string;
  /** pin, search, mode, plan or repair (the plan's decision), or `model` (no plan: the model's own pin, or none). */
  source: string;
  why: string;
  neDeltaAlone?: number;
  neDeltaCumulative?: number;
}

/** Everything explain says of one node or weight. */
export interface Explanation {
  kind: "node" | "weight";
  name: string;
  /** The node's op and type, or the weight's role, dtype and shape. */
  what: string;
  source: Span;
  /** The front end (absent) or the pass that made it, the passes that changed it, and the nodes fused into it. */
  history?: History;
  precision: PrecisionWhy[];
  /** Fusions and splits it is part of, one line each. */
  groups: string[];
  /** Activation buffer from plan-memory: byte offset and bytes per sample of batch capacity. */
  buffer?: { offset: number; bytes: number };
  weights: { name: string; precision: string; bytes: number; location: WeightLocation }[];
}

/** The manifest's provenance, if it is there and well-formed (artifacts from before it have none). */
export function provenanceOf(m: Manifest): Provenance | undefined {
  const p = (m as { provenance?: unknown }).provenance as Provenance | undefined;
  const ok = (x: unknown) => typeof x === "object" && x !== null && !Array.isArray(x);
  return p && p.format === PROVENANCE_FORMAT && ok(p.nodes) && ok(p.weights) && ok(p.removed) && Array.isArray(p.passes) ? p : undefined;
}

const history = (h: unknown): History | undefined => {
  const x = h as History | undefined;
  return x && Array.isArray(x.changed) && Array.isArray(x.absorbed) ? x : undefined;
};

/** What a name given on the command line means: final nodes and weights, and the fused-away node it was, if one. */
export interface Resolved {
  nodes: Node[];
  weights: WeightDecl[];
  /** When the name is a node a pass removed: that pass and the node it went into. */
  removed?: { name: string; op: string; pass: string; into?: string };
}

/**
 * Finds `name` (`top.0`, `%top.0`, `@emb.3.weight`, or a source name like
 * `bottom` that the front end expanded into `bottom.0`, `bottom.1`, …) in the
 * artifact; anything else is E0955 naming the artifact, with the nearest name.
 */
export function resolveName(dir: string, m: Manifest, name: string): Resolved {
  const g = m.ir;
  const bare = name.replace(/^[%@]/, "");
  const prov = provenanceOf(m);
  const node = g.nodes.find((n) => n.id === bare);
  const weight = g.weights.find((w) => w.name === bare);
  if (node || weight) return { nodes: node ? [node] : [], weights: weight ? [weight] : [] };
  const gone = prov && Object.hasOwn(prov.removed, bare) ? prov.removed[bare] : undefined;
  if (gone && typeof gone.pass === "string") {
    // Follow fusions (a node fused into one that was fused in turn) to the node of the final IR.
    let into = gone.into;
    for (let hops = 0; into !== undefined && !g.nodes.some((n) => n.id === into) && hops < 64; hops++) into = prov!.removed[into]?.into;
    const target = g.nodes.find((n) => n.id === into);
    return {
      nodes: target ? [target] : [],
      weights: [],
      removed: { name: bare, op: String(gone.op), pass: gone.pass, ...(target ? { into: target.id } : {}) },
    };
  }
  const nodes = g.nodes.filter((n) => n.id.startsWith(`${bare}.`));
  const weights = nodes.length ? [] : g.weights.filter((w) => w.name.startsWith(`${bare}.`));
  if (nodes.length || weights.length) return { nodes, weights };
  const names = [...g.nodes.map((n) => n.id), ...g.weights.map((w) => w.name), ...Object.keys(prov?.removed ?? {})];
  const near = suggest(bare, names);
  const span: Span = { file: join(dir, "manifest.json"), line: 0, col: 0, endLine: 0, endCol: 0 };
  throw new RmcError(
    error(
      E_UNKNOWN_NAME,
      `the artifact has no node or weight \`${bare}\`${near ? `: did you mean \`${near}\`?` : ""}`,
      span,
      `its nodes: ${g.nodes.map((n) => n.id).join(", ")} (weights too, by name, e.g. ${g.weights[0]?.name ?? "none"})`,
    ),
  );
}

/** The plan's decisions, if the artifact was compiled with one. */
const decisionsOf = (m: Manifest): Decision[] => {
  const d = (m.plan as { decisions?: unknown } | undefined)?.decisions;
  return Array.isArray(d) ? (d as Decision[]) : [];
};

/** The decision for `unit`, or for a split part's table (the search decides each part on its own, a mode the table). */
function precisionWhy(m: Manifest, unit: string, precision: string, pinned: string | undefined, table?: string): PrecisionWhy {
  const all = decisionsOf(m);
  const d = all.find((x) => x.unit === unit) ?? (table !== undefined ? all.find((x) => x.unit === table) : undefined);
  if (!d)
    return {
      unit,
      precision,
      source: "model",
      why: pinned ? `pinned with @precision(${pinned}) in the model` : "no precision choice: compiled at the model's precision",
    };
  return {
    unit,
    precision,
    source: d.source,
    why: d.why,
    ...(typeof d.neDeltaAlone === "number" ? { neDeltaAlone: d.neDeltaAlone } : {}),
    ...(typeof d.neDeltaCumulative === "number" ? { neDeltaCumulative: d.neDeltaCumulative } : {}),
  };
}

/** Where a weight's bytes are: the store, a shard of its own, or the main weights file. */
function locate(m: Manifest, w: WeightDecl): WeightLocation {
  const stored = m.store?.tables.find((t) => t.name === w.name && t.placement !== "memory");
  if (stored)
    return { kind: "store", placement: stored.placement, file: stored.file, index: stored.index, blocks: stored.blocks, format: stored.format };
  const shard = m.shards?.find((s) => s.name === w.name);
  if (shard) return { kind: "shard", file: shard.file, table: shard.table, holds: shard.holds };
  const gpu = m.wgsl?.buffers.find((b) => b.kind === "weights" && b.name === w.name);
  return { kind: "weights-file", file: gpu && gpu.kind === "weights" ? gpu.file : (m.wasm?.weights.file ?? "weights.bin") };
}

const bytesOf = (w: WeightDecl): number => w.shape.reduce((a, b) => a * b, 1) * 4;

/** The fusions a node's attributes record (the passes that made them name them too, in its history). */
function fusionsOf(n: Node): string[] {
  const out: string[] = [];
  if (typeof n.attrs.act === "string" && n.attrs.act !== "none")
    out.push(`epilogue: ${n.op}+${n.attrs.act} (the activation runs in the layer's kernel)`);
  if (n.attrs.stacked === true) out.push(`table-batched lookup: one kernel for ${weightInputs(n).length} table operands`);
  if (typeof n.attrs.out_scale === "number") out.push("writes int8 codes for the next layer (fold-quant: no dequantize/quantize in between)");
  return out;
}

/** Splits a weight belongs to: the table it is a part of, and that table's other parts. */
function splitsOf(g: Graph, w: WeightDecl): string[] {
  const table = typeof w.attrs.part_of === "string" ? w.attrs.part_of : undefined;
  if (!table) return [];
  const parts = g.weights.filter((x) => x.attrs.part_of === table).map((x) => x.name);
  const what = (["rows", "cols", "cold"] as const).find((k) => Array.isArray(w.attrs[k]));
  const range = what ? (w.attrs[what] as number[]) : [];
  const holds = what ? `${what} [${range[0]}, ${range[1]})` : Array.isArray(w.attrs.hot) ? `${w.attrs.hot.length} hot rows` : "a part";
  return [`split table ${table}: this part holds ${holds}; its parts: ${parts.join(", ")}`];
}

function explainWeight(m: Manifest, w: WeightDecl, reader: Node | undefined): Explanation["weights"][number] {
  return { name: w.name, precision: precisionOf(w, reader), bytes: bytesOf(w), location: locate(m, w) };
}

/** Explains one node of the final IR. */
export function explainNode(m: Manifest, n: Node): Explanation {
  const g = m.ir;
  const prov = provenanceOf(m);
  const decls = weightInputs(n).flatMap((name) => g.weights.filter((w) => w.name === name));
  // A dense layer's precision is its weight matrix's; an embedding bag's, each of its tables'.
  const precision =
    n.op === "embedding_bag"
      ? decls.map((w) => precisionWhy(m, w.name, precisionOf(w, n), pinOf(w), typeof w.attrs.part_of === "string" ? w.attrs.part_of : undefined))
      : [precisionWhy(m, n.id, isDenseOp(n.op) ? layerPrecision(g, n) : (pinOf(n) ?? "fp32"), pinOf(n))];
  const buffer = Array.isArray(n.attrs.buffer) ? { offset: Number(n.attrs.buffer[0]), bytes: Number(n.attrs.buffer[1]) } : undefined;
  const h = history(prov?.nodes[n.id]);
  return {
    kind: "node",
    name: n.id,
    what: `${n.op}${n.type ? ` : ${formatType(n.type)}` : ""}`,
    source: n.span,
    ...(h ? { history: h } : {}),
    precision: dedupe(precision),
    groups: [...fusionsOf(n), ...[...new Set(decls.flatMap((w) => splitsOf(g, w)))]],
    ...(buffer ? { buffer } : {}),
    weights: decls.map((w) => explainWeight(m, w, n)),
  };
}

/** Explains one weight of the final IR (a table, a split part, a layer's matrix or bias). */
export function explainWeightDecl(m: Manifest, w: WeightDecl): Explanation {
  const g = m.ir;
  const reader = g.nodes.find((n) => weightInputs(n).includes(w.name));
  const unit = w.role === "table" || !reader ? w.name : reader.id;
  const table = typeof w.attrs.part_of === "string" ? w.attrs.part_of : undefined;
  const h = history(provenanceOf(m)?.weights[w.name]);
  return {
    kind: "weight",
    name: w.name,
    what: `${w.role} ${w.dtype}[${w.shape.join(",")}]${reader ? `, read by %${reader.id}` : ""}`,
    source: w.span,
    ...(h ? { history: h } : {}),
    precision: [precisionWhy(m, unit, precisionOf(w, reader), pinOf(w), table)],
    groups: splitsOf(g, w),
    weights: [explainWeight(m, w, reader)],
  };
}

/** Precisions of many tables of one node, one entry per distinct unit. */
const dedupe = (xs: PrecisionWhy[]): PrecisionWhy[] => xs.filter((x, i) => xs.findIndex((y) => y.unit === x.unit) === i);
