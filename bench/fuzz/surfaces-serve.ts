// Fuzzing harness (bench/fuzz): HTTP requests to `rmc serve` (src/serve) on a
// loopback port, serving the fixture model. Bodies are a real KServe v2
// request for two samples, edited as JSON or as text, sent to the infer path
// or a few others. A request may be answered (200) with the interpreter's
// numbers, or refused with a 4xx and a JSON `{ error }` without a stack trace;
// a 5xx, a body with a stack, or no answer within the limit is a failure.

import fc from "fast-check";
import { RmcError } from "../../src/diagnostics/index.js";
import { serve, type Server } from "../../src/serve/server.js";
import { fixture } from "./fixture.js";
import type { Surface, Verdict } from "./harness.js";
import { mutatedJson, mutatedText } from "./mutate.js";

const GOOD = {
  inputs: [
    { name: "dense", datatype: "FP32", shape: [2, 3], data: [0.5, -1, 2, 0, 0.25, 1] },
    { name: "sparse.lengths", datatype: "INT32", shape: [2, 2], data: [1, 2, 0, 1] },
    { name: "sparse.values", datatype: "INT64", shape: [4], data: [3, 9, 6, 4] },
  ],
};
const PATHS = [
  "/v2/models/small/infer",
  "/v2/models/small/infer",
  "/v2/models/small/infer",
  "/v2/models/small",
  "/v2/models/nope/infer",
  "/v2/models/small/versions/1/infer",
  "/v2/health/ready",
];

interface Request {
  path: string;
  body: string;
}

let server: Server | undefined;
let good: number[] | undefined;

async function send(r: Request): Promise<{ status: number; text: string }> {
  const res = await fetch(`${server!.url}${r.path}`, { method: "POST", headers: { "content-type": "application/json" }, body: r.body });
  return { status: res.status, text: await res.text() };
}

export const serveSurface: Surface<Request> = {
  name: "rmc serve (HTTP)",
  async setup() {
    const f = await fixture();
    server = await serve({
      models: [{ dir: f.dist }],
      port: 0,
      threads: 1,
      maxBody: 1 << 20,
      requestTimeoutMs: 1500,
      logLevel: "warn",
      log: () => {},
    });
    const first = await send({ path: PATHS[0]!, body: JSON.stringify(GOOD) });
    good = (JSON.parse(first.text) as { outputs: { data: number[] }[] }).outputs[0]!.data;
  },
  async teardown() {
    await server?.close();
    server = undefined;
  },
  arb: () =>
    fc.record({
      path: fc.constantFrom(...PATHS),
      body: fc.oneof(
        { weight: 1, arbitrary: fc.constant(JSON.stringify(GOOD)) },
        { weight: 3, arbitrary: mutatedJson(GOOD, 3).map((x) => JSON.stringify(x) ?? "") },
        { weight: 1, arbitrary: mutatedText([JSON.stringify(GOOD)], ['"', "{", "}", "[", "]", ",", ":", "null", "1e999", "-1", "\\u0000"], 3) },
      ),
    }),
  async run(r): Promise<Verdict> {
    const { status, text } = await send(r);
    if (status >= 500) return { wrong: `HTTP ${status}: ${text.slice(0, 300)}` };
    if (/\n\s+at .+[(:]\d+/.test(text)) return { wrong: `a stack trace in the answer: ${text.slice(0, 300)}` };
    if (status >= 400) {
      let error: unknown;
      try {
        error = (JSON.parse(text) as { error?: unknown }).error;
      } catch {
        return { wrong: `HTTP ${status} with a body that is not JSON: ${text.slice(0, 200)}` };
      }
      if (typeof error !== "string") return { wrong: `HTTP ${status} without an \`error\` message: ${text.slice(0, 200)}` };
      // Refusals carry a status and a message, not an rmc code; the surface counts them as clean errors.
      throw new RmcError(`HTTP ${status}: ${error}`, "E0001");
    }
    // The unedited request must get the numbers it got at setup (other accepted edits change the inputs).
    if (r.path === PATHS[0] && r.body === JSON.stringify(GOOD)) {
      const data = (JSON.parse(text) as { outputs: { data: number[] }[] }).outputs[0]!.data;
      if (JSON.stringify(data) !== JSON.stringify(good)) return { wrong: `the same request got ${data}, then ${good}` };
    }
  },
};
