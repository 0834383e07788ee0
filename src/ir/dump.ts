// IR dumps for people: the printer's text (print.ts) with a note after each
// node — its source line as written, the precision it computes at, and once
// plan-memory has run its buffer — and optionally only the nodes a
// `--print-ir-filter` names. The notes are `//` comments, so a dump still
// parses back to the same graph; a filtered dump is a view, not a graph.

import { isDenseOp, layerPrecision, pinOf, precisionOf } from "./attrs.js";
import type { PrintOptions } from "./print.js";
import type { Graph, Node, WeightDecl } from "./types.js";
import { weightInputs } from "./types.js";

/** What a dump needs besides the graph: source text by file name, and a node filter. */
export interface DumpOptions {
  /** The text of a source file (the CLI remembers every file it read), to quote each node's line. */
  source?: (file: string) => string | undefined;
  /** `--print-ir-filter` patterns: node ids or weight names, `*` matching any characters. */
  filter?: readonly string[];
}

/** The precision a node computes at: a dense layer's weight matrix's, an embedding bag's tables' (`int8/fp32`), else its pin or fp32. */
export function nodePrecision(g: Graph, n: Node): string {
  if (n.op === "embedding_bag") {
    const decls = new Map<string, WeightDecl>(g.weights.map((w) => [w.name, w]));
    const ps = new Set(weightInputs(n).map((w) => (decls.get(w) ? precisionOf(decls.get(w)!, n) : "fp32")));
    return [...ps].join("/") || "fp32";
  }
  return isDenseOp(n.op) ? layerPrecision(g, n) : (pinOf(n) ?? "fp32");
}

const isRange = (v: unknown): v is [number, number] => Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === "number");

/** `buffer 304+256 B` (offset and bytes per sample of batch capacity), with scratch when the layer has one. */
function bufferNote(n: Node): string | undefined {
  if (!isRange(n.attrs.buffer)) return undefined;
  const [at, bytes] = n.attrs.buffer;
  const scratch = isRange(n.attrs.scratch) ? `, scratch ${n.attrs.scratch[0]}+${n.attrs.scratch[1]} B` : "";
  return `buffer ${at}+${bytes} B${scratch}`;
}

/** Line `line` (1-based) of a file split into `lines`, trimmed and cut to a readable length. */
function sourceLine(lines: readonly string[] | undefined, line: number): string | undefined {
  // The statement only: its trailing `//` comment and alignment spaces would be noise in a dump.
  const l = lines?.[line - 1]
    ?.slice(0, 400)
    .replace(/\/\/.*$/, "")
    .replace(/\s+/g, " ")
    .trim();
  if (!l) return undefined;
  return l.length > 72 ? `${l.slice(0, 69)}...` : l;
}

/** A matcher for filter patterns: a name matches a pattern equal to it, or to one of its dotted prefixes (`top` matches `top.0.relu`). */
export function nameFilter(patterns: readonly string[]): (name: string) => boolean {
  const res = patterns.map((p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}(\\..*)?$`));
  return (name) => res.some((r) => r.test(name));
}

/** Printer options for a dump of `g`: each node's note, and the filter. */
export function dumpPrintOptions(g: Graph, opts: DumpOptions = {}): Pick<PrintOptions, "note" | "keep"> {
  // Each file is split once per dump: a 5,000-statement model has as many nodes as lines.
  const files = new Map<string, string[] | undefined>();
  const linesOf = (file: string) => {
    if (!files.has(file)) files.set(file, opts.source?.(file)?.split("\n"));
    return files.get(file);
  };
  const note = (n: Node): string => {
    const quoted = sourceLine(linesOf(n.span.file), n.span.line);
    return [`line ${n.span.line}${quoted ? `: ${quoted}` : ""}`, nodePrecision(g, n), bufferNote(n)].filter(Boolean).join(" | ");
  };
  if (!opts.filter?.length) return { note };
  const match = nameFilter(opts.filter);
  // A weight stays when a kept node reads it, or when its own name matches.
  const read = new Set(g.nodes.filter((n) => match(n.id)).flatMap(weightInputs));
  return { note, keep: (name, what) => (what === "node" ? match(name) : read.has(name) || match(name)) };
}

/** Whether a filter keeps no node of `g` (so a dump would show nothing: worth a warning). */
export const filterMatchesNothing = (g: Graph, filter: readonly string[]): boolean => {
  const match = nameFilter(filter);
  return !g.nodes.some((n) => match(n.id)) && !g.weights.some((w) => match(w.name));
};
