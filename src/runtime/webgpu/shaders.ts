// Runtime, WebGPU engine: a WebGPU artifact's shaders, compiled once at load.
// Each shader's text is read (checksum-checked); the access modes of its
// @group(0) storage bindings (they decide the bind group layout) come from the
// steps, or from its declarations; it is compiled, and compiler errors become
// RmcErrors naming the file, line:col and the IR nodes of the steps that run
// it. Then one compute pipeline per shader.

import { RmcError, error, type Diagnostic } from "../../diagnostics/index.js";
import type { WgslManifest, WgslStep } from "../manifest.js";
import { RUNTIME_CODES as C } from "../codes.js";
import type { ArtifactFiles } from "../host/files.js";
import { COMPUTE_STAGE, type GpuBindGroupLayout, type GpuComputePipeline, type GpuDevice, type GpuShaderModule } from "./api.js";

/** Access mode of a `var<storage>` binding. */
export type StorageAccess = "read" | "read_write";

/** A shader ready to dispatch: its pipeline and the layout its @group(0) bind groups are made for. */
export interface ShaderPipeline {
  name: string;
  pipeline: GpuComputePipeline;
  bindings: GpuBindGroupLayout;
}

/** A shader's source as loaded: where it is, its header comment, its storage bindings by index. */
interface ShaderSource {
  name: string;
  where: string;
  header: string;
  access: StorageAccess[];
  code: string;
}

/** Compiles the shaders `steps` run and makes their pipelines; `params` is the @group(1) layout every pipeline shares. */
export async function createPipelines(
  device: GpuDevice,
  files: ArtifactFiles,
  manifest: WgslManifest,
  steps: readonly WgslStep[],
  params: GpuBindGroupLayout,
): Promise<Map<string, ShaderPipeline>> {
  const pipelines = new Map<string, ShaderPipeline>();
  for (const name of new Set(steps.map((s) => s.shader))) {
    const entry = manifest.wgsl.shaders.find((s) => s.name === name)!;
    const bytes = await files.readChecked(entry.file, manifest.files[entry.file]!);
    const source = readSource(name, files.where(entry.file), new TextDecoder().decode(bytes), steps);
    const module = await compileShader(device, source, steps);
    const bindings = device.createBindGroupLayout({
      label: `${name} storage`,
      entries: source.access.map((access, binding) => ({
        binding,
        visibility: COMPUTE_STAGE,
        buffer: { type: access === "read" ? "read-only-storage" : "storage" },
      })),
    });
    const layout = device.createPipelineLayout({ label: name, bindGroupLayouts: [bindings, params] });
    const descriptor = { label: name, layout, compute: { module, entryPoint: "main" } };
    device.pushErrorScope("validation");
    let pipeline: GpuComputePipeline | undefined;
    let failure: string | undefined;
    try {
      pipeline = device.createComputePipelineAsync ? await device.createComputePipelineAsync(descriptor) : device.createComputePipeline(descriptor);
    } catch (cause) {
      failure = (cause as Error).message;
    }
    const scoped = await device.popErrorScope(); // always popped, even after a rejection
    failure ??= scoped?.message;
    if (failure !== undefined || !pipeline) {
      const message = `${source.where}: cannot make a compute pipeline of shader \`${name}\`${usedBy(name, source.header, steps)}: ${oneLine(failure ?? "no pipeline")}`;
      throw new RmcError(
        error(C.gpuSetup, message, undefined, "the shader needs an entry point `main` and bindings as the manifest's steps list them"),
      );
    }
    pipelines.set(name, { name, pipeline, bindings });
  }
  return pipelines;
}

/** Reads a shader's header comment and bindings and checks them against the steps that use it. */
function readSource(name: string, where: string, code: string, steps: readonly WgslStep[]): ShaderSource {
  const header = headerComment(code);
  // The manifest says how each binding is declared; older artifacts leave it to the shader text.
  const access = steps.find((s) => s.shader === name && s.access)?.access ?? storageBindings(code, where);
  for (const [i, step] of steps.entries())
    if (step.shader === name && step.bindings.length !== access.length) {
      const message = `${where}: step ${i}${nodesText(step)} binds ${step.bindings.length} buffers, but shader \`${name}\` declares ${access.length} in @group(0)`;
      throw new RmcError(error(C.shaderCompile, message, undefined, "the manifest and the shader disagree: recompile the artifact"));
    }
  return { name, where, header, access, code };
}

