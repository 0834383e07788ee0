// The list of `rmc` commands, in the order `rmc --help` shows them.

import type { Command } from "../command.js";
import { check } from "./check.js";
import { ir } from "./ir.js";
import { passes } from "./passes.js";
import { run } from "./run.js";
import { compile } from "./compile.js";
import { verify } from "./verify.js";
import { debugNumerics } from "./debug-numerics.js";
import { initWeightsCmd } from "./init-weights.js";
import { genData } from "./gen-data.js";
import { dataStatsCmd } from "./data-stats.js";
import { exportOnnxCmd } from "./export-onnx.js";
import { importOnnxCmd } from "./import-onnx.js";
import { importTorchrecCmd } from "./import-torchrec.js";
import { storeCmd } from "./store.js";
import { serveCmd } from "./serve.js";
import { explainCmd } from "./explain.js";

export const COMMANDS: Command[] = [
  check,
  ir,
  passes,
  compile,
  run,
  verify,
  debugNumerics,
  initWeightsCmd,
  genData,
  dataStatsCmd,
  exportOnnxCmd,
  importOnnxCmd,
  importTorchrecCmd,
  storeCmd,
  serveCmd,
  explainCmd,
];
