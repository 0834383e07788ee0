// The synthetic data generator behind `rmc gen-data`: draws raw inputs
// (synth.ts), asks the model for its logits, draws labels from a fitted
// teacher (teacher.ts) and streams Criteo-format TSV to disk in chunks
// (gzipped for a `.gz` path, which every reader takes back), so memory stays
// flat for any size. Deterministic for a given seed.

import { createWriteStream, mkdirSync, promises as fsp, type WriteStream } from "node:fs";
import { dirname } from "node:path";
import type { Writable } from "node:stream";
import { createGzip } from "node:zlib";
import { RmcError } from "../diagnostics/index.js";
import { tempPath } from "../util/fs.js";
import { Rng, hashSeed } from "../util/rng.js";
import type { Batch } from "./batch.js";
import type { DenseMode } from "./builder.js";
import type { DataSchema } from "./schema.js";
import { InputSampler, rawToBatch, rawToTsv, type SynthOptions } from "./synth.js";
import { entropy, fitTeacher, identityTeacher, type Teacher } from "./teacher.js";

/** Options of `generateData`. */
export interface GenerateOptions extends SynthOptions {
  schema: DataSchema;
  /** Samples to write. */
  rows: number;
  seed: number;
  /** Output file path. */
  out: string;
  /** The model's logit per labeled output (schema.labels order), one value per sample. */
  logits: (batch: Batch) => Float32Array[] | Promise<Float32Array[]>;
  /** `fit` (default) fits scale and shift to `ctr` and `ne`; `as-is` uses p = sigmoid(logit). */
  teacher?: "fit" | "as-is";
  /** Target CTR (default 0.25). */
  ctr?: number;
  /** Target teacher NE (default 0.8). */
  ne?: number;
  /** Samples per chunk (default 4096). Does not change the output. */
  chunk?: number;
  /** Dense preprocessing of the batches given to `logits` (default log1p, as the reader does). */
  dense?: DenseMode;
  onProgress?: (rowsDone: number) => void;
  /** Sees every written chunk as a Batch, labels included. */
  onBatch?: (batch: Batch) => void;
}

/** What the teacher of one output did. */
export interface OutputReport {
  name: string;
  scale: number;
  shift: number;
  /** CTR of the written labels. */
  ctr: number;
  /** NE of the teacher's p on the written labels. */
  ne: number;
  /** Present when the NE target could not be met. */
  note?: string;
}

/** Summary of a generated file. */
export interface GenerateReport {
  out: string;
  rows: number;
  /** Bytes of the file as written (compressed, for a `.gz` path). */
  bytes: number;
  outputs: OutputReport[];
}

/** Rows of the pilot sample that the teacher is fitted on. */
export const PILOT_ROWS = 4096;

/** Writes `opts.rows` synthetic samples to `opts.out` (through a temp file renamed at the end). */
export async function generateData(opts: GenerateOptions): Promise<GenerateReport> {
  const { schema, rows, seed } = opts;
  if (!(Number.isInteger(rows) && rows >= 0)) throw new RmcError(`the number of rows must be a non-negative integer, got ${rows}`, "E0709");
  const chunk = Math.max(1, Math.floor(opts.chunk ?? 4096));
  const sampler = new InputSampler(schema, opts);
  const teachers = await fitTeachers(opts, sampler);
  const inputRng = new Rng(hashSeed("rmc-data-inputs", seed));
  const labelRng = new Rng(hashSeed("rmc-data-labels", seed));
  const tally = teachers.map(() => ({ positives: 0, logLoss: 0 }));
  const sink = new AtomicFile(opts.out);
  let bytes = 0;
  try {
    for (let done = 0; done < rows;) {
      const n = Math.min(chunk, rows - done);
      const raw = sampler.sample(inputRng, n);
      const batch = rawToBatch(schema, raw, { dense: opts.dense });
      const labels = drawLabels(await modelLogits(opts, batch), teachers, labelRng, tally, schema.labels);
      const text = rawToTsv(schema, raw, labels);
      bytes += Buffer.byteLength(text);
      await sink.write(text);
      if (opts.onBatch) opts.onBatch({ ...batch, labels: Object.fromEntries(schema.labels.map((name, o) => [name, labels[o]!])) });
      done += n;
      opts.onProgress?.(done);
    }
    await sink.commit();
    if (opts.out.endsWith(".gz")) bytes = (await fsp.stat(opts.out)).size;
  } catch (e) {
    await sink.abort();
    throw e;
  }
  return {
    out: opts.out,
    rows,
    bytes,
    outputs: teachers.map((t, o) => {
      const ctr = rows ? tally[o]!.positives / rows : t.ctr;
      const h = entropy(ctr);
      const ne = rows && h > 0 ? tally[o]!.logLoss / rows / h : t.ne;
      return { name: schema.labels[o]!, scale: t.scale, shift: t.shift, ctr, ne, ...(t.note ? { note: t.note } : {}) };
    }),
  };
}

