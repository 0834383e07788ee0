// Naive double-precision reference implementations for the interpreter tests,
// written from the op definitions (not from src/interp), on nested arrays:
// a batch is number[][] (samples x features).

export type Mat = number[][];

/** y[b][o] = sum_i x[b][i] * W[o][i] + bias[o]; W given flat [out*in]. */
export function linearRef(x: Mat, w: number[], out: number, bias?: number[]): Mat {
  return x.map((row) => {
    const inF = row.length;
    return Array.from({ length: out }, (_, o) => {
      let s = 0;
      for (let i = 0; i < inF; i++) s += row[i]! * w[o * inF + i]!;
      return s + (bias ? bias[o]! : 0);
    });
  });
}

export const reluRef = (v: number): number => Math.max(0, v);
export const sigmoidRef = (v: number): number => 1 / (1 + Math.exp(-v));
export const actRef = (name: string, m: Mat): Mat =>
  m.map((r) => r.map((v) => (name === "relu" ? reluRef(v) : name === "sigmoid" ? sigmoidRef(v) : name === "tanh" ? Math.tanh(v) : v)));

/** Splits a flat row-major array into rows of `width`. */
export function rows(flat: ArrayLike<number>, width: number): Mat {
  const out: Mat = [];
  for (let i = 0; i < flat.length; i += width) out.push(Array.from({ length: width }, (_, k) => flat[i + k]!));
  return out;
}

/** DCNv2 layer, full rank: x0 * (W xl + b) + xl. */
export function crossFullRef(x0: Mat, xl: Mat, w: number[], b: number[]): Mat {
  const t = linearRef(xl, w, b.length, b);
  return x0.map((r, s) => r.map((v, i) => v * t[s]![i]! + xl[s]![i]!));
}

/** DCNv2 layer, low rank: x0 * (up (down xl) + b) + xl, down [r,d], up [d,r]. */
export function crossLowRankRef(x0: Mat, xl: Mat, down: number[], up: number[], rank: number, b: number[]): Mat {
  const h = linearRef(xl, down, rank);
  const t = linearRef(h, up, b.length, b);
  return x0.map((r, s) => r.map((v, i) => v * t[s]![i]! + xl[s]![i]!));
}
