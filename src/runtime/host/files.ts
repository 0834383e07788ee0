// Runtime, host: what reading an artifact's files promises, however they are
// reached (a folder in node.ts, a URL in open.ts): every file checked against
// the size and sha256 that manifest.json lists, so a truncated or altered file
// is an error naming it rather than a model that silently computes something
// else. The interface and its errors only, so either reader may import it.

import { RmcError, error } from "../../diagnostics/index.js";
import type { FileEntry } from "../manifest.js";
import { RUNTIME_CODES as C } from "../codes.js";

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
  /**
   * Node folders only: the real path of a file for readers that keep it open
   * (the file store), after the checks every read makes — a regular file,
   * inside the folder once symbolic links are followed (E1703 otherwise).
   */
  localPath?(name: string): Promise<string>;
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
