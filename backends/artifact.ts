// Writing an artifact folder: every file goes into a temp folder beside the
// target, checksums are taken from what was written, the manifest comes last,
// and the folder replaces the old one only when everything succeeded — so a
// failed compile never leaves a half-written dist/. A compile killed outright
// (SIGKILL, power) leaves only its own `dist.tmp-PID` beside dist/, which the
// next writer of dist/ removes; killed between the two renames of `commit`
// (a window of one system call) it leaves dist/ at `dist.old-PID`, which the
// next writer moves back first (recoverArtifact).

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, openSync, readSync, readdirSync, closeSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Graph, Span } from "../src/ir/types.js";
import type { FileEntry } from "../src/runtime/manifest.js";

/** The model file's name without its folders: the path it was given by (absolute, or from the cwd) would tie an artifact's bytes to the build folder. */
export const bareFile = (file: string): string => file.split(/[\\/]/).pop() ?? "";

/** The graph as an artifact records it (manifest.json, final.ir): source spans name the model file only. */
export function portableGraph(graph: Graph): Graph {
  const bare = <T extends { span: Span }>(x: T): T => ({ ...x, span: { ...x.span, file: bareFile(x.span.file) } });
  return {
    ...graph,
    inputs: graph.inputs.map(bare),
    weights: graph.weights.map(bare),
    nodes: graph.nodes.map(bare),
    outputs: graph.outputs.map(bare),
  };
}

/** SHA-256 of a file, read in chunks (weights may be gigabytes). */
export function sha256File(path: string): string {
  const hash = createHash("sha256");
  const fd = openSync(path, "r");
  const buf = new Uint8Array(4 << 20);
  try {
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

/** Whether process `pid` still runs (a writer whose folders must be left alone). */
function running(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Cleans up after writers of `outDir` that were killed: puts back an old
 * artifact a killed `commit` had moved aside (when `outDir` is missing), and
 * removes their temp folders. Folders of writers still running are left alone.
 */
export function recoverArtifact(outDir: string): void {
  const parent = dirname(outDir);
  const name = basename(outDir);
  let siblings: string[];
  try {
    siblings = readdirSync(parent);
  } catch {
    return;
  }
  for (const entry of siblings) {
    const m = /^(.*)\.(tmp|old)-(\d+)$/.exec(entry);
    if (!m || m[1] !== name || running(Number(m[3]))) continue;
    const path = join(parent, entry);
    if (m[2] === "old" && !existsSync(outDir) && existsSync(join(path, "manifest.json"))) renameSync(path, outDir);
    else rmSync(path, { recursive: true, force: true });
  }
}

/** A folder being written; `commit` moves it into place. */
export class ArtifactWriter {
  readonly dir: string;
  private readonly entries = new Map<string, FileEntry>();

  constructor(readonly outDir: string) {
    this.dir = `${outDir}.tmp-${process.pid}`;
    recoverArtifact(outDir);
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
  }

  /** The path a file of the artifact is written to (for streaming writers). */
  path(name: string): string {
    return join(this.dir, name);
  }

  /** Writes a whole file. */
  write(name: string, data: string | Uint8Array): void {
    writeFileSync(this.path(name), data);
  }

  /** Makes a folder inside the artifact. */
  mkdir(name: string): void {
    mkdirSync(this.path(name), { recursive: true });
  }

  /** Records a file whose sha256 its writer computed while streaming it (a table too big to read back). */
  record(name: string, sha256: string): FileEntry {
    const entry = { sha256, bytes: statSync(this.path(name)).size };
    this.entries.set(name, entry);
    return entry;
  }

  /** Records the size and checksum of a written file for the manifest. */
  seal(name: string): FileEntry {
    const entry = { sha256: sha256File(this.path(name)), bytes: statSync(this.path(name)).size };
    this.entries.set(name, entry);
    return entry;
  }

  files(): Record<string, FileEntry> {
    return Object.fromEntries(this.entries);
  }

  /** Writes the manifest and moves the folder to `outDir`, replacing what was there. */
  commit(manifest: unknown): void {
    writeFileSync(this.path("manifest.json"), JSON.stringify(manifest, null, 1) + "\n");
    mkdirSync(dirname(this.outDir), { recursive: true });
    const old = `${this.outDir}.old-${process.pid}`;
    if (existsSync(this.outDir)) renameSync(this.outDir, old);
    renameSync(this.dir, this.outDir);
    rmSync(old, { recursive: true, force: true });
  }

  /** Removes the temp folder after a failure. */
  abort(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
