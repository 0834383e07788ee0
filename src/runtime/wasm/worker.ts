// Runtime, Wasm engine: the script each worker thread runs (Node
// worker_threads or a web Worker of type "module"), loaded by URL (index.ts
// defaults to wasm/worker.js beside it). It instantiates the threads module on
// the model's shared memory once ("init"), then calls `forward(ws, cap,
// batch)` on the workspace it is given for each "run" and replies; a trap
// becomes an error reply, never a dead thread. Imports only ../math.ts, so it
// loads on its own.

import { hostImports } from "../math.js";

type Forward = (ws: number, cap: number, batch: number) => void;
type Reply = (message: unknown) => void;

interface Message {
  type: "init" | "run";
  id?: number;
  module?: object;
  memory?: object;
  imports?: string[];
  ws?: number;
  cap?: number;
  batch?: number;
}

interface WasmApi {
  instantiate(module: object, imports: object): Promise<{ exports: Record<string, unknown> }>;
}

let forward: Forward | undefined;

async function handle(message: Message, reply: Reply): Promise<void> {
  if (message.type === "init") {
    try {
      const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
      const instance = await wasm.instantiate(message.module!, { env: { memory: message.memory, ...hostImports(message.imports ?? []) } });
      if (typeof instance.exports.forward !== "function") throw new Error("the module exports no `forward` function");
      forward = instance.exports.forward as Forward;
      reply({ type: "ready" });
    } catch (err) {
      reply({ type: "error", id: 0, message: `cannot instantiate the threads module: ${(err as Error).message}` });
    }
    return;
  }
  try {
    if (!forward) throw new Error("run before init");
    forward(message.ws!, message.cap!, message.batch!);
    reply({ type: "done", id: message.id });
  } catch (err) {
    reply({ type: "error", id: message.id, message: `${(err as Error).name}: ${(err as Error).message}`, trap: forward !== undefined });
  }
}

const inNode = typeof process !== "undefined" && typeof process.versions?.node === "string";
if (inNode) {
  // A Node port queues messages until a listener is attached, so the await is safe.
  const { parentPort } = await import("node:worker_threads");
  parentPort!.on("message", (message: Message) => void handle(message, (reply) => parentPort!.postMessage(reply)));
} else {
  // Web workers drop messages that arrive before a listener exists: attach at once.
  const scope = globalThis as unknown as { addEventListener(type: "message", f: (e: { data: Message }) => void): void; postMessage: Reply };
  scope.addEventListener("message", (event) => void handle(event.data, (reply) => scope.postMessage(reply)));
}
