// Writing files so that nothing is ever half-written: data goes to a temp file
// beside the target and is renamed into place only when complete.

import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/** The temp name used while `path` is being written. */
export const tempPath = (path: string): string => `${path}.tmp-${process.pid}`;

/** Writes text or bytes to `path` atomically (temp file + rename), creating parent folders. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeChunksAtomic(path, [typeof data === "string" ? Buffer.from(data, "utf8") : data]);
}

/** Writes `chunks` to `path` atomically, in order (an ONNX external-data file may be larger than one buffer). */
export function writeChunksAtomic(path: string, chunks: readonly Uint8Array[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempPath(path);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "w");
    for (const c of chunks) for (let done = 0; done < c.length;) done += writeSync(fd, c, done, c.length - done);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
}
