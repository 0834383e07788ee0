// WGSL backend, step 3 of 3: the manifest's `wgsl` section (src/runtime/
// manifest.ts) from the lowered plan — shader files, weights buffers at their
// offsets in weights.bin, per-call buffers with their size expressions, the
// steps in order, the limits the plan needs and the largest batch one call
// can run within WebGPU's default limits.

import { RmcError, error } from "../../src/diagnostics/index.js";
import type { SizeExpr, WgslBuffer, WgslLayout } from "../../src/runtime/manifest.js";
import type { Lowered } from "./lower.js";
import { GEMM_TILE } from "./kernels/gemm.js";
import { WG } from "./render.js";
import { WGSL_CODES } from "./weights.js";

/** Workgroup memory of the largest kernel: the float GEMM's two staged f32 tiles. */
const WORKGROUP_STORAGE = (GEMM_TILE.samples * GEMM_TILE.k + GEMM_TILE.k * GEMM_TILE.outputs) * 4;

interface Defaults {
  maxStorageBufferBindingSize: number;
  maxComputeWorkgroupsPerDimension: number;
}

/** The largest B for which ceil((perSample·B + fixed)/div) ≤ cap (ids ignored: no size here grows with them but the ids' own buffers). */
function batchBound(size: SizeExpr, cap: number): number {
  if (size.perSample === 0) return Infinity;
  return Math.floor((cap * (size.div ?? 1) - size.fixed) / size.perSample);
}

/** The `wgsl` section of the manifest. */
export function wgslLayout(lowered: Lowered, offsets: Map<string, number>, defaults: Defaults): WgslLayout {
  const limit = defaults.maxStorageBufferBindingSize;
  const big = lowered.weights.filter((w) => w.bytes > limit);
  if (big.length > 0)
    throw new RmcError(
      big.map((w) =>
        error(
          WGSL_CODES.bindingLimit,
          `weights buffer ${w.name}: ${(w.bytes / 2 ** 20).toFixed(0)} MiB, over WebGPU's ${limit / 2 ** 20} MiB storage-binding limit`,
          undefined,
          "store the layer at lower precision",
        ),
      ),
    );
  const weights: WgslBuffer[] = lowered.weights.map((w) =>
    w.staging
      ? { name: w.name, kind: "staging", table: w.staging.table, rows: w.staging.rows, rowBytes: w.staging.rowBytes, bytes: w.bytes }
      : { name: w.name, kind: "weights", file: w.file ?? "weights.bin", offset: offsets.get(w.name)!, bytes: w.bytes },
  );
  const batch = lowered.batch.list();
  const shaders = lowered.steps.flatMap((s) => [
    { name: s.name, file: `${s.name}.wgsl` },
    ...(s.rendered.alternatives ?? []).map((a) => ({ name: `${s.name}.${a.languageFeature}`, file: `${s.name}.${a.languageFeature}.wgsl` })),
  ]);
  const steps = lowered.steps.map((s) => ({
    shader: s.name,
    bindings: s.rendered.bindings.map((b) => b.buffer),
    access: s.rendered.bindings.map((b) => b.access),
    dispatch: s.dispatch,
    nodes: s.nodes,
    ...(s.rendered.alternatives
      ? { alternatives: s.rendered.alternatives.map((a) => ({ languageFeature: a.languageFeature, shader: `${s.name}.${a.languageFeature}` })) }
      : {}),
  }));
  const bounds = [
    ...lowered.steps.flatMap((s) => s.dispatch.map((d) => batchBound(d, defaults.maxComputeWorkgroupsPerDimension))),
    ...batch.map((b) => (b.kind === "batch" ? batchBound(b.size, limit) : Infinity)),
  ];
  const oneSample = Math.max(
    4,
    ...batch.map((b) => (b.kind === "batch" ? b.size.perSample + b.size.fixed : 0)),
    ...lowered.weights.map((w) => w.bytes),
  );
  return {
    shaders,
    buffers: [...weights, ...batch],
    steps,
    inputs: lowered.inputs,
    outputs: lowered.outputs,
    languageFeatures: [],
    limits: {
      maxStorageBufferBindingSize: oneSample,
      maxStorageBuffersPerShaderStage: Math.max(1, ...steps.map((s) => s.bindings.length)),
      maxComputeWorkgroupSizeX: WG,
      maxComputeInvocationsPerWorkgroup: WG,
      maxComputeWorkgroupStorageSize: WORKGROUP_STORAGE,
      maxComputeWorkgroupsPerDimension: defaults.maxComputeWorkgroupsPerDimension,
    },
    maxBatch: Math.min(...bounds, 2 ** 31 - 1),
  };
}
