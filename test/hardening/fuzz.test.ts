// Property tests over every fuzzing surface (bench/fuzz): a bounded number of
// hostile inputs per surface, from a fixed seed, each of which must be
// accepted (with the reference's numbers where there is one) or refused with
// an RmcError that has a code — never another exception, a stack trace in the
// message, a hang or other numbers. `npm run fuzz` runs the same surfaces for
// longer. Below them, the counterexamples fuzzing found, shrunk.

import fc from "fast-check";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RmcError } from "../../src/diagnostics/index.js";
import { parseModel } from "../../src/frontend/index.js";
import { RUNTIME_CODES, load } from "../../src/runtime/index.js";
import { fixture } from "../../bench/fuzz/fixture.js";
import { classifyError, runCase, type Surface } from "../../bench/fuzz/harness.js";
import { onnxSurface, safetensorsSurface, tsvSurface } from "../../bench/fuzz/surfaces-binary.js";
import { artifactSurface, compileSurface, manifestSurface, predictSurface } from "../../bench/fuzz/surfaces-runtime.js";
import { serveSurface } from "../../bench/fuzz/surfaces-serve.js";
import { dslSurface, irSurface, planSurface } from "../../bench/fuzz/surfaces-text.js";
import { tempDir } from "../cli/helpers.js";

const SEED = 20261207;

/** Runs `numRuns` cases of `s` (fast-check shrinks a failure); returns how many were accepted and cleanly refused. */
async function holds<T>(s: Surface<T>, numRuns: number): Promise<{ accepted: number; clean: number }> {
  const seen = { accepted: 0, clean: 0 };
  await s.setup?.();
  try {
    await fc.assert(
      fc.asyncProperty(s.arb(), async (input) => {
        const r = await runCase(s, input);
        if (r.kind !== "accepted" && r.kind !== "clean") throw new Error(`${r.kind}: ${r.why}`);
        seen[r.kind]++;
      }),
      { numRuns, seed: SEED },
    );
  } finally {
    await s.teardown?.();
  }
  return seen;
}

describe("every hostile input is accepted or refused with a coded RmcError", () => {
  const cases: [Surface<any>, number][] = [
    [dslSurface, 300],
    [irSurface, 500],
    [planSurface, 300],
    [safetensorsSurface, 500],
    [tsvSurface, 400],
    [onnxSurface, 400],
    [manifestSurface, 500],
    [artifactSurface, 150],
    [predictSurface(false), 600],
    [serveSurface, 200],
  ];
  for (const [s, n] of cases)
    it(s.name, async () => {
      const seen = await holds(s, n);
      // The generators must reach both sides of each reader: inputs it takes and inputs it refuses.
      expect(seen.accepted).toBeGreaterThan(n / 50);
      expect(seen.clean).toBeGreaterThan(n / 50);
    });

  it("generated small models compile for wasm and predict the interpreter's numbers", async () => {
    expect((await holds(compileSurface, 3)).accepted).toBe(3);
  });
});

describe("the harness itself", () => {
  it("counts a TypeError as a crash, an RmcError with a stack in its message as unclean, a coded one as clean", () => {
    expect(classifyError(new TypeError("x is undefined"), false).kind).toBe("crash");
    expect(classifyError(new RmcError("bad\n    at f (file.js:1:2)", "E0701"), false).kind).toBe("unclean");
    const clean = classifyError(new RmcError("data.tsv:3: bad field", "E0701"), true);
    expect([clean.kind, clean.hasLocation]).toEqual(["clean", true]);
    expect(classifyError(new RmcError("bad field", "E0701"), true).hasLocation).toBe(false);
  });

  it("counts a case past the time limit as a hang", async () => {
    const slow: Surface<number> = { name: "slow", arb: () => fc.constant(0), run: () => new Promise((r) => setTimeout(r, 200)), limitMs: 50 };
    expect((await runCase(slow, 0)).kind).toBe("hang");
  });
});

describe("counterexamples found by fuzzing", () => {
  it("a manifest giving a modulo table other rows is refused against the code (it loaded and gathered outside the table)", async () => {
    const f = await fixture();
    const dir = join(tempDir(), "a");
    cpSync(f.dist, dir, { recursive: true });
    const m = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    m.model.inputs[1].features[1].rows = 1941793817;
    writeFileSync(join(dir, "manifest.json"), JSON.stringify(m));
    const err = await load(dir, { threads: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RmcError);
    expect((err as RmcError).diagnostics[0]!.code).toBe(RUNTIME_CODES.codeLayout);
    expect((err as RmcError).message).toContain("model.inputs (bags[0].rows[1]) as 1941793817, but the code was compiled for 5");
  });

  it("a width that only a concat pushes past 2^31 − 1 is refused by the front end, where `rmc check` said ok and the verifier refused it", () => {
    const source = `model m {
  input dense: f32[13]
  bottom = mlp(dense, [512, 2147483647], act: relu)
  z = concat(bottom, dense)
  crossed = cross(z, layers: 1, rank: 4)
  output o = crossed
}`;
    const { graph, diagnostics } = parseModel(source, "m.rmdl");
    expect(graph).toBeUndefined();
    expect(diagnostics.map((d) => [d.code, d.span?.line, d.message])).toEqual([
      ["E0313", 4, "`z` would have shape [B, 2147483660], a size over the limit of 2147483647"],
    ]);
  });

  it("a plain id list holding a BigInt is read as its number, or refused with an RmcError past 2^53", async () => {
    const model = await load((await fixture()).dist, { threads: 1 });
    try {
      const asNumber = await model.predict({ dense: [0, 0, 0], sparse: { lengths: [0, 1], values: [1] } });
      expect(await model.predict({ dense: [0, 0, 0], sparse: { lengths: [0, 1], values: [1n] } })).toEqual(asNumber);
      await expect(model.predict({ dense: [0, 0, 0], sparse: { lengths: [0, 1], values: [2n ** 60n] } })).rejects.toBeInstanceOf(RmcError);
    } finally {
      await model.close();
    }
  });
});
