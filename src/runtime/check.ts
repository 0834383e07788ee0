// Runtime: reads manifest.json and checks it is an artifact of the format this
// runtime knows, for a target it runs: Wasm, with a layout that keeps every
// buffer the runtime writes inside its workspace, or WebGPU (check-wgsl.ts). A
// manifest that passes here can be trusted for addresses and buffer names; one
// that does not gets an error saying which field is wrong.

import { RmcError, error } from "../diagnostics/index.js";
import { ARTIFACT_FORMAT, type CheckedManifest, type InputSignature, type Manifest, type WasmLayout, type WgslLayout } from "./manifest.js";
import { wgslLayoutProblem } from "./check-wgsl.js";
import { RUNTIME_CODES as C } from "./codes.js";
import { HOST_MATH } from "./math.js";
import { shardsProblem } from "./shards.js";

const POLICIES = new Set(["error", "clamp", "modulo"]);

type Json = Record<string, unknown>;
const isObject = (x: unknown): x is Json => typeof x === "object" && x !== null && !Array.isArray(x);
const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

/** JSON nesting a manifest may have (src/ir/limits.ts's jsonDepth; the runtime keeps its own copy, as it imports nothing of the compiler's). */
const MAX_DEPTH = 64;

/** The offset of the first `[` or `{` past MAX_DEPTH outside strings, or -1: a scan before JSON.parse. */
function tooDeepAt(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') for (i++; i < text.length && text[i] !== '"'; i++) i += text[i] === "\\" ? 1 : 0;
    else if ((c === "[" || c === "{") && ++depth > MAX_DEPTH) return i;
    else if (c === "]" || c === "}") depth--;
  }
  return -1;
}

/** Parses and checks manifest.json; `where` names it in messages. */
export function parseManifest(text: string, where: string): CheckedManifest {
  let json: unknown;
  // Checks below quote parts of the manifest (JSON.stringify recurses): a 100,000-deep one is refused first.
  const deep = tooDeepAt(text);
  if (deep >= 0) throw new RmcError(error(C.manifestInvalid, `${where}: nests lists and objects more than ${MAX_DEPTH} deep (at offset ${deep})`));
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new RmcError(error(C.manifestInvalid, `${where}: not valid JSON (${(cause as Error).message})`));
  }
  if (!isObject(json) || typeof json.format !== "number")
    throw new RmcError(error(C.manifestInvalid, `${where}: not an rmc artifact manifest (no \`format\` field)`));
  if (json.format !== ARTIFACT_FORMAT) {
    const by = isObject(json.compiler) && typeof json.compiler.version === "string" ? ` (written by rmc ${json.compiler.version})` : "";
    const message = `${where}: artifact format ${json.format}${by}, but this runtime reads format ${ARTIFACT_FORMAT}`;
    throw new RmcError(error(C.formatVersion, message, undefined, "recompile the model with the rmc version that matches this runtime"));
  }
  const problem = manifestProblem(json);
  if (problem) throw new RmcError(error(C.manifestInvalid, `${where}: ${problem}`));
  const manifest = json as unknown as CheckedManifest;
  if (manifest.target !== "wasm") return manifest;
  const unknown = manifest.wasm.imports.find((name) => !Object.hasOwn(HOST_MATH, name));
  if (unknown) {
    const message = `${where}: the code imports \`env.${unknown}\`, which this runtime does not provide (it has ${Object.keys(HOST_MATH).join(", ")})`;
    throw new RmcError(error(C.unknownImport, message, undefined, "use a runtime as new as the compiler that wrote the artifact"));
  }
  return manifest;
}

/** The first thing wrong with a manifest of the right format, or undefined. */
function manifestProblem(m: Json): string | undefined {
  if (m.target !== "wasm" && m.target !== "wgsl") return `target \`${String(m.target)}\` is not one this runtime runs (wasm, wgsl)`;
  if (!isObject(m.model) || !Array.isArray(m.model.inputs) || !Array.isArray(m.model.outputs)) return "`model` must list `inputs` and `outputs`";
  for (const input of m.model.inputs) {
    const bad = inputProblem(input);
    if (bad) return bad;
  }
  for (const output of m.model.outputs)
    if (!isObject(output) || typeof output.name !== "string" || !isCount(output.width))
      return `output ${JSON.stringify(output)} needs a name and a width`;
  if (!isObject(m.files)) return "`files` is missing";
  for (const [name, entry] of Object.entries(m.files)) {
    if (!isObject(entry) || typeof entry.sha256 !== "string" || !/^[0-9a-f]{64}$/i.test(entry.sha256) || !isCount(entry.bytes))
      return `files["${name}"] needs a hex sha256 and a byte count`;
    if (name.startsWith("/") || name.split(/[\\/]/).includes("..")) return `file name \`${name}\` points outside the artifact folder`;
  }
  const checked = { files: m.files as Manifest["files"], model: { inputs: m.model.inputs as InputSignature[] } };
  if (m.target === "wgsl") {
    if (!isObject(m.wgsl)) return "`wgsl` (the shaders and dispatch plan) is missing";
    const wgsl = m.wgsl;
    return (
      wgslLayoutProblem(wgsl, m.model.inputs as InputSignature[], m.model.outputs as Manifest["model"]["outputs"], m.files as Manifest["files"]) ??
      shardsProblem(m.shards, checked, (s) => {
        const b = (wgsl.buffers as WgslLayout["buffers"]).find((x) => x.name === s.buffer);
        return b && b.kind === "weights" && b.file === s.file && b.offset === 0
          ? undefined
          : `\`buffer\` must name a weights buffer filled from offset 0 of ${s.file}`;
      })
    );
  }
  if (!isObject(m.wasm)) return "`wasm` (the code's layout) is missing";
  const wasm = m.wasm as unknown as WasmLayout;
  return (
    layoutProblem(m.wasm, m.model.inputs as InputSignature[], m.model.outputs as Manifest["model"]["outputs"], m.files as Manifest["files"]) ??
    shardsProblem(m.shards, checked, (s) => {
      const end = isCount(s.offset) ? s.offset + (m.files as Manifest["files"])[s.file]!.bytes : -1;
      return isCount(s.offset) && s.offset >= wasm.weights.offset + wasm.weights.bytes && end <= wasm.workspaceBase
        ? undefined
        : "`offset` must place it between the weights and the workspaces";
    })
  );
}

