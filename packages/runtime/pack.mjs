// `npm run pack:runtime [-- DEST]`: builds the runtime-only package
// (rmc-runtime) from this repository's sources and packs it with `npm pack`.
// tsc compiles src/runtime/index.ts, its worker script and whatever they
// import (the runtime, diagnostics, the IR's table routing, the embedding
// stores) into packages/runtime/dist; nothing of the compiler comes along.
// Before packing, every bare import in dist/ is checked: Node built-ins and
// the package's optional peers (ioredis for Redis-placed tables, webgpu for
// WGSL artifacts in Node) only, so the tarball installs offline with no
// dependencies. Prints the tarball's path.

import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const dest = resolve(process.argv[2] ?? here);
const pkg = JSON.parse(readFileSync(join(here, "package.json"), "utf8"));
const rootPkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

const fail = (message) => {
  console.error(`pack:runtime: ${message}`);
  process.exit(1);
};

if (pkg.version !== rootPkg.version)
  fail(`packages/runtime/package.json is at version ${pkg.version}, the repository at ${rootPkg.version}: keep them equal`);

rmSync(join(here, "dist"), { recursive: true, force: true });
const tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", join(here, "tsconfig.json")], { stdio: "inherit" });

const files = [];
const walk = (d) => {
  for (const f of readdirSync(d)) {
    const p = join(d, f);
    if (statSync(p).isDirectory()) walk(p);
    else files.push(p);
  }
};
walk(join(here, "dist"));

// Every module specifier in the emitted JavaScript and declarations: static, dynamic and `export … from`.
const allowed = new Set(Object.keys(pkg.peerDependencies ?? {}));
const bad = [];
for (const f of files.filter((p) => p.endsWith(".js") || p.endsWith(".d.ts"))) {
  const text = readFileSync(f, "utf8");
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["']([^"']+)["']/g)) {
    const spec = m[1];
    if (spec.startsWith(".") || spec.startsWith("node:")) continue;
    const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
    if (!allowed.has(name)) bad.push(`${relative(here, f)} imports ${spec}`);
  }
}
if (bad.length) fail(`the runtime reaches packages it does not declare:\n  ${bad.join("\n  ")}`);

mkdirSync(dest, { recursive: true });
const out = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", dest], { cwd: here, encoding: "utf8" }));
console.log(join(dest, out[0].filename));
