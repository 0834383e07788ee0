// Runtime: the diagnostic codes the artifact loader and `predict` report (the
// E17xx range). Loading problems (E170x) come from a damaged or mismatched
// dist/ folder; request problems (E171x) from a batch that does not fit the
// model's signature; E172x from the running code and its threads; E173x from
// WebGPU (adapter, device, shaders, GPU errors) for `wgsl` artifacts; E174x
// from the store of tables placed outside memory, and E1747 from a Wasm
// manifest whose layout is not the one its code was compiled for.

import type { Code } from "../diagnostics/index.js";

/** Names for the runtime's codes; what each means is in src/diagnostics/codes.ts. */
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
  storeConfig: "E1744",
  stagingFull: "E1745",
  codeLayout: "E1747",
} as const satisfies Record<string, Code>;