async function compileShader(device: GpuDevice, source: ShaderSource, steps: readonly WgslStep[]): Promise<GpuShaderModule> {
  device.pushErrorScope("validation");
  const module = device.createShaderModule({ code: source.code, label: source.name });
  const info = await module.getCompilationInfo();
  const scoped = await device.popErrorScope();
  const context = usedBy(source.name, source.header, steps);
  // The first error says which step and nodes the shader is for; the rest just where and what.
  const problems: Diagnostic[] = info.messages
    .filter((m) => m.type === "error")
    .map((m, i) => error(C.shaderCompile, `${source.where}:${m.lineNum}:${m.linePos}: WGSL error: ${oneLine(m.message)}${i === 0 ? context : ""}`));
  if (problems.length === 0 && scoped)
    problems.push(error(C.shaderCompile, `${source.where}: the GPU rejected the shader: ${oneLine(scoped.message)}${context}`));
  if (problems.length === 0) return module;
  problems[0]!.hint = "a compiler bug, or this GPU's WGSL compiler is older than the artifact's shaders: please report it with the artifact";
  throw new RmcError(problems);
}

/** The comment lines a shader opens with (backends say there what it computes and from which nodes), as one line. */
function headerComment(code: string): string {
  let header = "";
  for (const line of code.split(/\r?\n/)) {
    const match = /^\s*\/\/(.*)$/.exec(line);
    if (!match) break;
    const text = match[1]!.trim();
    if (text) header += header === "" ? text : header.endsWith(":") ? ` ${text}` : `; ${text}`;
  }
  return header;
}

/** A GPU message on one line (Dawn's carry indented context lines). */
const oneLine = (message: string): string => message.trim().replace(/\s*\n\s*/g, " ");

/** " (step 2 computes %5, %6 — header)" for the steps that run a shader. */
function usedBy(name: string, header: string, steps: readonly WgslStep[]): string {
  const users = steps.flatMap((s, i) => (s.shader === name ? [`step ${i}${nodesText(s)}`] : []));
  const what = [users.join(", "), header ? `"${header}"` : ""].filter(Boolean).join(": ");
  return what ? ` (${what})` : "";
}

/** " computing %5, %6": the IR ids of a step's nodes, written as the IR printer writes them. */
const nodesText = (step: WgslStep): string =>
  step.nodes.length ? ` computing ${step.nodes.map((id) => (id.startsWith("%") ? id : `%${id}`)).join(", ")}` : "";

/**
 * The access mode of each `@group(0) @binding(i) var<storage, …>` in a
 * shader, by binding index; the bindings must be 0..n-1 and all storage.
 */
export function storageBindings(code: string, where: string): StorageAccess[] {
  const text = code.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\/\/[^\n]*/g, " ");
  const access: StorageAccess[] = [];
  const declaration = /((?:@\s*\w+\s*(?:\([^)]*\))?\s*)+)var\s*<([^>]*)>/g;
  for (const match of text.matchAll(declaration)) {
    const group = /@\s*group\s*\(\s*(\d+)\s*\)/.exec(match[1]!);
    const binding = /@\s*binding\s*\(\s*(\d+)\s*\)/.exec(match[1]!);
    if (!group || !binding || group[1] !== "0") continue;
    const [space, mode] = match[2]!.split(",").map((s) => s.trim());
    const index = Number(binding[1]);
    if (space !== "storage")
      throw new RmcError(
        error(C.shaderCompile, `${where}: @group(0) @binding(${index}) is var<${match[2]}>, but group 0 holds storage buffers only`),
      );
    if (access[index] !== undefined) throw new RmcError(error(C.shaderCompile, `${where}: @group(0) @binding(${index}) is declared twice`));
    access[index] = mode === "read_write" ? "read_write" : "read";
  }
  const gap = Array.from({ length: access.length }, (_, i) => i).find((i) => access[i] === undefined);
  if (gap !== undefined)
    throw new RmcError(error(C.shaderCompile, `${where}: @group(0) has no @binding(${gap}), but binds ${access.length - 1} after it`));
  return access;
}
