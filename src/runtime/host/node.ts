// Runtime, host, Node only: artifact folders on disk, worker_threads and the
// core count. Reached only through dynamic imports from threads.ts and open.ts,
// so browser bundles never evaluate it. Only regular files inside the artifact
// folder are read (symbolic links followed and checked; named pipes, devices
// and folders refused before a read could block). Big weight blobs are read in
// chunks straight into Wasm memory (or chunk by chunk into GPU buffers) and
// hashed as they stream, so a 2 GB blob never needs a second 2 GB buffer.

import { createHash } from "node:crypto";
import { constants, type Stats } from "node:fs";
import { access, open, realpath, type FileHandle } from "node:fs/promises";
import { availableParallelism, cpus } from "node:os";
import { isAbsolute, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker, type ResourceLimits } from "node:worker_threads";
import { RmcError, error } from "../../diagnostics/index.js";
import type { FileEntry } from "../manifest.js";
import { RUNTIME_CODES as C } from "../codes.js";
import { MANIFEST_FILE, checksumMismatch, missingFile, sizeMismatch, type ArtifactFiles } from "./files.js";
import type { ThreadHandle } from "./platform.js";

/** How much of a file one read moves into memory. */
const READ_CHUNK_BYTES = 16 << 20;

/** The machine's cores, as Node counts those this process may use. */
export const nodeCoreCount = (): number => Math.max(1, typeof availableParallelism === "function" ? availableParallelism() : cpus().length);

/** A `file:` URL as a path. */
export const urlToPath = (url: URL): string => fileURLToPath(url);

const reason = (err: unknown): string => {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "file not found";
  if (code === "EISDIR") return "is a folder, not a file";
  return (err as Error).message;
};

/** A file refused before reading: it leaves the artifact folder, or is no regular file. */
class Refused extends Error {}

const kindOf = (st: Stats): string =>
  st.isFIFO()
    ? "a named pipe (FIFO)"
    : st.isDirectory()
      ? "a folder"
      : st.isCharacterDevice() || st.isBlockDevice()
        ? "a device"
        : st.isSocket()
          ? "a socket"
          : "not a regular file";

/**
 * Opens `path` for reading if it is a regular file and, when `folder` is
 * given, if it resolves (symbolic links followed) to a place inside the real
 * `folder`. Opened without blocking, so a named pipe cannot stall the load
 * (an ordinary open of one waits for a writer), and checked on the open
 * handle, so what is read is what was checked. Throws `Refused` (or the
 * open's own error) otherwise.
 */
async function openRegular(path: string, folder: string | undefined): Promise<FileHandle> {
  let target = path;
  if (folder !== undefined) {
    const [realFolder, realFile] = await Promise.all([realpath(folder), realpath(path)]);
    const rel = relative(realFolder, realFile);
    if (rel === "" || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel))
      throw new Refused(`resolves to ${realFile}, outside the artifact folder ${realFolder} (a symbolic link out of it): refused`);
    target = realFile;
  }
  const handle = await open(target, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  const st = await handle.stat();
  if (!st.isFile()) {
    await handle.close();
    throw new Refused(`is ${kindOf(st)}, not a regular file: refused`);
  }
  return handle;
}

/** An artifact folder on disk; `chunkBytes` (a multiple of 4) is how much of a file one read moves. */
export function folderArtifact(dir: string, chunkBytes = READ_CHUNK_BYTES): ArtifactFiles {
  const where = (name: string): string => join(dir, name);
  return {
    where,
    async readManifest() {
      let handle: FileHandle | undefined;
      try {
        handle = await openRegular(where(MANIFEST_FILE), dir);
        return await handle.readFile("utf8");
      } catch (err) {
        const why =
          (err as NodeJS.ErrnoException).code === "ENOENT" ? `no ${MANIFEST_FILE} here: \`${dir}\` is not a compiled artifact folder` : reason(err);
        throw new RmcError(error(C.manifestUnreadable, `${where(MANIFEST_FILE)}: ${why}`));
      } finally {
        await handle?.close();
      }
    },
    async readChecked(name, entry) {
      // Allocated once the file's size is known to be the listed one: a manifest's byte count alone allocates nothing.
      let bytes: Uint8Array | undefined;
      const into = (at: number, length: number) => (bytes ??= new Uint8Array(entry.bytes)).subarray(at, at + length);
      await streamFileChecked(where(name), where(name), entry, READ_CHUNK_BYTES, into, undefined, dir);
      return bytes ?? new Uint8Array(0);
    },
    readCheckedInto: (name, entry, target) =>
      streamFileChecked(where(name), where(name), entry, chunkBytes, (at, length) => target.subarray(at, at + length), undefined, dir),
    async readCheckedChunks(name, entry, onChunk) {
      const scratch = new Uint8Array(Math.min(chunkBytes, entry.bytes));
      await streamFileChecked(where(name), where(name), entry, chunkBytes, () => scratch, onChunk, dir);
    },
    async localPath(name) {
      try {
        await (await openRegular(where(name), dir)).close();
      } catch (err) {
        throw missingFile(where(name), reason(err));
      }
      return realpath(where(name));
    },
  };
}

/**
 * Reads a file of `entry.bytes` bytes into `target` in chunks, hashing as it
 * goes; checks the size first and the sha256 at the end (E1703/E1704/E1705).
 */
