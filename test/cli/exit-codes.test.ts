// The built `rmc` (build/src/cli/main.js, from `npm run build`) as a script
// meets it: each exit code of src/cli/exit.ts from a real process, `-o=DIR`,
// colours only when asked for (FORCE_COLOR) or on a terminal and never with
// NO_COLOR, and the pieces behind them (the exit-code mapping, the colour
// decision, the progress line's ETA) on their own.

import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RmcError } from "../../src/diagnostics/index.js";
import { EXIT, exitCodeFor } from "../../src/cli/exit.js";
import { colorEnabled } from "../../src/cli/color.js";
import { formatDuration, phasedProgress, progressText } from "../../src/cli/progress.js";
import { tempDir } from "./helpers.js";

const BIN = "build/src/cli/main.js";
const MODEL = "test/cli/fixtures/tiny-dlrm.rmdl";
const BAD = "test/frontend/errors/three_mistakes.rmdl";

/** Runs the built CLI; the environment is the test's without colour settings, plus `env`. */
function rmcProcess(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !["NO_COLOR", "FORCE_COLOR"].includes(k)));
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...base, ...env }, timeout: 30_000 }, (_, out, err) =>
      resolve({ code: child.exitCode, out, err }),
    );
  });
}

describe.runIf(existsSync(BIN))("the built CLI", () => {
  it("exits 0 ok, 1 check failed, 2 usage, 3 bad input, 4 internal error; -o=DIR; colours only when asked or on a terminal", async () => {
    const dir = tempDir();
    // Node starts slowly on a busy machine: every process at once.
    const [ok, failed, usage, missing, bug, equals, forced, noColor, piped] = await Promise.all([
      rmcProcess(["check", MODEL]),
      rmcProcess(["check", BAD]),
      rmcProcess(["check", MODEL, "--jsno"]),
      rmcProcess(["check", "no/such.rmdl", "--json"]),
      rmcProcess(["ir", MODEL, "--plugin", "test/cli/fixtures/throwing-pass.js", "--passes", "throws"]),
      rmcProcess(["init-weights", MODEL, `-o=${join(dir, "w.safetensors")}`]),
      rmcProcess(["check", BAD], { FORCE_COLOR: "1" }),
      rmcProcess(["check", BAD], { FORCE_COLOR: "1", NO_COLOR: "1" }),
      rmcProcess(["check", BAD]),
    ]);
    expect(ok.code, ok.err).toBe(EXIT.ok);
    expect(failed.code).toBe(EXIT.failed);
    expect(failed.err).toContain("3 errors");
    expect(usage.code).toBe(EXIT.usage);
    expect(usage.err).toContain("did you mean `--json`?");
    expect(missing.code).toBe(EXIT.input);
    expect(JSON.parse(missing.out)).toMatchObject({ command: "check", ok: false, exitCode: 3, diagnostics: [{ code: "E0905" }] });
    expect(bug.code).toBe(EXIT.internal);
    expect(bug.err).toContain("pass `throws` failed");
    expect(bug.err).not.toMatch(/\n\s+at /);
    // `-o=DIR` writes DIR, not a folder named `=DIR`.
    expect(equals.code, equals.err).toBe(0);
    expect(readdirSync(dir)).toEqual(["w.safetensors"]);
    expect(forced.err).toContain("\x1b[31m");
    expect(noColor.err).not.toContain("\x1b[");
    expect(piped.err).not.toContain("\x1b[");
    expect(piped.err).toBe(noColor.err);
  });
});

describe("the pieces", () => {
  it("maps errors to exit codes by their codes", () => {
    expect(exitCodeFor(new RmcError("bad flag", "E0903"))).toBe(2);
    expect(exitCodeFor(new RmcError("unknown pass", "E1202"))).toBe(2);
    expect(exitCodeFor(new RmcError("no such file", "E0905"))).toBe(3);
    expect(exitCodeFor(new RmcError("syntax", "E0102"))).toBe(3);
    expect(exitCodeFor(new RmcError("cannot meet the budget", "E1910"))).toBe(1);
    expect(exitCodeFor(new RmcError("pass `x` failed: boom", "E1206"))).toBe(4);
    expect(exitCodeFor(new RmcError("pass `x` produced invalid IR", "E1205"))).toBe(4);
    expect(exitCodeFor(new RmcError("the pipeline's result is not valid IR", "E1205"))).toBe(3);
    expect(exitCodeFor(new TypeError("x is undefined"))).toBe(4);
    expect(new RmcError("no such file", "E0905").code).toBe("E0905");
    expect(
      new RmcError([
        { code: "W0210", severity: "warning", message: "w" },
        { code: "E0201", severity: "error", message: "e" },
      ]).code,
    ).toBe("E0201");
  });

  it("decides colours from NO_COLOR, FORCE_COLOR, the terminal and TERM", () => {
    expect(colorEnabled(true, {})).toBe(true);
    expect(colorEnabled(false, {})).toBe(false);
    expect(colorEnabled(true, { TERM: "dumb" })).toBe(false);
    expect(colorEnabled(true, { NO_COLOR: "1" })).toBe(false);
    expect(colorEnabled(true, { NO_COLOR: "" })).toBe(true); // no-color.org: set and not empty
    expect(colorEnabled(false, { FORCE_COLOR: "1" })).toBe(true);
    expect(colorEnabled(true, { FORCE_COLOR: "0" })).toBe(false);
    expect(colorEnabled(false, { FORCE_COLOR: "1", NO_COLOR: "1" })).toBe(false);
  });

  it("progress: counts, percent, rate and an ETA at that rate; only on a terminal", () => {
    expect(progressText("run", 250, 1000, "samples", 5)).toBe("run: 250/1,000 samples 25.0% (50/s, ETA 15s)");
    expect(progressText("run", 250, undefined, "samples", 5)).toBe("run: 250 samples (50/s)");
    expect(progressText("search", 3, 40, "trials", 2)).toBe("search: 3/40 trials 7.5% (1.5/s, ETA 25s)");
    expect(formatDuration(65)).toBe("1m05s");
    expect(formatDuration(3725)).toBe("1h02m");
    let written = "";
    const fake = { isTTY: true, write: (s: string) => void (written += s) } as unknown as NodeJS.WriteStream;
    const bar = phasedProgress("compile", "steps", fake);
    bar.sink("sensitivity of each unit", 0, 8);
    bar.finish();
    expect(written).toContain("compile: sensitivity of each unit: 0/8 steps");
    written = "";
    const pipe = phasedProgress("compile", "steps", { isTTY: false, write: (s: string) => void (written += s) } as unknown as NodeJS.WriteStream);
    pipe.sink("x", 1, 2);
    pipe.finish();
    expect(written).toBe("");
  });
});