/** Fits one teacher per output on a pilot sample drawn from its own seed-derived stream. */
async function fitTeachers(opts: GenerateOptions, sampler: InputSampler): Promise<Teacher[]> {
  if (opts.schema.labels.length === 0) return [];
  const pilotRng = new Rng(hashSeed("rmc-data-pilot", opts.seed));
  const pilot = rawToBatch(opts.schema, sampler.sample(pilotRng, PILOT_ROWS), { dense: opts.dense });
  const logits = await modelLogits(opts, pilot);
  return logits.map((z, o) => {
    if (opts.teacher === "as-is") return identityTeacher(z);
    try {
      return fitTeacher(z, { ctr: opts.ctr, ne: opts.ne });
    } catch (e) {
      if (e instanceof RmcError && opts.schema.labels.length > 1)
        throw new RmcError({ code: e.diagnostics[0]!.code, severity: "error", message: `output ${opts.schema.labels[o]}: ${e.message}` });
      throw e;
    }
  });
}

/** Calls the model and checks it gave one logit per sample for every labeled output. */
async function modelLogits(opts: GenerateOptions, batch: Batch): Promise<Float32Array[]> {
  const logits = await opts.logits(batch);
  const want = opts.schema.labels.length;
  if (logits.length !== want) throw new Error(`generateData: logits() returned ${logits.length} arrays, expected ${want} (one per output)`);
  logits.forEach((z, o) => {
    if (z.length !== batch.size)
      throw new Error(`generateData: logits for output ${opts.schema.labels[o]} has ${z.length} values for a batch of ${batch.size}`);
  });
  return logits;
}

/** Bernoulli labels from each output's teacher, drawn sample-major so chunking cannot change them. */
function drawLabels(
  logits: Float32Array[],
  teachers: Teacher[],
  rng: Rng,
  tally: { positives: number; logLoss: number }[],
  names: string[],
): Float32Array[] {
  const n = logits[0]?.length ?? 0;
  const labels = logits.map(() => new Float32Array(n));
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < teachers.length; o++) {
      const t = teachers[o]!;
      const x = t.scale * logits[o]![i]! + t.shift;
      if (Number.isNaN(x)) throw new RmcError(`the model produced a NaN logit for output ${names[o]}; cannot draw a label`, "E0708");
      const p = Math.min(1 - 1e-15, Math.max(1e-15, 1 / (1 + Math.exp(-x))));
      const y = rng.next() < p ? 1 : 0;
      labels[o]![i] = y;
      tally[o]!.positives += y;
      tally[o]!.logLoss -= y ? Math.log(p) : Math.log1p(-p);
    }
  }
  return labels;
}

/**
 * A file streamed to a temp name beside it (util/fs's convention, parent
 * folders created) and renamed into place by `commit`, so an error never
 * leaves a half-written file.
 * File-system errors come out as RmcErrors naming the target file.
 */
class AtomicFile {
  private readonly tmp: string;
  private readonly stream: WriteStream;
  /** What text is written to: the file, or a gzip stream into it for a `.gz` path (the format the readers take back). */
  private readonly sink: Writable;
  private failure: Error | undefined;

  constructor(readonly path: string) {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (e) {
      this.fail(e as Error);
    }
    this.tmp = tempPath(path);
    this.stream = createWriteStream(this.tmp);
    this.stream.on("error", (e) => (this.failure ??= e));
    this.sink = this.stream;
    if (path.endsWith(".gz")) {
      const gzip = createGzip();
      gzip.on("error", (e) => (this.failure ??= e));
      gzip.pipe(this.stream);
      this.sink = gzip;
    }
  }

  /** Writes text, waiting for 'drain' when the stream's buffer is full (backpressure). */
  async write(text: string): Promise<void> {
    this.check();
    if (this.sink.write(text)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.sink.off("drain", done);
        this.stream.off("error", done);
        resolve();
      };
      this.sink.once("drain", done);
      this.stream.once("error", done);
    });
    this.check();
  }

  /** Flushes, closes and renames the temp file onto the target. */
  async commit(): Promise<void> {
    this.check();
    await new Promise<void>((resolve) => {
      this.stream.once("error", () => resolve());
      this.stream.once("finish", () => resolve());
      this.sink.end();
    });
    this.check();
    await fsp.rename(this.tmp, this.path).catch((e: Error) => this.fail(e));
  }

  /** Drops the temp file. */
  async abort(): Promise<void> {
    this.sink.destroy();
    this.stream.destroy();
    await fsp.rm(this.tmp, { force: true });
  }

  private check(): void {
    if (this.failure) this.fail(this.failure);
  }

  private fail(e: Error): never {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOTDIR" || code === "EEXIST"
        ? `${dirname(this.path)} is not a directory`
        : code === "EACCES"
          ? "permission denied"
          : code === "ENOSPC"
            ? "no space left on the device"
            : e.message;
    throw new RmcError(`cannot write ${this.path}: ${why}`, "E0710");
  }
}
