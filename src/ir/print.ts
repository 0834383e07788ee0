// Textual IR, printing half: Graph → text, one entity per line, every line
// ending in its source location. `parse.ts` reads the same form back, and
// `parseGraph(printGraph(g))` deep-equals `g`; pass dumps, golden tests and
// reproducers all use it. Weight bytes never appear, only a short checksum.

import type { AttrValue, Attrs, Graph, Input, Node, Output, Span, Type, WeightDecl } from "./types.js";
import { formatType, printNumber } from "./types.js";

/**
 * What the printer reads of a weight store (src/weights/store.ts's tensors
 * have it): each tensor's shape and its f32 rows, for the checksum. Declared
 * here so the IR does not depend on the weights layer above it.
 */
export interface Tensor {
  readonly shape: readonly number[];
  readRow(i: number, out: Float32Array, offset?: number): void;
  toFloat32(): Float32Array;
}

/** Printer options: with `weights`, each weight line ends in `// crc32 xxxxxxxx` of its f32 data. */
export interface PrintOptions {
  weights?: { get(name: string): Tensor | undefined };
  /** A note for a node, printed after its location as `// note` (dumps: src/ir/dump.ts); the parser skips it. */
  note?: (n: Node) => string | undefined;
  /** Prints only the weights and nodes it keeps (a filtered dump: not a whole graph any more). */
  keep?: (name: string, what: "weight" | "node") => boolean;
}

/** Elements per row of a tensor of `shape` (the product of every dimension after the first). */
const rowLength = (shape: readonly number[]): number => shape.slice(1).reduce((a, b) => a * b, 1);

/** Names after `%`/`@` print bare when made of these characters; otherwise JSON-quoted. */
export const BARE_REF = /^[A-Za-z0-9_.-]+$/;
/** Words (op names, attribute keys and string values, output names) print bare when they match. */
export const BARE_WORD = /^[A-Za-z_][A-Za-z0-9_.]*$/;
/** Words the parser reads as values, so strings spelled like them must be quoted. */
export const RESERVED_WORDS: ReadonlySet<string> = new Set(["true", "false", "null", "nan", "inf"]);

/** `%name` / `@name`, quoting names the lexer could not read bare. */
export const printRef = (sigil: "%" | "@", name: string): string => sigil + (BARE_REF.test(name) ? name : JSON.stringify(name));

/** A word or, when it is not a plain identifier, a JSON string. */
export const printWord = (s: string): string => (BARE_WORD.test(s) && !RESERVED_WORDS.has(s) ? s : JSON.stringify(s));

/** Numbers print in JS's shortest round-tripping form; -0, NaN and infinities get spellings of their own (types.ts). */
export { printNumber } from "./types.js";

/** One attribute value: `3`, `0.25`, `relu`, `"two words"`, `true`, `null`, `[64,16]`. */
export function printAttrValue(v: AttrValue): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `[${v.map(printAttrValue).join(",")}]`;
  switch (typeof v) {
    case "number":
      return printNumber(v);
    case "boolean":
      return String(v);
    case "string":
      return printWord(v);
    default:
      // Not an AttrValue at all (invalid IR being dumped): show it rather than crash the dump.
      return JSON.stringify(String(v));
  }
}

/** `{sizes=[64,16], act=relu}`, or "" for no attributes. */
export function printAttrs(attrs: Attrs): string {
  const entries = Object.entries(attrs);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${printWord(k)}=${printAttrValue(v)}`).join(", ")}}`;
}

/** `loc("model.rmdl":3:3-3:22)`. */
export const printLoc = (s: Span): string => `loc(${JSON.stringify(s.file)}:${s.line}:${s.col}-${s.endLine}:${s.endCol})`;

/** A type as written in the IR (`f32[B,13]`, `bags[26]`); tolerant of malformed types in dumps. */
function printType(t: Type): string {
  return t && (t.kind === "tensor" || t.kind === "bags") ? formatType(t) : JSON.stringify(t);
}

const withLoc = (body: string, span: Span): string => `  ${body}  ${printLoc(span)}`;

