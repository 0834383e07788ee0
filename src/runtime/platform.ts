// Runtime: the little the loader needs from its host — WebAssembly, SHA-256,
// the number of cores and threads — behind one interface for Node and
// browsers. Node-only code lives in node.ts and is only reached through
// dynamic imports, so a browser bundle of the runtime never loads node: modules.
// The project compiles without the DOM library, so the web APIs used here are
// typed locally with just the members we call.

/** A Wasm linear memory (shared or not). */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(deltaPages: number): number;
}

/** A compiled module; opaque, but structured-cloneable to worker threads. */
export type WasmModule = object;

/** An instantiated module. */
export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: object): Promise<WasmInstance>;
}

/** The host's WebAssembly object. */
export const wasmApi = (): WasmApi => (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Bytes in one Wasm page. */
export const PAGE_BYTES = 65536;
/** The most pages a 32-bit memory can have (4 GiB). */
export const MAX_PAGES = 65536;

/** True when running under Node (or a runtime that passes for it). */
export const isNode = (): boolean => typeof process !== "undefined" && typeof process.versions?.node === "string";

/** Lowercase hex SHA-256 of some bytes, by WebCrypto (browsers and Node 20 alike). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  let hex = "";
  for (const byte of digest) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

interface BrowserGlobals {
  navigator?: { hardwareConcurrency?: number };
  crossOriginIsolated?: boolean;
  Worker?: new (url: URL, options: { type: "module" }) => BrowserWorker;
  location?: { href: string };
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

/** Where a relative artifact location is resolved in a browser. */
export const documentBase = (): string | undefined => browser.location?.href;

/** What a thread reports back to its owner. */
export interface ThreadListener {
  message(data: unknown): void;
  error(err: Error): void;
  exit(): void;
}

/** A worker thread, the same for Node's worker_threads and web Workers. */
export interface ThreadHandle {
  post(message: unknown): void;
  listen(listener: ThreadListener): void;
  /** Whether the thread keeps the process alive (Node: ref/unref); a no-op in browsers. */
  hold(held: boolean): void;
  terminate(): Promise<void>;
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
