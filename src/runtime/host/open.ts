// Runtime, host: opening an artifact — a folder path or `file:` URL in Node
// (read by node.ts, reached only through a dynamic import), or any other URL
// by fetch, anywhere — as the ArtifactFiles of files.ts, each file checked
// against its size and sha256 in manifest.json.

import { RmcError, error, type Code } from "../../diagnostics/index.js";
import type { FileEntry } from "../manifest.js";
import { RUNTIME_CODES as C } from "../codes.js";
import { MANIFEST_FILE, checksumMismatch, sizeMismatch, type ArtifactFiles } from "./files.js";
import { documentBase, isNode, sha256Hex } from "./platform.js";

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
  const get = async (name: string, code: Code): Promise<Response> => {
    // check.ts refuses names that could resolve elsewhere; this holds whatever a name is.
    if (!where(name).startsWith(base.href)) throw new RmcError(error(code, `${where(name)}: outside the artifact's address ${base.href}: refused`));
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
