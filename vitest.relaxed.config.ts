// The relaxed-SIMD tests (test/relaxed/), run under Node 24 by `npm run test:relaxed`:
// Node 20 validates relaxed SIMD only behind a flag. The main suite (vitest.config.ts) runs on the machine's Node.
import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

export default defineConfig({ test: { ...base.test, include: ["test/relaxed/**/*.test.ts", "test/backends/wasm/int8a7.test.ts"], exclude: [] } });
