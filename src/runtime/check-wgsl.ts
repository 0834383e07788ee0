// Runtime: checks the `wgsl` section of a manifest (the WebGPU layout and
// dispatch plan, manifest.ts) before anything touches a GPU: every shader and
// weights file listed with a checksum, every buffer a step binds declared,
// weights inside their files, one buffer of the right kind per input and
// output, size expressions, access modes and shader alternatives well-formed. Problems name the field (`wgsl.steps[2].shader`).

import type { FileEntry, InputSignature, OutputSignature, SizeExpr, WgslLayout } from "./manifest.js";

type Json = Record<string, unknown>;
const isObject = (x: unknown): x is Json => typeof x === "object" && x !== null && !Array.isArray(x);
const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
const isStringList = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === "string");

/** The first thing wrong with a manifest's `wgsl` section, or undefined. */
export function wgslLayoutProblem(
  w: Json,
  inputs: readonly InputSignature[],
  outputs: readonly OutputSignature[],
  files: Record<string, FileEntry>,
): string | undefined {
  const layout = w as unknown as WgslLayout;
  if (
    !Array.isArray(layout.shaders) ||
    !Array.isArray(layout.buffers) ||
    !Array.isArray(layout.steps) ||
    !Array.isArray(layout.inputs) ||
    !Array.isArray(layout.outputs)
  )
    return "wgsl needs lists of shaders, buffers, steps, inputs and outputs";
  return (
    shadersProblem(layout, files) ??
    buffersProblem(layout, files) ??
    stepsProblem(layout) ??
    signatureProblem(layout, inputs, outputs) ??
    dataflowProblem(layout) ??
    (isStringList(layout.languageFeatures) ? undefined : "wgsl.languageFeatures must be a list of WGSL language feature names") ??
    limitsProblem(layout)
  );
}

function shadersProblem(layout: WgslLayout, files: Record<string, FileEntry>): string | undefined {
  const seen = new Set<string>();
  for (const [i, shader] of layout.shaders.entries()) {
    if (!isObject(shader) || typeof shader.name !== "string" || typeof shader.file !== "string") return `wgsl.shaders[${i}] needs a name and a file`;
    if (seen.has(shader.name)) return `wgsl.shaders: two shaders are named \`${shader.name}\``;
    seen.add(shader.name);
    if (!Object.hasOwn(files, shader.file)) return `wgsl.shaders[${i}]: \`${shader.file}\` is not listed in \`files\``;
  }
  return undefined;
}

function buffersProblem(layout: WgslLayout, files: Record<string, FileEntry>): string | undefined {
  const seen = new Set<string>();
  for (const [i, buffer] of layout.buffers.entries()) {
    const at = `wgsl.buffers[${i}]`;
    if (!isObject(buffer) || typeof buffer.name !== "string") return `${at} needs a name`;
    if (seen.has(buffer.name)) return `wgsl.buffers: two buffers are named \`${buffer.name}\``;
    seen.add(buffer.name);
    if (buffer.kind === "batch") {
      const bad = sizeProblem(buffer.size);
      if (bad) return `${at} (\`${buffer.name}\`).size: ${bad}`;
    } else if (buffer.kind === "weights") {
      if (typeof buffer.file !== "string" || !isCount(buffer.offset) || !isCount(buffer.bytes))
        return `${at} (\`${buffer.name}\`) needs file, offset and bytes`;
      if (buffer.offset % 4 !== 0) return `${at} (\`${buffer.name}\`): offset ${buffer.offset} is not a multiple of 4`;
      const entry = files[buffer.file];
      if (!Object.hasOwn(files, buffer.file) || !entry) return `${at} (\`${buffer.name}\`): \`${buffer.file}\` is not listed in \`files\``;
      if (buffer.offset + buffer.bytes > entry.bytes)
        return `${at} (\`${buffer.name}\`): bytes [${buffer.offset}, ${buffer.offset + buffer.bytes}) lie outside \`${buffer.file}\` (${entry.bytes} bytes)`;
    } else if (buffer.kind === "staging") {
      if (typeof buffer.table !== "string" || !isCount(buffer.rows) || !isCount(buffer.rowBytes) || !isCount(buffer.bytes))
        return `${at} (\`${buffer.name}\`) needs table, rows, rowBytes and bytes`;
      if (buffer.rows * buffer.rowBytes > buffer.bytes)
        return `${at} (\`${buffer.name}\`): ${buffer.rows} rows of ${buffer.rowBytes} bytes do not fit its ${buffer.bytes} bytes`;
    } else return `${at} (\`${String((buffer as Json).name)}\`): unknown kind \`${String((buffer as Json).kind)}\` (weights, staging or batch)`;
  }
  return weightsOverlap(layout);
}

