// The debugging flags end to end through the CLI, against golden files
// (UPDATE_GOLDEN=1 rewrites them; a difference fails with a diff): the diff
// dumps of --print-ir-after-change, --stop-after for `ir` and `compile`, and
// `ir --format dot`. Also: dumps note each node's line, precision and buffer
// and still parse; --print-ir-filter; where reproducers go; one bad pass in a
// plugin no longer rejects the others; a report name of unknown kind.

import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectGolden } from "../golden.js";
import { rmc, tempDir } from "../cli/helpers.js";
import { parseGraph } from "../../src/ir/parse.js";

const TINY = "test/report/fixtures/tiny.rmdl";
const golden = (name: string) => join("test/report/golden", name);
/** A pipeline that lowers precision, places a table in the store, splits one and plans memory: every kind of note and cluster. */
const FULL =
  "canonicalize,infer-shapes,assign-precision{mode=int8},place-tables{tables=emb.1.weight,min-bytes=0},split-tables{max-bytes=4KiB},fuse-epilogue,infer-shapes,plan-memory";

describe("--print-ir-after-change", () => {
  it("prints a unified diff of what each changing pass did (golden)", async () => {
    const r = await rmc("ir", TINY, "--passes", "canonicalize,infer-shapes,dce,fuse-epilogue", "--print-ir-after-change", "-q");
    expect(r.code).toBe(0);
    // infer-shapes and dce change nothing here: two diffs, no whole graphs.
    expect(r.err.match(/^\/\/ ----- IR .*$/gm)).toEqual([
      "// ----- IR after canonicalize (diff) -----",
      "// ----- IR after fuse-epilogue (diff) -----",
    ]);
    expectGolden(r.err, golden("after-change.diff"));
  });

  it("=full keeps the whole IR, noted, and the dump parses back to the pipeline's result", async () => {
    const r = await rmc("ir", TINY, "--passes", "canonicalize", "--print-ir-after-change=full");
    const dump = r.err.slice(r.err.indexOf("\n") + 1);
    expect(dump).toMatch(/%bottom\.0 = linear\(.*\/\/ line 11: bottom = mlp\(dense, \[16, 8\], act: relu\) \| fp32$/m);
    expect(parseGraph(dump, "dump.ir")).toEqual(parseGraph(r.out, "out.ir"));
  });

  it("refuses a value other than diff or full", async () => {
    const r = await rmc("ir", TINY, "--print-ir-after-change=half");
    expect(r.code).toBe(2);
    expect(r.err).toContain("--print-ir-after-change must be one of diff, full");
  });
});

describe("noted dumps and --print-ir-filter", () => {
  it("notes precision and, after plan-memory, the buffer of every node", async () => {
    const r = await rmc("ir", TINY, "--passes", FULL);
    const nodes = r.out.split("\n").filter((l) => l.startsWith("  %"));
    expect(nodes.length).toBeGreaterThan(3);
    for (const l of nodes) expect(l).toMatch(/\/\/ line \d+: .* \| (fp32|int8)(\/fp32)? \| buffer \d+\+\d+ B/);
  });

  it("keeps only the matching nodes and the weights they read", async () => {
    const r = await rmc("ir", TINY, "--print-ir-after=dce", "--print-ir-filter=top", "-q");
    const lines = r.err.split("\n");
    const ids = lines.filter((l) => l.startsWith("  %")).map((l) => l.split(" ")[2]);
    expect(ids).toEqual(["%top.0", "%top.0.relu", "%top.1", "%top"]);
    expect(lines.filter((l) => l.startsWith("  weight")).every((l) => l.includes("@top."))).toBe(true);
  });
});

describe("--stop-after", () => {
  const PIPE = "canonicalize,infer-shapes,fuse-epilogue,dce";
  it("ends `rmc ir` after the named pass or step number and prints that IR (golden)", async () => {
    const byName = await rmc("ir", TINY, "--passes", PIPE, "--stop-after=fuse-epilogue");
    expect(byName.code).toBe(0);
    expect(byName.err).toContain("stopped after step 3 of 4 (`fuse-epilogue`)");
    expectGolden(byName.out, golden("stop-after-fuse-epilogue.ir"));
    expect((await rmc("ir", TINY, "--passes", PIPE, "--stop-after", "3")).out).toBe(byName.out);
    const three = await rmc("ir", TINY, "--passes", "canonicalize,infer-shapes,fuse-epilogue");
    expect(parseGraph(byName.out, "a.ir")).toEqual(parseGraph(three.out, "b.ir"));
  });

  it("ends `rmc compile` before the backend, printing the IR and writing no artifact (golden)", async () => {
    const dir = join(tempDir(), "dist");
    const r = await rmc("compile", TINY, "--init", "trained", "--precision", "int8", "--stop-after=split-tables", "-o", dir);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/stopped after step 6 of \d+ \(`split-tables\{/);
    expect(existsSync(dir)).toBe(false);
    expectGolden(r.out, golden("compile-stop-after-split-tables.ir"));
  });

  it("refuses --stop-after with --report in compile: a report needs the whole compile", async () => {
    const r = await rmc("compile", TINY, "--init", "trained", "--stop-after=2", "--report", join(tempDir(), "r.html"), "-o", join(tempDir(), "d"));
    expect(r.code).toBe(2);
    expect(r.err).toContain("--stop-after ends before the backend, so there is nothing to --report");
  });

  it("names what the pipeline has when the pass or step is not in it", async () => {
    const r = await rmc("ir", TINY, "--passes", PIPE, "--stop-after=fuse-epilog");
    expect(r.code).toBe(2); // a usage error
    expect(r.err).toContain("E1270: cannot stop after `fuse-epilog`, which the pipeline does not run: did you mean `fuse-epilogue`?");
    expect(r.err).toContain("the pipeline: 1. canonicalize, 2. infer-shapes, 3. fuse-epilogue, 4. dce");
    expect((await rmc("ir", TINY, "--passes", PIPE, "--stop-after=5")).err).toContain("cannot stop after step 5, but the pipeline has 4 steps");
  });
});

describe("rmc ir --format dot|svg", () => {
  it("writes DOT with precision colours, shapes on edges, fused, split and store-placed tables (golden)", async () => {
    const r = await rmc("ir", TINY, "--passes", FULL, "--format", "dot");
    expect(r.code).toBe(0);
    expect(r.out).toContain('subgraph "cluster_bags_pooled"');
    expect(r.out).toContain('subgraph "cluster_split_emb.0.weight"');
    expect(r.out).toMatch(/"w:emb\.1\.weight" \[label="@emb\.1\.weight\\n50×8 · int8\\nin the file store".*dashed/);
    expect(r.out).toContain('"v:bottom.0" -> "v:bottom.1" [label="f32[B,16]"]');
    expectGolden(r.out, golden("tiny.dot"));
  });

  it("draws SVG with Graphviz, one shape per node and a cluster per group", async () => {
    const dir = tempDir();
    const r = await rmc("ir", TINY, "--passes", FULL, "--format", "svg", "-o", join(dir, "g.svg"));
    expect(r.code).toBe(0);
    const svg = (await import("node:fs")).readFileSync(join(dir, "g.svg"), "utf8");
    expect(svg).toMatch(/<svg[^>]*>/);
    for (const t of ["cluster_bags_pooled", "cluster_split_emb.0.weight", "v:top.1", "w:emb.1.weight"]) expect(svg).toContain(`<title>${t}</title>`);
    expect(svg).toContain('fill="#fdd0a2"'); // int8
  });
});

describe("reproducers and plugins", () => {
  const plugin = (dir: string, body: string) => {
    const file = join(dir, "p.mjs");
    writeFileSync(file, body);
    return file;
  };
  const BOOM = `export const passes = [{ name: "boom", summary: "throws", options: {}, run() { throw new Error("kaboom"); } }];`;

  it("writes a failing pass's reproducer beside the output, or into --repro-dir", async () => {
    const dir = tempDir();
    const p = plugin(dir, BOOM);
    mkdirSync(join(dir, "out"));
    const beside = await rmc("ir", TINY, "--plugin", p, "--passes", "canonicalize,boom", "-o", join(dir, "out", "x.ir"));
    expect(beside.code).toBe(4); // a bug in the pass
    expect(beside.err).toContain(`reproducer written to ${join(dir, "out", "rmc-repro-boom.ir")}`);
    expect(parseGraph((await import("node:fs")).readFileSync(join(dir, "out", "rmc-repro-boom.ir"), "utf8"), "r.ir").nodes[0]!.op).toBe("linear");
    const chosen = await rmc("ir", TINY, "--plugin", p, "--passes", "boom", "--repro-dir", join(dir, "r"));
    expect(existsSync(join(dir, "r", "rmc-repro-boom.ir"))).toBe(true);
    expect(chosen.err).toContain(`replay with: rmc ir ${join(dir, "r", "rmc-repro-boom.ir")} --passes boom --plugin ${p}`);
  });

  it("loads a plugin's good passes beside a bad one, and names the bad one when a pipeline asks for it", async () => {
    const dir = tempDir();
    const p = plugin(
      dir,
      `export const passes = [
        { name: "keep", summary: "returns the graph", options: {}, run: (g) => g },
        { name: "broken", summary: "", options: {}, run: (g) => g },
      ];`,
    );
    const good = await rmc("ir", TINY, "--plugin", p, "--passes", "canonicalize,keep", "-q");
    expect(good.code).toBe(0);
    expect(good.err).toContain("W1272");
    expect(good.err).toContain("pass `broken` is not loaded (`summary` must be a non-empty one-line string); its other passes are");
    const bad = await rmc("ir", TINY, "--plugin", p, "--passes", "canonicalize,broken", "-q");
    expect(bad.code).toBe(3); // a bad plugin file
    expect(bad.err).toContain("E1271");
    expect(bad.err).toContain("pass `broken` was not loaded: its plugin's export is not a valid pass");
    expect(bad.err).toContain("pass `broken`: `summary` must be a non-empty one-line string");
    expect(bad.err).not.toContain("keep");
  });
});

describe("rmc compile --report", () => {
  it("refuses a report name that is neither .html nor .md before compiling anything", async () => {
    const dir = join(tempDir(), "dist");
    const r = await rmc("compile", TINY, "--init", "trained", "--report", join(tempDir(), "r.txt"), "-o", dir);
    expect(r.code).toBe(2);
    expect(r.err).toContain("E0970");
    expect(r.err).toContain("cannot tell the report's format from the extension `.txt`");
    expect(existsSync(dir)).toBe(false);
  });
});
