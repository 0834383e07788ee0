// The pass infrastructure in one import: the Pass interface (the plugin API),
// textual pipelines, the registry and plugin loader, and the pass manager with
// its instrumentation. The CLI and tests import from here.

export type { Pass, PassContext, PassOutputs, OptionSpec, OptionType, OptionValue } from "./pass.js";
export { parseOptionValue, kebabCase, camelCase, describeOptions, checkPassShape, OPTION_TYPES } from "./pass.js";
export { parsePipeline, printPipeline, printStep, type PipelineStep } from "./text.js";
export { PassRegistry, loadPlugin, BUILTIN_SOURCE, type LoadedPlugin } from "./registry.js";
export {
  DEFAULT_PIPELINE,
  RESOLVE_CODES,
  resolvePipeline,
  runPipeline,
  runPipelineWithReport,
  type PassData,
  type PipelineReport,
} from "./manager.js";
export { formatTimings, type Instrumentation, type PassTiming, type ResolvedStep, type StepRecord } from "./instrument.js";
