// The graph picture, DOT half: IR → Graphviz DOT text, laid out by Graphviz
// itself (svg.ts renders it with @viz-js/viz). Nodes are filled by the
// precision they compute at, edges carry the shape of the value on them,
// tables are drawn beside the bags that read them, a fused bag lookup and the
// layers of one source statement are clusters, a split table's parts are a
// cluster of their own, and tables placed in a store are dashed and say so.

import { formatType, weightInputs, valueInputs, type Graph, type Node, type WeightDecl } from "../ir/types.js";
import { nodePrecision } from "../ir/dump.js";
import { precisionOf } from "../ir/attrs.js";
import { logicalTables, type LogicalTable } from "../ir/tables.js";

/** Fill colours by precision: cool for wide formats, warmer as bits go down (a sequential scale, readable in print). */
export const PRECISION_COLOURS: Readonly<Record<string, string>> = {
  fp32: "#deebf7",
  fp16: "#c7e9c0",
  bf16: "#a1d99b",
  int8: "#fdd0a2",
  int8a7: "#fdae6b",
  int4: "#fc9272",
  int2: "#ef3b2c",
};
const colour = (p: string): string => PRECISION_COLOURS[p.split("/")[0]!] ?? "#ffffff";

/** A DOT string literal. */
const q = (s: string): string => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
const nodeId = (id: string) => q(`v:${id}`);
const weightId = (name: string) => q(`w:${name}`);

/** `linear+relu` for a layer with a fused epilogue; the op otherwise. */
const opLabel = (n: Node): string => (typeof n.attrs.act === "string" && n.attrs.act !== "none" ? `${n.op}+${n.attrs.act}` : n.op);

function nodeLine(g: Graph, n: Node): string {
  const p = nodePrecision(g, n);
  const buffer = Array.isArray(n.attrs.buffer) ? `\nbuffer ${String(n.attrs.buffer[0])}+${String(n.attrs.buffer[1])} B` : "";
  const label = `%${n.id}\n${opLabel(n)} · ${p}${buffer}`;
  return `${nodeId(n.id)} [label=${q(label)}, fillcolor=${q(colour(p))}, tooltip=${q(`line ${n.span.line}`)}];`;
}

function tableLine(w: WeightDecl, reader: Node): string {
  const p = precisionOf(w, reader);
  const placed = typeof w.attrs.placement === "string" ? w.attrs.placement : undefined;
  const label = `@${w.name}\n${w.shape.join("×")} · ${p}${placed ? `\nin the ${placed} store` : ""}`;
  const style = placed ? `, style="filled,dashed", penwidth=2` : "";
  return `${weightId(w.name)} [label=${q(label)}, shape=cylinder, fillcolor=${q(colour(p))}${style}];`;
}

/** A bag node, its tables and, for each table split into parts, a cluster of the parts. */
function bagCluster(g: Graph, n: Node, decls: ReadonlyMap<string, WeightDecl>, indent: string): string[] {
  const weights = weightInputs(n).map((w) => decls.get(w)!);
  const parts = Array.isArray(n.attrs.parts) ? (n.attrs.parts as number[]) : undefined;
  const tables = logicalTables((n.attrs.bags as number[] | undefined) ?? weights.map((_, i) => i), parts, weights);
  // Unverified IR (a dump of a broken pass's output) may not group into tables: then each weight is drawn alone.
  const list: Pick<LogicalTable, "name" | "layout" | "parts">[] =
    typeof tables === "string"
      ? weights.map((d) => ({ name: d.name, layout: "whole", parts: [{ decl: d, kind: "whole", start: 0, end: 0 }] }))
      : tables;
  const inner = list.flatMap((t) =>
    t.parts.length > 1
      ? [
          `${indent}  subgraph ${q(`cluster_split_${t.name}`)} {`,
          `${indent}    label=${q(`${t.name}: split by ${t.layout}, ${t.parts.length} parts`)}; style="rounded,dotted";`,
          ...t.parts.map((p) => `${indent}    ${tableLine(p.decl, n)}`),
          `${indent}  }`,
        ]
      : t.parts.map((p) => `${indent}  ${tableLine(p.decl, n)}`),
  );
  if (list.length <= 1) return [`${indent}${nodeLine(g, n)}`, ...inner.map((l) => l.slice(2))];
  return [
    `${indent}subgraph ${q(`cluster_bags_${n.id}`)} {`,
    `${indent}  label=${q(`fused lookup %${n.id}: ${list.length} tables`)}; style="rounded,filled"; fillcolor="#f7f7f7";`,
    `${indent}  ${nodeLine(g, n)}`,
    ...inner,
    `${indent}}`,
  ];
}

