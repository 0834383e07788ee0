// The Prometheus metrics of `rmc serve` (prom-client, a registry of the
// server's own): requests by model, version and status; histograms of queue
// wait, compute and total time per request and of batch sizes; and, read
// when scraped, each model's queue depth, the share of time its compute was
// busy, and — for tables placed outside memory — its store's bytes and
// time fetched and its cache's hit rate.

import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Repository } from "./models.js";
import type { StagingStats } from "../runtime/index.js";

const SECONDS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: "rmc_requests_total",
    help: "Inference requests by model, version and HTTP status",
    labelNames: ["model", "version", "status"],
    registers: [this.registry],
  });
  readonly samples = new Counter({
    name: "rmc_samples_total",
    help: "Samples predicted, by model and version",
    labelNames: ["model", "version"],
    registers: [this.registry],
  });
  readonly queueWait = new Histogram({
    name: "rmc_queue_wait_seconds",
    help: "Time a request waited in the batcher's queue",
    labelNames: ["model"],
    buckets: SECONDS,
    registers: [this.registry],
  });
  readonly compute = new Histogram({
    name: "rmc_compute_seconds",
    help: "Compute time of the batch a request ran in",
    labelNames: ["model"],
    buckets: SECONDS,
    registers: [this.registry],
  });
  readonly total = new Histogram({
    name: "rmc_request_seconds",
    help: "Time from a request's arrival to its answer",
    labelNames: ["model"],
    buckets: SECONDS,
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: "rmc_batch_size",
    help: "Samples per predict call",
    labelNames: ["model"],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096],
    registers: [this.registry],
  });

  constructor(repo: Repository) {
    const last = new Map<string, { at: number; busy: number }>();
    new Gauge({
      name: "rmc_queue_depth",
      help: "Samples waiting in a model's queue",
      labelNames: ["model"],
      registers: [this.registry],
      collect() {
        for (const s of repo.all()) this.set({ model: s.name }, s.batcher.depth);
      },
    });
    new Gauge({
      name: "rmc_compute_utilization",
      help: "Share of the time since the last scrape that a model's compute (its worker threads) was busy",
      labelNames: ["model"],
      registers: [this.registry],
      collect() {
        const now = performance.now();
        for (const s of repo.all()) {
          const prev = last.get(s.name) ?? { at: s.loadedAt === 0 ? now : now - 1000, busy: s.batcher.busyMs };
          this.set({ model: s.name }, Math.min(1, (s.batcher.busyMs - prev.busy) / Math.max(1, now - prev.at)));
          last.set(s.name, { at: now, busy: s.batcher.busyMs });
        }
      },
    });
    const store = (name: string, help: string, read: (st: StagingStats) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ["model", "version"],
        registers: [this.registry],
        collect() {
          for (const s of repo.all()) {
            const st = s.model.storeStats();
            if (st) this.set({ model: s.name, version: s.version }, read(st));
          }
        },
      });
    store("rmc_store_fetch_bytes", "Bytes read from the embedding store (file or Redis) since the version loaded", (st) => st.bytes);
    store("rmc_store_fetch_seconds", "Time spent waiting for embedding store reads since the version loaded", (st) => st.fetchMs / 1000);
    store("rmc_store_cache_hit_ratio", "Share of store rows the row cache answered since the version loaded", (st) =>
      st.rows ? st.hits / st.rows : 1,
    );
    store("rmc_store_rows_staged", "Rows staged for store-placed tables since the version loaded", (st) => st.staged);
  }
}