function printInput(i: Input): string {
  return withLoc(`input ${printRef("%", i.name)}: ${printType(i.type)}`, i.span);
}

function printWeight(w: WeightDecl, weights?: PrintOptions["weights"]): string {
  const attrs = printAttrs(w.attrs);
  const line = withLoc(
    `weight ${printRef("@", w.name)}: ${w.role} ${w.dtype}[${w.shape.map(printNumber).join(",")}]${attrs ? " " + attrs : ""}`,
    w.span,
  );
  return weights ? `${line}  // ${weightNote(w, weights)}` : line;
}

function printNode(n: Node, note?: PrintOptions["note"]): string {
  const args = n.inputs.map((r) => (r.startsWith("%") || r.startsWith("@") ? printRef(r[0] as "%" | "@", r.slice(1)) : JSON.stringify(r)));
  const attrs = printAttrs(n.attrs);
  const type = n.type === null ? "" : ` : ${printType(n.type)}`;
  const line = withLoc(`${printRef("%", n.id)} = ${printWord(n.op)}(${args.join(", ")})${attrs ? " " + attrs : ""}${type}`, n.span);
  const said = note?.(n);
  return said ? `${line}  // ${said}` : line;
}

function printOutput(o: Output): string {
  return withLoc(`output ${printWord(o.name)} = ${printRef("%", o.value)}`, o.span);
}

/** The whole graph as text, sections in the order inputs, weights, nodes, outputs. */
export function printGraph(g: Graph, opts: PrintOptions = {}): string {
  const sections = [
    g.inputs.map(printInput),
    g.weights.filter((w) => opts.keep?.(w.name, "weight") ?? true).map((w) => printWeight(w, opts.weights)),
    g.nodes.filter((n) => opts.keep?.(n.id, "node") ?? true).map((n) => printNode(n, opts.note)),
    g.outputs.map(printOutput),
  ].filter((s) => s.length > 0);
  const body = sections.map((s) => s.join("\n")).join("\n\n");
  return `graph ${printRef("@", g.name)} {\n${body}${body ? "\n" : ""}}\n`;
}

/** What a dump says about a weight's data: its checksum, or why there is none. */
function weightNote(w: WeightDecl, weights: NonNullable<PrintOptions["weights"]>): string {
  const t = weights.get(w.name);
  if (!t) return "no data in the weight store";
  const sum = `crc32 ${tensorCrc32(t)}`;
  const sameShape = t.shape.length === w.shape.length && t.shape.every((d, i) => d === w.shape[i]);
  return sameShape ? sum : `${sum} (stored shape [${t.shape.join(",")}])`;
}

let crcTable: Uint32Array | undefined;
function crc32Table(): Uint32Array {
  if (crcTable) return crcTable;
  crcTable = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crcTable[n] = c >>> 0;
  }
  return crcTable;
}

/** Continues a CRC-32 (IEEE) over `bytes`; start with 0. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  const table = crc32Table();
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

// Tensors are immutable once in a store, and a table can be gigabytes, so a
// dump after every pass must not re-read it each time.
const checksumCache = new WeakMap<Tensor, string>();

/** CRC-32 of a tensor's f32 data (little-endian bytes), 8 hex digits; read row by row so big tables are never materialised. */
export function tensorCrc32(t: Tensor): string {
  const cached = checksumCache.get(t);
  if (cached !== undefined) return cached;
  let crc = 0;
  if (t.shape.length < 2) {
    crc = crc32(f32Bytes(t.toFloat32()));
  } else {
    const row = new Float32Array(rowLength(t.shape));
    for (let i = 0; i < t.shape[0]!; i++) {
      t.readRow(i, row);
      crc = crc32(f32Bytes(row), crc);
    }
  }
  const hex = crc.toString(16).padStart(8, "0");
  checksumCache.set(t, hex);
  return hex;
}

/** The little-endian bytes of f32 data, whatever the host's byte order. */
function f32Bytes(a: Float32Array): Uint8Array {
  const out = new Uint8Array(a.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) view.setFloat32(i * 4, a[i]!, true);
  return out;
}
