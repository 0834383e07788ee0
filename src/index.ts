// The compiler's public API, the `rmc` package's main entry: parse a model,
// bind its weights, run passes, compile it for a target (`compile`), export
// and import ONNX, read data, serve artifacts over HTTP, and the interfaces a
// plugin implements (passes, backends). The runtime alone is `rmc/runtime`,
// or the rmc-runtime package (packages/runtime), which carries none of this.

// Compile: one call from a model graph and its weights to an artifact folder.
export {
  compileModel as compile,
  compileModel,
  compilePipeline,
  type CompileOutcome,
  type CompileRequest,
  type PlacementRequest,
} from "./driver/index.js";
export { compilerRegistry, loadToolchain, compilerVersion, type PrecisionRequest, type Toolchain } from "./driver/index.js";

// The model: the DSL front end, the IR, weights.
export { parseModel, type ParseResult } from "./frontend/index.js";
export type { Graph, Node, Input, Output, WeightDecl, Type, TensorType, BagsType, DType, Attrs, AttrValue } from "./ir/types.js";
export { parseGraph } from "./ir/parse.js";
export { printGraph } from "./ir/print.js";
export { verifyGraph } from "./ir/verify.js";
export { loadWeights, bindWeights } from "./weights/bind.js";
export { openSafetensors, readSafetensorsBytes, writeSafetensors, type SafetensorsFile } from "./weights/safetensors.js";
export { DenseTensor, type Tensor, type WeightStore } from "./weights/store.js";
export { initWeights } from "./weights/init.js";

// Plugins: the pass interface and the pass manager; the backend interface.
export type { Pass, PassContext, PassOutputs, OptionSpec, OptionType, OptionValue } from "./pipeline/index.js";
export { PassRegistry, loadPlugin, runPipeline, runPipelineWithReport, parsePipeline, type PipelineStep } from "./pipeline/index.js";
export type { Backend, BuiltinBackend, CompileOptions, CompileResult } from "../backends/backend.js";
export type { TargetInfo } from "./target/index.js";

// The reference interpreter and data.
export { interpret, type InterpretOptions, type InterpretResult } from "./interp/interpreter.js";
export { dataSchema, type DataSchema } from "./data/schema.js";
export { readBatches, type ReadOptions } from "./data/tsv.js";
export type { Batch, Bags } from "./data/batch.js";
export type { ColumnMap } from "./data/sources.js";

// ONNX.
export { exportOnnx, exportOnnxExternal, type ExportOptions, type ExportPrecision } from "./onnx/export.js";
export { importOnnx, type ImportResult } from "./onnx/import.js";

// Serving compiled artifacts (`rmc serve`).
export { serve, type ServeOptions, type Server } from "./serve/server.js";

// Diagnostics: every error rmc raises is an RmcError carrying coded diagnostics.
export { RmcError, CODES, type Diagnostic, type Code } from "./diagnostics/index.js";
