// `rmc serve DIST/ [NAME=DIST2/ …]`: the inference server (src/serve) over
// compiled artifacts, until SIGTERM or SIGINT, which drain what is queued
// and exit 0. A thin layer over `serve()`: flags in, a listening line out.

import { RmcError } from "../../diagnostics/index.js";
import { parseOptionValue } from "../../pipeline/index.js";
import { choiceFlag, numberFlag } from "../args.js";
import type { Command } from "../command.js";

export const serveCmd: Command = {
  spec: {
    name: "serve",
    usage: "rmc serve DIST/ [NAME=DIST2/ …] [--port 8080] [--host 127.0.0.1] [--threads N] [--max-batch 512] [--max-delay-us 2000]",
    summary: "serve artifacts over HTTP (KServe v2 / Triton protocol) with dynamic batching, metrics and live model updates",
    details:
      "Endpoints: POST /v2/models/NAME/infer (KServe v2 JSON or binary tensors, or plain JSON samples),\n" +
      "GET /v2/health/live|ready, GET /v2/models/NAME[/ready], POST /v2/repository/models/NAME/load,\n" +
      "GET /metrics (Prometheus). docs/serving.md has the formats and curl examples.",
    positionals: { min: 0, max: 64 },
    flags: {
      port: { type: "string", value: "N", doc: "TCP port (0: any free one)", default: "8080" },
      host: { type: "string", value: "ADDR", doc: "address to listen on", default: "127.0.0.1" },
      threads: { type: "string", value: "N", doc: "compute threads per model (default: all cores)" },
      "max-batch": { type: "string", value: "N", doc: "samples per predict call at most", default: "512" },
      "max-delay-us": { type: "string", value: "US", doc: "how long the oldest request waits for others (0: no batching delay)", default: "2000" },
      "max-queue": { type: "string", value: "N", doc: "samples waiting at most; past it requests get 503", default: "4096" },
      "max-body": { type: "string", value: "SIZE", doc: "largest request body", default: "16MiB" },
      "request-timeout-ms": { type: "string", value: "MS", doc: "a client slower than this to send its request gets 408", default: "30000" },
      watch: { type: "string", value: "DIR", doc: "serve every artifact folder in DIR by its name, reloading it when it changes" },
      "log-level": { type: "string", value: "L", doc: "debug (a line per request), info (a summary per second) or warn", default: "info" },
      cache: { type: "string", value: "SIZE", doc: "store-placed tables: row cache per model" },
      redis: { type: "string", value: "HOST:PORT,…", doc: "store-placed tables in a Redis Cluster: its nodes" },
    },
  },
  async run(args, io) {
    const cmd = "serve";
    const models = args.positionals.map((p) => {
      const at = p.indexOf("=");
      return at > 0 ? { name: p.slice(0, at), dir: p.slice(at + 1) } : { dir: p };
    });
    if (models.length === 0 && typeof args.flags.watch !== "string") throw new RmcError("rmc serve: give artifact folders, or --watch DIR", "E0902");
    const body = parseOptionValue({ type: "bytes" }, String(args.flags["max-body"]));
    if ("error" in body) throw new RmcError(`rmc serve: --max-body ${body.error}`, "E0903");
    const threads = numberFlag(args, "threads", cmd, { integer: true, min: 1, max: 256 });
    const { serve } = await import("../../serve/server.js");
    const server = await serve({
      models,
      host: args.flags.host as string,
      port: numberFlag(args, "port", cmd, { integer: true, min: 0, max: 65535 })!,
      ...(threads !== undefined ? { threads } : {}),
      maxBatch: numberFlag(args, "max-batch", cmd, { integer: true, min: 1, max: 1 << 20 })!,
      maxDelayUs: numberFlag(args, "max-delay-us", cmd, { min: 0, max: 10_000_000 })!,
      maxQueue: numberFlag(args, "max-queue", cmd, { integer: true, min: 1 })!,
      maxBody: body.value as number,
      requestTimeoutMs: numberFlag(args, "request-timeout-ms", cmd, { integer: true, min: 100, max: 3_600_000 })!,
      logLevel: choiceFlag(args, "log-level", cmd, ["debug", "info", "warn"] as const)!,
      log: (line) => io.err(line + "\n"),
      ...(typeof args.flags.watch === "string" ? { watch: args.flags.watch } : {}),
      ...(typeof args.flags.cache === "string" ? { cache: args.flags.cache } : {}),
      ...(typeof args.flags.redis === "string"
        ? {
            redis: args.flags.redis
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean),
          }
        : {}),
    });
    io.out(`serving ${server.repository.names().join(", ")} at ${server.url}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off("SIGTERM", stop);
        process.off("SIGINT", stop);
        void server.close().then(resolve);
      };
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
    });
    io.out("drained and stopped\n");
    return 0;
  },
};
