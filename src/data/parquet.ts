// Parquet data files (HugeCTR's and NVTabular's Criteo output) as the TSV
// lines they stand for, so the one TSV parser (tsv.ts) and data-stats read
// them with the same checks and the same numbers. Columns are found by name:
// `label` (or `label1`, `label2`, … for several outputs), `I1`…`In` (dense)
// and `C1`…`Cn` (sparse), the names NVTabular's and HugeCTR's Criteo
// preprocessing write; a column map renames any of them. Integer ids are
// the ids themselves (rendered in hex, the TSV form); string ids are hex as
// in Criteo's text; a list column is a multi-hot bag. The file is read one
// row group at a time through hyparquet, by byte ranges, never whole.

import { promises as fsp } from "node:fs";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { parquetMetadataAsync, parquetScan, parquetSchema, type AsyncBuffer, type FileMetaData } from "hyparquet";
import { RmcError } from "../diagnostics/index.js";
import { denseColumnName, sparseColumnName } from "./schema.js";

/** How many columns of each role a data line has. */
export interface DataLayout {
  labels: number;
  dense: number;
  sparse: number;
}

/** rmc column name (`label`, `I1`, `C1`, …) → a Parquet file's column name. */
export type ColumnMap = Readonly<Record<string, string>>;

/** The name of label column i of n: `label` when there is one, else `label1`, `label2`, …. */
export const labelColumnName = (i: number, n: number): string => (n === 1 ? "label" : `label${i + 1}`);

/** The rmc column names of a layout, in TSV order per role. */
export function layoutColumns(layout: DataLayout): { labels: string[]; dense: string[]; sparse: string[] } {
  return {
    labels: Array.from({ length: layout.labels }, (_, i) => labelColumnName(i, layout.labels)),
    dense: Array.from({ length: layout.dense }, (_, i) => denseColumnName(i)),
    sparse: Array.from({ length: layout.sparse }, (_, i) => sparseColumnName(i)),
  };
}

type Role = "label" | "dense" | "sparse";
/** Rows rendered per chunk. */
const ROWS_PER_CHUNK = 4096;
const BREAKS = /[\t\n\r]/;

/** A file as hyparquet's AsyncBuffer: byte ranges read on demand through one handle. */
async function openAsyncBuffer(path: string): Promise<{ file: AsyncBuffer; close: () => Promise<void> }> {
  const handle = await fsp.open(path, "r");
  const { size } = await handle.stat();
  const file: AsyncBuffer = {
    byteLength: size,
    async slice(start: number, end: number = size): Promise<ArrayBuffer> {
      const buf = Buffer.alloc(Math.max(0, end - start));
      for (let at = 0; at < buf.length;) {
        const { bytesRead } = await handle.read(buf, at, buf.length - at, start + at);
        if (bytesRead === 0) break;
        at += bytesRead;
      }
      return buf.buffer.byteLength === buf.length ? buf.buffer : buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
    },
  };
  return { file, close: () => handle.close() };
}

/** The codecs hyparquet leaves to its host (it decodes Snappy itself). */
const COMPRESSORS = {
  GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)),
  BROTLI: (input: Uint8Array) => new Uint8Array(brotliDecompressSync(input)),
};

interface Column {
  /** The rmc name (`I3`). */
  name: string;
  /** The file's name for it. */
  source: string;
  role: Role;
}

/** Which file columns fill the layout; labels are read when all are present and skipped when none are. */
function planColumns(path: string, layout: DataLayout, present: readonly string[], map: ColumnMap = {}): Column[] {
  const names = layoutColumns(layout);
  const known = new Set([...names.labels, ...names.dense, ...names.sparse]);
  for (const key of Object.keys(map))
    if (!known.has(key)) {
      const last = (xs: string[]): string => (xs.length ? `${xs[0]}…${xs[xs.length - 1]}` : "");
      const all = [names.labels.join(", "), last(names.dense), last(names.sparse)].filter(Boolean).join(", ");
      throw new RmcError(`column map: \`${key}\` is not a column of this data (it has ${all})`, "E0775");
    }
  const has = new Set(present);
  const col = (name: string, role: Role): Column => ({ name, source: map[name] ?? name, role });
  const labels = names.labels.map((n) => col(n, "label"));
  const found = labels.filter((c) => has.has(c.source));
  if (found.length > 0 && found.length < labels.length)
    missing(
      path,
      labels.find((c) => !has.has(c.source))!,
      present,
    );
  if (found.length === 0) for (const c of labels) if (map[c.name] !== undefined) missing(path, c, present);
  const rest = [...names.dense.map((n) => col(n, "dense")), ...names.sparse.map((n) => col(n, "sparse"))];
  for (const c of rest) if (!has.has(c.source)) missing(path, c, present);
  return [...(found.length ? labels : []), ...rest];
}

