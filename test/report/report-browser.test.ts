// The HTML compile report in a real browser: compiles the tiny model with the
// precision search and calibration data (so every section is there: pipeline,
// graph, plan and heat map, numeric errors, memory, files, timings), opens the
// page from disk in headless Chromium (Debian's, driven by playwright-core, as
// test/browser does) and checks it renders with no console errors and no
// request beyond the file itself, that its SVGs and tables are present, and
// that a screenshot (PNG through the DevTools protocol) is neither blank nor
// colourless. Needs /usr/bin/chromium; RMC_SKIP_BROWSER=1 skips the file.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type Page } from "playwright-core";
import { rmc, tempDir } from "../cli/helpers.js";

const CHROMIUM = "/usr/bin/chromium";
const skip = process.env.RMC_SKIP_BROWSER === "1";
if (!skip && !existsSync(CHROMIUM))
  throw new Error(`${CHROMIUM} is missing: install Debian's chromium (.ci/system.sh does) or set RMC_SKIP_BROWSER=1 on a developer machine`);

const TINY = "test/report/fixtures/tiny.rmdl";
const FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

describe.skipIf(skip)("the HTML compile report in headless Chromium", () => {
  const dir = tempDir();
  const report = join(dir, "report.html");
  let browser: Browser;
  let tab: Page;
  const errors: string[] = [];
  const requests: string[] = [];
  let compileOut = "";

  beforeAll(async () => {
    const w = join(dir, "w.safetensors");
    const data = join(dir, "d.tsv");
    expect((await rmc("init-weights", TINY, "--seed", "2", "-o", w)).code).toBe(0);
    expect((await rmc("gen-data", TINY, "--weights", w, "--rows", "600", "--seed", "5", "-o", data)).code).toBe(0);
    const r = await rmc("compile", TINY, "--weights", w, "--precision", "auto", "--calib", data, "--report", report, "-o", join(dir, "dist"));
    expect(r.err).not.toContain("error");
    expect(r.code).toBe(0);
    compileOut = r.out;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
    tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    tab.on("console", (m) => void (m.type() === "error" && errors.push(m.text())));
    tab.on("pageerror", (e) => void errors.push(String(e)));
    tab.on("request", (q) => void requests.push(q.url()));
    await tab.goto(pathToFileURL(report).href, { waitUntil: "load" });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it("renders from disk with no console errors and fetches nothing", () => {
    expect(errors).toEqual([]);
    expect(requests).toEqual([pathToFileURL(report).href]);
    expect(readFileSync(report, "utf8")).not.toMatch(/<(script|link|img)\b|\bsrc=|url\(/);
  });

  it("holds the graph and heat map as SVG, and every table", async () => {
    // Page code is a string: it runs in the browser, whose DOM types this Node project does not load.
    const seen = (await tab.evaluate(`(() => {
      const count = (sel) => document.querySelectorAll(sel).length;
      return {
        graphNodes: count("#graph svg g.node"),
        clusters: count("#graph svg g.cluster"),
        heatCells: count("#precision svg.heat rect"),
        planRows: count("#precision table.plan tbody tr"),
        numericRows: count("#numerics table.numerics tbody tr"),
        memoryRows: count("#memory table.memory tbody tr"),
        fileRows: [...document.querySelectorAll("#files table.files tbody tr td:first-child")].map((td) => td.textContent),
        timingRows: count("#timings table.timings tbody tr"),
        steps: count("#pipeline details.step"),
        planSteps: [...document.querySelectorAll("#precision table.plan tbody tr td:first-child")].map((td) => td.textContent),
        diffs: count("#pipeline pre.diff"),
        canonicalizeDiff: document.querySelector("#step-1 pre.diff")?.textContent ?? "",
      };
    })()`)) as Record<
      "graphNodes" | "clusters" | "heatCells" | "planRows" | "numericRows" | "memoryRows" | "timingRows" | "steps" | "diffs",
      number
    > & {
      fileRows: string[];
      planSteps: string[];
      canonicalizeDiff: string;
    };
    // The tiny model: 4 tables and 4 layers (8 units), inputs, nodes, tables and the output drawn; a fused lookup and two mlp clusters.
    expect(seen.graphNodes).toBeGreaterThanOrEqual(12);
    expect(seen.clusters).toBeGreaterThanOrEqual(3);
    expect(seen.planRows).toBe(8);
    expect(seen.heatCells).toBe(8 * 5);
    // In the search's order: the changes it took, numbered in the order taken, then the units it left.
    const taken = seen.planSteps.filter((t) => t !== "").map(Number);
    expect(taken.length).toBeGreaterThan(0);
    expect(seen.planSteps.slice(0, taken.length).every((t) => t !== "")).toBe(true);
    for (let i = 1; i < taken.length; i++) expect(taken[i]!).toBeGreaterThan(taken[i - 1]!);
    expect(seen.numericRows).toBeGreaterThanOrEqual(6);
    expect(seen.memoryRows).toBe(4);
    expect(seen.fileRows).toContain("model.wasm");
    expect(seen.fileRows).toContain("weights.bin");
    for (const f of seen.fileRows.filter((n) => n !== "total")) expect(compileOut).toContain(f!);
    expect(seen.steps).toBeGreaterThan(8); // the input and every step of the compile pipeline
    expect(seen.diffs).toBeGreaterThanOrEqual(3); // canonicalize, assign-precision, fuse-epilogue, plan-memory change the IR
    expect(seen.timingRows).toBe(seen.steps - 1 + 2); // each pass, the backend, the total
    // Step 1's diff is canonicalize's: the bottom mlp removed, its layers added, noted with their line.
    expect(seen.canonicalizeDiff).toMatch(/^-  %bottom = mlp\(/m);
    expect(seen.canonicalizeDiff).toMatch(/^\+  %bottom\.0 = linear\(.*\/\/ line 11: bottom = mlp\(dense, \[16, 8\], act: relu\) \| fp32$/m);
  });

  it("paints a screenshot that is neither blank nor colourless", async () => {
    await tab.evaluate(`document.querySelector("#graph").scrollIntoView()`);
    const cdp = await tab.context().newCDPSession(tab);
    const { data } = (await cdp.send("Page.captureScreenshot", { format: "png" })) as { data: string };
    // Decode the PNG in a blank tab's canvas and count pixels: not white, and clearly coloured (the precision fills).
    const probe = await browser.newPage();
    const counts = (await probe.evaluate(`(async () => {
      const img = new Image();
      img.src = "data:image/png;base64,${data}";
      await img.decode();
      const canvas = document.createElement("canvas");
      canvas.width = img.width;
      canvas.height = img.height;
      const ctx = canvas.getContext("2d");
      ctx.drawImage(img, 0, 0);
      const px = ctx.getImageData(0, 0, img.width, img.height).data;
      let ink = 0;
      let colour = 0;
      for (let i = 0; i < px.length; i += 4) {
        const r = px[i], g = px[i + 1], b = px[i + 2];
        if (r < 245 || g < 245 || b < 245) ink++;
        if (Math.max(r, g, b) - Math.min(r, g, b) > 40) colour++;
      }
      return { width: img.width, height: img.height, ink, colour };
    })()`)) as { width: number; height: number; ink: number; colour: number };
    await probe.close();
    expect(counts.width).toBe(1280);
    const total = counts.width * counts.height;
    expect(counts.ink / total).toBeGreaterThan(0.02);
    expect(counts.colour).toBeGreaterThan(500);
  });
});
