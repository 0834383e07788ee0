// The Wasm backend's custom section: the layout the code was compiled for
// (src/runtime/manifest.ts, CodeLayout) appended to each module as the
// `rmc.layout` section, so the runtime can check manifest.json against the
// code instead of trusting it. A custom section may sit anywhere in a module,
// the end included, and changes nothing the module computes.

import { LAYOUT_SECTION, codeLayout, type InputSignature, type ShardEntry, type WasmLayout } from "../../src/runtime/manifest.js";

/** Unsigned LEB128, as Wasm encodes sizes. */
function leb128(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

/** `binary` with a custom section `name` holding `payload` appended. */
export function appendCustomSection(binary: Uint8Array, name: string, payload: Uint8Array): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const body = [...leb128(nameBytes.length), ...nameBytes];
  const size = leb128(body.length + payload.length);
  const out = new Uint8Array(binary.length + 1 + size.length + body.length + payload.length);
  out.set(binary);
  let at = binary.length;
  out[at++] = 0;
  out.set(size, at);
  at += size.length;
  out.set(body, at);
  out.set(payload, at + body.length);
  return out;
}

/** A module with the `rmc.layout` section of the layout it was compiled for. */
export const withLayoutSection = (
  binary: Uint8Array,
  wasm: WasmLayout,
  shards: readonly ShardEntry[] | undefined,
  inputs: readonly InputSignature[],
): Uint8Array => appendCustomSection(binary, LAYOUT_SECTION, new TextEncoder().encode(JSON.stringify(codeLayout(wasm, shards, inputs))));
