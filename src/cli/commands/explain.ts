// `rmc explain DIST/ NODE`: why a node (or weight) of a compiled artifact is
// what it is — its source line, the passes that made, changed or fused it,
// why it has its precision, the fusions and splits it belongs to, its buffer,
// and where its weights live. Reads the manifest only (src/cli/explain.ts).

import { existsSync, readFileSync } from "node:fs";
import type { Command } from "../command.js";
import { readManifest } from "../artifact.js";
import { explainNode, explainWeightDecl, resolveName, type Explanation, type WeightLocation } from "../explain.js";
import { JSON_FLAG, printJson, wantsJson } from "../json.js";
import { colorsOf } from "../color.js";
import { humanBytes } from "../summary.js";

const pct = (x: number): string => `${x >= 0 ? "+" : ""}${x.toFixed(4)}%`;

function where(l: WeightLocation): string {
  if (l.kind === "store") return `the ${l.placement} store: rows in ${l.file} (${l.blocks} blocks of ${l.format} rows, index ${l.index})`;
  if (l.kind === "shard") return `shard ${l.file} (part of ${l.table}: ${JSON.stringify(l.holds)}), loaded on first use`;
  return l.file;
}

/** The source line itself, when the model file is at hand (`--source`, or its name from the current folder). */
function sourceLine(e: Explanation, source: string | undefined): string | undefined {
  const file = source ?? e.source.file;
  if (!existsSync(file)) return undefined;
  return readFileSync(file, "utf8").split(/\r?\n/)[e.source.line - 1]?.trim();
}

function render(e: Explanation, source: string | undefined, bold: (s: string) => string): string {
  const lines = [bold(`${e.kind === "node" ? "%" : "@"}${e.name}: ${e.what}`)];
  const text = sourceLine(e, source);
  lines.push(`  source:    ${e.source.file}:${e.source.line}:${e.source.col}${text ? `  ${text}` : ""}`);
  if (e.history) {
    const h = e.history;
    lines.push(`  made by:   ${h.created ? `pass ${h.created} (from the source line above)` : "the front end (the source line above)"}`);
    if (h.changed.length) lines.push(`  changed:   ${h.changed.join(", ")}`);
    for (const a of h.absorbed) lines.push(`  fused in:  %${a.node} (${a.op}) by ${a.pass}`);
  } else lines.push("  passes:    unknown (the artifact records no provenance: compiled by an older rmc)");
  for (const p of e.precision) {
    // The search's reasons already quote their NE; a repair's or a plan's do not.
    const ne =
      p.neDeltaAlone !== undefined && !p.why.includes("NE")
        ? ` [NE ${pct(p.neDeltaAlone)} alone${p.neDeltaCumulative !== undefined ? `, model at ${pct(p.neDeltaCumulative)} after it` : ""}]`
        : "";
    lines.push(`  precision: ${p.unit === e.name ? "" : `${p.unit} `}${p.precision}: ${p.source}: ${p.why}${ne}`);
  }
  for (const g of e.groups) lines.push(`  group:     ${g}`);
  if (e.buffer) lines.push(`  buffer:    offset ${e.buffer.offset}, ${e.buffer.bytes} bytes per sample (plan-memory)`);
  for (const w of e.weights) lines.push(`  weights:   @${w.name} (${w.precision}, ${humanBytes(w.bytes)} as f32): ${where(w.location)}`);
  return lines.join("\n") + "\n";
}

export const explainCmd: Command = {
  spec: {
    name: "explain",
    usage: "rmc explain DIST/ NODE [--source MODEL.rmdl] [--json]",
    summary: "why a node of an artifact is what it is: source, passes, precision, fusion, split, where its weights live",
    positionals: { min: 2, max: 2 },
    flags: {
      source: { type: "string", value: "FILE", doc: "the model file, to quote the node's source line (default: its name, from here)" },
      ...JSON_FLAG,
    },
    details:
      "NODE is an IR id (`top.0`, `%top.0`), a weight (`@emb.3.weight`), a source name the front end expanded\n" +
      "(`bottom` explains `bottom.0`, `bottom.1`, …) or a node a pass fused away (explained as the node it went into).",
  },
  async run(args, io) {
    const [dir, name] = args.positionals as [string, string];
    const manifest = readManifest(dir);
    const r = resolveName(dir, manifest, name);
    const explained = [...r.nodes.map((n) => explainNode(manifest, n)), ...r.weights.map((w) => explainWeightDecl(manifest, w))];
    if (wantsJson(args)) {
      printJson(io, "explain", true, { artifact: dir, query: name, ...(r.removed ? { removed: r.removed } : {}), explained });
      return 0;
    }
    const c = colorsOf(io, "out");
    if (r.removed)
      io.out(
        `%${r.removed.name} (${r.removed.op}) is not in the compiled IR: ${r.removed.pass} ${r.removed.into ? `fused it into %${r.removed.into}` : "removed it"}\n${explained.length ? "\n" : ""}`,
      );
    else if (explained.length > 1) io.out(`\`${name}\` is ${explained.length} ${r.nodes.length ? "nodes" : "weights"} of the compiled IR:\n\n`);
    const source = typeof args.flags.source === "string" ? args.flags.source : undefined;
    io.out(explained.map((e) => render(e, source, c.bold)).join("\n"));
    return 0;
  },
};
