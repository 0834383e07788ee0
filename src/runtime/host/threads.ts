// Runtime, host: worker threads on either host — how many to start by default
// (the cores), whether this host can run them on one shared memory, and
// starting one on a script. Node's worker_threads live in node.ts and are only
// reached through dynamic imports, so a browser bundle never loads node:
// modules.

import { isNode, type ThreadHandle } from "./platform.js";

interface BrowserGlobals {
  navigator?: { hardwareConcurrency?: number };
  crossOriginIsolated?: boolean;
  Worker?: new (url: URL, options: { type: "module" }) => BrowserWorker;
}

interface BrowserWorker {
  postMessage(message: unknown): void;
  addEventListener(type: string, listener: (event: { data?: unknown; message?: string }) => void): void;
  terminate(): void;
}

const browser = globalThis as unknown as BrowserGlobals;

/** The number of cores: the default thread count. */
export async function coreCount(): Promise<number> {
  if (isNode()) return (await import("./node.js")).nodeCoreCount();
  return Math.max(1, browser.navigator?.hardwareConcurrency ?? 1);
}

/** Whether this host can run worker threads on one shared memory (browsers: only when cross-origin isolated). */
export function threadsSupported(): boolean {
  if (isNode()) return true;
  return browser.crossOriginIsolated === true && typeof browser.Worker === "function" && typeof SharedArrayBuffer === "function";
}

/** Whether a worker script can be loaded from `url` (checked on disk in Node; assumed in browsers). */
export async function workerScriptAvailable(url: URL): Promise<boolean> {
  if (!isNode() || url.protocol !== "file:") return true;
  return (await import("./node.js")).nodeFileExists(url);
}

/** Starts a worker thread running the module script at `url`; fails if the script is not there (Node). */
export async function spawnThread(url: URL): Promise<ThreadHandle> {
  if (isNode()) return (await import("./node.js")).spawnNodeThread(url);
  const worker = new browser.Worker!(url, { type: "module" });
  let onExit = (): void => undefined;
  return {
    post: (message) => worker.postMessage(message),
    listen(listener) {
      onExit = () => listener.exit();
      worker.addEventListener("message", (event) => listener.message(event.data));
      worker.addEventListener("error", (event) => listener.error(new Error(event.message ?? "worker script failed")));
      worker.addEventListener("messageerror", () => listener.error(new Error("a message could not be delivered")));
    },
    hold: () => undefined,
    // Web workers have no exit event; a terminated one is gone at once.
    terminate: async () => {
      worker.terminate();
      onExit();
    },
  };
}
