// Runtime: checks the `wasm` section of a manifest (manifest.ts, WasmLayout)
// before any memory exists — every field a whole number inside 32-bit memory,
// addresses 16-byte aligned, the static ranges (weights, shards, staging
// tables) disjoint and below the workspaces, every input's and output's buffer
// inside the per-sample area and apart from the others — and, once the code is
// compiled, that the layout is the one the code was compiled for (its
// `rmc.layout` section): the runtime computes with the code's constants, so a
// manifest that says otherwise would write inputs where the code never reads.

import type { CodeLayout, FileEntry, InputSignature, OutputSignature, ShardEntry, WasmLayout } from "./manifest.js";
import { LAYOUT_SECTION, codeLayout } from "./manifest.js";
import { MAX_PAGES, PAGE_BYTES, wasmApi, type WasmModule } from "./host/platform.js";

type Json = Record<string, unknown>;
const isObject = (x: unknown): x is Json => typeof x === "object" && x !== null && !Array.isArray(x);
const MEMORY_BYTES = MAX_PAGES * PAGE_BYTES;
/** A byte count or address inside 32-bit Wasm memory. */
const isAddress = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0 && (x as number) <= MEMORY_BYTES;
const isStringList = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === "string");

/** A byte range [start, end) and what it is, for overlap messages. */
type Range = { start: number; end: number; what: string };

/** The first two ranges that share bytes, as a message, or undefined. */
function overlap(ranges: Range[], where: string): string | undefined {
  const sorted = ranges.filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i]!.start < sorted[i - 1]!.end)
      return `${where}: ${sorted[i - 1]!.what} [${sorted[i - 1]!.start}, ${sorted[i - 1]!.end}) and ${sorted[i]!.what} [${sorted[i]!.start}, ${sorted[i]!.end}) share bytes`;
  return undefined;
}

/** The first thing wrong with a manifest's `wasm` section (and its shards' addresses), or undefined. */
export function wasmLayoutProblem(
  w: Json,
  inputs: readonly InputSignature[],
  outputs: readonly OutputSignature[],
  files: Record<string, FileEntry>,
  shards: readonly ShardEntry[],
): string | undefined {
  const layout = w as unknown as WasmLayout;
  const listed = (name: unknown): name is string => typeof name === "string" && Object.hasOwn(files, name);
  for (const key of ["workspaceBase", "headerBytes", "perSample", "activationBytesPerSample"] as const)
    if (!isAddress(layout[key])) return `wasm.${key} must be a byte count within 32-bit memory (0 to 2^32)`;
  if (layout.headerBytes % 16 !== 0) return `wasm.headerBytes (${layout.headerBytes}) must be a multiple of 16`;
  if (!listed(layout.module)) return "wasm.module must name a file listed in `files`";
  if (typeof layout.threadsModule !== "string") return "wasm.threadsModule must be a file name (or empty)";
  if (layout.threadsModule && !listed(layout.threadsModule)) return `wasm.threadsModule \`${layout.threadsModule}\` is not listed in \`files\``;
  if (!isStringList(layout.features)) return "wasm.features must be a list of Wasm feature names";
  if (!isStringList(layout.imports)) return "wasm.imports must be a list of names";
  const variants: unknown = layout.variants;
  if (variants !== undefined) {
    if (!Array.isArray(variants) || variants.length === 0) return "wasm.variants must be a non-empty list";
    for (const [i, v] of variants.entries()) {
      const at = `wasm.variants[${i}]`;
      if (!isObject(v) || typeof v.name !== "string" || !isStringList(v.features)) return `${at} needs a name and a list of features`;
      if (!listed(v.module)) return `${at}.module must name a file listed in \`files\``;
      if (typeof v.threadsModule !== "string" || (v.threadsModule && !listed(v.threadsModule)))
        return `${at}.threadsModule must name a file listed in \`files\` (or be empty)`;
    }
  }
  const weights = layout.weights;
  if (!isObject(weights) || typeof weights.file !== "string" || !isAddress(weights.offset) || !isAddress(weights.bytes))
    return "wasm.weights needs file, offset and bytes (within 32-bit memory)";
  if (!listed(weights.file) || files[weights.file]!.bytes !== weights.bytes)
    return `wasm.weights: \`${weights.file}\` must be listed in \`files\` with ${weights.bytes} bytes`;
  if (weights.offset % 16 !== 0) return `wasm.weights.offset (${weights.offset}) must be a multiple of 16`;
  if (weights.offset + weights.bytes > layout.workspaceBase) return "wasm.weights overlaps the workspaces (offset + bytes > workspaceBase)";
  return buffersProblem(layout, inputs, outputs) ?? staticProblem(layout, files, shards);
}

