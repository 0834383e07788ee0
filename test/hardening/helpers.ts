// Hardening tests' plumbing: a small compiled model (two tables with
// different id policies, a dense input, one output) with its weights and a
// labelled data file, made once per test file through the CLI in-process, and
// the built CLI (build/, from `npx tsc -p tsconfig.json`) run as a child
// process with Node flags of the test's choosing.

import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { rmc, tempDir } from "../cli/helpers.js";

/** The small two-table model (ids clamp and modulo): the fuzz fixture's, so both probe one model. */
import { FIXTURE_MODEL } from "../../bench/fuzz/fixture.js";
export const SMALL_MODEL = FIXTURE_MODEL;

/** A compiled small model: its folder, model file, weights and data (`rows` labelled samples). */
export interface SmallArtifact {
  root: string;
  model: string;
  weights: string;
  data: string;
  dist: string;
}

/** Ways to compile the small model: split table `b` into weight shards and place table `a` in the file store. */
export const SHARDED_AND_STORED = [
  "--store",
  "file",
  "--store-tables",
  "a.weight",
  "--staging-rows",
  "4",
  "--passes",
  "canonicalize,infer-shapes,dce,split-tables{max-bytes=48}",
];

/** Writes the small model, its weights and data, and compiles it for `target` (wasm by default) with `extra` compile flags. */
export async function smallArtifact(rows = 300, target = "wasm", extra: string[] = [], source = SMALL_MODEL): Promise<SmallArtifact> {
  const root = tempDir();
  const model = join(root, "small.rmdl");
  writeFileSync(model, source);
  const weights = join(root, "w.safetensors");
  const data = join(root, "data.tsv");
  const dist = join(root, "dist");
  for (const args of [
    ["init-weights", model, "--seed", "4", "--dist", "trained", "-o", weights],
    ["gen-data", model, "--weights", weights, "--rows", String(rows), "--seed", "9", "-o", data],
    ["compile", model, "--weights", weights, "--target", target, "-o", dist, ...extra],
  ]) {
    const r = await rmc(...args);
    expect(r.code, r.err).toBe(0);
  }
  return { root, model, weights, data, dist };
}

const CLI = "build/src/cli/main.js";

/** `node NODE_FLAGS build/src/cli/main.js ARGS` (the CLI as built from the sources by `npx tsc -p tsconfig.json`). */
export function builtCli(nodeFlags: string[], args: string[]): { status: number | null; stdout: string; stderr: string } {
  expect(existsSync(CLI), `${CLI} is missing: build first (npx tsc -p tsconfig.json)`).toBe(true);
  const child = spawnSync(process.execPath, [...nodeFlags, CLI, ...args], { encoding: "utf8", timeout: 60_000 });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}
