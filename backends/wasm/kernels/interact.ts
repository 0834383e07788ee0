// Wasm kernel: DLRM feature interaction. op=cat copies x and the flattened
// features side by side. op=dot first transposes the sample's F feature
// vectors into scratch as [d][F'] (F' = F rounded up to 4), so that the dots
// of feature i with four features j..j+3 run as one f32x4 chain over d —
// each lane still sums its own products in d order, bit-identical to the
// reference interpreter — and writes x followed by the lower triangle. Tail
// inputs (fuse-interaction: a concat folded in) are copied after that.

import type { Expr, FunctionBuilder, Local, WasmModule } from "../module.js";
import { dotInteractionWidth } from "../../../src/ir/ops.js";

export interface InteractSpec {
  /** Per input: vectors per sample (1 for [B,d], n for [B,n,d]) and floats per sample. */
  inputs: { vectors: number; width: number }[];
  /** Vector dimension (dot) — the first input's width. */
  dim: number;
  op: "dot" | "cat";
  self: boolean;
  /** Floats per output row: the interaction, then the tail inputs. */
  outWidth: number;
  /** How many of the last inputs are tail inputs (not features), copied after the interaction. */
  tail?: number;
}

/** Emits `name(in_0, ..., in_{n-1}, out, scratch, batch)`. */
export function emitInteract(w: WasmModule, name: string, spec: InteractSpec): void {
  const n = spec.inputs.length;
  w.func(name, [...spec.inputs.map(() => "i32" as const), "i32", "i32", "i32"], (f) => {
    const ins = f.params.slice(0, n);
    const [out, scratch, batch] = f.params.slice(n) as [Local, Local, Local];
    const b = f.local("i32");
    const dst = f.local("i32");
    const body: Expr[] = [dst.set(w.add(out.get(), w.mul(b.get(), w.i32(spec.outWidth * 4))))];
    // x first (and, for cat, every input after it), row by row.
    const copyInput = (i: number, col: number): Expr => {
      const width = spec.inputs[i]!.width;
      return w.copy(w.add(dst.get(), w.i32(col * 4)), w.add(ins[i]!.get(), w.mul(b.get(), w.i32(width * 4))), w.i32(width * 4));
    };
    let col = 0;
    for (let i = 0; i < (spec.op === "cat" ? n : 1); i++) {
      body.push(copyInput(i, col));
      col += spec.inputs[i]!.width;
    }
    if (spec.op === "dot") {
      const tail = spec.tail ?? 0;
      const features = { ...spec, inputs: spec.inputs.slice(0, n - tail) };
      body.push(...dotTriangle(w, f, features, ins, scratch, b, dst));
      col = dotWidth(features);
      for (let i = n - tail; i < n; i++) {
        body.push(copyInput(i, col));
        col += spec.inputs[i]!.width;
      }
    }
    return [f.forRange(b, w.i32(0), () => batch.get(), 1, body)];
  });
}

/** Floats the dot interaction writes per row: x, then the lower triangle. */
const dotWidth = (spec: InteractSpec): number => dotInteractionWidth(spec.dim, spec.inputs.reduce((s, x) => s + x.vectors, 0), spec.self);

function dotTriangle(w: WasmModule, f: FunctionBuilder, spec: InteractSpec, ins: Local[], scratch: Local, b: Local, dst: Local): Expr[] {
  const d = spec.dim;
  const features = spec.inputs.reduce((s, x) => s + x.vectors, 0);
  const fp = Math.ceil(features / 4) * 4;
  const body: Expr[] = [];
  // Transpose: scratch[dd*fp + j] = vector j, element dd.
  let j = 0;
  for (const [i, input] of spec.inputs.entries()) {
    const src = f.local("i32");
    body.push(src.set(w.add(ins[i]!.get(), w.mul(b.get(), w.i32(input.width * 4)))));
    for (let k = 0; k < input.vectors; k++, j++)
      for (let dd = 0; dd < d; dd++) body.push(w.storeF32(scratch.get(), w.loadF32(src.get(), (k * d + dd) * 4), (dd * fp + j) * 4));
  }
  // Lower triangle: for each i, dots with j = 0 .. i-1 (or i with self), four j per chain.
  const i = f.local("i32");
  const jj = f.local("i32");
  const pos = f.local("i32"); // output column of (i, 0)
  const limit = f.local("i32");
  const acc = f.local("v128");
  const chain: Expr[] = [acc.set(w.zero())];
  for (let dd = 0; dd < d; dd++)
    chain.push(acc.set(w.addX4(acc.get(), w.mulX4(w.loadSplat(w.add(scratch.get(), w.shl(i.get(), w.i32(2))), dd * fp * 4), w.load(w.add(scratch.get(), w.shl(jj.get(), w.i32(2))), dd * fp * 4)))));
  const at = () => w.add(dst.get(), w.shl(w.add(pos.get(), jj.get()), w.i32(2)));
  const left = () => w.sub(limit.get(), jj.get());
  const lanes = (k: number): Expr => w.block(Array.from({ length: k }, (_, l) => w.storeLane(at(), acc.get(), l, l * 4)));
  chain.push(w.if(w.ge(left(), w.i32(4)), w.store(at(), acc.get()), w.if(w.eqz(w.sub(left(), w.i32(3))), lanes(3), w.if(w.eqz(w.sub(left(), w.i32(2))), lanes(2), lanes(1)))));
  const first = spec.self ? 0 : 1;
  body.push(pos.set(w.i32(d)));
  body.push(
    f.forRange(i, w.i32(first), () => w.i32(features), 1, [
      limit.set(spec.self ? w.add(i.get(), w.i32(1)) : i.get()),
      f.forRange(jj, w.i32(0), () => limit.get(), 4, chain),
      pos.set(w.add(pos.get(), limit.get())),
    ]),
  );
  return body;
}