function inputProblem(input: unknown): string | undefined {
  if (!isObject(input) || typeof input.name !== "string") return `input ${JSON.stringify(input)} has no name`;
  if (input.kind === "dense") return isCount(input.width) ? undefined : `input \`${input.name}\`: width must be a count`;
  if (input.kind !== "bags") return `input \`${input.name}\`: unknown kind \`${String(input.kind)}\``;
  if (!isCount(input.count) || typeof input.weighted !== "boolean" || !Array.isArray(input.features) || input.features.length !== input.count)
    return `input \`${input.name}\`: bags need a count, \`weighted\` and one entry per feature`;
  for (const f of input.features)
    if (!isObject(f) || !isCount(f.rows) || f.rows === 0 || !POLICIES.has(f.ids as string))
      return `input \`${input.name}\`: every feature needs rows > 0 and an id policy (error, clamp or modulo)`;
  return undefined;
}

function layoutProblem(w: Json, inputs: InputSignature[], outputs: Manifest["model"]["outputs"], files: Manifest["files"]): string | undefined {
  const layout = w as unknown as WasmLayout;
  const listed = (name: string): boolean => Object.hasOwn(files, name);
  for (const key of ["workspaceBase", "headerBytes", "perSample"] as const) if (!isCount(layout[key])) return `wasm.${key} must be a byte count`;
  if (layout.headerBytes % 4 !== 0) return "wasm.headerBytes must be a multiple of 4";
  if (typeof layout.module !== "string" || !listed(layout.module)) return "wasm.module must name a file listed in `files`";
  if (typeof layout.threadsModule !== "string") return "wasm.threadsModule must be a file name (or empty)";
  if (layout.threadsModule && !listed(layout.threadsModule)) return `wasm.threadsModule \`${layout.threadsModule}\` is not listed in \`files\``;
  const weights = layout.weights;
  if (!isObject(weights) || typeof weights.file !== "string" || !isCount(weights.offset) || !isCount(weights.bytes))
    return "wasm.weights needs file, offset and bytes";
  if (!listed(weights.file) || files[weights.file]!.bytes !== weights.bytes)
    return `wasm.weights: \`${weights.file}\` must be listed in \`files\` with ${weights.bytes} bytes`;
  if (weights.offset + weights.bytes > layout.workspaceBase) return "wasm.weights overlaps the workspaces (offset + bytes > workspaceBase)";
  if (!Array.isArray(layout.imports) || !layout.imports.every((name) => typeof name === "string")) return "wasm.imports must be a list of names";
  return buffersProblem(layout, inputs, outputs);
}

/** Every input and output has exactly one buffer, of its kind, inside the per-sample area. */
function buffersProblem(layout: WasmLayout, inputs: InputSignature[], outputs: Manifest["model"]["outputs"]): string | undefined {
  const buffers = layout.buffers;
  if (!isObject(buffers) || !Array.isArray(buffers.inputs) || !Array.isArray(buffers.outputs)) return "wasm.buffers needs inputs and outputs";
  if (buffers.inputs.length !== inputs.length || buffers.outputs.length !== outputs.length)
    return "wasm.buffers must have one entry per input and output";
  const fits = (offset: unknown, bytes: number): boolean => isCount(offset) && offset + bytes <= layout.perSample;
  for (const input of inputs) {
    const buffer = buffers.inputs.find((b) => b.name === input.name);
    if (!buffer || buffer.kind !== input.kind) return `wasm.buffers has no ${input.kind} buffer for input \`${input.name}\``;
    if (buffer.kind === "dense" && !fits(buffer.offset, 4 * (input as { width: number }).width))
      return `wasm.buffers: input \`${input.name}\` lies outside perSample`;
    if (buffer.kind === "bags") {
      if (!fits(buffer.lengthsOffset, 4 * (input as { count: number }).count))
        return `wasm.buffers: lengths of \`${input.name}\` lie outside perSample`;
      if (!isCount(buffer.headerSlot) || 8 * buffer.headerSlot + 8 > layout.headerBytes)
        return `wasm.buffers: header slot of \`${input.name}\` lies outside headerBytes`;
    }
  }
  for (const output of outputs) {
    const buffer = buffers.outputs.find((b) => b.name === output.name);
    if (!buffer || !fits(buffer.offset, 4 * output.width)) return `wasm.buffers: output \`${output.name}\` has no buffer inside perSample`;
  }
  return undefined;
}
