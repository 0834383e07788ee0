// Runtime: reads manifest.json and checks it is an artifact of the format this
// runtime knows, for a target it runs, field by field before anything uses it:
// the signature (names unique, tables addressable by i32 ids), file names that
// stay inside the artifact's folder (or URL), the IR agreeing with the
// signature, the store section, and the target's layout — Wasm
// (check-wasm.ts: aligned, disjoint, inside 32-bit memory; checked against the
// code itself once it is compiled) or WebGPU (check-wgsl.ts). A manifest that
// passes here can be trusted for addresses, names and shapes; one that does
// not gets an error naming the field, never a TypeError.

import { RmcError, error } from "../diagnostics/index.js";
import {
  ARTIFACT_FORMAT,
  type CheckedManifest,
  type FileEntry,
  type InputSignature,
  type OutputSignature,
  type ShardEntry,
  type WgslLayout,
} from "./manifest.js";
import { wgslLayoutProblem } from "./check-wgsl.js";
import { wasmLayoutProblem } from "./check-wasm.js";
import { storeProblem } from "./check-store.js";
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

/** Table rows an id can address: ids reach the code as i32. */
const MAX_ROWS = 2 ** 31 - 1;

/**
 * Why a file name from the manifest is not a plain relative path inside the
 * artifact's folder, or undefined. Names are joined to a folder path (Node)
 * or resolved against a URL (fetch), so anything either would read as a way
 * out is refused: `..`, absolute paths, drive letters and URL schemes (`:`),
 * backslashes, `%`-escapes (`%2e%2e`), `?`, `#`, control characters, and
 * empty or `.` segments.
 */
export function unsafeFileName(name: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  const plain =
    name.length > 0 && !/[\\:%?#\u0000-\u001f\u007f]/.test(name) && name.split("/").every((seg) => seg !== "" && seg !== "." && seg !== "..");
  return plain
    ? undefined
    : `file name \`${name}\` points outside the artifact folder or is not a plain relative path (segments of a folder, no \`..\`, \`:\`, \`%\`, \`?\`, \`#\` or \`\\\`)`;
}

/** The first thing wrong with a manifest of the right format, or undefined. */
function manifestProblem(m: Json): string | undefined {
  if (m.target !== "wasm" && m.target !== "wgsl") return `target \`${String(m.target)}\` is not one this runtime runs (wasm, wgsl)`;
  if (!isObject(m.compiler) || typeof m.compiler.version !== "string") return "`compiler` must give the rmc version that wrote the artifact";
  if (!isObject(m.model) || typeof m.model.name !== "string") return "`model` must have a name";
  if (!Array.isArray(m.model.inputs) || !Array.isArray(m.model.outputs)) return "`model` must list `inputs` and `outputs`";
  const names = new Set<string>();
  for (const input of m.model.inputs) {
    const bad = inputProblem(input);
    if (bad) return bad;
    if (names.has(input.name)) return `model.inputs: two inputs are named \`${input.name}\``;
    names.add(input.name);
  }
  const outputNames = new Set<string>();
  for (const output of m.model.outputs) {
    if (!isObject(output) || typeof output.name !== "string" || !isCount(output.width))
      return `output ${JSON.stringify(output)?.slice(0, 80)} needs a name and a width`;
    if (outputNames.has(output.name)) return `model.outputs: two outputs are named \`${output.name}\``;
    outputNames.add(output.name);
  }
  const inputs = m.model.inputs as InputSignature[];
  const outputs = m.model.outputs as OutputSignature[];
  if (!isObject(m.precision) || !Object.values(m.precision).every((p) => typeof p === "string"))
    return "`precision` must map node and table names to precisions";
  if (!isObject(m.files)) return "`files` is missing";
  for (const [name, entry] of Object.entries(m.files)) {
    if (!isObject(entry) || typeof entry.sha256 !== "string" || !/^[0-9a-f]{64}$/i.test(entry.sha256) || !isCount(entry.bytes))
      return `files["${name}"] needs a hex sha256 and a byte count`;
    const bad = unsafeFileName(name);
    if (bad) return bad;
  }
  const files = m.files as Record<string, FileEntry>;
  const checked = { files, model: { inputs } };
  const problem = irProblem(m.ir, inputs, outputs) ?? storeProblem(m.store, files);
  if (problem) return problem;
  if (m.target === "wgsl") {
    if (!isObject(m.wgsl)) return "`wgsl` (the shaders and dispatch plan) is missing";
    const wgsl = m.wgsl;
    return (
      wgslLayoutProblem(wgsl, inputs, outputs, files) ??
      shardsProblem(m.shards, checked, (s) => {
        const b = (wgsl.buffers as WgslLayout["buffers"]).find((x) => x.name === s.buffer);
        return b && b.kind === "weights" && b.file === s.file && b.offset === 0
          ? undefined
          : `\`buffer\` must name a weights buffer filled from offset 0 of ${s.file}`;
      })
    );
  }
  if (!isObject(m.wasm)) return "`wasm` (the code's layout) is missing";
  return (
    shardsProblem(m.shards, checked, (s) => (isCount(s.offset) ? undefined : "`offset` must be an address")) ??
    wasmLayoutProblem(m.wasm, inputs, outputs, files, (m.shards ?? []) as ShardEntry[])
  );
}

function inputProblem(input: unknown): string | undefined {
  if (!isObject(input) || typeof input.name !== "string") return `input ${JSON.stringify(input)?.slice(0, 80)} has no name`;
  if (input.kind === "dense") return isCount(input.width) ? undefined : `input \`${input.name}\`: width must be a count`;
  if (input.kind !== "bags") return `input \`${input.name}\`: unknown kind \`${String(input.kind)}\``;
  if (!isCount(input.count) || typeof input.weighted !== "boolean" || !Array.isArray(input.features) || input.features.length !== input.count)
    return `input \`${input.name}\`: bags need a count, \`weighted\` and one entry per feature`;
  for (const f of input.features)
    if (!isObject(f) || !isCount(f.rows) || f.rows === 0 || f.rows > MAX_ROWS || !POLICIES.has(f.ids as string))
      return `input \`${input.name}\`: every feature needs rows in [1, 2^31 − 1] and an id policy (error, clamp or modulo)`;
  return undefined;
}

const isStringList = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === "string");

