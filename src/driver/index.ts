// The compiler as a library: compile a model for a target with one call, and
// the registry and backend lookups the CLI and the server share with it.

export { compileModel, compilePipeline, compileUntil, type CompileOutcome, type CompileRequest, type PlacementRequest } from "./compile.js";
export { precisionStep, type PrecisionRequest } from "./precision.js";
export { compilerRegistry, loadToolchain, type Toolchain } from "./registry.js";
export { findBackend } from "./targets.js";
export { compilerVersion } from "./version.js";
