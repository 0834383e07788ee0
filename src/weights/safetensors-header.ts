// Safetensors header parsing and validation, shared by the file reader and the
// in-memory reader. The header is checked strictly — every entry, every offset,
// full coverage of the data buffer — because a wrong offset would otherwise
// show up much later as a silently wrong prediction. Errors are E1301.

import { RmcError, error, type Diagnostic, type Code } from "../diagnostics/index.js";
import { SAFETENSORS_DTYPES, SAFETENSORS_DTYPE_NAMES, isSafetensorsDType, type SafetensorsDType } from "./dtypes.js";
import { jsonTooDeepAt } from "../ir/limits.js";
import { dict } from "../util/records.js";

/** Where one tensor lives: offsets are relative to the start of the data buffer. */
export interface SafetensorsEntry {
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

/** A parsed, validated header. `dataStart` is the file offset of the data buffer. */
export interface SafetensorsHeader {
  metadata: Record<string, string>;
  tensors: Map<string, SafetensorsEntry>;
  dataStart: number;
}

/** Headers above this are refused: real ones are kilobytes, and a corrupt length must not allocate gigabytes. */
export const MAX_HEADER_BYTES = 100_000_000;

/** The code of every safetensors format error. */
export const E_SAFETENSORS = "E1301" satisfies Code;
/** The code of a header nested deeper than MAX_HEADER_DEPTH. */
export const E_HEADER_DEPTH = "E1318" satisfies Code;

/** A header is an object of objects of lists (depth 3); deeper nesting is refused before JSON.parse, which later checks would recurse into. */
export const MAX_HEADER_DEPTH = 8;

const fail = (file: string, message: string): RmcError => new RmcError(error(E_SAFETENSORS, `${file}: ${message}`));

/**
 * Reads the 8-byte header length and checks it against the file size; returns
 * the length of the JSON header.
 */
export function headerLength(file: string, prefix: Uint8Array, fileSize: number): number {
  if (fileSize < 8) throw fail(file, `not a safetensors file: ${fileSize} bytes, shorter than the 8-byte header length`);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if ((n > BigInt(MAX_HEADER_BYTES) || Number(n) > fileSize - 8) && looksLikeOnnx(prefix))
    throw new RmcError(
      error(
        E_SAFETENSORS,
        `${file}: this is an ONNX model, not a safetensors weights file`,
        undefined,
        `import it with \`rmc import-onnx ${file} -o model.rmdl\`, which writes the model and its weights (model.safetensors)`,
      ),
    );
  if (n > BigInt(MAX_HEADER_BYTES))
    throw fail(file, `header length ${n} is absurd (over ${MAX_HEADER_BYTES} bytes): not a safetensors file, or a corrupt one`);
  if (Number(n) > fileSize - 8)
    throw fail(file, `header length ${n} is larger than the rest of the file (${fileSize - 8} bytes): truncated or not a safetensors file`);
  return Number(n);
}

/**
 * An ONNX ModelProto starts with field 1 (ir_version, a small varint: bytes
 * 0x08, 1..15), then another ModelProto field key (producer_name 0x12, …,
 * opset_import 0x42, metadata_props 0x72). A safetensors file starting so
 * would declare a header of gigabytes, so the two cannot be confused where
 * this is asked (after the length failed its checks).
 */
function looksLikeOnnx(prefix: Uint8Array): boolean {
  return prefix[0] === 0x08 && prefix[1]! >= 1 && prefix[1]! <= 15 && [0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72].includes(prefix[2]!);
}

/**
 * Parses and validates the JSON header (`headerBytes`, without the length
 * prefix) for a file of `fileSize` bytes. Throws one RmcError listing every
 * problem found.
 */
export function parseHeader(file: string, headerBytes: Uint8Array, fileSize: number): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(headerBytes);
  } catch {
    throw fail(file, "header is not valid UTF-8");
  }
  const deep = jsonTooDeepAt(text, MAX_HEADER_DEPTH);
  if (deep >= 0)
    // The header is one line after the 8-byte length: column = byte offset in the file + 1.
    throw new RmcError(
      error(E_HEADER_DEPTH, `header nests lists and objects more than ${MAX_HEADER_DEPTH} deep, over the limit`, {
        file,
        line: 1,
        col: 8 + deep + 1,
        endLine: 1,
        endCol: 8 + deep + 2,
      }),
    );
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw fail(file, `header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw fail(file, `header must be a JSON object, got ${Array.isArray(json) ? "an array" : json === null ? "null" : typeof json}`);
  const { duplicate: dup, topLevel } = scanKeys(text);
  if (dup)
    throw fail(
      file,
      dup.path.length === 0
        ? `tensor \`${dup.key}\` appears twice in the header`
        : `key \`${dup.key}\` appears twice in the header entry \`${dup.path.join(".")}\``,
    );

  const dataStart = 8 + headerBytes.length;
  const dataLength = fileSize - dataStart;
  const problems: Diagnostic[] = [];
  // Keys are the file's: no prototype, so `__proto__` is kept as a key (Object.assign onto `{}` would set the prototype).
  const metadata: Record<string, string> = dict();
  const tensors = new Map<string, SafetensorsEntry>();
  // In file order: Object.entries would move integer-like names ("0", "12") to the front.
  for (const name of topLevel) {
    const value = (json as Record<string, unknown>)[name];
    if (name === "__metadata__") {
      const m = checkMetadata(value);
      if (typeof m === "string") problems.push(error(E_SAFETENSORS, `${file}: ${m}`));
      else Object.assign(metadata, m);
      continue;
    }
    const entry = checkEntry(name, value);
    if (typeof entry === "string") problems.push(error(E_SAFETENSORS, `${file}: tensor \`${name}\`: ${entry}`));
    else tensors.set(name, entry);
  }
  if (problems.length === 0) problems.push(...checkTruncation(file, tensors, dataLength));
  if (problems.length === 0) problems.push(...checkCoverage(file, tensors, dataLength));
  if (problems.length > 0) throw new RmcError(problems);
  return { metadata, tensors, dataStart };
}