/** Shards and staging tables: aligned, between the weights and the workspaces, and apart from each other. */
function staticProblem(layout: WasmLayout, files: Record<string, FileEntry>, shards: readonly ShardEntry[]): string | undefined {
  const low = layout.weights.offset + layout.weights.bytes;
  const ranges: Range[] = [];
  const place = (what: string, offset: unknown, bytes: number): string | undefined => {
    if (!isAddress(offset) || offset % 16 !== 0) return `${what}: \`offset\` must be a 16-byte aligned address`;
    if (offset < low || offset + bytes > layout.workspaceBase)
      return `${what}: bytes [${offset}, ${offset + bytes}) must lie between the weights (ending at ${low}) and the workspaces (wasm.workspaceBase ${layout.workspaceBase})`;
    ranges.push({ start: offset, end: offset + bytes, what });
    return undefined;
  };
  for (const s of shards) {
    const bad = place(`shard \`${s.name}\``, s.offset, files[s.file]!.bytes);
    if (bad) return bad;
  }
  const staging: unknown = layout.staging;
  if (staging !== undefined) {
    if (!Array.isArray(staging)) return "wasm.staging must be a list";
    const tables = new Set<string>();
    for (const [i, area] of staging.entries()) {
      const at = `wasm.staging[${i}]`;
      if (!isObject(area) || typeof area.table !== "string" || !isAddress(area.rows) || !isAddress(area.rowBytes) || area.rows === 0)
        return `${at} needs table, offset, rows (> 0) and rowBytes`;
      if (tables.has(area.table)) return `${at}: table \`${area.table}\` has two staging tables`;
      tables.add(area.table);
      const bad = place(`${at} (table \`${area.table}\`)`, area.offset, area.rows * area.rowBytes);
      if (bad) return bad;
    }
  }
  return overlap(ranges, "static memory");
}