/** Two weights buffers filled from the same bytes of a file: one of them reads what the compiler wrote for the other. */
function weightsOverlap(layout: WgslLayout): string | undefined {
  const weights = layout.buffers.flatMap((b) => (b.kind === "weights" && b.bytes > 0 ? [b] : []));
  const sorted = [...weights].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.offset - b.offset));
  for (let i = 1; i < sorted.length; i++) {
    const [a, b] = [sorted[i - 1]!, sorted[i]!];
    if (a.file === b.file && b.offset < a.offset + a.bytes)
      return `wgsl.buffers: weights \`${a.name}\` [${a.offset}, ${a.offset + a.bytes}) and \`${b.name}\` [${b.offset}, ${b.offset + b.bytes}) of \`${a.file}\` share bytes`;
  }
  return undefined;
}

/** What is wrong with a size expression, or undefined. */
export function sizeProblem(size: unknown): string | undefined {
  if (!isObject(size) || !isCount(size.perSample) || !isCount(size.fixed)) return "a size needs whole numbers perSample and fixed";
  if (size.perId !== undefined && !isCount(size.perId)) return "perId must be a whole number";
  if (size.div !== undefined && !(isCount(size.div) && size.div >= 1)) return "div must be a whole number ≥ 1";
  return undefined;
}

function stepsProblem(layout: WgslLayout): string | undefined {
  const shaders = new Set(layout.shaders.map((s) => s.name));
  const buffers = new Set(layout.buffers.map((b) => b.name));
  for (const [i, step] of layout.steps.entries()) {
    const at = `wgsl.steps[${i}]`;
    if (
      !isObject(step) ||
      typeof step.shader !== "string" ||
      !isStringList(step.bindings) ||
      !isStringList(step.nodes) ||
      !Array.isArray(step.dispatch)
    )
      return `${at} needs a shader, bindings, dispatch and nodes`;
    if (!shaders.has(step.shader)) return `${at}: unknown shader \`${step.shader}\``;
    const unknown = step.bindings.find((name) => !buffers.has(name));
    if (unknown !== undefined) return `${at}: binds \`${unknown}\`, which is not in wgsl.buffers`;
    if (
      step.access !== undefined &&
      !(Array.isArray(step.access) && step.access.length === step.bindings.length && step.access.every((a) => a === "read" || a === "read_write"))
    )
      return `${at}.access must give \`read\` or \`read_write\` for each of its ${step.bindings.length} bindings`;
    if (step.alternatives !== undefined) {
      if (!Array.isArray(step.alternatives)) return `${at}.alternatives must be a list`;
      for (const [k, alt] of step.alternatives.entries()) {
        if (!isObject(alt) || typeof alt.languageFeature !== "string" || typeof alt.shader !== "string")
          return `${at}.alternatives[${k}] needs a languageFeature and a shader`;
        if (!shaders.has(alt.shader)) return `${at}.alternatives[${k}]: unknown shader \`${alt.shader}\``;
      }
    }
    if (step.dispatch.length !== 3) return `${at}.dispatch must give three workgroup counts (x, y, z)`;
    for (const [axis, count] of step.dispatch.entries()) {
      const bad = sizeProblem(count);
      if (bad) return `${at}.dispatch[${axis}]: ${bad}`;
    }
  }
  return undefined;
}

