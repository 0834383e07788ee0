// The compiler's pass registry as every caller assembles it: the built-in
// target-neutral passes (passes/), each built-in target's own passes
// (backends/index.ts: the Wasm memory plan), and the passes and backends of
// plugin modules, each module loaded once.

import { RmcError, type Code, type Diagnostic } from "../diagnostics/index.js";
import { loadPlugin, type PassRegistry } from "../pipeline/index.js";
import { createPassRegistry } from "../../passes/index.js";
import { BUILTIN_BACKENDS, type Backend } from "../../backends/index.js";

/** Diagnostic code: a plugin's `backends` export that is not usable. */
export const E_PLUGIN_BACKEND = "E1807" satisfies Code;

/** What the compiler's registry was built from: the passes, and the backends plugins added. */
export interface Toolchain {
  registry: PassRegistry;
  /** Backends from plugins, by the order they were loaded. */
  backends: Backend[];
  /** One warning per plugin pass set aside as invalid. */
  warnings: Diagnostic[];
}

/** The built-in passes and every built-in target's passes (registered under `target <name>`). */
export function compilerRegistry(): PassRegistry {
  const registry = createPassRegistry();
  for (const [name, b] of BUILTIN_BACKENDS) for (const pass of b.passes) registry.register(pass, `target ${name}`);
  return registry;
}

/** The registry with every plugin's passes, and the plugins' backends; each file imported once. */
export async function loadToolchain(pluginFiles: readonly string[] = []): Promise<Toolchain> {
  const registry = compilerRegistry();
  const backends: Backend[] = [];
  const warnings: Diagnostic[] = [];
  for (const file of pluginFiles) {
    const loaded = await loadPlugin(file, registry);
    backends.push(...pluginBackends(file, loaded.module));
    warnings.push(...loaded.warnings);
  }
  return { registry, backends, warnings };
}

/** Checks a plugin's `backends` export just enough to call it safely; older plugins' `precisions.layers` still works. */
function pluginBackends(file: string, module: Record<string, unknown>): Backend[] {
  const list = module.backends;
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new RmcError(`plugin ${file}: \`backends\` must be an array`, E_PLUGIN_BACKEND);
  return list.map((raw: Partial<Backend> & { precisions?: { layers?: readonly string[] } }, i) => {
    const missing = (["name", "compile", "ops", "limits", "precisions"] as const).filter((k) => raw?.[k] === undefined);
    const label = typeof raw?.name === "string" ? ` (${raw.name})` : "";
    if (missing.length || typeof raw.compile !== "function")
      throw new RmcError(`plugin ${file}: backend #${i}${label} lacks ${missing.join(", ") || "a compile function"}`, E_PLUGIN_BACKEND);
    const p = raw.precisions!;
    const layers = p.linear ?? p.layers;
    if (!Array.isArray(p.tables) || !Array.isArray(layers))
      throw new RmcError(`plugin ${file}: backend #${i}${label}: precisions must list \`tables\` and \`linear\``, E_PLUGIN_BACKEND);
    return {
      ...raw,
      summary: raw.summary ?? "",
      features: raw.features ?? [],
      passes: raw.passes ?? "",
      // A plugin target without a speed estimate: the precision search weighs bytes alone.
      cost: raw.cost ?? (() => 1),
      precisions: { tables: p.tables, linear: layers, cross_layer: p.cross_layer ?? layers },
    } as Backend;
  });
}
