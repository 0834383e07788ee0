// `rmc serve`'s HTTP face (fastify): the KServe v2 / Triton inference protocol
// — health, server and model metadata, inference (JSON tensors, the binary
// tensor data extension, or plain JSON samples), the model repository's load —
// and Prometheus metrics. Each request is checked alone against its model's
// signature before it joins a batch, so a bad one gets its 4xx and the
// others are not held up; the dynamic batcher (batcher.ts) does the rest.
// `serve()` is the library entry; src/cli/commands/serve.ts the command.

import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { RmcError } from "../diagnostics/index.js";
import { prepareBatch } from "../runtime/inputs.js";
import { samplesToBatch } from "../runtime/samples.js";
import type { LoadOptions } from "../runtime/index.js";
import { RequestRefused } from "./batcher.js";
import { ServerMetrics } from "./metrics.js";
import { Repository, type Served } from "./models.js";
import { ProtocolError, inferResponse, inputTensors, outputTensors, parseInfer, splitBody } from "./protocol.js";
import { watchModels } from "./watch.js";

/** How to serve. */
export interface ServeOptions {
  /** Artifact folders, each served under its model's name (or `name`). */
  models: { dir: string; name?: string }[];
  host?: string;
  /** 0: any free port. */
  port?: number;
  threads?: number;
  maxBatch?: number;
  maxDelayUs?: number;
  maxQueue?: number;
  /** Largest request body, in bytes (default 16 MiB). */
  maxBody?: number;
  /** A client that has not sent its whole request in this time gets 408 and its socket closed (default 30 s): slow clients cannot hold sockets forever. */
  requestTimeoutMs?: number;
  /** A folder of artifact folders (NAME/manifest.json), each served as NAME and reloaded when it changes. */
  watch?: string;
  /** Load options for store-placed tables. */
  cache?: number | string;
  redis?: readonly string[];
  /** "debug": one JSON line per request; "info": a summary line per second with traffic; "warn": loads and errors only. */
  logLevel?: "debug" | "info" | "warn";
  log?: (line: string) => void;
}

/** A running server. */
export interface Server {
  url: string;
  port: number;
  repository: Repository;
  metrics: ServerMetrics;
  /** Stops taking connections, answers what is queued, closes the models. */
  close(): Promise<void>;
}

const errorBody = (message: string) => ({ error: message });