function missing(path: string, c: Column, present: readonly string[]): never {
  const shown = present.slice(0, 12).join(", ") + (present.length > 12 ? `, … (${present.length} in all)` : "");
  throw new RmcError({
    code: "E0776",
    severity: "error",
    message: `${path}: no column \`${c.source}\`${c.source !== c.name ? ` (mapped from ${c.name})` : ""} for ${c.role} column ${c.name}; the file has ${shown || "no columns"}`,
    hint: "name the file's columns with --columns (e.g. --columns label=click,I1=int_0 or a JSON file of the same pairs); see docs/data.md",
  });
}

/** A cell as TSV text, or why it cannot be (null: the value's kind does not fit the role). */
function cellText(v: unknown, role: Role): string | null {
  if (v === null || v === undefined) return "";
  switch (typeof v) {
    case "string":
      return BREAKS.test(v) ? null : v;
    case "boolean":
      return role === "sparse" ? null : v ? "1" : "0";
    case "bigint":
      return role === "sparse" ? (v >= 0n ? v.toString(16) : null) : String(v);
    case "number":
      if (role === "sparse") return Number.isInteger(v) && v >= 0 ? v.toString(16) : null;
      return Number.isNaN(v) && role === "dense" ? "" : String(v);
  }
  if (role === "sparse" && (Array.isArray(v) || ArrayBuffer.isView(v))) {
    const items = Array.from(v as ArrayLike<unknown>, (x) => (x === null || x === undefined ? null : cellText(x, role)));
    return items.some((x) => x === null || x === "") ? null : items.join(",");
  }
  return null;
}

function badCell(path: string, row: number, c: Column, v: unknown): never {
  const shown =
    typeof v === "string" ? JSON.stringify(v) : typeof v === "bigint" ? `${v}` : Array.isArray(v) ? `[${v.slice(0, 4).join(", ")}…]` : String(v);
  const want = { label: "0 or 1", dense: "a number or null", sparse: "an id: a non-negative integer, a hex string, or a list of them" }[c.role];
  throw new RmcError(
    `${path}: row ${row}: column ${c.name}${c.source !== c.name ? ` (${c.source})` : ""}: ${shown.slice(0, 80)} is not ${want}`,
    "E0777",
  );
}

/** Reads the footer; a file that is not Parquet after all is a located error. */
async function metadataOf(path: string, file: AsyncBuffer): Promise<FileMetaData> {
  try {
    return await parquetMetadataAsync(file);
  } catch (e) {
    throw new RmcError(`${path}: not a readable Parquet file (${(e as Error).message})`, "E0778");
  }
}

/** Streams a Parquet file's rows as TSV text in the layout's column order, a row group at a time. */
export async function* parquetChunks(path: string, layout: DataLayout, map?: ColumnMap): AsyncGenerator<Buffer> {
  const { file, close } = await openAsyncBuffer(path);
  try {
    const metadata = await metadataOf(path, file);
    const present = parquetSchema(metadata).children.map((c) => c.element.name);
    const columns = planColumns(path, layout, present, map);
    const scan = await parquetScan({ file, metadata, columns: [...new Set(columns.map((c) => c.source))], compressors: COMPRESSORS });
    for (const { rowStart, rowEnd } of scan.ranges) {
      const data = await Promise.all(
        columns.map((c) =>
          scan.readColumn({ column: c.source, rowStart, rowEnd }).catch((e: Error) => {
            throw new RmcError(`${path}: rows ${rowStart + 1}-${rowEnd}: cannot decode column ${c.source} (${e.message})`, "E0778");
          }),
        ),
      );
      for (let r0 = 0; r0 < rowEnd - rowStart; r0 += ROWS_PER_CHUNK) {
        const lines: string[] = [];
        for (let r = r0; r < Math.min(r0 + ROWS_PER_CHUNK, rowEnd - rowStart); r++) {
          const cells: string[] = [];
          for (let k = 0; k < columns.length; k++) {
            const v = data[k]![r];
            const text = cellText(v, columns[k]!.role);
            if (text === null) badCell(path, rowStart + r + 1, columns[k]!, v);
            cells.push(text);
          }
          lines.push(cells.join("\t"));
        }
        yield Buffer.from(lines.join("\n") + "\n", "utf8");
      }
    }
  } finally {
    await close();
  }
}
