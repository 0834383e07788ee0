// Wasm kernels over flat arrays: relu (f32x4.max with 0, scalar tail),
// sigmoid and tanh (one call per element to the host's exact definitions —
// they end models and are a sliver of the work), the DCNv2 cross epilogue
// y = x0 ⊙ t + xl (optionally relu'd), and concat (row copies).

import type { Expr, FunctionBuilder, Local, WasmModule } from "../module.js";

/** The scalar remainder of a vector loop: runs `body` for i = (where the vector loop stopped) .. n-1. */
function tail(w: WasmModule, f: FunctionBuilder, i: Local, n: Local, body: Expr[]): Expr {
  const done = f.label("tail_done");
  const top = f.label("tail");
  return w.block([w.loop(top, w.block([w.br(done, w.ge(i.get(), n.get())), ...body, i.set(w.add(i.get(), w.i32(1))), w.br(top)]))], done);
}

/** Emits `name(x, y, count)` applying relu to `count` floats. */
export function emitRelu(w: WasmModule, name: string): void {
  w.func(name, ["i32", "i32", "i32"], (f) => {
    const [x, y, n] = f.params as [Local, Local, Local];
    const i = f.local("i32");
    const vecEnd = f.local("i32");
    const at = (base: Local) => w.add(base.get(), w.shl(i.get(), w.i32(2)));
    return [
      vecEnd.set(w.sub(n.get(), w.i32(3))),
      f.forRange(i, w.i32(0), () => vecEnd.get(), 4, [w.store(at(y), w.maxX4(w.load(at(x)), w.zero()))]),
      // i continues from where the vector loop stopped
      tail(w, f, i, n, [w.storeF32(at(y), w.maxF32(w.loadF32(at(x)), w.f32(0)))]),
    ];
  });
}

/** Emits `name(x, y, count)` calling the imported `(f32) -> f32` host function `fn` on each element. */
export function emitHostMap(w: WasmModule, name: string, fn: string): void {
  w.func(name, ["i32", "i32", "i32"], (f) => {
    const [x, y, n] = f.params as [Local, Local, Local];
    const i = f.local("i32");
    const at = (base: Local) => w.add(base.get(), w.shl(i.get(), w.i32(2)));
    return [f.forRange(i, w.i32(0), () => n.get(), 1, [w.storeF32(at(y), w.callF32(fn, w.loadF32(at(x))))])];
  });
}

/** Emits `name(x0, t, xl, y, count)`: y = x0·t + xl over `count` floats, each product and sum rounded as f32; relu optional. */
export function emitCrossEpilogue(w: WasmModule, name: string, relu: boolean): void {
  w.func(name, ["i32", "i32", "i32", "i32", "i32"], (f) => {
    const [x0, t, xl, y, n] = f.params as [Local, Local, Local, Local, Local];
    const i = f.local("i32");
    const vecEnd = f.local("i32");
    const at = (base: Local) => w.add(base.get(), w.shl(i.get(), w.i32(2)));
    const vec = (): Expr => {
      const v = w.addX4(w.mulX4(w.load(at(x0)), w.load(at(t))), w.load(at(xl)));
      return relu ? w.maxX4(v, w.zero()) : v;
    };
    const scalar = (): Expr => {
      const v = w.addF32(w.mulF32(w.loadF32(at(x0)), w.loadF32(at(t))), w.loadF32(at(xl)));
      return relu ? w.maxF32(v, w.f32(0)) : v;
    };
    return [
      vecEnd.set(w.sub(n.get(), w.i32(3))),
      f.forRange(i, w.i32(0), () => vecEnd.get(), 4, [w.store(at(y), vec())]),
      tail(w, f, i, n, [w.storeF32(at(y), scalar())]),
    ];
  });
}

/** Emits `name(in_0, ..., in_{n-1}, out, batch)` joining rows of the given widths. */
export function emitConcat(w: WasmModule, name: string, widths: number[]): void {
  const total = widths.reduce((a, b) => a + b, 0);
  w.func(name, [...widths.map(() => "i32" as const), "i32", "i32"], (f) => {
    const ins = f.params.slice(0, widths.length);
    const [out, batch] = f.params.slice(widths.length) as [Local, Local];
    const b = f.local("i32");
    let col = 0;
    const body = widths.map((width, k) => {
      const e = w.copy(
        w.add(w.add(out.get(), w.mul(b.get(), w.i32(total * 4))), w.i32(col * 4)),
        w.add(ins[k]!.get(), w.mul(b.get(), w.i32(width * 4))),
        w.i32(width * 4),
      );
      col += width;
      return e;
    });
    return [f.forRange(b, w.i32(0), () => batch.get(), 1, body)];
  });
}
