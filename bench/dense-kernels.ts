// `npm run bench:dense-kernels`: the Wasm dense-layer kernels alone, on the
// shape that dominates the small DLRM (367 → 64, relu, batch 64), called
// directly on a memory of random values — no runtime, no other layer. It
// separates what an int8 layer's time is made of: the f32 GEMM, the int8
// tile loop alone (codes already made, as fold-quant gives them), and that
// loop after each way of quantizing the activations (a static scale; a
// dynamic scale per row; a dynamic scale after smoothing). Interleaved rounds
// after a warm-up, medians; `--in N --out N` for another shape.

import { cpus } from "node:os";
import { WasmModule } from "../backends/wasm/module.js";
import { emitGemm } from "../backends/wasm/kernels/gemm.js";
import { emitInt8Gemm } from "../backends/wasm/kernels/gemm-int8.js";
import { wasmApi } from "../src/runtime/host/platform.js";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const inF = arg("in", 367);
const outF = arg("out", 64);
const batch = 64;
const MiB = 1 << 20;
// Regions of one memory: weights, scales, bias, multipliers, input, int8 scratch (codes), output.
const at = { weights: 1 * MiB, scales: 3 * MiB, bias: 3 * MiB + 64 * 1024, mul: 2 * MiB, x: 4 * MiB, scratch: 6 * MiB, y: 5 * MiB };

const common = { inF, outF, weights: at.weights, bias: at.bias, act: "relu" as const };
const kernels = ["f32", "codes", "static", "dynamic", "smoothed"] as const;
const { binary } = WasmModule.generate({ sharedMemory: false, optimize: true }, (w) => {
  emitGemm(w, "f32", common);
  emitInt8Gemm(w, "codes", { ...common, scales: at.scales, actScale: 0.03, codesIn: true });
  emitInt8Gemm(w, "static", { ...common, scales: at.scales, actScale: 0.03 });
  emitInt8Gemm(w, "dynamic", { ...common, scales: at.scales, actScale: undefined });
  emitInt8Gemm(w, "smoothed", { ...common, scales: at.scales, actScale: undefined, actMul: at.mul });
  for (const k of kernels) w.raw.addFunctionExport(k, k);
});
const api = wasmApi();
const memory = new api.Memory({ initial: 128, maximum: 65536 });
const instance = await api.instantiate(await api.compile(binary), { env: { memory } });
const f32 = new Float32Array(memory.buffer);
let seed = 1;
for (let i = 0; i < f32.length; i++) {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  f32[i] = (seed / 2 ** 32 - 0.5) * 2;
}
const e = instance.exports as Record<(typeof kernels)[number], (...args: number[]) => void>;
// Codes for the codes-in kernel: what the static kernel quantizes x into.
e.static(at.x, at.y, at.scratch, batch);
const calls: Record<(typeof kernels)[number], () => void> = {
  f32: () => e.f32(at.x, at.y, batch),
  codes: () => e.codes(at.scratch, at.y, 0, batch),
  static: () => e.static(at.x, at.y, at.scratch + 1 * MiB, batch),
  dynamic: () => e.dynamic(at.x, at.y, at.scratch + 1 * MiB, batch),
  smoothed: () => e.smoothed(at.x, at.y, at.scratch + 1 * MiB, batch),
};

function usPerCall(call: () => void, ms: number): number {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 20; i++) call();
    n += 20;
  }
  return ((performance.now() - t0) * 1000) / n;
}

for (const k of kernels) usPerCall(calls[k], 1500);
const rounds = Object.fromEntries(kernels.map((k) => [k, [] as number[]])) as Record<(typeof kernels)[number], number[]>;
for (let r = 0; r < 9; r++) for (const k of kernels) rounds[k].push(usPerCall(calls[k], 300));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(rounds.f32);
const label: Record<(typeof kernels)[number], string> = {
  f32: "f32 GEMM",
  codes: "int8 tile loop alone (codes in)",
  static: "int8, static scale",
  dynamic: "int8, dynamic scale per row",
  smoothed: "int8, smoothed, dynamic scale",
};
console.log(
  `# dense kernels: ${inF} → ${outF}, relu, batch ${batch}; ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`,
);
console.log("| kernel | µs per call (median of 9) | GMAC/s | vs f32 | quantization ≈µs |");
console.log("|---|---|---|---|---|");
const codes = median(rounds.codes);
for (const k of kernels) {
  const us = median(rounds[k]);
  const quant = k === "f32" || k === "codes" ? "—" : (us - codes).toFixed(1);
  console.log(`| ${label[k]} | ${us.toFixed(1)} | ${((inF * outF * batch) / us / 1000).toFixed(1)} | ${(base / us).toFixed(2)}x | ${quant} |`);
}
