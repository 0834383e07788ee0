// The file store (Node only; the runtime imports it dynamically): rows of
// store-placed tables read on demand from the artifact's rows files with
// positional reads through one FileHandle per file. Blocks a call needs that
// sit next to each other are merged into one read; BlockStore caches the rows
// and checks every block. Reads are synchronous preads: a block in the page
// cache reads in a few microseconds, while each read through libuv's thread
// pool costs tens (bench:store measured 1,500 random 4 KiB reads at about
// 5 ms synchronous against 25-30 ms as concurrent promises on this machine).
// A store on a cold disk pays the device's latency per block either way.

import { constants, readSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { crc32 } from "node:zlib";
import { RmcError, error } from "../diagnostics/index.js";
import { blockOffset, blockRange, type StoreTable } from "./format.js";
import { BlockStore, STORE_CODES } from "./store.js";

/** Adjacent blocks merged into one read, at most this many bytes. */
const MAX_READ_BYTES = 1 << 20;

export class FileStore extends BlockStore {
  private constructor(
    readonly where: string,
    private readonly handles: ReadonlyMap<string, { fh: FileHandle; path: string }>,
    crcs: ReadonlyMap<string, Uint32Array>,
    cacheBytes: number,
  ) {
    super(crcs, (b) => crc32(b), cacheBytes);
  }

  /** Opens every table's rows file (`paths` by table name). */
  static async open(
    where: string,
    paths: ReadonlyMap<string, string>,
    crcs: ReadonlyMap<string, Uint32Array>,
    cacheBytes: number,
  ): Promise<FileStore> {
    const handles = new Map<string, { fh: FileHandle; path: string }>();
    try {
      for (const [name, path] of paths) {
        // Not blocking, so a named pipe in a rows file's place cannot hang the load; and only a regular file is kept.
        const fh = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
        handles.set(name, { fh, path });
        if (!(await fh.stat()).isFile()) throw new Error(`${path} is not a regular file`);
      }
    } catch (e) {
      for (const h of handles.values()) await h.fh.close();
      throw new RmcError(
        error(STORE_CODES.read, `${where}: cannot open a rows file: ${(e as Error).message}`, undefined, "copy the artifact's store/ folder with it"),
      );
    }
    return new FileStore(where, handles, crcs, cacheBytes);
  }

  protected async readBlocks(table: StoreTable, blocks: readonly number[]): Promise<Uint8Array[]> {
    const h = this.handles.get(table.name);
    if (!h) throw new RmcError(error(STORE_CODES.read, `${this.where}: no rows file for table ${table.name}`));
    // Runs of consecutive blocks, each one read (capped, so a wide batch does not read megabytes in one go).
    const runs: number[][] = [];
    for (const b of blocks) {
      const run = runs[runs.length - 1];
      if (run && b === run[run.length - 1]! + 1 && (run.length + 1) * table.blockRows * table.rowBytes <= MAX_READ_BYTES) run.push(b);
      else runs.push([b]);
    }
    const out = new Map<number, Uint8Array>();
    for (const run of runs) {
      const first = run[0]!;
      const last = run[run.length - 1]!;
      const start = blockOffset(table, first);
      const end = blockRange(table, last)[1] * table.rowBytes;
      const buf = new Uint8Array(end - start);
      let got = 0;
      try {
        for (let n = 1; n > 0 && got < buf.length; got += n) n = readSync(h.fh.fd, buf, got, buf.length - got, start + got);
      } catch (e) {
        throw new RmcError(error(STORE_CODES.read, `${h.path}: cannot read block ${first} of table ${table.name}: ${(e as Error).message}`));
      }
      // A short read (a truncated file) leaves the block short: verification names it.
      for (const b of run) {
        const [s, e] = blockRange(table, b);
        const from = s * table.rowBytes - start;
        out.set(b, buf.subarray(Math.min(from, got), Math.min(e * table.rowBytes - start, got)));
      }
    }
    return blocks.map((b) => out.get(b)!);
  }

  async close(): Promise<void> {
    for (const h of this.handles.values()) await h.fh.close();
  }
}
