// Backends, writing the store (both targets): every part of a staged table
// (backends/staging.ts) goes into a rows file of the artifact in the store
// format (src/store/format.ts), streamed row by row in the row layout the
// target's kernels read — so staging a row is one copy — with its block
// index beside it; the manifest's `store` section lists them all under a
// content-hash version. Parts placed in Redis are written too: they are what
// `rmc store push` sends.

import type { Tensor, WeightStore } from "../src/weights/store.js";
import type { WeightDecl } from "../src/ir/types.js";
import { STORE_FORMAT, type StoreManifest, type StoreTable } from "../src/store/format.js";
import { StoreTableWriter, storeVersion } from "../src/store/write.js";
import type { ArtifactWriter } from "./artifact.js";
import type { StagedTable } from "./staging.js";

/** The rows file and index file of a store part. */
export const storeFiles = (part: string): { file: string; index: string } => ({ file: `store/${part}.rows`, index: `store/${part}.index` });

/** How a target lays out one table row: its bytes per row, and the rows of a tensor in that layout, in chunks. */
export interface RowCodec {
  rowBytes(decl: WeightDecl, precision: string): number;
  rows(decl: WeightDecl, precision: string, tensor: Tensor): Iterable<Uint8Array>;
}

/** Writes every part of every staged table into `out`'s store/ folder; the manifest's store section. */
export function writeStore(
  out: ArtifactWriter,
  staged: readonly StagedTable[],
  weights: WeightStore,
  codec: RowCodec,
  stagingRows: number,
): StoreManifest {
  out.mkdir("store");
  const written: { table: StoreTable; indexSha256: string }[] = [];
  for (const s of staged)
    for (const { decl, placement } of s.parts) {
      const tensor = weights.get(decl.name);
      if (!tensor) throw new Error(`internal: no rows for store part ${decl.name}`);
      const { file, index } = storeFiles(decl.name);
      const writer = new StoreTableWriter(
        {
          name: decl.name,
          placement,
          format: s.precision,
          dim: s.dim,
          rows: decl.shape[0]!,
          rowBytes: codec.rowBytes(decl, s.precision),
          file,
          index,
        },
        out.path(file),
        out.path(index),
      );
      try {
        for (const chunk of codec.rows(decl, s.precision, tensor)) writer.write(chunk);
      } catch (e) {
        writer.abort();
        throw e;
      }
      const done = writer.finish();
      out.record(file, done.rowsSha256);
      out.record(index, done.indexSha256);
      written.push({ table: done.table, indexSha256: done.indexSha256 });
    }
  return { format: STORE_FORMAT, version: storeVersion(written), tables: written.map((w) => w.table), stagingRows };
}
