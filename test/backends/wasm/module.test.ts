// backends/wasm/module.ts's one rule about binaryen's heap: a module is
// disposed however its generation ends, so a generator that throws (a model
// the backend refuses, or a bug) does not leak binaryen memory.

import { describe, expect, it, vi } from "vitest";
import { WasmModule } from "../../../backends/wasm/module.js";
import { emitCrossEpilogue } from "../../../backends/wasm/kernels/elementwise.js";

describe("WasmModule.generate", () => {
  it("disposes the binaryen module after emitting it", () => {
    let dispose: ReturnType<typeof vi.spyOn> | undefined;
    const { binary } = WasmModule.generate({ sharedMemory: false, optimize: false }, (w) => {
      dispose = vi.spyOn(w.raw, "dispose");
      emitCrossEpilogue(w, "cross_out", true);
    });
    expect(WebAssembly.validate(binary)).toBe(true);
    expect(dispose).toHaveBeenCalledOnce();
  });

  it("disposes the binaryen module when generation throws, and passes the error on", () => {
    let dispose: ReturnType<typeof vi.spyOn> | undefined;
    expect(() =>
      WasmModule.generate({ sharedMemory: false, optimize: false }, (w) => {
        dispose = vi.spyOn(w.raw, "dispose");
        emitCrossEpilogue(w, "cross_out", true);
        throw new Error("a generator failed");
      }),
    ).toThrow("a generator failed");
    expect(dispose).toHaveBeenCalledOnce();
  });

  it("disposes the binaryen module when it fails validation", () => {
    let dispose: ReturnType<typeof vi.spyOn> | undefined;
    // binaryen's validator prints what it rejects to stderr (a bound console it keeps): that report is expected in the output.
    expect(() =>
      WasmModule.generate({ sharedMemory: false, optimize: false }, (w) => {
        dispose = vi.spyOn(w.raw, "dispose");
        // A call to a function that does not exist.
        w.func("broken", [], () => [w.call("missing", [])], true);
      }),
    ).toThrow("invalid Wasm module");
    expect(dispose).toHaveBeenCalledOnce();
  });
});
