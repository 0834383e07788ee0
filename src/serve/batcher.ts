// The dynamic batcher of `rmc serve`, with Triton's semantics: requests (each
// of any number of samples, already checked) queue in arrival order; a batch
// is sent when it holds `maxBatch` samples or its oldest request has waited
// `maxDelayUs`; one predict call per batch; each request gets its own rows of
// the outputs back. While one batch computes the next one forms and is handed
// to the model at once (its calls run back to back), so the compute threads
// never idle while requests wait. A full queue refuses a request (503), and a
// request whose deadline passes in the queue is dropped (504) without being
// computed.

import { RmcError, error } from "../diagnostics/index.js";
import type { DenseOrBags, PreparedBatch } from "../runtime/inputs.js";
import type { InputSignature, OutputSignature } from "../runtime/manifest.js";
import { mergeRequests, splitOutputs } from "./merge.js";

/** How batches are formed. */
export interface BatcherOptions {
  /** Samples per predict call at most (a larger request runs alone). */
  maxBatch: number;
  /** How long the oldest request may wait for others, in microseconds (0: send at once). */
  maxDelayUs: number;
  /** Samples waiting at most; a request that would pass it is refused. */
  maxQueue: number;
  /** Batches handed to the model at once (one computing, the next ready behind it). */
  inFlight?: number;
}

/** What a request got: its outputs and where its time went. */
export interface Answer {
  outputs: Record<string, Float32Array>;
  /** Milliseconds waiting in the queue, and computing its batch. */
  queueMs: number;
  computeMs: number;
  /** Samples in the batch it ran in. */
  batch: number;
}

/** Why a request was not answered: the queue was full (503), its deadline passed (504), or the batch failed. */
export class RequestRefused extends Error {
  constructor(
    readonly status: 503 | 504,
    message: string,
  ) {
    super(message);
  }
}

interface Job {
  prepared: PreparedBatch;
  size: number;
  enqueued: number;
  deadline: number;
  resolve(a: Answer): void;
  reject(e: unknown): void;
}

/** Runs merged batches: the model's predict. */
export type RunBatch = (inputs: Record<string, DenseOrBags>, size: number) => Promise<Record<string, Float32Array>>;

export class Batcher {
  private readonly queue: Job[] = [];
  private queued = 0;
  private running = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private idle: (() => void)[] = [];
  /** Batches sent, and the busy time of the model (for utilisation). */
  batches = 0;
  busyMs = 0;

  constructor(
    private readonly inputs: readonly InputSignature[],
    private readonly outputs: readonly OutputSignature[],
    private readonly run: RunBatch,
    private readonly opts: BatcherOptions,
  ) {}

  /** Samples waiting now. */
  get depth(): number {
    return this.queued;
  }

  /** Queues a checked request; resolves with its outputs. `timeoutMs`: drop it if it has not started by then. */
  submit(prepared: PreparedBatch, timeoutMs?: number): Promise<Answer> {
    if (this.closed) return Promise.reject(new RequestRefused(503, "the model is being replaced or shut down: retry"));
    if (this.queued + prepared.size > this.opts.maxQueue && this.queued > 0)
      return Promise.reject(
        new RequestRefused(503, `the queue is full (${this.queued} samples waiting, at most ${this.opts.maxQueue}): retry later`),
      );
    return new Promise<Answer>((resolve, reject) => {
      const now = performance.now();
      this.queue.push({
        prepared,
        size: prepared.size,
        enqueued: now,
        deadline: timeoutMs === undefined ? Infinity : now + timeoutMs,
        resolve,
        reject,
      });
      this.queued += prepared.size;
      this.schedule();
    });
  }

  /** Sends a batch now if one is due, or sets the timer for when the oldest request's wait runs out. */
  private schedule(): void {
    while (this.queue.length > 0 && this.running < (this.opts.inFlight ?? 2)) {
      const oldest = this.queue[0]!;
      const waited = (performance.now() - oldest.enqueued) * 1000;
      if (this.queued < this.opts.maxBatch && waited < this.opts.maxDelayUs && !this.closed) {
        if (!this.timer)
          this.timer = setTimeout(() => ((this.timer = undefined), this.schedule()), Math.max(0, (this.opts.maxDelayUs - waited) / 1000));
        return;
      }
      this.send();
    }
  }

  /** Takes requests in arrival order up to maxBatch samples (a larger first request alone) and runs them as one call. */
  private send(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const now = performance.now();
    const jobs: Job[] = [];
    let size = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (jobs.length > 0 && size + next.size > this.opts.maxBatch) break;
      this.queue.shift();
      this.queued -= next.size;
      if (next.deadline < now) {
        next.reject(new RequestRefused(504, `the request waited ${(now - next.enqueued).toFixed(1)} ms in the queue, past its timeout`));
        continue;
      }
      jobs.push(next);
      size += next.size;
    }
    if (jobs.length === 0) return;
    this.running++;
    this.batches++;
    const t0 = performance.now();
    const merged = mergeRequests(
      this.inputs,
      jobs.map((j) => j.prepared),
    );
    this.run(merged, size)
      .then(
        (results) => {
          const ms = performance.now() - t0;
          const parts = splitOutputs(
            this.outputs,
            results,
            jobs.map((j) => j.size),
          );
          jobs.forEach((j, r) => j.resolve({ outputs: parts[r]!, queueMs: t0 - j.enqueued, computeMs: ms, batch: size }));
        },
        (err: unknown) => {
          for (const j of jobs) j.reject(err);
        },
      )
      .finally(() => {
        this.busyMs += performance.now() - t0;
        this.running--;
        this.schedule();
        if (this.running === 0 && this.queue.length === 0) for (const f of this.idle.splice(0)) f();
      });
  }

  /** Stops taking requests, sends what waits at once, and resolves when every request is answered. */
  drain(): Promise<void> {
    this.closed = true;
    this.schedule();
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }
}

/** An internal error of a batch, as a request sees it (the runtime's message, or a generic one). */
export const batchFailure = (err: unknown): RmcError =>
  err instanceof RmcError ? err : new RmcError(error("E0001", `the batch failed: ${err instanceof Error ? err.message : String(err)}`));