/** Every input and output has exactly one buffer, of its kind, inside the per-sample area and apart from the others. */
function buffersProblem(layout: WasmLayout, inputs: readonly InputSignature[], outputs: readonly OutputSignature[]): string | undefined {
  const buffers = layout.buffers;
  if (!isObject(buffers) || !Array.isArray(buffers.inputs) || !Array.isArray(buffers.outputs)) return "wasm.buffers needs inputs and outputs";
  if (buffers.inputs.length !== inputs.length || buffers.outputs.length !== outputs.length)
    return "wasm.buffers must have one entry per input and output";
  if (![...buffers.inputs, ...buffers.outputs].every((b) => isObject(b))) return "wasm.buffers entries must be objects";
  const fits = (offset: unknown, bytes: number): boolean => isAddress(offset) && offset + bytes <= layout.perSample;
  const ranges: Range[] = [];
  const slots = new Set<number>();
  for (const input of inputs) {
    const buffer = buffers.inputs.find((b) => b.name === input.name);
    if (!buffer || buffer.kind !== input.kind) return `wasm.buffers has no ${input.kind} buffer for input \`${input.name}\``;
    if (input.kind === "dense" && buffer.kind === "dense") {
      if (!fits(buffer.offset, 4 * input.width)) return `wasm.buffers: input \`${input.name}\` lies outside perSample`;
      ranges.push({ start: buffer.offset, end: buffer.offset + 4 * input.width, what: `input \`${input.name}\`` });
    }
    if (input.kind === "bags" && buffer.kind === "bags") {
      if (!fits(buffer.lengthsOffset, 4 * input.count)) return `wasm.buffers: lengths of \`${input.name}\` lie outside perSample`;
      if (!isAddress(buffer.headerSlot) || 8 * buffer.headerSlot + 8 > layout.headerBytes)
        return `wasm.buffers: header slot of \`${input.name}\` lies outside headerBytes`;
      if (slots.has(buffer.headerSlot)) return `wasm.buffers: two bags inputs use header slot ${buffer.headerSlot}`;
      slots.add(buffer.headerSlot);
      ranges.push({ start: buffer.lengthsOffset, end: buffer.lengthsOffset + 4 * input.count, what: `the lengths of \`${input.name}\`` });
    }
  }
  for (const output of outputs) {
    const buffer = buffers.outputs.find((b) => b.name === output.name);
    if (!buffer || !fits(buffer.offset, 4 * output.width)) return `wasm.buffers: output \`${output.name}\` has no buffer inside perSample`;
    ranges.push({ start: buffer.offset, end: buffer.offset + 4 * output.width, what: `output \`${output.name}\`` });
  }
  return overlap(ranges, "wasm.buffers (bytes per sample)");
}

/** Where a CodeLayout field sits in manifest.json: under `wasm`, except the shards' addresses. */
const manifestPath = (path: string): string =>
  path.startsWith("shards") ? path : path.startsWith("bags") ? `model.inputs (${path})` : `wasm.${path}`;
const show = (x: unknown): string => {
  const text = JSON.stringify(x) ?? String(x);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

/** The first field where `given` (the manifest's) differs from `code` (the section's), as a message. */
function difference(given: unknown, code: unknown, path: string): string | undefined {
  const sameKind = Array.isArray(given) === Array.isArray(code) && isObject(given) === isObject(code);
  if (sameKind && Array.isArray(given) && Array.isArray(code) && given.length === code.length) {
    for (let i = 0; i < given.length; i++) {
      const d = difference(given[i], code[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (sameKind && isObject(given) && isObject(code)) {
    for (const key of new Set([...Object.keys(code), ...Object.keys(given)])) {
      const d = difference(given[key], code[key], path ? `${path}.${key}` : key);
      if (d) return d;
    }
    return undefined;
  }
  if (given === code) return undefined;
  return `manifest.json gives ${manifestPath(path)} as ${show(given)}, but the code was compiled for ${show(code)}`;
}

/**
 * What is wrong between a compiled module and the manifest's layout: no
 * `rmc.layout` section (not compiled by this rmc), one that is not the JSON of
 * a CodeLayout, or a field where they differ. Undefined when they agree.
 */
export function codeLayoutProblem(
  module: WasmModule,
  wasm: WasmLayout,
  shards: readonly ShardEntry[] | undefined,
  inputs: readonly InputSignature[],
): string | undefined {
  const sections = wasmApi().Module.customSections(module, LAYOUT_SECTION);
  if (sections.length !== 1)
    return sections.length === 0
      ? `the code carries no \`${LAYOUT_SECTION}\` section (the layout it was compiled for): it was compiled by an older rmc, or not by rmc`
      : `the code carries ${sections.length} \`${LAYOUT_SECTION}\` sections`;
  let code: CodeLayout;
  try {
    code = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(sections[0]!)) as CodeLayout;
  } catch (cause) {
    return `the code's \`${LAYOUT_SECTION}\` section is not JSON (${(cause as Error).message})`;
  }
  return difference(codeLayout(wasm, shards, inputs), code, "");
}
