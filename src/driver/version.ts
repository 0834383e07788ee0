// rmc's own version, from package.json: printed by `rmc --version` and
// recorded in every artifact's manifest. The file is found by walking up from
// this module, which works from the sources (tests) and from build/ alike.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/** The package version (`0.1.0`). */
export function compilerVersion(): string {
  if (cached) return cached;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "rmc" && pkg.version) return (cached = pkg.version);
    }
    if (dirname(dir) === dir) return (cached = "unknown");
  }
}
