// ONNX external data: with the threshold forced down (`above: 0`, or
// `--external-data-above 0`), a small model's initializers go to a side
// file as ONNX specifies it; ONNX Runtime loads that pair from disk and
// predicts exactly as it does the self-contained file, and import-onnx reads
// it back to the same model and weights. Bad locations and truncated data
// files are refused with the initializer named.

import { readFileSync, writeFileSync, truncateSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { exportOnnx, exportOnnxExternal } from "../../src/onnx/export.js";
import { importOnnx } from "../../src/onnx/import.js";
import { onnx } from "../../src/onnx/proto.js";
import { initWeights } from "../../src/weights/init.js";
import { canonical, tempDir } from "../backends/wasm/helpers.js";
import { rmc } from "../cli/helpers.js";
import { ROOT, loadExample, onnxFeeds, randomBatch } from "./helpers.js";

const graph = canonical(loadExample("dlrm_kaggle_small.rmdl"));
const weights = initWeights(graph, { seed: 2, dist: "trained" });
const concat = (chunks: Uint8Array[]) => Uint8Array.from(chunks.flatMap((c) => [...c]));

describe("ONNX external data", () => {
  it("stays inline under the threshold (the default is what one protobuf holds)", () => {
    const { model, chunks } = exportOnnxExternal(graph, weights, { location: "m.onnx.data" });
    expect(chunks).toEqual([]);
    expect(model).toEqual(exportOnnx(graph, weights));
  });

  it("forced on, ORT runs the model and its data file as it runs the inline model, and import-onnx reads it back", async () => {
    const dir = tempDir();
    const { model, chunks } = exportOnnxExternal(graph, weights, { location: "m.onnx.data", above: 0 });
    const inline = exportOnnx(graph, weights);
    expect(chunks.length).toBeGreaterThan(20);
    expect(model.length).toBeLessThan(inline.length / 10);
    const decoded = onnx.ModelProto.decode(model);
    const table = decoded.graph!.initializer!.find((t) => t.name === "emb.0.weight")!;
    expect(table.dataLocation).toBe(1);
    expect(table.externalData!.map((e) => e.key)).toEqual(["location", "offset", "length"]);
    writeFileSync(join(dir, "m.onnx"), model);
    writeFileSync(join(dir, "m.onnx.data"), concat(chunks));

    const batch = randomBatch(graph, 4, 8);
    const run = async (session: ort.InferenceSession) => {
      try {
        return (await session.run(onnxFeeds(ort, graph, batch))).ctr!.data as Float32Array;
      } finally {
        await session.release();
      }
    };
    const external = await run(await ort.InferenceSession.create(join(dir, "m.onnx")));
    const whole = await run(await ort.InferenceSession.create(inline));
    expect(Array.from(external)).toEqual(Array.from(whole));

    const data = concat(chunks);
    const back = importOnnx(model, join(dir, "m.onnx"), { readExternal: (_loc, offset, length) => data.slice(offset, offset + length) });
    const ref = importOnnx(inline, "inline.onnx");
    expect(back.graph.nodes).toEqual(ref.graph.nodes);
    expect([...back.weights.keys()]).toEqual([...ref.weights.keys()]);
    for (const [k, w] of ref.weights) expect(back.weights.get(k)!.data).toEqual(w.data);
  });

  it("through the CLI: export-onnx --external-data-above 0 writes MODEL.onnx.data; import-onnx reads it; errors name the initializer", async () => {
    const dir = tempDir();
    const model = join(ROOT, "examples/dlrm_kaggle_small.rmdl");
    const e = await rmc("export-onnx", model, "--init", "trained", "--seed", "2", "--external-data-above", "0", "-o", join(dir, "m.onnx"));
    expect(e.code).toBe(0);
    expect(e.out).toContain("m.onnx.data");
    const i = await rmc("import-onnx", join(dir, "m.onnx"), "-o", join(dir, "back", "m.rmdl"));
    expect(i.err).toBe("");
    expect(i.code).toBe(0);
    const ref = importOnnx(exportOnnx(graph, weights), "x.onnx");
    expect(
      readFileSync(join(dir, "back", "m.rmdl"), "utf8")
        .split("\n")
        .slice(1),
    ).toEqual(ref.text.split("\n").slice(1));

    // A location outside the model's folder, and a data file cut short.
    const decoded = onnx.ModelProto.decode(readFileSync(join(dir, "m.onnx")));
    decoded.graph!.initializer![0]!.externalData![0]!.value = "../secret.bin";
    writeFileSync(join(dir, "evil.onnx"), onnx.ModelProto.encode(decoded).finish());
    const evil = await rmc("import-onnx", join(dir, "evil.onnx"), "-o", join(dir, "e", "m.rmdl"));
    expect(evil.code).toBe(3); // a bad input file
    expect(evil.err).toContain("E2001");
    expect(evil.err).toContain("`../secret.bin`, which is not a file beside the model");
    truncateSync(join(dir, "m.onnx.data"), 100);
    const cut = await rmc("import-onnx", join(dir, "m.onnx"), "-o", join(dir, "c", "m.rmdl"));
    expect(cut.code).toBe(3);
    expect(cut.err).toMatch(/bytes \d+\.\.\d+ of .*m\.onnx\.data are asked for, but it has 100 bytes/);
    expect(cut.err).not.toMatch(/\n\s+at /);
  });
});
