// `rmc export-onnx` and `rmc import-onnx` from the command line: export,
// import back (rmdl + safetensors) and export again gives the same bytes;
// --precision int8 and --plan write the int8 form; bad input is refused with
// a clear message and nothing written; both commands are in `rmc --help`.

import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OnnxBuilder } from "../../src/onnx/builder.js";
import { DT, IR_VERSION, OPSET, decodeModel, encodeModel } from "../../src/onnx/proto.js";
import { rmc, tempDir } from "../cli/helpers.js";

const SMALL = "examples/dlrm_kaggle_small.rmdl";
const opTypes = (file: string) => (decodeModel(readFileSync(file), file).graph!.node ?? []).map((n) => n.opType);

describe("rmc export-onnx / import-onnx", () => {
  const dir = tempDir();
  const w = join(dir, "w.safetensors");

  it("export, import, export again: the same ONNX bytes; the imported model compiles", async () => {
    expect((await rmc("init-weights", SMALL, "--seed", "3", "-o", w)).code).toBe(0);
    const first = await rmc("export-onnx", SMALL, "--weights", w, "-o", join(dir, "m.onnx"));
    expect(first.err).toBe("");
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/wrote .*m\.onnx .*fp32/);
    const back = await rmc("import-onnx", join(dir, "m.onnx"), "-o", join(dir, "back", "m.rmdl"));
    expect(back.code).toBe(0);
    expect(readdirSync(join(dir, "back")).sort()).toEqual(["m.rmdl", "m.safetensors"]);
    expect(readFileSync(join(dir, "back", "m.rmdl"), "utf8")).toMatch(/bottom = mlp\(dense, \[64, 16\], act: relu, final: relu\)/);
    const again = await rmc("export-onnx", join(dir, "back", "m.rmdl"), "--weights", join(dir, "back", "m.safetensors"), "-o", join(dir, "m2.onnx"));
    expect(again.code).toBe(0);
    expect(readFileSync(join(dir, "m2.onnx")).equals(readFileSync(join(dir, "m.onnx")))).toBe(true);
    const compiled = await rmc("compile", join(dir, "back", "m.rmdl"), "--weights", join(dir, "back", "m.safetensors"), "-o", join(dir, "dist"));
    expect(compiled.code).toBe(0);
  });

  it("--precision int8 and --plan write DynamicQuantizeLinear + MatMulInteger", async () => {
    expect((await rmc("export-onnx", SMALL, "--weights", w, "--precision", "int8", "-o", join(dir, "q.onnx"))).code).toBe(0);
    expect(opTypes(join(dir, "q.onnx")).filter((o) => o === "MatMulInteger")).toHaveLength(4);
    const plan = join(dir, "plan.json");
    expect((await rmc("compile", SMALL, "--weights", w, "--precision", "int8", "--plan-out", plan, "-o", join(dir, "dist8"))).code).toBe(0);
    const r = await rmc("export-onnx", SMALL, "--weights", w, "--plan", plan, "-o", join(dir, "p.onnx"));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/plan/);
    expect(opTypes(join(dir, "p.onnx"))).toContain("MatMulInteger");
    expect((await rmc("export-onnx", SMALL, "--weights", w, "--precision", "int8", "--int8-form", "exact", "-o", join(dir, "e.onnx"))).code).toBe(0);
    expect(opTypes(join(dir, "e.onnx")).filter((o) => o === "MatMulInteger")).toHaveLength(4);
    expect(opTypes(join(dir, "e.onnx"))).not.toContain("DynamicQuantizeLinear");
  });

  it("bad input: a clear message, nothing written", async () => {
    const bad = await rmc("export-onnx", SMALL, "--weights", w, "--precision", "int4", "-o", join(dir, "x.onnx"));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--precision must be one of fp32, plan, int8/);
    const both = await rmc("export-onnx", SMALL, "--weights", w, "--precision", "int8", "--plan", join(dir, "plan.json"), "-o", join(dir, "x.onnx"));
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/give --precision or --plan, not both/);
    expect(existsSync(join(dir, "x.onnx"))).toBe(false);
    const b = new OnnxBuilder();
    b.node("Conv", ["x", "x"], { name: "conv0" });
    const dims = { dim: [{ dimParam: "B" }, { dimValue: 3 }] };
    writeFileSync(
      join(dir, "conv.onnx"),
      encodeModel({
        irVersion: IR_VERSION,
        opsetImport: [{ domain: "", version: OPSET }],
        graph: {
          name: "g",
          node: b.nodes,
          input: [{ name: "x", type: { tensorType: { elemType: DT.FLOAT, shape: dims } } }],
          output: [{ name: "conv0", type: { tensorType: { elemType: DT.FLOAT, shape: dims } } }],
        },
      }),
    );
    const imp = await rmc("import-onnx", join(dir, "conv.onnx"), "-o", join(dir, "conv", "m.rmdl"));
    expect(imp.code).toBe(3);
    expect(imp.err).toMatch(/Conv \(node `conv0`\)/);
    expect(imp.err).not.toMatch(/at .*\.ts:\d+/);
    expect(existsSync(join(dir, "conv"))).toBe(false);
    const missing = await rmc("import-onnx", join(dir, "nope.onnx"), "-o", join(dir, "n.rmdl"));
    expect(missing.code).toBe(3);
    expect(missing.err).toMatch(/cannot read .*nope\.onnx: no such file/);
  });

  it("both commands are listed in rmc --help", async () => {
    const help = (await rmc("--help")).out;
    expect(help).toMatch(/export-onnx/);
    expect(help).toMatch(/import-onnx/);
    expect((await rmc("export-onnx", "--help")).out).toMatch(/NAME_offsets/);
  });
});
