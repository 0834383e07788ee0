// Runtime: reading an artifact's files, from a folder (Node, in node.ts) or a
// URL (fetch, anywhere), each checked against the size and sha256 that
// manifest.json lists, so a truncated or altered file is an error naming it
// rather than a model that silently computes something else.

import { RmcError, error } from "../diagnostics.js";
import type { FileEntry } from "./manifest.js";
import { RUNTIME_CODES as C } from "./codes.js";
import { documentBase, isNode, sha256Hex } from "./platform.js";

/** An artifact folder, wherever it lives. */
export interface ArtifactFiles {
  /** A file's name as messages show it: the folder as the user gave it, then the name. */
  where(name: string): string;
  /** The text of manifest.json (E1700 when it cannot be read). */
  readManifest(): Promise<string>;
  /** A whole file, checked against its entry. */
  readChecked(name: string, entry: FileEntry): Promise<Uint8Array>;
  /** A file read straight into `target` (entry.bytes long, possibly Wasm memory), checked the same way. */
  readCheckedInto(name: string, entry: FileEntry, target: Uint8Array): Promise<void>;
  /**
   * A file handed to `onChunk` piece by piece with each piece's position (Node:
   * 16 MiB at a time, so a big file never sits in memory whole; elsewhere the
   * whole file at once). Checked the same way, but a checksum mismatch may be
   * reported after the pieces were handed out: the caller discards them then.
   */
  readCheckedChunks(name: string, entry: FileEntry, onChunk: (at: number, bytes: Uint8Array) => void): Promise<void>;
}

/** The manifest's file name inside an artifact folder. */
export const MANIFEST_FILE = "manifest.json";

/** E1705: the bytes are not the ones the compiler wrote. */
export const checksumMismatch = (where: string): RmcError =>
  new RmcError(error(C.checksum, `${where}: checksum mismatch: the file is corrupted or was changed after compilation`));

/** E1704: the file is not as long as the manifest says. */
export const sizeMismatch = (where: string, actual: number, expected: number): RmcError =>
  new RmcError(
    error(
      C.fileSize,
      `${where}: ${actual} bytes, but manifest.json lists ${expected}: the file is truncated, corrupted or was changed after compilation`,
    ),
  );

/** E1703: a file the manifest lists cannot be read. */
export const missingFile = (where: string, why: string): RmcError =>
  new RmcError(error(C.fileMissing, `${where}: ${why} (manifest.json lists it; copy the whole artifact folder)`));

/** Opens an artifact: a folder path (Node), a `file:` URL (Node), or any other URL (fetch). */
export async function openArtifact(dir: string | URL, fetchFn: typeof fetch | undefined): Promise<ArtifactFiles> {
  const looksLikeUrl = dir instanceof URL || /^[a-z][a-z0-9+.-]*:\/\//i.test(dir);
  if (isNode()) {
    const node = await import("./node.js");
    if (!looksLikeUrl) return node.folderArtifact(dir as string);
    const url = new URL(dir);
    if (url.protocol === "file:") return node.folderArtifact(node.urlToPath(url));
  }
  const base = looksLikeUrl ? new URL(dir) : new URL(dir as string, documentBase());
  if (!base.pathname.endsWith("/")) base.pathname += "/";
  const fetcher = fetchFn ?? globalThis.fetch;
  if (typeof fetcher !== "function")
    throw new RmcError(error(C.manifestUnreadable, `cannot read ${base.href}: no fetch available; pass \`fetch\` in the load options`));
  return urlArtifact(base, fetcher);
}

function urlArtifact(base: URL, fetcher: typeof fetch): ArtifactFiles {
  const where = (name: string): string => new URL(name, base).href;
  const get = async (name: string, code: string): Promise<Response> => {
    let response: Response;
    try {
      response = await fetcher(where(name));
    } catch (cause) {
      throw new RmcError(error(code, `${where(name)}: cannot fetch: ${(cause as Error).message}`));
    }
    if (!response.ok)
      throw new RmcError(error(code, `${where(name)}: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`));
    return response;
  };
  const readChecked = async (name: string, entry: FileEntry): Promise<Uint8Array> => {
    const bytes = new Uint8Array(await (await get(name, C.fileMissing)).arrayBuffer());
    if (bytes.length !== entry.bytes) throw sizeMismatch(where(name), bytes.length, entry.bytes);
    if ((await sha256Hex(bytes)) !== entry.sha256.toLowerCase()) throw checksumMismatch(where(name));
    return bytes;
  };
  return {
    where,
    readManifest: async () => (await get(MANIFEST_FILE, C.manifestUnreadable)).text(),
    readChecked,
    async readCheckedInto(name, entry, target) {
      target.set(await readChecked(name, entry));
    },
    async readCheckedChunks(name, entry, onChunk) {
      onChunk(0, await readChecked(name, entry));
    },
  };
}
