// Fuzzing harness (bench/fuzz): the one real model the binary and runtime
// surfaces start from — two tables with different id policies and a dense
// input — with its weights, a labelled data file and a compiled Wasm artifact,
// made once per process through the CLI (src/cli/main.ts) in-process.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/main.js";
import { parseModel } from "../../src/frontend/index.js";
import type { Graph } from "../../src/ir/types.js";
import { bindWeights } from "../../src/weights/bind.js";
import { openSafetensors } from "../../src/weights/safetensors.js";
import type { WeightStore } from "../../src/weights/store.js";

export const FIXTURE_MODEL = `model small {
  input dense: f32[3]
  input sparse: bags[2]
  table a: embedding(dim: 4, rows: 7, ids: clamp)
  table b: embedding(dim: 4, rows: 5, ids: modulo)
  pa = embedding_bag(a, sparse[0])
  pb = embedding_bag(b, sparse[1])
  top = mlp(concat(dense, pa, pb), [8, 1], act: relu, final: sigmoid)
  output ctr = top
}
`;

export interface Fixture {
  root: string;
  graph: Graph;
  store: WeightStore;
  weights: string;
  data: string;
  dist: string;
}

/** `rmc ARGS` in-process; throws with the CLI's own output when it fails. */
export async function cli(...args: string[]): Promise<void> {
  let err = "";
  const code = await main(args, { out: () => {}, err: (s) => void (err += s) });
  if (code !== 0) throw new Error(`rmc ${args.join(" ")} failed: ${err}`);
}

/** Writes `source`, random weights (seeded, drawn as `init`) and compiles it for wasm into a fresh temp folder. */
export async function compileSource(source: string, seed = 4, rows = 0, init: "trained" | "gaussian" = "trained"): Promise<Fixture> {
  const root = mkdtempSync(join(tmpdir(), "rmc-fuzz-"));
  const model = join(root, "m.rmdl");
  writeFileSync(model, source);
  const weights = join(root, "w.safetensors");
  const data = join(root, "data.tsv");
  const dist = join(root, "dist");
  // Calibrating trained-looking weights refuses a model whose output cannot depend on its inputs (one row, dead ReLUs): generated models take gaussian ones.
  await cli("init-weights", model, "--seed", String(seed), "--dist", init, ...(init === "gaussian" ? ["--no-calibrate"] : []), "-o", weights);
  if (rows > 0) await cli("gen-data", model, "--weights", weights, "--rows", String(rows), "--seed", "9", "-o", data);
  await cli("compile", model, "--weights", weights, "--target", "wasm", "-o", dist);
  const graph = parseModel(source, model).graph!;
  return { root, graph, store: bindWeights(graph, openSafetensors(weights)).store, weights, data, dist };
}

let made: Promise<Fixture> | undefined;

/** The fixture model compiled once per process. */
export const fixture = (): Promise<Fixture> => (made ??= compileSource(FIXTURE_MODEL, 4, 40));

/** The fixture's files as read once (the surfaces mutate copies). */
export const fixtureBytes = async (f: Fixture, name: "weights" | "data"): Promise<Uint8Array> => readFileSync(f[name]);
