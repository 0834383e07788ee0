import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The relaxed-SIMD variant's tests run under Node 24: vitest.relaxed.config.ts, `npm run test:relaxed`.
    exclude: ["test/relaxed/**", "**/node_modules/**"],
    // Generous: the slowest test takes ~15 s on a quiet 2-core machine, ~75 s once with other jobs beside it.
    testTimeout: 120_000,
    // Dawn reaches Mesa's llvmpipe through EGL without a display (WebGPU tests run on the CPU).
    env: { EGL_PLATFORM: "surfaceless" },
    hookTimeout: 120_000,
  },
});