/** The nodes that come from one source statement (an mlp's layers), keyed by its location; groups of one are no cluster. */
function statementGroups(g: Graph): Node[][] {
  const groups = new Map<string, Node[]>();
  for (const n of g.nodes) {
    const key = `${n.span.file}:${n.span.line}:${n.span.col}`;
    const group = groups.get(key);
    if (group) group.push(n);
    else groups.set(key, [n]);
  }
  return [...groups.values()];
}

/** A legend of the precisions the picture uses. */
function legend(used: ReadonlySet<string>): string {
  const cells = [...Object.keys(PRECISION_COLOURS)]
    .filter((p) => used.has(p))
    .map((p) => `<td bgcolor="${PRECISION_COLOURS[p]}">${p}</td>`)
    .join("");
  return `legend [shape=plaintext, style="", label=<<table border="0" cellborder="1" cellspacing="0" cellpadding="4"><tr><td>precision</td>${cells}</tr></table>>];`;
}

/** The graph as DOT text (deterministic: the same IR gives the same text). */
export function graphToDot(g: Graph): string {
  const decls = new Map(g.weights.map((w) => [w.name, w]));
  const lines = [
    `digraph ${q(g.name)} {`,
    `  graph [rankdir=LR, fontname="Helvetica", fontsize=11, label=${q(`@${g.name}`)}, labelloc=t];`,
    `  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];`,
    `  edge [fontname="Helvetica", fontsize=9, color="#555555"];`,
  ];
  for (const i of g.inputs) lines.push(`  ${nodeId(i.name)} [label=${q(`%${i.name}\n${formatType(i.type)}`)}, shape=ellipse, fillcolor="#eeeeee"];`);
  for (const group of statementGroups(g)) {
    const body = (indent: string) =>
      group.flatMap((n) => (n.op === "embedding_bag" ? bagCluster(g, n, decls, indent) : [`${indent}${nodeLine(g, n)}`]));
    if (group.length === 1) lines.push(...body("  "));
    else {
      const n = group[0]!;
      lines.push(
        `  subgraph ${q(`cluster_line_${n.span.line}_${n.span.col}`)} {`,
        `    label=${q(`line ${n.span.line}: ${group.length} nodes`)}; style="rounded";`,
      );
      lines.push(...body("    "), "  }");
    }
  }
  const typeOf = new Map<string, string>([
    ...g.inputs.map((i) => [i.name, formatType(i.type)] as const),
    ...g.nodes.map((n) => [n.id, n.type ? formatType(n.type) : "?"] as const),
  ]);
  for (const n of g.nodes) {
    for (const v of valueInputs(n)) lines.push(`  ${nodeId(v)} -> ${nodeId(n.id)} [label=${q(typeOf.get(v) ?? "?")}];`);
    if (n.op === "embedding_bag") for (const w of weightInputs(n)) lines.push(`  ${weightId(w)} -> ${nodeId(n.id)} [style=dotted, arrowhead=none];`);
  }
  for (const o of g.outputs) {
    lines.push(`  ${q(`o:${o.name}`)} [label=${q(`output ${o.name}`)}, shape=ellipse, fillcolor="#eeeeee"];`);
    lines.push(`  ${nodeId(o.value)} -> ${q(`o:${o.name}`)} [label=${q(typeOf.get(o.value) ?? "?")}];`);
  }
  const used = new Set(g.nodes.flatMap((n) => nodePrecision(g, n).split("/")));
  for (const n of g.nodes) if (n.op === "embedding_bag") for (const w of weightInputs(n)) if (decls.get(w)) used.add(precisionOf(decls.get(w)!, n));
  lines.push(`  ${legend(used)}`, "}");
  return lines.join("\n") + "\n";
}