/** Starts serving; resolves once every model is loaded and the port listens. */
export async function serve(opts: ServeOptions): Promise<Server> {
  const log = opts.log ?? ((line: string) => void process.stderr.write(line + "\n"));
  const level = opts.logLevel ?? "info";
  const loadOptions: LoadOptions = {
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    ...(opts.cache !== undefined ? { cache: opts.cache } : {}),
    ...(opts.redis ? { redis: opts.redis } : {}),
    batchCapacity: opts.maxBatch ?? 512,
  };
  const repo = new Repository(
    loadOptions,
    { maxBatch: opts.maxBatch ?? 512, maxDelayUs: opts.maxDelayUs ?? 2000, maxQueue: opts.maxQueue ?? 4096 },
    (name, from, to) =>
      log(
        JSON.stringify({
          level: "info",
          event: "model-loaded",
          model: name,
          version: to.version,
          dir: to.dir,
          ...(from ? { replaces: from.version } : {}),
        }),
      ),
  );
  for (const m of opts.models) await repo.load(m.dir, m.name);
  const stopWatch = opts.watch ? await watchModels(opts.watch, repo, log) : undefined;
  const metrics = new ServerMetrics(repo);
  const slowMs = opts.requestTimeoutMs ?? 30_000;
  const app = Fastify({
    bodyLimit: opts.maxBody ?? 16 * 2 ** 20,
    connectionTimeout: 60_000,
    requestTimeout: slowMs,
    // Node cuts off headers that are slow to come (headersTimeout, checked every connectionsCheckingInterval: 30 s by
    // default); a body that stalls once the headers are in is cut off by the onRequest hook below, which Node does not do.
    http: { headersTimeout: slowMs, requestTimeout: slowMs, connectionsCheckingInterval: Math.max(100, Math.min(1000, slowMs / 4)) },
    keepAliveTimeout: 5_000,
    logger: false,
  });
  app.addHook("onRequest", async (req, reply) => {
    const timer = setTimeout(() => {
      if (reply.raw.headersSent) return;
      reply.raw.writeHead(408, { "content-type": "application/json; charset=utf-8", connection: "close" });
      reply.raw.end(JSON.stringify(errorBody(`the request was not received whole within ${slowMs} ms (--request-timeout-ms)`)));
      req.raw.socket?.destroySoon();
    }, slowMs);
    const clear = () => clearTimeout(timer);
    req.raw.once("end", clear);
    req.raw.once("close", clear);
    reply.raw.once("close", clear);
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    const message =
      err.code === "FST_ERR_CTP_BODY_TOO_LARGE"
        ? `the request body is over the ${opts.maxBody ?? 16 * 2 ** 20}-byte limit (--max-body)`
        : err.message;
    void reply.status(status).send(errorBody(message));
  });
  app.setNotFoundHandler((req, reply) => void reply.status(404).send(errorBody(`no route ${req.method} ${req.url}`)));
  routes(app, repo, metrics, level, log);
  const summary = level !== "warn" ? startSummary(repo, metrics, log) : undefined;
  await app.listen({ host: opts.host ?? "127.0.0.1", port: opts.port ?? 8080 });
  const port = (app.server.address() as { port: number }).port;
  log(JSON.stringify({ level: "info", event: "listening", url: `http://${opts.host ?? "127.0.0.1"}:${port}`, models: repo.names() }));
  let closing: Promise<void> | undefined;
  return {
    url: `http://${opts.host ?? "127.0.0.1"}:${port}`,
    port,
    repository: repo,
    metrics,
    close: () =>
      (closing ??= (async () => {
        stopWatch?.();
        if (summary) clearInterval(summary);
        await app.close(); // lets in-flight requests finish; new connections are refused
        await repo.close();
      })()),
  };
}

function modelOr404(repo: Repository, name: string, reply: FastifyReply): Served | undefined {
  const s = repo.get(name);
  if (!s) void reply.status(404).send(errorBody(`no model \`${name}\` (serving: ${repo.names().join(", ") || "none"})`));
  return s;
}

