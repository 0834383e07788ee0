// Runtime, Wasm engine: which variant of an artifact's code runs. The
// compiler writes a relaxed-SIMD variant (fused multiply-add, the i8·i7 dot)
// beside the portable SIMD128 one; the engine runs the fastest whose Wasm
// features this host validates — probed once with WebAssembly.validate on a
// few hand-assembled bytes (the runtime does not load binaryen) — or the
// first the caller allows with `load(dir, { features })`. Node, browsers and
// worker threads alike: workers receive the compiled module the main thread
// chose.

import { RmcError, error } from "../../diagnostics/index.js";
import { RUNTIME_CODES as C } from "../codes.js";
import type { WasmLayout, WasmVariant } from "../manifest.js";
import { wasmApi } from "../host/platform.js";

/** Wasm features the runtime can probe for. */
export const KNOWN_FEATURES = ["simd128", "relaxed-simd"] as const;

/** `v128.const` of zeros: 0xfd 0x0c and 16 bytes. */
const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];

/**
 * A module of one function `() -> ()` whose body pushes `operands` zero
 * vectors, applies the SIMD opcode `op` (LEB128 bytes after 0xfd) and drops
 * the result: it validates exactly when the engine knows that instruction.
 */
function probeModule(operands: number, op: number[]): Uint8Array {
  const body = [0x00, ...Array.from({ length: operands }, () => V128_ZERO).flat(), 0xfd, ...op, 0x1a, 0x0b];
  const code = [0x01, body.length, ...body];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // magic, version 1
    ...[0x01, 0x04, 0x01, 0x60, 0x00, 0x00], // type section: () -> ()
    ...[0x03, 0x02, 0x01, 0x00], // function section: one function of type 0
    ...[0x0a, code.length, ...code], // code section
  ]);
}

/** One probe per feature: i32x4.add (0xae 0x01) for SIMD128, f32x4.relaxed_madd (0x105) for relaxed SIMD. */
const PROBES: Record<(typeof KNOWN_FEATURES)[number], Uint8Array> = {
  simd128: probeModule(2, [0xae, 0x01]),
  "relaxed-simd": probeModule(3, [0x85, 0x02]),
};

let detected: string[] | undefined;

/** The Wasm features this engine validates (probed once per process or worker). */
export function detectFeatures(): string[] {
  detected ??= KNOWN_FEATURES.filter((f) => {
    try {
      return wasmApi().validate(PROBES[f]);
    } catch {
      return false;
    }
  });
  return detected;
}

/** The variants of a layout, fastest first; an artifact written before variants existed has only its portable one. */
export function variantsOf(layout: WasmLayout): WasmVariant[] {
  return (
    layout.variants ?? [
      { name: layout.features.join("+") || "mvp", module: layout.module, threadsModule: layout.threadsModule, features: layout.features },
    ]
  );
}

/**
 * The variant to run: the first whose features are all in `allowed` (the
 * caller's list) or, without one, all validated here. With nothing allowed
 * the portable one is tried anyway — compiling it then says which feature
 * the engine lacks — unless the caller's list ruled everything out.
 */
export function chooseVariant(layout: WasmLayout, allowed: readonly string[] | undefined): WasmVariant {
  const variants = variantsOf(layout);
  const have = new Set(allowed ?? detectFeatures());
  const fits = variants.find((v) => v.features.every((f) => have.has(f)));
  if (fits) return fits;
  if (allowed === undefined) return variants[variants.length - 1]!;
  throw new RmcError(
    error(
      C.badOption,
      `load option \`features\` [${allowed.join(", ")}] allows none of this artifact's variants: ${variants.map((v) => `${v.name} needs [${v.features.join(", ")}]`).join("; ")}`,
      undefined,
      `allow the features of one of them, e.g. features: ${JSON.stringify(variants[variants.length - 1]!.features)}`,
    ),
  );
}
