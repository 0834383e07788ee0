// `node build/bench/peers/tfjs-matmul.js [--no-simd]`: why a naive TF.js wasm
// model runs at ~1 GMAC/s. Times a 64×512 · 512×512 product on
// tfjs-backend-wasm three ways: weights as [in, out] (XNNPACK), weights as
// PyTorch's [out, in] with transposeB (tfjs's naive fallback loop), and the
// first again with the output read inside tf.tidy (tidy walks the returned
// typed array as a tensor container). The peer (tfjs.ts) uses the first.

import { startTf } from "./tfjs.js";

const args = process.argv.slice(2);

async function main(): Promise<void> {
  if (args.includes("--no-simd")) {
    await import("@tensorflow/tfjs-backend-wasm"); // registers the flag
    (await import("@tensorflow/tfjs-core")).env().set("WASM_HAS_SIMD_SUPPORT", false);
  }
  const { tf, binary } = await startTf();
  const [m, k, n] = [64, 512, 512];
  const a = tf.randomNormal([m, k]);
  const w = tf.randomNormal([k, n]);
  const time = (label: string, once: () => void): void => {
    for (let t = performance.now(); performance.now() - t < 500;) once();
    let calls = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 1500) {
      once();
      calls++;
    }
    const ms = (performance.now() - t0) / calls;
    console.log(`| ${label} | ${ms.toFixed(2)} ms | ${((m * k * n) / ms / 1e6).toFixed(2)} |`);
  };
  const read = (t: ReturnType<typeof tf.matMul>): void => {
    t.dataSync();
    t.dispose();
  };
  console.log(`${binary}, ${m}×${k} · ${k}×${n}\n\n| call | per call | GMAC/s |\n|---|---|---|`);
  time("matMul(a, w) — w as [in, out]: XNNPACK", () => read(tf.matMul(a, w)));
  time("matMul(a, w, false, true) — w as [out, in]: naive loop", () => read(tf.matMul(a, w, false, true)));
  time("tf.tidy(() => matMul(a, w).dataSync())", () => void tf.tidy(() => tf.matMul(a, w).dataSync() as unknown as never));
}

await main();
