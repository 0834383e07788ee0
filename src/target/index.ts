// The built-in targets' facts by name, and the one lookup every stage uses
// (an unknown name is one error, with a suggestion, wherever it is given).

import { RmcError, didYouMean, type Code } from "../diagnostics/index.js";
import type { TargetInfo } from "./target.js";
import { WASM_TARGET } from "./wasm.js";
import { WGSL_TARGET } from "./wgsl.js";

export * from "./target.js";
export { WASM_TARGET } from "./wasm.js";
export { WGSL_TARGET, WEBGPU_DEFAULTS } from "./wgsl.js";

/** The built-in targets, by name. */
export const BUILTIN_TARGETS: ReadonlyMap<string, TargetInfo> = new Map([
  ["wasm", WASM_TARGET],
  ["wgsl", WGSL_TARGET],
]);

/** Error code: a target name nothing defines, wherever it is given (a flag, a pass option, the API): a value not among its choices. */
export const E_UNKNOWN_TARGET = "E0904" satisfies Code;

/**
 * The target called `name`: `known` first (a plugin's target the caller has
 * loaded), then the built-ins; an unknown name is an error listing them all.
 */
export function targetInfo(name: string, known: readonly TargetInfo[] = []): TargetInfo {
  const found = known.find((t) => t.name === name) ?? BUILTIN_TARGETS.get(name);
  if (found) return found;
  const names = [...new Set([...BUILTIN_TARGETS.keys(), ...known.map((t) => t.name)])];
  const hint = didYouMean(name, names);
  throw new RmcError(`unknown target \`${name}\`${hint ? `: ${hint}` : ""} (targets: ${names.join(", ")})`, E_UNKNOWN_TARGET);
}

/**
 * The target a pass's `target` option names: the caller's target when it is
 * that one (so a plugin's target works in passes too), else the built-in.
 */
export function targetNamed(name: string, ctx: { target?: TargetInfo }): TargetInfo {
  return ctx.target?.name === name ? ctx.target : targetInfo(name);
}
