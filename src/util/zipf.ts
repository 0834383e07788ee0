// Zipf-distributed ids, shared by the synthetic data generator (which samples
// ids) and the "trained" weight initialiser (which makes hot rows' norms
// larger). Both must agree on which ids are hot, so the id <-> frequency-rank
// mapping lives here and depends only on the table's name and size.

import { hashSeed } from "./rng.js";

/**
 * Samples ranks 0..n-1 with P(rank = k) proportional to (k+1)^-s, in O(1) per
 * sample and O(1) memory, by rejection-inversion (Hörmann & Derflinger, 1996).
 */
export class ZipfSampler {
  private readonly hX1: number;
  private readonly hN: number;
  private readonly sCut: number;

  constructor(
    readonly n: number,
    readonly s: number,
  ) {
    if (!(n >= 1) || !(s > 0)) throw new RangeError(`Zipf needs n >= 1 and s > 0, got n=${n}, s=${s}`);
    this.hX1 = this.hIntegral(1.5) - 1;
    this.hN = this.hIntegral(n + 0.5);
    this.sCut = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2));
  }

  /** A rank in [0, n), 0 being the most frequent; `u01` yields uniforms in [0, 1). */
  sample(u01: () => number): number {
    for (;;) {
      const u = this.hN + u01() * (this.hX1 - this.hN);
      const x = this.hIntegralInverse(u);
      let k = Math.floor(x + 0.5);
      if (k < 1) k = 1;
      else if (k > this.n) k = this.n;
      if (k - x <= this.sCut || u >= this.hIntegral(k + 0.5) - this.h(k)) return k - 1;
    }
  }

  private h(x: number): number {
    return Math.exp(-this.s * Math.log(x));
  }
  /** Integral of h: ((x^(1-s)) - 1) / (1 - s), written to stay exact near s = 1. */
  private hIntegral(x: number): number {
    const lx = Math.log(x);
    return expm1OverX((1 - this.s) * lx) * lx;
  }
  private hIntegralInverse(x: number): number {
    let t = x * (1 - this.s);
    if (t < -1) t = -1;
    return Math.exp(log1pOverX(t) * x);
  }
}

const expm1OverX = (x: number): number => (Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + (x / 3) * (1 + 0.25 * x)));
const log1pOverX = (x: number): number => (Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1 / 3 - 0.25 * x)));

/** (a * b) mod m for non-negative integers below 2^53, exact. */
export function mulmod(a: number, b: number, m: number): number {
  if (a * b < Number.MAX_SAFE_INTEGER) return (a * b) % m;
  return Number((BigInt(a) * BigInt(b)) % BigInt(m));
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Modular inverse of a mod m (gcd(a, m) = 1), by the extended Euclidean algorithm in BigInt. */
function modInverse(a: number, m: number): number {
  let [r0, r1] = [BigInt(m), BigInt(a % m)];
  let [t0, t1] = [0n, 1n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  const inv = t0 % BigInt(m);
  return Number(inv < 0n ? inv + BigInt(m) : inv);
}

/**
 * A bijection between frequency ranks and row ids of one table:
 * `id = (a * rank + c) mod rows`, so hot ids are scattered over the table as
 * they are in real data rather than being 0, 1, 2, ...
 */
export class IdPermutation {
  private readonly a: number;
  private readonly c: number;
  private readonly aInv: number;

  constructor(
    tableName: string,
    readonly rows: number,
  ) {
    const h = hashSeed("zipf-permutation", tableName, rows);
    let a = rows <= 2 ? 1 : (h % Math.max(1, rows - 1)) + 1;
    while (gcd(a, rows) !== 1) a++;
    this.a = a;
    this.c = hashSeed("zipf-offset", tableName) % rows;
    this.aInv = rows === 1 ? 0 : modInverse(a, rows);
  }

  rankToId(rank: number): number {
    return (mulmod(this.a, rank, this.rows) + this.c) % this.rows;
  }

  idToRank(id: number): number {
    return mulmod((id - this.c + this.rows) % this.rows, this.aInv, this.rows);
  }
}
