// Runtime: the diagnostic codes the artifact loader and `predict` report (the
// E17xx range). Loading problems (E170x) come from a damaged or mismatched
// dist/ folder; request problems (E171x) from a batch that does not fit the
// model's signature; E172x from the running code and its threads; E173x from
// WebGPU (adapter, device, shaders, GPU errors) for `wgsl` artifacts.

/**
 * Diagnostic codes of the runtime, by kind of problem:
 *
 * | code  | meaning                                                                 |
 * |-------|-------------------------------------------------------------------------|
 * | E1700 | manifest.json cannot be read (no such folder or file, HTTP error)       |
 * | E1701 | manifest.json is not valid JSON or not a well-formed rmc manifest       |
 * | E1702 | the artifact's format version is not the one this runtime reads         |
 * | E1703 | a file the manifest lists is missing or unreadable                      |
 * | E1704 | a file's size differs from the manifest's                               |
 * | E1705 | a file's sha256 differs from the manifest's (corrupted or changed)      |
 * | E1706 | the code needs a host import this runtime does not provide              |
 * | E1707 | the Wasm code cannot be compiled or instantiated                        |
 * | E1708 | the batch needs more memory than 32-bit Wasm can address (4 GiB)        |
 * | E1709 | a load option is invalid (threads, batchCapacity)                       |
 * | E1710 | the batch is not an object/array, or names unknown or misses inputs     |
 * | E1711 | a dense input's size does not fit its width                             |
 * | E1712 | inputs disagree on the batch size                                       |
 * | E1713 | a bags input's lengths, values or weights are inconsistent              |
 * | E1714 | an id is not an integer                                                 |
 * | E1715 | an id is outside its table's rows (id policy `error`)                   |
 * | E1720 | the model's code trapped while running                                  |
 * | E1721 | a worker thread could not start or failed                               |
 * | E1722 | the model was used after `close()`                                      |
 * | E1730 | no WebGPU here (no `navigator.gpu`; in Node, no `webgpu` package)       |
 * | E1731 | WebGPU gives no adapter on this machine                                 |
 * | E1732 | the adapter's limits are below what the artifact's plan needs           |
 * | E1733 | the shaders need a WGSL language feature the adapter lacks              |
 * | E1734 | a shader does not compile here, or its bindings disagree with its step  |
 * | E1735 | the device, a pipeline or a weights buffer cannot be created            |
 * | E1736 | the GPU reported an error (validation, out of memory) running a batch   |
 * | E1737 | the GPU device was lost                                                 |
 * | E1738 | one sample alone exceeds the device's limits (batches are sliced)       |
 */
export const RUNTIME_CODES = {
  manifestUnreadable: "E1700",
  manifestInvalid: "E1701",
  formatVersion: "E1702",
  fileMissing: "E1703",
  fileSize: "E1704",
  checksum: "E1705",
  unknownImport: "E1706",
  instantiate: "E1707",
  memoryLimit: "E1708",
  badOption: "E1709",
  batchShape: "E1710",
  denseWidth: "E1711",
  batchSize: "E1712",
  bagsShape: "E1713",
  idNotInteger: "E1714",
  idOutOfRange: "E1715",
  trap: "E1720",
  worker: "E1721",
  closed: "E1722",
  webgpuUnavailable: "E1730",
  noAdapter: "E1731",
  gpuLimits: "E1732",
  languageFeature: "E1733",
  shaderCompile: "E1734",
  gpuSetup: "E1735",
  gpuError: "E1736",
  deviceLost: "E1737",
  gpuBatchLimit: "E1738",
} as const;
