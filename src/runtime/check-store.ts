// Runtime: checks the manifest's `store` section (src/store/format.ts) before
// the stager or a store opens anything: the format tag, a version, and per
// part its placement, whole-number shape, a block count that covers its rows,
// and rows and index files that are listed in `files` with the sizes the shape
// gives — so a store read never trusts a length the checksummed files do not.

import type { FileEntry } from "./manifest.js";

type Json = Record<string, unknown>;
const isObject = (x: unknown): x is Json => typeof x === "object" && x !== null && !Array.isArray(x);
const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

/** The store section's format tag and index entry size (src/store/format.ts; the runtime checks imports nothing of src/store). */
const STORE_FORMAT = "rmc-store/1";
const INDEX_ENTRY_BYTES = 36;
const PLACEMENTS = new Set(["memory", "file", "redis"]);

/** The first thing wrong with a manifest's `store` section, or undefined (also when there is none). */
export function storeProblem(store: unknown, files: Record<string, FileEntry>): string | undefined {
  if (store === undefined) return undefined;
  if (!isObject(store) || store.format !== STORE_FORMAT) return `\`store\` must be a store section of format ${STORE_FORMAT}`;
  if (typeof store.version !== "string" || !/^[0-9a-f]+$/.test(store.version)) return "store.version must be a hex string";
  if (!isCount(store.stagingRows) || store.stagingRows === 0) return "store.stagingRows must be a whole number ≥ 1";
  if (!Array.isArray(store.tables)) return "store.tables must be a list";
  const names = new Set<string>();
  for (const [i, t] of store.tables.entries()) {
    const at = `store.tables[${i}]`;
    if (!isObject(t) || typeof t.name !== "string" || typeof t.format !== "string" || !PLACEMENTS.has(t.placement as string))
      return `${at} needs a name, a format and a placement (memory, file or redis)`;
    if (names.has(t.name)) return `${at}: two store tables are named \`${t.name}\``;
    names.add(t.name);
    for (const key of ["dim", "rows", "rowBytes", "blockRows", "blocks"] as const)
      if (!isCount(t[key]) || (key !== "rows" && t[key] === 0)) return `${at} (\`${t.name}\`).${key} must be a whole number ≥ 1`;
    const [rows, rowBytes, blockRows, blocks] = [t.rows, t.rowBytes, t.blockRows, t.blocks] as number[];
    if (blocks !== Math.ceil(rows! / blockRows!))
      return `${at} (\`${t.name}\`): ${blocks} blocks of ${blockRows} rows do not hold its ${rows} rows exactly`;
    for (const [key, bytes] of [
      ["file", rows! * rowBytes!],
      ["index", blocks! * INDEX_ENTRY_BYTES],
    ] as const) {
      const name = t[key];
      if (typeof name !== "string" || !Object.hasOwn(files, name) || files[name]!.bytes !== bytes)
        return `${at} (\`${t.name}\`).${key} must name a file listed in \`files\` with ${bytes} bytes`;
    }
  }
  return undefined;
}
