// The pass registry — every pass a pipeline may name — and the plugin loader:
// `--plugin ./my-pass.js` imports an ES module and registers the passes it
// exports, after checking each has the shape of a Pass. A pass that does not
// is set aside with its problems (a warning names it, and a pipeline naming it
// fails with them), so one bad pass does not take its file's others down. The registry starts empty: the
// built-in passes (passes/index.ts) and a target's own passes are registered
// by whoever assembles a compiler, so the pipeline knows none of its clients.

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { RmcError, error, type Code, type Diagnostic } from "../diagnostics/index.js";
import { syntheticSpan } from "../ir/types.js";
import { checkPassShape, type Pass } from "./pass.js";

/** Diagnostic codes of the registry and plugin loader. */
export const REGISTRY_CODES = {
  duplicatePass: "E1207",
  pluginLoad: "E1210",
  pluginInvalid: "E1211",
  invalidPassUsed: "E1271",
  invalidPassSetAside: "W1272",
} as const satisfies Record<string, Code>;

/** Where registered passes come from: "built-in" or a plugin's path. */
export const BUILTIN_SOURCE = "built-in";

/** Passes by name, each remembering where it came from. */
export class PassRegistry {
  private readonly entries = new Map<string, { pass: Pass; source: string }>();
  private readonly fromPlugins = new Set<string>();
  private readonly setAside = new Map<string, Diagnostic[]>();

  /** Adds a pass; a name already taken is an error naming both sources. */
  register(pass: Pass, source: string = BUILTIN_SOURCE): void {
    const prev = this.entries.get(pass.name);
    if (prev)
      throw new RmcError(
        `pass \`${pass.name}\` from ${describeSource(source)} clashes with the pass of that name from ${describeSource(prev.source)}`,
        REGISTRY_CODES.duplicatePass,
      );
    this.entries.set(pass.name, { pass, source });
  }

  get(name: string): Pass | undefined {
    return this.entries.get(name)?.pass;
  }

  /** "built-in" or the plugin path the pass was loaded from. */
  source(name: string): string | undefined {
    return this.entries.get(name)?.source;
  }

  /** The plugin file a pass was loaded from by `loadPlugin`, or undefined for passes registered in code. */
  pluginFile(name: string): string | undefined {
    return this.fromPlugins.has(name) ? this.entries.get(name)?.source : undefined;
  }

  /** Registers a pass that `loadPlugin` read from the file `source`. */
  registerFromPlugin(pass: Pass, source: string): void {
    this.register(pass, source);
    this.fromPlugins.add(pass.name);
  }

  /** Remembers a plugin pass that could not be registered (by its name, or `#i` without one), with why. */
  setAsideInvalid(label: string, problems: Diagnostic[]): void {
    this.setAside.set(label, [...(this.setAside.get(label) ?? []), ...problems]);
  }

  /** Why the plugin pass of this name was set aside, or undefined when it was not. */
  invalid(name: string): readonly Diagnostic[] | undefined {
    return this.setAside.get(name);
  }

  /** Every set-aside plugin pass and its problems. */
  invalidPasses(): [string, readonly Diagnostic[]][] {
    return [...this.setAside];
  }

  /** All passes, sorted by name. */
  list(): Pass[] {
    return [...this.entries.values()].map((e) => e.pass).sort((a, b) => a.name.localeCompare(b.name));
  }

  names(): string[] {
    return this.list().map((p) => p.name);
  }
}

const describeSource = (source: string): string => (source === BUILTIN_SOURCE ? "the built-in passes" : `plugin ${source}`);

/** What a plugin brought: its resolved file, the passes it registered and the whole module (for `backends` etc.). */
export interface LoadedPlugin {
  file: string;
  passes: string[];
  module: Record<string, unknown>;
  /** One warning per pass set aside (each names the pass and what is wrong with it). */
  warnings: Diagnostic[];
}

/**
 * Imports the ES module at `path` (relative to the working directory) and
 * registers the passes it exports as `passes`. A pass that is not valid, or
 * whose name is taken, is set aside (registry.invalid) and the others register.
 */
export async function loadPlugin(path: string, registry: PassRegistry): Promise<LoadedPlugin> {
  const file = resolve(process.cwd(), path);
  const fail = (message: string, code: Code = REGISTRY_CODES.pluginLoad, hint?: string): never => {
    throw new RmcError(error(code, message, syntheticSpan(path), hint));
  };
  if (!existsSync(file)) fail(`plugin file not found: ${path} (looked at ${file})`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    return fail(
      `cannot load plugin ${path}: ${e instanceof Error ? e.message : String(e)}`,
      REGISTRY_CODES.pluginLoad,
      "a plugin is an ES module (.js or .mjs) that exports `passes`",
    );
  }
  const passes = mod.passes;
  if (passes === undefined) {
    if (mod.backends !== undefined) return { file, passes: [], module: mod, warnings: [] };
    fail(
      `plugin ${path} exports no \`passes\``,
      REGISTRY_CODES.pluginInvalid,
      "export an array: `export const passes = [{ name, summary, options, run }]`",
    );
  }
  if (!Array.isArray(passes)) fail(`plugin ${path}: \`passes\` must be an array of passes, got ${typeof passes}`, REGISTRY_CODES.pluginInvalid);
  const list = passes as unknown[];
  const good: Pass[] = [];
  const warnings: Diagnostic[] = [];
  const seen = new Set<string>();
  list.forEach((p, i) => {
    const name = typeof (p as { name?: unknown })?.name === "string" ? (p as { name: string }).name : undefined;
    const label = name ?? `#${i}`;
    const problems = checkPassShape(p).map((msg) =>
      error(REGISTRY_CODES.pluginInvalid, `plugin ${path}: pass ${name ? `\`${name}\`` : label}: ${msg}`, syntheticSpan(path)),
    );
    if (name !== undefined && (registry.get(name) || seen.has(name)))
      problems.push(
        error(
          REGISTRY_CODES.duplicatePass,
          `plugin ${path}: pass \`${name}\` clashes with the pass of that name from ${describeSource(registry.source(name) ?? path)}`,
          syntheticSpan(path),
        ),
      );
    if (name !== undefined) seen.add(name);
    if (problems.length === 0) return void good.push(p as Pass);
    registry.setAsideInvalid(label, problems);
    const what =
      problems.length === 1
        ? problems[0]!.message.replace(`plugin ${path}: pass ${name ? `\`${name}\`` : label}: `, "")
        : `${problems.length} problems`;
    warnings.push({
      ...error(
        REGISTRY_CODES.invalidPassSetAside,
        `plugin ${path}: pass ${name ? `\`${name}\`` : label} is not loaded (${what}); its other passes are`,
        syntheticSpan(path),
      ),
      severity: "warning",
    });
  });
  for (const p of good) registry.registerFromPlugin(p, path);
  return { file, passes: good.map((p) => p.name), module: mod, warnings };
}
