// Wasm kernel: dense layer y = x · Wᵀ + b with an optional relu epilogue, for
// any batch size. Register-tiled: ROWS samples × PANEL output columns are
// accumulated in 2·ROWS f32x4 registers while k runs over the inputs, with W
// pre-packed into panels ([k][PANEL], see layout.ts) so each k step loads two
// vectors of W (f32, or f16/bf16 widened exactly) and one broadcast x per
// row. Each output is accumulated in k order starting from 0 and the bias is
// added last, exactly as the reference interpreter does, so results are
// bit-identical to it. The relaxed variant accumulates with f32x4.relaxed_madd:
// bit-identical to the interpreter's FMA mode where the engine fuses.

import type { Expr, FunctionBuilder, Local, WasmModule } from "../module.js";
import { PANEL, type PanelElement } from "../layout.js";
import { bf16x4ToF32, f16x4ToF32 } from "./widen.js";

/** Samples per register tile; 4 rows × 8 columns use 8 accumulators + 3 temporaries, within x64's 16 vector registers. */
export const ROWS = 4;

export interface GemmSpec {
  /** Input features (k). */
  inF: number;
  /** Output features. */
  outF: number;
  /** Address of the packed weight panels. */
  weights: number;
  /** Address of the padded bias, or undefined for none. */
  bias: number | undefined;
  act: "none" | "relu";
  /** How the panels store weights (default f32); f16/bf16 are widened exactly in registers. */
  element?: PanelElement;
}

/**
 * Emits `name(x, y, batch)`: x is [batch, inF] f32 row-major, y [batch, outF].
 * Rows of y are `outF` floats apart; the last panel stores only its valid columns.
 */
export function emitGemm(w: WasmModule, name: string, spec: GemmSpec): void {
  w.func(name, ["i32", "i32", "i32"], (f) => {
    const [x, y, batch] = f.params as [Local, Local, Local];
    const full = Math.floor(spec.outF / PANEL);
    const rest = spec.outF % PANEL;
    const p = f.local("i32");
    const body: Expr[] = [];
    if (full > 0) body.push(f.forRange(p, w.i32(0), () => w.i32(full), 1, [panel(w, f, spec, x, y, batch, () => p.get(), PANEL)]));
    if (rest > 0) body.push(panel(w, f, spec, x, y, batch, () => w.i32(full), rest));
    return body;
  });
}

/** All rows of one panel: ROWS-row tiles, then single rows for the remainder. */
function panel(w: WasmModule, f: FunctionBuilder, spec: GemmSpec, x: Local, y: Local, batch: Local, p: () => Expr, valid: number): Expr {
  return f.rowTiles(
    () => batch.get(),
    ROWS,
    (r, rows) => rowTile(w, f, spec, x, y, r, p, rows, valid),
  );
}

/** One tile: `rows` samples from row r, the `valid` columns of panel p. */
function rowTile(
  w: WasmModule,
  f: FunctionBuilder,
  spec: GemmSpec,
  x: Local,
  y: Local,
  r: () => Expr,
  p: () => Expr,
  rows: number,
  valid: number,
): Expr {
  const vecs = Math.ceil(valid / 4);
  const acc = Array.from({ length: rows * vecs }, () => f.local("v128"));
  const wv = Array.from({ length: vecs }, () => f.local("v128"));
  const xs = f.local("v128");
  const xp = f.local("i32");
  const wp = f.local("i32");
  const k = f.local("i32");
  const rowBytes = spec.inF * 4;
  const element = spec.element ?? "f32";
  const wBytes = element === "f32" ? 4 : 2;
  const step: Expr[] = [];
  for (let v = 0; v < vecs; v++) {
    if (element === "f32") step.push(wv[v]!.set(w.load(wp.get(), v * 16)));
    else if (element === "bf16") step.push(wv[v]!.set(bf16x4ToF32(w, w.loadU16x4(wp.get(), v * 8))));
    else {
      const half = f.local("v128");
      const widen = f16x4ToF32(w, f, half);
      step.push(half.set(w.loadU16x4(wp.get(), v * 8)), widen.setup, wv[v]!.set(widen.value));
    }
  }
  for (let i = 0; i < rows; i++) {
    step.push(xs.set(w.loadSplat(xp.get(), i * rowBytes)));
    // The relaxed variant fuses each multiply-add where the engine can (one rounding instead of two).
    for (let v = 0; v < vecs; v++) {
      const a = acc[i * vecs + v]!;
      step.push(a.set(w.relaxed ? w.relaxedMaddX4(xs.get(), wv[v]!.get(), a.get()) : w.addX4(a.get(), w.mulX4(xs.get(), wv[v]!.get()))));
    }
  }
  step.push(xp.set(w.add(xp.get(), w.i32(4))), wp.set(w.add(wp.get(), w.i32(PANEL * wBytes))));
  const out: Expr[] = [
    ...acc.map((a) => a.set(w.zero())),
    xp.set(w.add(x.get(), w.mul(r(), w.i32(rowBytes)))),
    wp.set(w.add(w.i32(spec.weights), w.mul(p(), w.i32(spec.inF * PANEL * wBytes)))),
    f.forRange(k, w.i32(0), () => w.i32(spec.inF), 1, step),
  ];
  // Epilogue: + bias, relu, store. The output row address is y + r*outF*4 + p*PANEL*4.
  const yp = f.local("i32");
  out.push(yp.set(w.add(w.add(y.get(), w.mul(r(), w.i32(spec.outF * 4))), w.mul(p(), w.i32(PANEL * 4)))));
  for (let i = 0; i < rows; i++)
    for (let v = 0; v < vecs; v++) {
      let val = acc[i * vecs + v]!.get();
      if (spec.bias !== undefined) val = w.addX4(val, w.load(w.add(w.i32(spec.bias), w.mul(p(), w.i32(PANEL * 4))), v * 16));
      if (spec.act === "relu") val = w.maxX4(val, w.zero());
      const at = i * spec.outF * 4 + v * 16;
      const lanes = Math.min(4, valid - v * 4);
      if (lanes === 4) out.push(w.store(yp.get(), val, at));
      else {
        const tmp = f.local("v128");
        out.push(tmp.set(val));
        for (let l = 0; l < lanes; l++) out.push(w.storeLane(yp.get(), tmp.get(), l, at + l * 4));
      }
    }
  return w.block(out);
}
