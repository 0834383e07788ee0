// The label teacher of the synthetic generator: labels are Bernoulli draws of
// p = sigmoid(a·z + b), z being the model's own logit, with (a, b) fitted so
// the data has a chosen CTR and a chosen difficulty — the NE the teacher
// itself would score on its labels. That makes NE numbers on synthetic data
// land in a realistic range (Criteo models score about 0.8).

import { RmcError } from "../diagnostics/index.js";

/** A fitted teacher: p = sigmoid(scale · z + shift). */
export interface Teacher {
  scale: number;
  shift: number;
  /** Mean p on the fitting logits. */
  ctr: number;
  /** Expected NE on the fitting logits. */
  ne: number;
  /** Set when the NE target could not be reached: what was done instead. */
  note?: string;
}

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** Binary entropy in nats; 0 at 0 and 1. */
export function entropy(p: number): number {
  if (p <= 0 || p >= 1) return 0;
  return -(p * Math.log(p) + (1 - p) * Math.log1p(-p));
}

/** Mean of sigmoid(a·z + b) over the logits. */
function meanP(logits: Float32Array, a: number, b: number): number {
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += sigmoid(a * logits[i]! + b);
  return s / logits.length;
}

/** Expected NE of the teacher sigmoid(a·z + b) scored on its own labels: E[H(p)] / H(E[p]). */
export function expectedNE(logits: Float32Array, a: number, b: number): number {
  let sp = 0;
  let sh = 0;
  for (let i = 0; i < logits.length; i++) {
    const p = sigmoid(a * logits[i]! + b);
    sp += p;
    sh += entropy(p);
  }
  const h = entropy(sp / logits.length);
  return h > 0 ? sh / logits.length / h : 0;
}

/**
 * The shift b with mean sigmoid(a·z + b) = ctr: Newton steps (the mean grows
 * with b, its slope is mean p(1-p)), falling back to bisection inside an exact
 * bracket — at logit(ctr) - a·max z every p is at most ctr, at
 * logit(ctr) - a·min z every p is at least ctr.
 */
export function fitShift(logits: Float32Array, a: number, ctr: number): number {
  let zMin = Infinity;
  let zMax = -Infinity;
  let zSum = 0;
  for (let i = 0; i < logits.length; i++) {
    zMin = Math.min(zMin, logits[i]!);
    zMax = Math.max(zMax, logits[i]!);
    zSum += logits[i]!;
  }
  const base = Math.log(ctr / (1 - ctr));
  let lo = base - a * zMax;
  let hi = base - a * zMin;
  let b = base - (a * zSum) / logits.length;
  for (let i = 0; i < 200 && hi - lo > 1e-13 * Math.max(1, Math.abs(b)); i++) {
    let mean = 0;
    let slope = 0;
    for (let k = 0; k < logits.length; k++) {
      const p = sigmoid(a * logits[k]! + b);
      mean += p;
      slope += p * (1 - p);
    }
    mean /= logits.length;
    slope /= logits.length;
    if (Math.abs(mean - ctr) < 1e-13) break;
    if (mean < ctr) lo = b;
    else hi = b;
    const next = b - (mean - ctr) / slope;
    b = slope > 0 && next > lo && next < hi ? next : (lo + hi) / 2;
  }
  return b;
}

/** Spread of the logits: the teacher scale is searched relative to it. */
function spread(logits: Float32Array): number {
  let mean = 0;
  for (let i = 0; i < logits.length; i++) mean += logits[i]!;
  mean /= logits.length;
  let v = 0;
  for (let i = 0; i < logits.length; i++) v += (logits[i]! - mean) ** 2;
  return Math.sqrt(v / logits.length);
}

/**
 * Fits (scale, shift) so that the mean p is `ctr` and the expected NE is `ne`.
 * NE falls from 1 (scale 0) as the scale grows, so the scale is found by
 * bisection, with the shift refitted for the CTR at every step.
 */
export function fitTeacher(logits: Float32Array, opts: { ctr?: number; ne?: number } = {}): Teacher {
  const ctr = opts.ctr ?? 0.25;
  const target = opts.ne ?? 0.8;
  if (!(ctr > 0 && ctr < 1)) throw new RmcError(`the target CTR must be between 0 and 1 (exclusive), got ${ctr}`, "E0707");
  if (!(target > 0 && target <= 1))
    throw new RmcError(`the target NE must be in (0, 1] (a teacher on its own labels never scores above 1), got ${target}`, "E0707");
  if (logits.length === 0) throw new RmcError("cannot fit the label teacher: no logits", "E0712");
  for (const z of logits)
    if (!Number.isFinite(z)) throw new RmcError(`cannot fit the label teacher: the model produced a non-finite logit (${z})`, "E0708");
  const sd = spread(logits);
  const at = (a: number): Teacher => {
    const b = fitShift(logits, a, ctr);
    return { scale: a, shift: b, ctr: meanP(logits, a, b), ne: expectedNE(logits, a, b) };
  };
  if (target === 1) return at(0);
  if (!(sd > 0)) throw new RmcError(`the model's output does not depend on its inputs; cannot reach NE ${target}`, "E0712");
  let lo = 0;
  let hi = 1 / sd;
  let best = at(hi);
  while (best.ne > target && hi < 1e6 / sd) {
    lo = hi;
    hi *= 2;
    best = at(hi);
  }
  if (best.ne > target)
    return {
      ...best,
      note: `NE ${target} is out of reach for these logits (too many ties); the sharpest teacher tried reaches NE ${best.ne.toFixed(4)}`,
    };
  for (let i = 0; i < 50 && hi - lo > 1e-9 * hi; i++) {
    const mid = (lo + hi) / 2;
    const t = at(mid);
    if (t.ne > target) lo = mid;
    else [hi, best] = [mid, t];
  }
  return best;
}

/** The teacher used as is: p = sigmoid(z). */
export function identityTeacher(logits: Float32Array): Teacher {
  return { scale: 1, shift: 0, ctr: meanP(logits, 1, 0), ne: expectedNE(logits, 1, 0) };
}
