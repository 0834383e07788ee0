// Fuzzing harness (bench/fuzz): the file-format surfaces — the safetensors
// reader (bytes, and header JSON edited field by field: offsets, overlaps,
// dtypes, overflowing shapes, duplicate names, the length prefix), the TSV
// data reader, and ONNX import. Seeds are the fixture model's real files.

import fc from "fast-check";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dataSchema } from "../../src/data/schema.js";
import { readBatches } from "../../src/data/tsv.js";
import { RmcError } from "../../src/diagnostics/index.js";
import { verifyGraph } from "../../src/ir/verify.js";
import { exportOnnx } from "../../src/onnx/export.js";
import { importOnnx } from "../../src/onnx/import.js";
import { bindWeights } from "../../src/weights/bind.js";
import { readSafetensorsBytes, serializeSafetensors } from "../../src/weights/safetensors.js";
import { fixture, type Fixture } from "./fixture.js";
import type { Surface } from "./harness.js";
import { hostileJson, mutatedBytes, mutatedJson, mutatedText } from "./mutate.js";

let fx: Fixture | undefined;
const need = (): Fixture => {
  if (!fx) throw new Error("surface used before its setup");
  return fx;
};
const setup = async (): Promise<void> => void (fx ??= await fixture());

/** A header and data section split out of safetensors bytes, so the header can be edited as JSON. */
function splitSafetensors(bytes: Uint8Array): { header: Record<string, unknown>; data: Uint8Array } {
  const n = Number(Buffer.from(bytes).readBigUInt64LE(0));
  return { header: JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString("utf8")), data: bytes.subarray(8 + n) };
}

/** Safetensors bytes from a header (as text) and data, with a length prefix that is right or `lengthDelta` off. */
function joinSafetensors(header: string, data: Uint8Array, lengthDelta: number): Uint8Array {
  const h = Buffer.from(header, "utf8");
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(Math.max(0, h.length + lengthDelta)));
  return Buffer.concat([prefix, h, data]);
}

/** A small file with every dtype rmc reads, for the dtype paths the fixture's f32 weights never take. */
const DTYPES_FILE = serializeSafetensors(
  (["F32", "F16", "BF16", "F64", "I8", "U8", "I32", "I64"] as const).map((dtype, i) => ({
    name: `t${i}`,
    dtype,
    shape: [2, 3],
    write: (sink: (b: Uint8Array) => void) =>
      sink(new Uint8Array(6 * { F32: 4, F16: 2, BF16: 2, F64: 8, I8: 1, U8: 1, I32: 4, I64: 8 }[dtype]).fill(i + 1)),
  })),
);

function safetensorsCases(): fc.Arbitrary<Uint8Array> {
  const seeds = [readFileSync(need().weights), DTYPES_FILE];
  const structured = fc.constantFrom(...seeds).chain((seed) => {
    const { header, data } = splitSafetensors(seed);
    const names = Object.keys(header).filter((k) => k !== "__metadata__");
    const duplicate = fc
      .constantFrom(...names)
      .map((k) => JSON.stringify(header).replace(/^\{/, `{${JSON.stringify(k)}:${JSON.stringify(header[k])},`));
    const edited = mutatedJson(header).map((h) => JSON.stringify(h) ?? "null");
    const field = fc
      .tuple(fc.constantFrom(...names), fc.constantFrom("dtype", "shape", "data_offsets"), hostileJson)
      .map(([k, f, v]) => JSON.stringify({ ...header, [k]: { ...(header[k] as object), [f]: v } }));
    return fc
      .tuple(
        fc.oneof(edited, field, duplicate),
        fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -9, max: 9 }) }),
      )
      .map(([h, delta]) => joinSafetensors(h, data, delta));
  });
  return fc.oneof(structured, mutatedBytes(seeds));
}

export const safetensorsSurface: Surface<Uint8Array> = {
  name: "safetensors reader",
  setup,
  arb: safetensorsCases,
  run(bytes) {
    const file = readSafetensorsBytes(bytes, "fuzz.safetensors");
    for (const [name, entry] of file.tensors) {
      const values = file.tensor(name).toFloat32();
      const count = entry.shape.reduce((a, b) => a * b, 1);
      if (values.length !== count) return { wrong: `${name}: ${values.length} values for shape [${entry.shape}]` };
    }
    // Binding checks the file against the model: names, shapes, dtypes.
    if (file.tensors.has("a.weight")) bindWeights(need().graph, file);
  },
};

let tsvDir: string | undefined;
const TSV_TOKENS = ["\t", "\n", "\r\n", ",", ":", "-", "+", "e", "ffffffffffffffff", "0x", " ", "\u0000", "é", "\t\t\t\t"];

export const tsvSurface: Surface<string> = {
  name: "tsv data reader",
  setup,
  located: true,
  arb: () => {
    const lines = readFileSync(need().data, "utf8").split("\n");
    const seeds = [lines.slice(0, 4).join("\n"), lines.slice(4, 6).join("\r\n") + "\r\n", lines.slice(6, 7).join("").split("\t").slice(1).join("\t")];
    return mutatedText(seeds, TSV_TOKENS, 5);
  },
  async run(text) {
    tsvDir ??= mkdtempSync(join(tmpdir(), "rmc-fuzz-tsv-"));
    const path = join(tsvDir, "data.tsv");
    writeFileSync(path, text);
    const schema = dataSchema(need().graph);
    for await (const b of readBatches(path, schema, { batchSize: 3 })) {
      const bags = b.inputs.sparse as { values: Int32Array; lengths: Int32Array };
      // Feature 0 (table a, clamp) keeps raw ids, saturated at 2^31-1, for the interpreter to clamp; feature 1 (table b, modulo) is already folded into b's 5 rows.
      const first = bags.lengths.subarray(0, b.size).reduce((x, y) => x + y, 0);
      if (bags.values.subarray(0, first).some((v) => v < 0)) return { wrong: `a negative raw id for table a: [${bags.values}]` };
      if (bags.values.subarray(first).some((v) => !(v >= 0 && v < 5))) return { wrong: `an id outside table b's rows: [${bags.values}]` };
    }
  },
};

export const onnxSurface: Surface<Uint8Array> = {
  name: "onnx import",
  setup,
  arb: () => mutatedBytes([exportOnnx(need().graph, need().store)], 6),
  run(bytes) {
    const { graph } = importOnnx(bytes, "fuzz.onnx");
    const problems = verifyGraph(graph).filter((d) => d.severity === "error");
    if (problems.length > 0) throw new RmcError(problems);
  },
};