export async function readFileChecked(
  path: string,
  where: string,
  entry: FileEntry,
  target: Uint8Array,
  chunkBytes = READ_CHUNK_BYTES,
): Promise<void> {
  await streamFileChecked(path, where, entry, chunkBytes, (at, length) => target.subarray(at, at + length));
}

/**
 * The chunked, hashing read behind readFileChecked: each chunk is read into
 * the view `into(at, length)` gives (at least `length` long), then shown to
 * `onChunk`. The sha256 verdict comes after the last chunk. Only a regular
 * file is read, and with `folder`, only one inside it (openRegular).
 */
export async function streamFileChecked(
  path: string,
  where: string,
  entry: FileEntry,
  chunkBytes: number,
  into: (at: number, length: number) => Uint8Array,
  onChunk?: (at: number, bytes: Uint8Array) => void,
  folder?: string,
): Promise<void> {
  let handle;
  try {
    handle = await openRegular(path, folder);
  } catch (err) {
    throw missingFile(where, reason(err));
  }
  try {
    const size = (await handle.stat()).size;
    if (size !== entry.bytes) throw sizeMismatch(where, size, entry.bytes);
    const hash = createHash("sha256");
    let done = 0;
    while (done < entry.bytes) {
      const want = Math.min(chunkBytes, entry.bytes - done);
      const view = into(done, want);
      // Whole chunks only, so every chunk starts at a multiple of chunkBytes (GPU writes need 4-byte alignment).
      for (let filled = 0; filled < want;) {
        const { bytesRead } = await handle.read(view, filled, want - filled, done + filled);
        if (bytesRead === 0) throw sizeMismatch(where, done + filled, entry.bytes);
        filled += bytesRead;
      }
      hash.update(view.subarray(0, want));
      onChunk?.(done, view.subarray(0, want));
      done += want;
    }
    if (hash.digest("hex") !== entry.sha256.toLowerCase()) throw checksumMismatch(where);
  } catch (err) {
    if (err instanceof RmcError) throw err;
    throw missingFile(where, reason(err));
  } finally {
    await handle.close();
  }
}

/** Whether a `file:` URL names an existing file. */
export async function nodeFileExists(url: URL): Promise<boolean> {
  try {
    await access(fileURLToPath(url));
    return true;
  } catch {
    return false;
  }
}

/** Flags of this process that worker threads refused: found on the first start, left out of every later one. */
const refusedFlags = new Set<string>();

/**
 * This process's heap limit (`--max-old-space-size=N`, which a worker's
 * execArgv may not carry) as a worker's resourceLimits, so a limit the user set
 * still bounds the workers; undefined when none was set.
 */
export function workerResourceLimits(execArgv: readonly string[]): ResourceLimits | undefined {
  const limit = execArgv
    .map((flag) => /^--max[-_]old[-_]space[-_]size=(\d+)$/.exec(flag)?.[1])
    .filter((v) => v !== undefined)
    .pop();
  return limit === undefined ? undefined : { maxOldGenerationSizeMb: Number(limit) };
}

/**
 * A Worker on `url` with the flags of this process it accepts. Workers inherit
 * the process's flags (loaders, conditions, source maps), but Node refuses
 * per-process ones (V8 heap and stack sizes, --expose-gc, --jitless, ...) with
 * ERR_WORKER_INVALID_EXEC_ARGV, naming them; those are dropped and the start
 * retried, and without a usable list the worker starts with no flags at all.
 * --input-type (as in `node --input-type=module -e ...`) is always dropped:
 * it would apply to the worker's own script.
 */
function startWorker(url: URL): Worker {
  const resourceLimits = workerResourceLimits(process.execArgv);
  let execArgv = process.execArgv.filter((flag) => !flag.startsWith("--input-type") && !refusedFlags.has(flag));
  for (let attempt = 0; ; attempt++) {
    try {
      return new Worker(url, { execArgv, ...(resourceLimits ? { resourceLimits } : {}) });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ERR_WORKER_INVALID_EXEC_ARGV" || execArgv.length === 0) throw err;
      // "Initiated Worker with invalid execArgv flags: --a=1, --b" (Node's wording since v12).
      const named = new Set(((err as Error).message.split(": ")[1] ?? "").split(", "));
      const refused = execArgv.filter((flag) => named.has(flag) || named.has(flag.split("=")[0]!));
      const give = refused.length === 0 || attempt > process.execArgv.length ? execArgv : refused;
      for (const flag of give) refusedFlags.add(flag);
      execArgv = execArgv.filter((flag) => !refusedFlags.has(flag));
    }
  }
}

/** Starts a worker_threads Worker on a module script, after checking the script exists. */
export async function spawnNodeThread(url: URL): Promise<ThreadHandle> {
  if (url.protocol === "file:" && !(await nodeFileExists(url)))
    throw new RmcError(
      error(C.worker, `worker script not found at ${url.href}: build the runtime (npm run build) or pass \`workerUrl\` in the load options`),
    );
  const worker = startWorker(url);
  return {
    post: (message) => worker.postMessage(message),
    listen(listener) {
      worker.on("message", (data) => listener.message(data));
      worker.on("error", (err) => listener.error(err));
      worker.on("messageerror", (err) => listener.error(err));
      worker.on("exit", () => listener.exit());
    },
    hold: (held) => (held ? worker.ref() : worker.unref()),
    terminate: async () => {
      await worker.terminate();
    },
  };
}
