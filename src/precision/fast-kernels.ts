// fp32 kernels of the precision search's evaluator (src/precision/incremental.ts):
// the sums of the reference interpreter (src/interp/math.ts, kernels.ts) in
// the same order with the same roundings, so their results are bit for bit
// the interpreter's, but written for speed. A sum rounded after every add is
// one chain of dependent operations, bound by their latency; these loops run
// four independent chains (rows or pairs) side by side.

const f32 = Math.fround;

/**
 * y = x·Wᵀ + bias as `linearBatch` computes it (each sum over k = 0..inF-1 in order from 0, the bias
 * added last; none without a bias), four rows at a time: the layers too narrow for the SIMD kernel
 * (e.g. the top MLP's last, with one output).
 */
export function linearF32(
  x: Float32Array,
  batch: number,
  inF: number,
  w: Float32Array,
  bias: Float32Array | undefined,
  out: number,
  y: Float32Array,
): void {
  for (let o = 0; o < out; o++) rowsOfOneOutput(x, batch, inF, w, o, bias, out, y);
}

/** Output `o` of every row, four rows at a time. */
function rowsOfOneOutput(
  x: Float32Array,
  batch: number,
  inF: number,
  w: Float32Array,
  o: number,
  bias: Float32Array | undefined,
  out: number,
  y: Float32Array,
): void {
  const wo = o * inF;
  let b = 0;
  for (; b + 4 <= batch; b += 4) {
    const x0 = b * inF;
    const x1 = x0 + inF;
    const x2 = x1 + inF;
    const x3 = x2 + inF;
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    for (let i = 0; i < inF; i++) {
      const k = w[wo + i]!;
      a0 = f32(a0 + f32(x[x0 + i]! * k));
      a1 = f32(a1 + f32(x[x1 + i]! * k));
      a2 = f32(a2 + f32(x[x2 + i]! * k));
      a3 = f32(a3 + f32(x[x3 + i]! * k));
    }
    y[b * out + o] = bias ? f32(a0 + bias[o]!) : a0;
    y[(b + 1) * out + o] = bias ? f32(a1 + bias[o]!) : a1;
    y[(b + 2) * out + o] = bias ? f32(a2 + bias[o]!) : a2;
    y[(b + 3) * out + o] = bias ? f32(a3 + bias[o]!) : a3;
  }
  for (; b < batch; b++) {
    let a = 0;
    for (let i = 0; i < inF; i++) a = f32(a + f32(x[b * inF + i]! * w[wo + i]!));
    y[b * out + o] = bias ? f32(a + bias[o]!) : a;
  }
}

/**
 * Pairs of the dot interaction's vectors, grouped by a vector `u` that changed (the other is `v`), and the
 * output column of each; `end[g]` is where group g ends. A product is the same either way round (IEEE
 * multiplication commutes), so dot(T_u, T_v) is the interpreter's dot(T_i, T_j).
 */
export interface DotPairs {
  u: Int32Array;
  v: Int32Array;
  pos: Int32Array;
  end: Int32Array;
}

/**
 * The interaction's pairs (i = 1..n-1, j = 0..i-1; with `self`, j = 0..i; output columns from `d` on,
 * in that order) that read a vector in `changed`, grouped by the changed vector.
 */
export function dotPairs(n: number, d: number, self: boolean, changed: ReadonlySet<number>): DotPairs {
  const groups = new Map<number, [number, number][]>();
  let at = d;
  for (let i = self ? 0 : 1; i < n; i++)
    for (let j = 0; j <= (self ? i : i - 1); j++, at++) {
      const u = changed.has(i) ? i : changed.has(j) ? j : -1;
      if (u < 0) continue;
      if (!groups.has(u)) groups.set(u, []);
      groups.get(u)!.push([u === i ? j : i, at]);
    }
  const u: number[] = [];
  const v: number[] = [];
  const pos: number[] = [];
  const end: number[] = [];
  for (const [g, pairs] of groups) {
    for (const [w, p] of pairs) [u.push(g), v.push(w), pos.push(p)];
    end.push(u.length);
  }
  return { u: Int32Array.from(u), v: Int32Array.from(v), pos: Int32Array.from(pos), end: Int32Array.from(end) };
}

/**
 * out[row, pos] = dot(vector u, vector v) of each pair, as `dotF32` (from 0, k = 0..d-1, rounding after
 * every product and add): per row, u's elements are read once for four vs at a time. Vector w of row b
 * is src[w][b·stride[w] + within[w] ..].
 */
export function dotPairsInto(
  src: readonly Float32Array[],
  stride: Int32Array,
  within: Int32Array,
  batch: number,
  d: number,
  pairs: DotPairs,
  out: Float32Array,
  outW: number,
): void {
  const { u: pu, v: pv, pos, end } = pairs;
  const xu = new Float64Array(d);
  for (let b = 0; b < batch; b++) {
    const row = b * outW;
    let p = 0;
    for (let g = 0; g < end.length; g++) {
      const u = pu[p]!;
      const au = src[u]!;
      const ou = b * stride[u]! + within[u]!;
      for (let k = 0; k < d; k++) xu[k] = au[ou + k]!;
      const last = end[g]!;
      for (; p + 4 <= last; p += 4) {
        const v0 = pv[p]!;
        const v1 = pv[p + 1]!;
        const v2 = pv[p + 2]!;
        const v3 = pv[p + 3]!;
        const c0 = src[v0]!;
        const c1 = src[v1]!;
        const c2 = src[v2]!;
        const c3 = src[v3]!;
        const o0 = b * stride[v0]! + within[v0]!;
        const o1 = b * stride[v1]! + within[v1]!;
        const o2 = b * stride[v2]! + within[v2]!;
        const o3 = b * stride[v3]! + within[v3]!;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let k = 0; k < d; k++) {
          const x = xu[k]!;
          s0 = f32(s0 + f32(x * c0[o0 + k]!));
          s1 = f32(s1 + f32(x * c1[o1 + k]!));
          s2 = f32(s2 + f32(x * c2[o2 + k]!));
          s3 = f32(s3 + f32(x * c3[o3 + k]!));
        }
        out[row + pos[p]!] = s0;
        out[row + pos[p + 1]!] = s1;
        out[row + pos[p + 2]!] = s2;
        out[row + pos[p + 3]!] = s3;
      }
      for (; p < last; p++) {
        const c = src[pv[p]!]!;
        const o = b * stride[pv[p]!]! + within[pv[p]!]!;
        let s = 0;
        for (let k = 0; k < d; k++) s = f32(s + f32(xu[k]! * c[o + k]!));
        out[row + pos[p]!] = s;
      }
    }
  }
}
