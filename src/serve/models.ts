// The model repository of `rmc serve`: the artifacts served, by name, each
// with its current version (a loaded model and its batcher). Loading a new
// version of a name loads and checks it beside the old one, then swaps it in
// at once; requests already queued finish on the old version, which is then
// drained and closed. A version that fails to load leaves the old one
// serving, and the failure is the load's answer.

import { RmcError, error, type Code } from "../diagnostics/index.js";
import { load, type LoadOptions, type Model } from "../runtime/index.js";
import { Batcher, type BatcherOptions } from "./batcher.js";

/** One loaded version of a served model. */
export interface Served {
  name: string;
  /** 1, 2, … per name, in load order. */
  version: string;
  dir: string;
  model: Model;
  batcher: Batcher;
  loadedAt: number;
}

/** Why a name cannot be served. */
export const SERVE_CODES = { load: "E2101", name: "E2102" } as const satisfies Record<string, Code>;

export class Repository {
  private readonly served = new Map<string, Served>();
  private readonly versions = new Map<string, number>();
  private readonly loading = new Map<string, Promise<Served>>();
  /** Old versions still draining (for shutdown). */
  private readonly retiring = new Set<Promise<void>>();

  constructor(
    private readonly loadOptions: LoadOptions,
    private readonly batching: BatcherOptions,
    private readonly onSwap: (name: string, from: Served | undefined, to: Served) => void = () => {},
  ) {}

  get(name: string): Served | undefined {
    return this.served.get(name);
  }

  names(): string[] {
    return [...this.served.keys()].sort();
  }

  all(): Served[] {
    return [...this.served.values()];
  }

  /** Loads `dir` as the next version of `name` (its model's own name by default) and swaps it in; one load per name at a time. */
  async load(dir: string, name?: string): Promise<Served> {
    const pending = name !== undefined ? this.loading.get(name) : undefined;
    if (pending) await pending.catch(() => undefined);
    const task = this.loadVersion(dir, name);
    if (name !== undefined) this.loading.set(name, task);
    try {
      return await task;
    } finally {
      if (name !== undefined && this.loading.get(name) === task) this.loading.delete(name);
    }
  }

  private async loadVersion(dir: string, wanted?: string): Promise<Served> {
    let model: Model;
    try {
      model = await load(dir, this.loadOptions);
    } catch (e) {
      const why = e instanceof RmcError ? e.message : (e as Error).message;
      throw new RmcError(error(SERVE_CODES.load, `cannot load ${dir}${wanted ? ` as model ${wanted}` : ""}: ${why}`));
    }
    const name = wanted ?? model.manifest.model.name;
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || name === "__proto__" || name === "constructor" || name === "prototype") {
      await model.close();
      throw new RmcError(error(SERVE_CODES.name, `\`${name}\` cannot name a served model: use letters, digits, _ . - (NAME=DIR picks another)`));
    }
    const version = String((this.versions.get(name) ?? 0) + 1);
    this.versions.set(name, Number(version));
    const batcher = new Batcher(model.inputs, model.outputs, (inputs) => model.predict(inputs), this.batching);
    const next: Served = { name, version, dir, model, batcher, loadedAt: Date.now() };
    const old = this.served.get(name);
    this.served.set(name, next);
    this.onSwap(name, old, next);
    if (old) {
      // Requests already queued on the old version finish there; then it goes.
      const retire = old.batcher
        .drain()
        .then(() => old.model.close())
        .catch(() => undefined)
        .finally(() => this.retiring.delete(retire));
      this.retiring.add(retire);
    }
    return next;
  }

  /** Drains every version (queued requests are answered) and closes the models. */
  async close(): Promise<void> {
    await Promise.all(
      this.all().map(async (s) => {
        await s.batcher.drain();
        await s.model.close();
      }),
    );
    await Promise.all([...this.retiring]);
    this.served.clear();
  }
}