function routes(app: FastifyInstance, repo: Repository, metrics: ServerMetrics, level: string, log: (line: string) => void): void {
  app.get("/v2/health/live", async () => ({ live: true }));
  app.get("/v2/health/ready", async (_req, reply) => {
    const ready = repo.names().length > 0;
    return reply.status(ready ? 200 : 503).send({ ready });
  });
  app.get("/v2", async () => ({ name: "rmc", version: "2", extensions: ["binary_tensor_data", "model_repository"] }));
  app.get<{ Params: { name: string } }>("/v2/models/:name", async (req, reply) => {
    const s = modelOr404(repo, req.params.name, reply);
    if (!s) return reply;
    return { name: s.name, versions: [s.version], platform: "rmc", inputs: inputTensors(s.model.inputs), outputs: outputTensors(s.model.outputs) };
  });
  app.get<{ Params: { name: string } }>("/v2/models/:name/ready", async (req, reply) => {
    const s = modelOr404(repo, req.params.name, reply);
    if (!s) return reply;
    return { name: s.name, version: s.version, ready: true };
  });
  const infer = async (
    req: FastifyRequest<{ Params: { name: string; version?: string }; Querystring: Record<string, unknown> }>,
    reply: FastifyReply,
  ) => {
    const t0 = performance.now();
    const s = modelOr404(repo, req.params.name, reply);
    if (!s) return reply;
    if (req.params.version !== undefined && req.params.version !== s.version)
      return reply.status(404).send(errorBody(`model \`${s.name}\` has no version ${req.params.version} loaded (it serves version ${s.version})`));
    let status = 200;
    try {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const header = req.headers["inference-header-content-length"];
      const { json, binary } = splitBody(body, typeof header === "string" ? header : undefined);
      const parsed = parseInfer(json, binary, s.model.inputs, req.query ?? {});
      const typed = Array.isArray(parsed.inputs) ? samplesToBatch(s.model.inputs, parsed.inputs) : (parsed.inputs as Record<string, never>);
      const prepared = prepareBatch(s.model.inputs, typed);
      if (prepared.size === 0) throw new ProtocolError("the request holds no samples");
      const answer = await s.batcher.submit(prepared, parsed.timeoutMs);
      metrics.queueWait.observe({ model: s.name }, answer.queueMs / 1000);
      metrics.compute.observe({ model: s.name }, answer.computeMs / 1000);
      metrics.batchSize.observe({ model: s.name }, answer.batch);
      metrics.samples.inc({ model: s.name, version: s.version }, prepared.size);
      const out = inferResponse(s.name, s.version, s.model.outputs, answer.outputs, prepared.size, parsed);
      if (out.headerLength !== undefined) void reply.header("Inference-Header-Content-Length", out.headerLength).type("application/octet-stream");
      else void reply.type("application/json");
      if (level === "debug")
        log(
          JSON.stringify({
            level: "debug",
            event: "infer",
            model: s.name,
            version: s.version,
            samples: prepared.size,
            batch: answer.batch,
            queue_ms: round(answer.queueMs),
            compute_ms: round(answer.computeMs),
          }),
        );
      return reply.send(out.body);
    } catch (e) {
      status =
        e instanceof ProtocolError ? e.status : e instanceof RequestRefused ? e.status : e instanceof RmcError && isRequestError(e) ? 400 : 500;
      if (e instanceof RequestRefused && e.status === 503) void reply.header("Retry-After", "1");
      if (status >= 500)
        log(JSON.stringify({ level: "warn", event: "infer-failed", model: s.name, version: s.version, status, error: (e as Error).message }));
      return reply.status(status).send(errorBody((e as Error).message));
    } finally {
      metrics.requests.inc({ model: s.name, version: s.version, status: String(status) });
      metrics.total.observe({ model: s.name }, (performance.now() - t0) / 1000);
    }
  };
  app.post("/v2/models/:name/infer", infer);
  app.post("/v2/models/:name/versions/:version/infer", infer);
  app.post<{ Params: { name: string } }>("/v2/repository/models/:name/load", async (req, reply) => {
    let path: unknown;
    try {
      const json = Buffer.isBuffer(req.body) && req.body.length ? JSON.parse(req.body.toString("utf8")) : {};
      path = json?.parameters?.path ?? json?.path ?? repo.get(req.params.name)?.dir;
    } catch (e) {
      return reply.status(400).send(errorBody(`the load request is not JSON: ${(e as Error).message}`));
    }
    if (typeof path !== "string") return reply.status(400).send(errorBody(`give the artifact folder: { "parameters": { "path": "DIST/" } }`));
    try {
      const s = await repo.load(path, req.params.name);
      return { name: s.name, version: s.version, dir: s.dir };
    } catch (e) {
      log(JSON.stringify({ level: "warn", event: "load-failed", model: req.params.name, dir: path, error: (e as Error).message }));
      const old = repo.get(req.params.name);
      return reply.status(400).send(errorBody(`${(e as Error).message}${old ? `; version ${old.version} keeps serving` : ""}`));
    }
  });
  app.post("/v2/repository/index", async () => repo.all().map((s) => ({ name: s.name, version: s.version, state: "READY" })));
  app.get("/metrics", async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
}

/** A request's own mistakes (shapes, names, ids, values) as the runtime reports them: 400, not 500. */
const isRequestError = (e: RmcError): boolean => e.diagnostics.every((d) => /^E171\d$/.test(d.code));

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

/** Once a second with traffic: requests, samples and batches of the last second, per model. */
function startSummary(repo: Repository, metrics: ServerMetrics, log: (line: string) => void): ReturnType<typeof setInterval> {
  const seen = new Map<string, number>();
  const timer = setInterval(() => {
    for (const s of repo.all()) {
      const batches = s.batcher.batches;
      const before = seen.get(`${s.name}/${s.version}`) ?? 0;
      seen.set(`${s.name}/${s.version}`, batches);
      if (batches > before)
        log(
          JSON.stringify({ level: "info", event: "summary", model: s.name, version: s.version, batches: batches - before, queue: s.batcher.depth }),
        );
    }
    void metrics;
  }, 1000);
  timer.unref();
  return timer;
}
