// Runtime, host: the little the loader needs from its host — WebAssembly,
// SHA-256, the page's address — and the shape of a worker thread (threads.ts
// starts them), the same for Node and browsers. No imports: node.ts implements
// these interfaces, and everything else may import this file on any host.
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
  validate(bytes: Uint8Array): boolean;
  Module: { customSections(module: WasmModule, name: string): ArrayBuffer[] };
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

/** Where a relative artifact location is resolved in a browser. */
export const documentBase = (): string | undefined => (globalThis as { location?: { href: string } }).location?.href;

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
