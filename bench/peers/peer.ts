// The peer benchmark's common shape (`npm run bench -- --peers`, bench/peers/main.ts):
// every runtime that is timed against rmc — rmc itself, ONNX Runtime (Node and
// Web), TensorFlow.js and the reference interpreter — is a `Peer` that loads
// the same model and weights from files and predicts the same batches. A
// peer may turn a batch into its own input format before timing starts
// (`prepare`, e.g. int64 ids for ONNX); everything a user pays on each call
// (copies into the runtime, the run, reading the output) is in `run`.

import type { Batch } from "../../src/data/batch.js";

/** The files every peer loads from: one model, one set of weights, in each runtime's format. */
export interface PeerFiles {
  /** The DSL model (bench/dlrm_kaggle_100k.rmdl). */
  rmdl: string;
  /** Its weights (safetensors, DSL names). */
  weights: string;
  /** rmc artifacts: fp32, and `--precision auto` (absent when not built). */
  rmcFp32: string;
  rmcAuto?: string;
  /** The precision plan rmcAuto was compiled from. */
  rmcAutoPlan?: string;
  /** ONNX models: fp32, and int8 in ONNX Runtime's dynamic quantization form. */
  onnxFp32?: string;
  onnxInt8?: string;
  /** The auto plan exported as ONNX: rmc's own int8 scheme (int8Form exact), quantized tables as the f32 values rmc reads. */
  onnxPlan?: string;
}

/** A loaded peer, ready to predict. */
export interface PeerModel {
  /** The batch in the peer's own input format (not timed). */
  prepare(batch: Batch): unknown;
  /** One prediction on a prepared batch: the output `ctr`, one probability per sample. */
  run(prepared: unknown): Promise<Float32Array> | Float32Array;
  /** What actually ran (binary, threads, execution provider), for the report. */
  readonly detail: string;
  close(): Promise<void> | void;
}

/** A runtime in the comparison. */
export interface Peer {
  /** Short key (`rmc-fp32`, `ort-web-int8`, ...), used in options and JSON. */
  readonly key: string;
  /** Column label in the table. */
  readonly label: string;
  /** Outputs equal to the reference's within this absolute tolerance — a larger difference fails the run. */
  readonly tolerance: number;
  /**
   * What the outputs are checked against, when not the fp32 interpreter: a
   * peer running the auto plan against the interpreter running that plan; a
   * quantized peer whose scheme rmc's interpreter does not define against
   * another runtime running the same file (its distance to fp32 is still
   * reported).
   */
  readonly reference?: { label: string; outputs(files: PeerFiles, batch: Batch): Promise<Float32Array> };
  /** Whether this peer can run with `threads` compute threads in this process; a reason when not. */
  supports(threads: number): true | string;
  /** Loads the model from files, with `threads` compute threads. */
  load(files: PeerFiles, threads: number): Promise<PeerModel>;
}

/** Tolerance of fp32 peers: summation order differs between runtimes, so not bit-exact. */
export const FP32_TOLERANCE = 1e-4;
/** Tolerance of one quantized ONNX file run by two ONNX Runtime builds (rounding of the dynamic scales may differ by an ulp). */
export const SAME_FILE_TOLERANCE = 1e-3;
