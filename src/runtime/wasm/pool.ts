// Runtime, Wasm engine: the worker threads of a multi-threaded model. Each
// worker instantiates the threads module on the model's shared memory once,
// then runs `forward` on its own workspace when told to. Replies settle
// promises; a worker that fails or exits rejects what it owed with an RmcError
// instead of leaving a caller hanging, and `replaceDead` starts a new one in
// its place (a long-lived server must not lose a thread for good on one
// crash). Idle workers do not keep a Node process alive.

import { RmcError, error } from "../../diagnostics/index.js";
import { RUNTIME_CODES as C } from "../codes.js";
import type { ThreadHandle, WasmMemory, WasmModule } from "../host/platform.js";
import { spawnThread } from "../host/threads.js";

/** What every worker needs to instantiate the code. */
export interface WorkerInit {
  module: WasmModule;
  memory: WasmMemory;
  imports: readonly string[];
}

/** One `forward(ws, cap, batch)` call for a worker. */
export interface WorkerJob {
  ws: number;
  cap: number;
  batch: number;
}

/** Messages from the pool to worker.ts. */
export type ToWorker = ({ type: "init" } & WorkerInit) | ({ type: "run"; id: number } & WorkerJob);
/** Replies from worker.ts (`id` 0 answers "init"). */
export type FromWorker = { type: "ready" } | { type: "done"; id: number } | { type: "error"; id?: number; message: string; trap?: boolean };

interface Pending {
  resolve(): void;
  reject(err: Error): void;
}

class PooledWorker {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  alive = true;
  closing = false;

  constructor(
    readonly index: number,
    readonly thread: ThreadHandle,
  ) {
    thread.listen({
      message: (data) => this.onMessage(data as FromWorker),
      error: (err) => this.failAll(new RmcError(error(C.worker, `worker thread ${index} failed: ${err.message}`))),
      exit: () => {
        this.alive = false;
        this.failAll(new RmcError(error(C.worker, `worker thread ${index} exited unexpectedly`)));
      },
    });
  }

  /** Sends a message and resolves on its reply; id 0 is the init handshake. */
  request(message: ToWorker): Promise<void> {
    if (!this.alive) return Promise.reject(new RmcError(error(C.worker, `worker thread ${this.index} is not running`)));
    const id = message.type === "init" ? 0 : this.nextId++;
    const done = new Promise<void>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.thread.hold(true);
    this.thread.post(message.type === "run" ? { ...message, id } : message);
    return done;
  }

  private onMessage(reply: FromWorker): void {
    const id = reply.type === "ready" ? 0 : (reply.id ?? 0);
    const pending = this.pending.get(id);
    if (!pending) return;
    this.settle(id);
    if (reply.type !== "error") pending.resolve();
    else if (reply.trap) pending.reject(new RmcError(error(C.trap, `the model's code trapped in worker thread ${this.index}: ${reply.message}`)));
    else pending.reject(new RmcError(error(C.worker, `worker thread ${this.index}: ${reply.message}`)));
  }

  private settle(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0 && this.alive) this.thread.hold(false);
  }

  private failAll(err: Error): void {
    if (this.closing) return;
    for (const [id, pending] of [...this.pending]) {
      this.settle(id);
      pending.reject(err);
    }
  }
}

/** A fixed set of worker threads sharing one memory. */
export class WorkerPool {
  private closed = false;

  private constructor(
    private readonly workers: PooledWorker[],
    private readonly url: URL,
    private readonly init: WorkerInit,
  ) {}

  /** Starts `count` workers on the script at `url` and waits until each has instantiated the code. */
  static async start(url: URL, count: number, init: WorkerInit): Promise<WorkerPool> {
    const workers: PooledWorker[] = [];
    const pool = new WorkerPool(workers, url, init);
    try {
      for (let i = 0; i < count; i++) workers.push(await pool.spawn(i + 1));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** One worker, instantiated (a failed start terminates the thread before rethrowing). */
  private async spawn(index: number): Promise<PooledWorker> {
    const worker = new PooledWorker(index, await spawnThread(this.url));
    try {
      await worker.request({ type: "init", module: this.init.module, memory: this.init.memory, imports: [...this.init.imports] });
    } catch (err) {
      worker.closing = true;
      if (worker.alive) await worker.thread.terminate();
      throw err;
    }
    return worker;
  }

  /**
   * Starts a new worker in the place of each one that died; returns how many it
   * replaced. The dead worker's job was already rejected; the shared memory and
   * the workspaces are unchanged, so the new thread needs only the init.
   */
  async replaceDead(): Promise<number> {
    let replaced = 0;
    for (let i = 0; i < this.workers.length && !this.closed; i++) {
      if (this.workers[i]!.alive) continue;
      this.workers[i] = await this.spawn(i + 1);
      replaced++;
    }
    return replaced;
  }

  /** Workers still running. */
  get size(): number {
    return this.workers.filter((w) => w.alive).length;
  }

  /** Runs job i on worker i; settles once every job has (never leaves a worker busy behind a rejection). */
  async run(jobs: readonly WorkerJob[]): Promise<void> {
    const results = await Promise.allSettled(jobs.map((job, i) => this.workers[i]!.request({ type: "run", id: 0, ...job })));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  /** Terminates every worker and waits until they are gone. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.workers.map(async (w) => {
        w.closing = true;
        // `alive` turns false on the thread's exit event, so `size` reports real exits.
        if (w.alive) await w.thread.terminate();
      }),
    );
  }
}
