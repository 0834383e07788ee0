import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    // Dawn reaches Mesa's llvmpipe through EGL without a display (WebGPU tests run on the CPU).
    env: { EGL_PLATFORM: "surfaceless" },
    hookTimeout: 120_000,
  },
});
