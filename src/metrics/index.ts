// The metrics module's public face: binary accuracy metrics (log loss, NE,
// AUC, calibration) and their CLI rendering, for `rmc run` (on labeled data)
// and the precision search.

export { BinaryMetrics, type BinaryMetricsResult, LOG_LOSS_EPS, METRICS_ERROR, binaryEntropy, neDeltaPercent } from "./binary.js";
export { formatMetrics } from "./format.js";
