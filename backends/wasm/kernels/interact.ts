// Wasm kernel: DLRM feature interaction. op=cat copies x and the flattened
// features side by side. op=dot first transposes the sample's F feature
// vectors into scratch as [d][F'] (F' = F rounded up to 4), so that the dots
// of feature i with four features j..j+3 run as one f32x4 chain over d —
// each lane still sums its own products in d order, bit-identical to the
// reference interpreter (its FMA mode for the relaxed variant, whose
// multiply-adds are f32x4.relaxed_madd) — and writes x followed by the lower triangle. Tail
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
const dotWidth = (spec: InteractSpec): number =>
  dotInteractionWidth(
    spec.dim,
    spec.inputs.reduce((s, x) => s + x.vectors, 0),
    spec.self,
  );

/** Blocks of four j per trip of the dd loop; with two rows i that is 2·CHAINS f32x4 accumulators (8 of x64's 16 vector registers). */
const CHAINS = 4;

function dotTriangle(w: WasmModule, f: FunctionBuilder, spec: InteractSpec, ins: Local[], scratch: Local, b: Local, dst: Local): Expr[] {
  const d = spec.dim;
  const features = spec.inputs.reduce((s, x) => s + x.vectors, 0);
  const fp = Math.ceil(features / 4) * 4;
  const body: Expr[] = [];
  // Where each feature vector j starts, as (input pointer, byte offset) for this sample.
  const srcs = spec.inputs.map((input, i) => {
    const src = f.local("i32");
    body.push(src.set(w.add(ins[i]!.get(), w.mul(b.get(), w.i32(input.width * 4)))));
    return src;
  });
  const vectorAt: { src: Local; offset: number }[] = [];
  spec.inputs.forEach((input, i) => {
    for (let k = 0; k < input.vectors; k++) vectorAt.push({ src: srcs[i]!, offset: k * d * 4 });
  });
  body.push(...transpose(w, f, vectorAt, d, fp, scratch));
  // Lower triangle. Row i holds the dots of feature i with j = 0 .. limit-1 (limit = i, or i+1 with
  // self) at output columns pos_i ..; rows are contiguous, so a row's four-lane stores past its end
  // (at most 4 columns, for the shorter row of a pair) land in the next row, written after them. Rows
  // go in pairs that share each load of T[dd][j..j+3] and store whole vectors; the last pair (or a
  // single row) stores into scratch after T instead (`base`), and only its own columns are copied
  // out, so nothing past the triangle is written.
  const first = spec.self ? 0 : 1;
  const last = features - 1;
  const limitOf = (i: number) => (spec.self ? i + 1 : i);
  if (last < first) return body;
  const i = f.local("i32");
  const jj = f.local("i32");
  const pos = f.local("i32"); // output column of (i, 0)
  const limit = f.local("i32"); // the pair's longer row's limit
  const g = f.local("i32");
  const groups = f.local("i32");
  const rest = f.local("i32");
  const tp = f.local("i32");
  const dd = f.local("i32");
  const acc = Array.from({ length: 2 * CHAINS }, () => f.local("v128"));
  const xs = [f.local("v128"), f.local("v128")];
  const t = f.local("v128");
  const base = f.local("i32"); // where column 0 of the output row is stored: dst, or the staging area for the last rows
  const stage = fp * d * 4 + 16; // staging area offset in scratch (after T and its slack): room for two rows + a vector
  /**
   * `rows` rows from i (1 or 2), n blocks of four j from jj: per dd, splat x_i[dd] of each row and
   * multiply-add the loaded T[dd][jj+4c ..]; each lane sums its products in dd order from 0, as the
   * interpreter does. Then stores whole vectors.
   */
  const chains = (rows: number, n: number): Expr => {
    const out: Expr[] = [];
    for (let r = 0; r < rows; r++) for (let c = 0; c < n; c++) out.push(acc[r * CHAINS + c]!.set(w.zero()));
    const step: Expr[] = [];
    for (let r = 0; r < rows; r++) step.push(xs[r]!.set(w.loadSplat(w.add(tp.get(), w.shl(i.get(), w.i32(2))), r * 4)));
    for (let c = 0; c < n; c++) {
      step.push(t.set(w.load(w.add(tp.get(), w.shl(jj.get(), w.i32(2))), c * 16)));
      for (let r = 0; r < rows; r++) {
        const a = acc[r * CHAINS + c]!;
        step.push(a.set(w.relaxed ? w.relaxedMaddX4(xs[r]!.get(), t.get(), a.get()) : w.addX4(a.get(), w.mulX4(xs[r]!.get(), t.get()))));
      }
    }
    step.push(tp.set(w.add(tp.get(), w.i32(fp * 4))));
    out.push(
      tp.set(scratch.get()),
      f.forRange(dd, w.i32(0), () => w.i32(d), 1, step),
    );
    // Row r of the pair starts at pos + r·i (+1 with self): the row before it has that many columns.
    const rowStart = (r: number) => (r === 0 ? pos.get() : w.add(pos.get(), spec.self ? w.add(i.get(), w.i32(1)) : i.get()));
    const at = (r: number, c: number) => w.add(base.get(), w.shl(w.add(rowStart(r), w.add(jj.get(), w.i32(4 * c))), w.i32(2)));
    for (let r = 0; r < rows; r++) for (let c = 0; c < n; c++) out.push(w.store(at(r, c), acc[r * CHAINS + c]!.get()));
    return w.block(out);
  };
  /**
   * Every block of the current row(s), from the highest down: first the 0..CHAINS-1 blocks above the
   * last multiple of CHAINS, then whole groups. Top-down matters for whole-vector stores: the shorter
   * row's stores past its end land in block 0 of the longer row, which is therefore stored last.
   */
  const row = (rows: number): Expr[] => {
    const blocks = () => w.shrU(w.add(limit.get(), w.i32(3)), w.i32(2));
    const out: Expr[] = [
      rest.set(w.andI32(blocks(), w.i32(CHAINS - 1))),
      groups.set(w.shrU(blocks(), w.i32(2))),
      jj.set(w.shl(groups.get(), w.i32(4))),
    ];
    for (let n = CHAINS - 1; n >= 1; n--) out.push(w.if(w.eqz(w.sub(rest.get(), w.i32(n))), chains(rows, n)));
    out.push(f.forRange(g, w.i32(0), () => groups.get(), 1, [jj.set(w.sub(jj.get(), w.i32(4 * CHAINS))), chains(rows, CHAINS)]));
    return out;
  };
  body.push(pos.set(w.i32(d)));
  // Rows first..last: with an odd count, the first alone (one column: one block); then pairs. The
  // last pair, or a lone row, goes to the staging area: base = stage - pos (in bytes), then a copy.
  const rows = last - first + 1;
  const columnOf = (row: number) => d + Array.from({ length: row - first }, (_, k) => limitOf(first + k)).reduce((a, b) => a + b, 0);
  const staged = rows === 1 ? first : last - 1;
  const stageFor = (row: Expr) =>
    w.select(w.eqz(w.sub(row, w.i32(staged))), w.sub(w.add(scratch.get(), w.i32(stage)), w.i32(columnOf(staged) * 4)), dst.get());
  let pairsFrom = first;
  if (rows % 2 === 1) {
    body.push(
      i.set(w.i32(first)),
      limit.set(w.i32(limitOf(first))),
      jj.set(w.i32(0)),
      base.set(stageFor(i.get())),
      chains(1, 1),
      pos.set(w.add(pos.get(), limit.get())),
    );
    pairsFrom++;
  }
  if (rows >= 2)
    body.push(
      f.forRange(i, w.i32(pairsFrom), () => w.i32(last), 2, [
        limit.set(w.add(i.get(), w.i32(spec.self ? 2 : 1))),
        base.set(stageFor(i.get())),
        ...row(2),
        pos.set(w.add(pos.get(), w.add(w.shl(i.get(), w.i32(1)), w.i32(spec.self ? 3 : 1)))),
      ]),
    );
  // Copy the staged columns out: whole vectors, then the last 0-3 floats one by one.
  const count = columnOf(last) + limitOf(last) - columnOf(staged);
  const k = f.local("i32");
  const from = () => w.add(scratch.get(), w.add(w.i32(stage), w.shl(k.get(), w.i32(2))));
  const to = () => w.add(dst.get(), w.shl(w.add(k.get(), w.i32(columnOf(staged))), w.i32(2)));
  body.push(f.forRange(k, w.i32(0), () => w.i32(count - (count % 4)), 4, [w.store(to(), w.load(from()))]));
  for (let c = count - (count % 4); c < count; c++)
    body.push(w.storeF32(dst.get(), w.loadF32(scratch.get(), stage + c * 4), (columnOf(staged) + c) * 4));
  return body;
}

