// Runtime: the host math functions a compiled Wasm module imports as
// `env.<name>` (Wasm has no exp or tanh instruction). The compiler's tests and
// the reference numerics use these same definitions, so there is one meaning
// of `sigmoid` and `tanh` for every backend. No imports: worker threads load
// this file on its own.

/** Logistic sigmoid rounded to f32, exactly as the compiled code sees it. */
export const sigmoid = (x: number): number => Math.fround(1 / (1 + Math.exp(-x)));

/** Hyperbolic tangent rounded to f32. */
export const tanh = (x: number): number => Math.fround(Math.tanh(x));

/** Every host import a module may name in `wasm.imports`, by name: `(f32) -> f32`. */
export const HOST_MATH: Readonly<Record<string, (x: number) => number>> = { sigmoid, tanh };

/** The `env` functions for a module's `wasm.imports` (names already checked against HOST_MATH). */
export function hostImports(names: readonly string[]): Record<string, (x: number) => number> {
  const picked: Record<string, (x: number) => number> = {};
  for (const name of names) if (Object.hasOwn(HOST_MATH, name)) picked[name] = HOST_MATH[name]!;
  return picked;
}