function checkMetadata(value: unknown): Record<string, string> | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "`__metadata__` must be an object of strings";
  for (const [k, v] of Object.entries(value))
    if (typeof v !== "string") return `\`__metadata__\` must map strings to strings, but \`${k}\` is ${JSON.stringify(v)}`;
  return value as Record<string, string>;
}

const isCount = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 0;

/** Checks one header entry; returns the entry or what is wrong with it. */
function checkEntry(name: string, value: unknown): SafetensorsEntry | string {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return `entry must be an object with dtype, shape and data_offsets, got ${JSON.stringify(value)}`;
  const v = value as Record<string, unknown>;
  const absent = ["dtype", "shape", "data_offsets"].filter((k) => !(k in v));
  if (absent.length > 0) return `entry is missing ${absent.join(", ")}`;
  if (!isSafetensorsDType(v.dtype)) return `unknown dtype ${JSON.stringify(v.dtype)}; rmc reads ${SAFETENSORS_DTYPE_NAMES.join(", ")}`;
  if (!Array.isArray(v.shape) || !v.shape.every(isCount)) return `shape must be a list of non-negative integers, got ${JSON.stringify(v.shape)}`;
  const offs = v.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isCount))
    return `data_offsets must be two non-negative integers [begin, end], got ${JSON.stringify(offs)}`;
  const [begin, end] = offs as [number, number];
  if (begin > end) return `data_offsets [${begin}, ${end}] run backwards (begin > end)`;
  const shape = v.shape as number[];
  const need = shape.reduce((a, b) => a * b, 1) * SAFETENSORS_DTYPES[v.dtype].bytes;
  if (end - begin !== need) return `shape [${shape.join(", ")}] of ${v.dtype} needs ${need} bytes, data_offsets give ${end - begin}`;
  return { dtype: v.dtype, shape, begin, end };
}

/** Tensors reaching past the end of the data: one error for the file (a cut-off download would otherwise list every later tensor). */
function checkTruncation(file: string, tensors: Map<string, SafetensorsEntry>, dataLength: number): Diagnostic[] {
  const past = [...tensors].filter(([, e]) => e.end > dataLength);
  if (past.length === 0) return [];
  const need = Math.max(...past.map(([, e]) => e.end));
  const [first, e] = past.reduce((a, b) => (b[1].begin < a[1].begin ? b : a));
  const others = past.length > 1 ? ` and ${past.length - 1} more tensor${past.length > 2 ? "s" : ""}` : "";
  return [
    error(
      E_SAFETENSORS,
      `${file}: truncated file: the data buffer holds ${dataLength} bytes but the header needs ${need}; tensor \`${first}\` (data_offsets [${e.begin}, ${e.end}])${others} reach past the end`,
    ),
  ];
}

/** The data buffer must be covered exactly: no overlaps, no holes, nothing after the last tensor. */
function checkCoverage(file: string, tensors: Map<string, SafetensorsEntry>, dataLength: number): Diagnostic[] {
  const spans = [...tensors].filter(([, e]) => e.end > e.begin).sort(([, a], [, b]) => a.begin - b.begin || a.end - b.end);
  const problems: Diagnostic[] = [];
  let covered = 0;
  let last: string | undefined;
  for (const [name, e] of spans) {
    if (e.begin < covered)
      problems.push(
        error(
          E_SAFETENSORS,
          `${file}: tensors \`${last}\` and \`${name}\` overlap (bytes ${e.begin}..${Math.min(covered, e.end)} of the data buffer)`,
        ),
      );
    else if (e.begin > covered)
      problems.push(
        error(
          E_SAFETENSORS,
          `${file}: hole in the data buffer: bytes ${covered}..${e.begin} ${last ? `between \`${last}\` and \`${name}\`` : `before \`${name}\``} belong to no tensor`,
        ),
      );
    if (e.end > covered) [covered, last] = [e.end, name];
  }
  if (covered < dataLength)
    problems.push(
      error(E_SAFETENSORS, `${file}: ${dataLength - covered} bytes after the last tensor${last ? ` (\`${last}\`)` : ""} belong to no tensor`),
    );
  return problems;
}

/**
 * Scans JSON text for the keys of the top-level object, in order, and for the
 * first key that repeats within any one object (JSON.parse silently keeps the
 * last), with the path of keys leading to that object. Assumes valid JSON.
 */
export function scanKeys(text: string): { topLevel: string[]; duplicate?: { key: string; path: string[] } } {
  const topLevel: string[] = [];
  const stack: { keys: Set<string> | undefined; name: string }[] = [];
  let pendingKey = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "{" || c === "[") {
      stack.push({ keys: c === "{" ? new Set() : undefined, name: pendingKey });
      pendingKey = "";
    } else if (c === "}" || c === "]") stack.pop();
    else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const top = stack[stack.length - 1];
      let k = j + 1;
      while (k < text.length && /\s/.test(text[k]!)) k++;
      if (top?.keys && text[k] === ":") {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return { topLevel, duplicate: { key, path: stack.slice(1).map((s) => s.name) } };
        top.keys.add(key);
        if (stack.length === 1) topLevel.push(key);
        pendingKey = key;
      }
      i = j;
    }
  }
  return { topLevel };
}
