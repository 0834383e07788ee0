// Fuzzing harness (bench/fuzz): mutation arbitraries. A case is a real input
// (a model from examples/, a compiled artifact's manifest, a safetensors file)
// with a few edits applied — ranges deleted or repeated, tokens and extreme
// numbers spliced in, bytes flipped, lengths overwritten — so most cases get
// past the first check and reach the deeper ones a random string never would.

import fc from "fast-check";

/** Numbers that break naive code: zero, signs, non-integers, int32/uint32/2^53 edges, exponents, NaN spellings. */
export const EXTREME_NUMBERS = [
  "0",
  "-0",
  "-1",
  "1",
  "0.5",
  "-2.5",
  "2147483647",
  "2147483648",
  "-2147483649",
  "4294967296",
  "9007199254740993",
  "1e308",
  "1e309",
  "-1e309",
  "1e-400",
  "NaN",
  "nan",
  "inf",
  "Infinity",
  "0x10",
  "00",
  "1.",
  ".5",
  "99999999999999999999999",
] as const;

type Edit =
  | { op: "delete"; at: number; len: number }
  | { op: "repeat"; at: number; len: number }
  | { op: "insert"; at: number; text: string }
  | { op: "number"; which: number; text: string }
  | { op: "truncate"; at: number };

/** Text edits; positions are fractions of the text's length so they fit any seed. */
function textEdit(tokens: readonly string[]): fc.Arbitrary<Edit> {
  const at = fc.double({ min: 0, max: 1, noNaN: true });
  return fc.oneof(
    fc.record({ op: fc.constant("delete" as const), at, len: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ op: fc.constant("repeat" as const), at, len: fc.integer({ min: 1, max: 60 }) }),
    fc.record({
      op: fc.constant("insert" as const),
      at,
      text: fc.oneof(fc.constantFrom(...tokens), fc.string({ maxLength: 8 }), fc.constantFrom(...EXTREME_NUMBERS)),
    }),
    fc.record({ op: fc.constant("number" as const), which: fc.nat(50), text: fc.constantFrom(...EXTREME_NUMBERS) }),
    fc.record({ op: fc.constant("truncate" as const), at }),
  );
}

function applyText(text: string, e: Edit): string {
  const pos = (f: number): number => Math.floor(f * text.length);
  switch (e.op) {
    case "delete":
      return text.slice(0, pos(e.at)) + text.slice(pos(e.at) + e.len);
    case "repeat":
      return text.slice(0, pos(e.at) + e.len) + text.slice(pos(e.at));
    case "insert":
      return text.slice(0, pos(e.at)) + e.text + text.slice(pos(e.at));
    case "number": {
      const numbers = [...text.matchAll(/\d+(\.\d+)?/g)];
      const m = numbers[e.which % Math.max(1, numbers.length)];
      return m ? text.slice(0, m.index) + e.text + text.slice(m.index + m[0].length) : text;
    }
    case "truncate":
      return text.slice(0, pos(e.at));
  }
}

/** One of `seeds` with 0 to `maxEdits` edits; `tokens` are the surface's keywords and punctuation. */
export function mutatedText(seeds: readonly string[], tokens: readonly string[], maxEdits = 4): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(textEdit(tokens), { maxLength: maxEdits }))
    .map(([seed, edits]) => edits.reduce(applyText, seed));
}

type ByteEdit =
  | { op: "flip"; at: number; value: number }
  | { op: "word"; at: number; value: bigint; width: 4 | 8 }
  | { op: "delete"; at: number; len: number }
  | { op: "insert"; at: number; bytes: Uint8Array }
  | { op: "truncate"; at: number };

const EXTREME_WORDS = [0n, 1n, 7n, 8n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 2n ** 53n, 2n ** 63n - 1n, 2n ** 64n - 1n];

function byteEdit(): fc.Arbitrary<ByteEdit> {
  const at = fc.double({ min: 0, max: 1, noNaN: true });
  return fc.oneof(
    fc.record({ op: fc.constant("flip" as const), at, value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({
      op: fc.constant("word" as const),
      at,
      value: fc.oneof(fc.constantFrom(...EXTREME_WORDS), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
      width: fc.constantFrom(4 as const, 8 as const),
    }),
    fc.record({ op: fc.constant("delete" as const), at, len: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ op: fc.constant("insert" as const), at, bytes: fc.uint8Array({ maxLength: 16 }) }),
    fc.record({ op: fc.constant("truncate" as const), at }),
  );
}

function applyBytes(b: Uint8Array, e: ByteEdit): Uint8Array {
  const pos = Math.floor(e.at * b.length);
  switch (e.op) {
    case "flip": {
      const out = b.slice();
      if (pos < out.length) out[pos] = e.value;
      return out;
    }
    case "word": {
      const out = b.slice();
      for (let i = 0; i < e.width && pos + i < out.length; i++) out[pos + i] = Number((e.value >> BigInt(8 * i)) & 0xffn);
      return out;
    }
    case "delete":
      return Uint8Array.from([...b.subarray(0, pos), ...b.subarray(pos + e.len)]);
    case "insert":
      return Uint8Array.from([...b.subarray(0, pos), ...e.bytes, ...b.subarray(pos)]);
    case "truncate":
      return b.slice(0, pos);
  }
}

/** One of `seeds` with 0 to `maxEdits` byte edits (flips, little-endian 32/64-bit words, deletions, insertions, truncation). */
export function mutatedBytes(seeds: readonly Uint8Array[], maxEdits = 4): fc.Arbitrary<Uint8Array> {
  // Plain copies: a Buffer's slice() is a view, and an edit would write through it into the seed.
  const own = seeds.map((s) => Uint8Array.from(s));
  return fc.tuple(fc.constantFrom(...own), fc.array(byteEdit(), { maxLength: maxEdits })).map(([seed, edits]) => edits.reduce(applyBytes, seed));
}

/** Hostile JSON values for structured edits of manifests, plans and headers. */
export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 0.5, -0, 1e308, 2 ** 31, 2 ** 32, 2 ** 53 + 2, "", "__proto__", "../x", "constructor", [], {}),
  fc.integer(),
  fc.string({ maxLength: 10 }),
  fc.array(fc.integer({ min: -3, max: 1 << 20 }), { maxLength: 4 }),
);

/** Paths of every value inside a JSON tree. */
export function jsonPaths(x: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(x)) x.forEach((v, i) => jsonPaths(v, [...prefix, i], out));
  else if (x && typeof x === "object") for (const [k, v] of Object.entries(x)) jsonPaths(v, [...prefix, k], out);
  return out;
}

/** A copy of `root` with the value at `path` replaced (or deleted when `value` is undefined). */
export function setAt(root: unknown, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy: any = structuredClone(root);
  let at = copy;
  for (const k of path.slice(0, -1)) at = at[k];
  const last = path[path.length - 1]!;
  if (value === undefined && !Array.isArray(at)) delete at[last];
  else at[last] = value;
  return copy;
}

/** `seed` (a JSON tree) with up to `maxEdits` values replaced by hostile ones or removed. */
export function mutatedJson(seed: unknown, maxEdits = 3): fc.Arbitrary<unknown> {
  const paths = jsonPaths(seed);
  const edit = fc.tuple(fc.nat(paths.length - 1), fc.option(hostileJson, { nil: undefined, freq: 6 }));
  return fc.array(edit, { minLength: 1, maxLength: maxEdits }).map((edits) =>
    edits.reduce<unknown>((tree, [i, value]) => {
      const p = paths[i]!;
      try {
        return setAt(tree, p, value);
      } catch {
        return tree; // an earlier edit removed the path's parent
      }
    }, seed),
  );
}