/** One per-call buffer of the right kind for every input and output, named as the signature names them. */
function signatureProblem(layout: WgslLayout, inputs: readonly InputSignature[], outputs: readonly OutputSignature[]): string | undefined {
  const batchBuffer = (name: unknown): boolean => layout.buffers.some((b) => b.name === name && b.kind === "batch");
  if (layout.inputs.length !== inputs.length || layout.outputs.length !== outputs.length)
    return "wgsl must have one entry per input and per output of the model";
  for (const input of inputs) {
    const entry = layout.inputs.find((e) => isObject(e) && e.name === input.name);
    if (!entry || entry.kind !== input.kind) return `wgsl.inputs has no ${input.kind} entry for input \`${input.name}\``;
    const names = entry.kind === "dense" ? [entry.buffer] : [entry.offsets, entry.ids, ...(entry.weights !== undefined ? [entry.weights] : [])];
    const bad = names.find((name) => !batchBuffer(name));
    if (bad !== undefined || names.length === 0) return `wgsl.inputs: \`${input.name}\` names \`${String(bad)}\`, which is not a batch buffer`;
    if (input.kind === "bags" && entry.kind === "bags" && input.weighted !== (entry.weights !== undefined))
      return `wgsl.inputs: \`${input.name}\` is ${input.weighted ? "weighted but has no weights buffer" : "not weighted but has a weights buffer"}`;
  }
  for (const output of outputs) {
    const entry = layout.outputs.find((e) => isObject(e) && e.name === output.name);
    if (!entry || !batchBuffer(entry.buffer)) return `wgsl.outputs has no batch buffer for output \`${output.name}\``;
  }
  return undefined;
}

/**
 * The steps compute the outputs: every output buffer is bound by some step
 * and, where steps give their access modes, no step reads a per-call buffer
 * before an earlier step (or the runtime, for inputs) wrote it — so a step
 * deleted or moved in the manifest is refused, not run as zeros.
 */
function dataflowProblem(layout: WgslLayout): string | undefined {
  const bound = new Set(layout.steps.flatMap((step) => step.bindings));
  const unbound = layout.outputs.find((o) => !bound.has(o.buffer));
  if (unbound) return `wgsl.outputs: no step writes \`${unbound.buffer}\`, the buffer of output \`${unbound.name}\``;
  if (!layout.steps.every((step) => step.access !== undefined)) return undefined;
  const perCall = new Set(layout.buffers.filter((b) => b.kind === "batch").map((b) => b.name));
  const written = new Set(
    layout.inputs.flatMap((e) => (e.kind === "dense" ? [e.buffer] : [e.offsets, e.ids, ...(e.weights !== undefined ? [e.weights] : [])])),
  );
  for (const [i, step] of layout.steps.entries())
    for (const [k, name] of step.bindings.entries()) {
      if (!perCall.has(name)) continue;
      if (step.access![k] === "read_write") written.add(name);
      else if (!written.has(name)) return `wgsl.steps[${i}] reads \`${name}\` before any step writes it`;
    }
  const unwritten = layout.outputs.find((o) => !written.has(o.buffer));
  return unwritten ? `wgsl.outputs: no step writes \`${unwritten.buffer}\`, the buffer of output \`${unwritten.name}\`` : undefined;
}

function limitsProblem(layout: WgslLayout): string | undefined {
  const limits: unknown = layout.limits;
  if (!isObject(limits)) return "wgsl.limits is missing";
  for (const key of ["maxStorageBufferBindingSize", "maxStorageBuffersPerShaderStage", "maxComputeWorkgroupSizeX"])
    if (!isCount(limits[key])) return `wgsl.limits.${key} must be a whole number`;
  for (const [key, value] of Object.entries(limits)) if (!isCount(value)) return `wgsl.limits.${key} must be a whole number`;
  if (layout.maxBatch !== undefined && !(isCount(layout.maxBatch) && layout.maxBatch >= 1)) return "wgsl.maxBatch must be a whole number ≥ 1";
  return undefined;
}

/** A size expression's value for B samples and N ids: ceil((perSample·B + perId·N + fixed) / div). */
export const evaluateSize = (size: SizeExpr, samples: number, ids: number): number =>
  Math.ceil((size.perSample * samples + (size.perId ?? 0) * ids + size.fixed) / (size.div ?? 1));