/**
 * The IR must be a graph (lists of inputs, weights, nodes and outputs of the
 * right shape) whose inputs and outputs are the signature's, in order:
 * tools that read data files for an artifact (rmc run) lay the columns out
 * from it, and the runtime routes store-placed tables' ids by it.
 */
function irProblem(ir: unknown, inputs: readonly InputSignature[], outputs: readonly OutputSignature[]): string | undefined {
  if (!isObject(ir)) return "`ir` (the IR the artifact was compiled from) is missing";
  for (const key of ["inputs", "weights", "nodes", "outputs"] as const) if (!Array.isArray(ir[key])) return `ir.${key} must be a list`;
  const [irInputs, weights, nodes, irOutputs] = [ir.inputs, ir.weights, ir.nodes, ir.outputs] as unknown[][];
  for (const [i, w] of weights!.entries())
    if (!isObject(w) || typeof w.name !== "string" || !Array.isArray(w.shape) || !w.shape.every(isCount) || !isObject(w.attrs))
      return `ir.weights[${i}] needs a name, a shape and attrs`;
  for (const [i, n] of nodes!.entries())
    if (!isObject(n) || typeof n.id !== "string" || typeof n.op !== "string" || !isStringList(n.inputs) || !isObject(n.attrs))
      return `ir.nodes[${i}] needs an id, an op, inputs and attrs`;
  if (irInputs!.length !== inputs.length) return `ir.inputs has ${irInputs!.length} inputs, model.inputs ${inputs.length}`;
  for (const [i, input] of inputs.entries()) {
    const given = irInputs![i];
    const type = isObject(given) ? given.type : undefined;
    if (!isObject(given) || given.name !== input.name || !isObject(type))
      return `ir.inputs[${i}] must be input \`${input.name}\` of model.inputs, with a type`;
    const ok =
      input.kind === "bags"
        ? type.kind === "bags" && type.count === input.count && type.weighted === input.weighted
        : type.kind === "tensor" && Array.isArray(type.shape) && type.shape.slice(1).every(isCount) && width(type.shape) === input.width;
    if (!ok) return `ir.inputs[${i}] (\`${input.name}\`): its type is not the signature's ${input.kind} input`;
  }
  if (irOutputs!.length !== outputs.length) return `ir.outputs has ${irOutputs!.length} outputs, model.outputs ${outputs.length}`;
  const types = new Map<unknown, unknown>();
  for (const n of nodes as Json[]) types.set(n.id, n.type);
  for (const input of irInputs as Json[]) types.set(input.name, input.type);
  for (const [i, output] of outputs.entries()) {
    const given = irOutputs![i];
    if (!isObject(given) || given.name !== output.name || typeof given.value !== "string")
      return `ir.outputs[${i}] must be output \`${output.name}\` of model.outputs, bound to a value`;
    const type = types.get(given.value.replace(/^%/, ""));
    if (
      !isObject(type) ||
      type.kind !== "tensor" ||
      !Array.isArray(type.shape) ||
      !type.shape.slice(1).every(isCount) ||
      width(type.shape) !== output.width
    )
      return `ir.outputs[${i}] (\`${output.name}\`): its value \`${given.value}\` is no tensor of the signature's width ${output.width}`;
  }
  return undefined;
}

/** Values per sample of a `[B, ...]` shape. */
const width = (shape: unknown[]): number => (shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
