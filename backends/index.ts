// The built-in backends, loaded on demand (binaryen takes a moment to start):
// each target's facts and own passes are at hand at once, its code generator
// when a compile asks for it.

import { WASM_TARGET, WGSL_TARGET } from "../src/target/index.js";
import type { BuiltinBackend } from "./backend.js";
import { planMemory } from "./wasm/plan-memory.js";

export type { Backend, BuiltinBackend, CompileOptions, CompileResult } from "./backend.js";

/** Every built-in backend, by target name. */
export const BUILTIN_BACKENDS: ReadonlyMap<string, BuiltinBackend> = new Map([
  ["wasm", { info: WASM_TARGET, passes: [planMemory], load: async () => (await import("./wasm/index.js")).wasmBackend }],
  ["wgsl", { info: WGSL_TARGET, passes: [], load: async () => (await import("./wgsl/index.js")).wgslBackend }],
]);
