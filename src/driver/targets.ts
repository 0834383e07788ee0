// Finding the backend for a target name: a plugin's first (so a plugin may
// replace nothing silently: a clash with a built-in name is an error), then
// the built-ins, whose code generators load only when asked for.

import { RmcError, type Code } from "../diagnostics/index.js";
import { BUILTIN_BACKENDS, type Backend } from "../../backends/index.js";
import { E_UNKNOWN_TARGET, targetInfo } from "../target/index.js";

/** Diagnostic code: two backends of one name. */
export const E_DUPLICATE_TARGET = "E1804" satisfies Code;

/** The backend called `name`, loading a built-in's code generator on demand. */
export async function findBackend(name: string, plugins: readonly Backend[] = []): Promise<Backend> {
  const seen = new Set<string>();
  for (const b of plugins) {
    if (seen.has(b.name) || BUILTIN_BACKENDS.has(b.name))
      throw new RmcError(`a backend named \`${b.name}\` is already registered`, E_DUPLICATE_TARGET);
    seen.add(b.name);
  }
  const plugin = plugins.find((b) => b.name === name);
  if (plugin) return plugin;
  const builtin = BUILTIN_BACKENDS.get(name);
  if (builtin) return builtin.load();
  targetInfo(name, plugins); // throws the unknown-target error, with a suggestion
  throw new RmcError(`unknown target \`${name}\``, E_UNKNOWN_TARGET);
}