/**
 * scratch[dd*fp + j] = vector j, element dd. Whole 4×4 blocks (four vectors,
 * four elements) move as four loads, eight shuffles and four stores; the
 * elements of a last partial group of vectors, or past the last multiple of
 * 4 in d, one by one.
 */
function transpose(w: WasmModule, f: FunctionBuilder, vectorAt: { src: Local; offset: number }[], d: number, fp: number, scratch: Local): Expr[] {
  const out: Expr[] = [];
  const full = Math.floor(vectorAt.length / 4) * 4;
  const dFull = Math.floor(d / 4) * 4;
  const r = Array.from({ length: 4 }, () => f.local("v128"));
  const t = Array.from({ length: 4 }, () => f.local("v128"));
  for (let j = 0; j < full; j += 4)
    for (let dd = 0; dd < dFull; dd += 4) {
      r.forEach((v, q) => out.push(v.set(w.load(vectorAt[j + q]!.src.get(), vectorAt[j + q]!.offset + dd * 4))));
      // r_q = vector j+q, elements dd..dd+3 → row dd+e of the block = lane e of every r_q.
      out.push(
        t[0]!.set(w.shuffle32(r[0]!.get(), r[1]!.get(), [0, 4, 1, 5])),
        t[1]!.set(w.shuffle32(r[2]!.get(), r[3]!.get(), [0, 4, 1, 5])),
        t[2]!.set(w.shuffle32(r[0]!.get(), r[1]!.get(), [2, 6, 3, 7])),
        t[3]!.set(w.shuffle32(r[2]!.get(), r[3]!.get(), [2, 6, 3, 7])),
        w.store(scratch.get(), w.shuffle32(t[0]!.get(), t[1]!.get(), [0, 1, 4, 5]), (dd * fp + j) * 4),
        w.store(scratch.get(), w.shuffle32(t[0]!.get(), t[1]!.get(), [2, 3, 6, 7]), ((dd + 1) * fp + j) * 4),
        w.store(scratch.get(), w.shuffle32(t[2]!.get(), t[3]!.get(), [0, 1, 4, 5]), ((dd + 2) * fp + j) * 4),
        w.store(scratch.get(), w.shuffle32(t[2]!.get(), t[3]!.get(), [2, 3, 6, 7]), ((dd + 3) * fp + j) * 4),
      );
    }
  vectorAt.forEach(({ src, offset }, j) => {
    for (let dd = j < full ? dFull : 0; dd < d; dd++) out.push(w.storeF32(scratch.get(), w.loadF32(src.get(), offset + dd * 4), (dd * fp + j) * 4));
  });
  return out;
}
