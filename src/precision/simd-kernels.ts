// Two kernels of the precision search's evaluator in WebAssembly SIMD, in a
// module of a few hundred bytes written out here (no toolchain), compiled once:
//  - the int32 sums of the int8 layer update (src/precision/int8-layer.ts):
//    acc[o] += d · w[col, o] for a row's list of (column, code change),
//    sixteen outputs per step. |d · w| ≤ 254 · 127 fits an i16 lane and the
//    int32 lanes hold every sum of a layer with at most MAX_INT8_INPUTS
//    inputs: the very integers the interpreter's sums are;
//  - the fp32 linear layer, sixteen outputs per step, each lane one output's
//    sum over k = 0..in-1 in order: f32x4.mul and f32x4.add round as
//    fround(x·w) and fround(acc + p) do (a product of two f32 is exact in
//    double, and rounding a double sum of two f32 to f32 is the f32 sum), so
//    the outputs are linearBatch's bit for bit (NaN payloads aside).

// LEB128 of the small numbers this module holds (opcodes, offsets, lengths < 2^14; constants 0..64), unsigned and signed.
const leb = (n: number): number[] => (n < 0x80 ? [n] : [0x80 | (n & 0x7f), n >> 7]);
const sleb = (n: number): number[] => (n < 0x40 ? [n] : [0x80 | (n & 0x7f), n >> 7]);
const section = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body];
const simd = (op: number, ...imm: number[]): number[] => [0xfd, ...leb(op), ...imm];

// Locals: 0 acc, 1 wT, 2 cols, 3 ds, 4 n, 5 width (params, i32); 6 i, 7 wrow, 8 o, 9 ap (i32); 10 d, 11 w, 12 lo, 13 hi (v128).
const [ACC, WT, COLS, DS, N, WIDTH, I, WROW, O, AP, D, W, LO, HI] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
const get = (l: number): number[] => [0x20, l];
const set = (l: number): number[] => [0x21, l];
const tee = (l: number): number[] => [0x22, l];
const i32 = (v: number): number[] => [0x41, ...sleb(v)];
const [ADD, MUL, SHL, LT_U, EQZ] = [0x6a, 0x6c, 0x74, 0x49, 0x45];
const load32 = [0x28, 2, 0];
const v128Load = (offset: number): number[] => simd(0x00, 4, ...leb(offset));
const v128Store = (offset: number): number[] => simd(0x0b, 4, ...leb(offset));
const [I16_SPLAT, I16_EXT_LO_I8, I16_EXT_HI_I8, I16_MUL, I32_EXT_LO_I16, I32_EXT_HI_I16, I32_ADD] = [0x10, 0x87, 0x88, 0x95, 0xa7, 0xa8, 0xae];

// g(x, wT, bias, y, batch, inF, width, hasBias): y[b, o] = Σ_k x[b, k] · wT[k, o] (+ bias[o]), o < width (a multiple of 16; batch, inF ≥ 1).
// Locals: 0 x, 1 wT, 2 bias, 3 y, 4 batch, 5 inF, 6 width, 7 hasBias (params); 8 b, 9 o, 10 xp, 11 wp, 12 xend, 13 yp (i32); 14-17 sums, 18 x splat (v128).
const [GX, GW, GBIAS, GY, GBATCH, GIN, GWIDTH, GHAS, GB, GO, XP, WP, XEND, YP, XS] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 18];
const SUMS = [14, 15, 16, 17];
const [F32_SPLAT, F32_ADD, F32_MUL, I32_SPLAT] = [0x13, 0xe4, 0xe6, 0x11];
const bytesOf = (l: number): number[] => [...get(l), ...i32(2), SHL]; // l · 4
const linearBody = [
  ...[...i32(0), ...set(GB), 0x03, 0x40], // rows
  ...[...i32(0), ...set(GO), 0x03, 0x40], // 16 outputs at a time
  ...SUMS.flatMap((a) => [...i32(0), ...simd(I32_SPLAT), ...set(a)]), // +0.0
  ...[...get(GX), ...get(GB), ...get(GIN), MUL, ...i32(2), SHL, ADD, ...tee(XP), ...bytesOf(GIN), ADD, ...set(XEND)],
  ...[...get(GW), ...bytesOf(GO), ADD, ...set(WP)],
  ...[0x03, 0x40], // k = 0 .. inF-1, in order
  ...[...get(XP), 0x2a, 2, 0, ...simd(F32_SPLAT), ...set(XS)],
  ...SUMS.flatMap((a, j) => [...get(a), ...get(XS), ...get(WP), ...v128Load(16 * j), ...simd(F32_MUL), ...simd(F32_ADD), ...set(a)]),
  ...[...get(WP), ...bytesOf(GWIDTH), ADD, ...set(WP)],
  ...[...get(XP), ...i32(4), ADD, ...tee(XP), ...get(XEND), LT_U, 0x0d, 0, 0x0b],
  ...[...get(GHAS), 0x04, 0x40], // if bias: the bias added last
  ...SUMS.flatMap((a, j) => [...get(a), ...get(GBIAS), ...bytesOf(GO), ADD, ...v128Load(16 * j), ...simd(F32_ADD), ...set(a)]),
  0x0b,
  ...[...get(GY), ...get(GB), ...get(GWIDTH), MUL, ...get(GO), ADD, ...i32(2), SHL, ADD, ...set(YP)],
  ...SUMS.flatMap((a, j) => [...get(YP), ...get(a), ...v128Store(16 * j)]),
  ...[...get(GO), ...i32(16), ADD, ...tee(GO), ...get(GWIDTH), LT_U, 0x0d, 0, 0x0b],
  ...[...get(GB), ...i32(1), ADD, ...tee(GB), ...get(GBATCH), LT_U, 0x0d, 0, 0x0b],
  0x0b,
];

// f(acc, wT, cols, ds, n, width): for i < n, acc[0 .. width) += ds[i] · wT[cols[i] · width ..] (int8 weights, int32 sums; width a multiple of 16).
const body = [
  ...[0x02, 0x40, ...get(N), EQZ, 0x0d, 0], // block; return when n = 0
  ...[0x03, 0x40], // loop over the columns
  ...[...get(WT), ...get(COLS), ...get(I), ...i32(2), SHL, ADD, ...load32, ...get(WIDTH), MUL, ADD, ...set(WROW)],
  ...[...get(DS), ...get(I), ...i32(2), SHL, ADD, ...load32, ...simd(I16_SPLAT), ...set(D)],
  ...[...get(ACC), ...set(AP), ...i32(0), ...set(O)],
  ...[0x03, 0x40], // loop over 16 outputs at a time
  ...[...get(WROW), ...get(O), ADD, ...simd(0x00, 0, 0), ...set(W)],
  ...[...get(W), ...simd(I16_EXT_LO_I8), ...get(D), ...simd(I16_MUL), ...set(LO)],
  ...[...get(W), ...simd(I16_EXT_HI_I8), ...get(D), ...simd(I16_MUL), ...set(HI)],
  // acc[ap + 16j ..) += the products' j-th four, widened to i32 lanes.
  ...[LO, LO, HI, HI].flatMap((p, j) => [
    ...get(AP),
    ...get(AP),
    ...v128Load(16 * j),
    ...get(p),
    ...simd(j % 2 ? I32_EXT_HI_I16 : I32_EXT_LO_I16),
    ...simd(I32_ADD),
    ...v128Store(16 * j),
  ]),
  ...[...get(AP), ...i32(64), ADD, ...set(AP)],
  ...[...get(O), ...i32(16), ADD, ...tee(O), ...get(WIDTH), LT_U, 0x0d, 0, 0x0b],
  ...[...get(I), ...i32(1), ADD, ...tee(I), ...get(N), LT_U, 0x0d, 0, 0x0b],
  ...[0x0b, 0x0b], // block, function
];
const code = [0x02, 4, 0x7f, 4, 0x7b, ...body];
const linearCode = [0x02, 6, 0x7f, 5, 0x7b, ...linearBody];
const bytes = new Uint8Array([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
  ...section(1, [2, 0x60, 6, ...Array(6).fill(0x7f), 0, 0x60, 8, ...Array(8).fill(0x7f), 0]),
  ...section(3, [2, 0, 1]),
  ...section(5, [1, 0, 1]),
  ...section(7, [3, 1, 0x6d, 0x02, 0, 1, 0x66, 0x00, 0, 1, 0x67, 0x00, 1]),
  ...section(10, [2, ...leb(code.length), ...code, ...leb(linearCode.length), ...linearCode]),
]);

type AddColumns = (acc: number, wT: number, cols: number, ds: number, n: number, width: number) => void;
type Linear = (x: number, wT: number, bias: number, y: number, batch: number, inF: number, width: number, hasBias: number) => void;
type Memory = { readonly buffer: ArrayBuffer; grow(pages: number): number };
/** The little of the host's WebAssembly this needs (the project's TypeScript libraries declare none of it). */
interface Wasm {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: { m: Memory; f: AddColumns; g: Linear } };
}
const wasm = (globalThis as unknown as { WebAssembly?: Wasm }).WebAssembly;

let instance: { memory: Memory; f: AddColumns; g: Linear } | undefined;
let top = 0;

/** The module, compiled on first use (undefined where WebAssembly SIMD is not available). */
function simdModule(): typeof instance {
  if (instance || !wasm?.validate(bytes)) return instance;
  const { exports } = new wasm.Instance(new wasm.Module(bytes));
  instance = { memory: exports.m, f: exports.f, g: exports.g };
  return instance;
}

/** Reserves `n` bytes (16-aligned) of the module's memory for good; returns their offset. */
function reserve(n: number): number {
  const m = simdModule()!;
  const at = top;
  top += Math.ceil(n / 16) * 16;
  const need = Math.ceil(top / 65536) - m.memory.buffer.byteLength / 65536;
  if (need > 0) m.memory.grow(need);
  return at;
}

/**
 * One layer's sums in the module: its transposed weights padded to `width` outputs, and room for a batch's sums and a row's changes.
 * The module's memory is never freed: `of` keeps one per weight array, so evaluators of the same weights share it.
 */
export class SimdSums {
  private static readonly made = new WeakMap<Int8Array, SimdSums>();
  static of(w: Int8Array, inF: number, out: number): SimdSums {
    let s = this.made.get(w);
    if (!s) this.made.set(w, (s = new SimdSums(w, inF, out)));
    return s;
  }

  readonly width: number;
  private readonly wT: number;
  private acc = 0;
  private accRows = 0;
  private readonly cols: number;
  private readonly ds: number;

  /** `w`: `[out, inF]` int8 weights (stored transposed, so that a column's weights are contiguous). */
  constructor(w: Int8Array, inF: number, out: number) {
    this.width = Math.ceil(out / 16) * 16;
    this.wT = reserve(inF * this.width);
    this.cols = reserve(inF * 4);
    this.ds = reserve(inF * 4);
    const wT = new Int8Array(simdModule()!.memory.buffer, this.wT, inF * this.width);
    for (let o = 0; o < out; o++) for (let k = 0; k < inF; k++) wT[k * this.width + o] = w[o * inF + k]!;
  }

  /** Views of a batch's sums (`rows` × width) and of a row's change lists, valid until the next call. */
  views(rows: number): { acc: Int32Array; cols: Int32Array; ds: Int32Array } {
    if (rows > this.accRows) [this.acc, this.accRows] = [reserve(rows * this.width * 4), rows];
    const buf = simdModule()!.memory.buffer;
    const n = (this.ds - this.cols) / 4;
    return { acc: new Int32Array(buf, this.acc, rows * this.width), cols: new Int32Array(buf, this.cols, n), ds: new Int32Array(buf, this.ds, n) };
  }

  /** Row `b`'s sums += each listed change times its column's weights (the first `n` of the change lists). */
  add(b: number, n: number): void {
    if (n > 0) simdModule()!.f(this.acc + b * this.width * 4, this.wT, this.cols, this.ds, n, this.width);
  }
}

/** Whether the SIMD sums can run here. */
export const simdAvailable = (): boolean => simdModule() !== undefined;

/** Scratch room for a batch's inputs and outputs, shared by the layers (grown as needed). */
let scratch = { at: 0, bytes: 0 };
function scratchOf(bytes: number): number {
  if (bytes > scratch.bytes) scratch = { at: reserve(bytes), bytes };
  return scratch.at;
}

/** An fp32 linear layer in the module: its weights transposed to `[in, width]` (padded with zeros) and its bias; one per weight and bias array (`of`). */
export class SimdLinear {
  private static readonly made = new WeakMap<object, Map<object | undefined, SimdLinear>>();
  /** The layer for weights `w` and `bias` that `key` and `biasKey` stand for (their tensors: the same values whenever they are the same). */
  static of(key: object, biasKey: object | undefined, w: Float32Array, bias: Float32Array | undefined, inF: number, out: number): SimdLinear {
    let byBias = this.made.get(key);
    if (!byBias) this.made.set(key, (byBias = new Map()));
    let l = byBias.get(biasKey);
    if (!l) byBias.set(biasKey, (l = new SimdLinear(w, bias, inF, out)));
    return l;
  }

  private readonly width: number;
  private readonly wT: number;
  private readonly bias: number;

  /** `w`: `[out, inF]`, PyTorch's layout. */
  constructor(
    w: Float32Array,
    bias: Float32Array | undefined,
    private readonly inF: number,
    private readonly out: number,
  ) {
    this.width = Math.ceil(out / 16) * 16;
    this.wT = reserve(inF * this.width * 4);
    this.bias = bias ? reserve(this.width * 4) : 0;
    const buf = simdModule()!.memory.buffer;
    const wT = new Float32Array(buf, this.wT, inF * this.width);
    for (let o = 0; o < out; o++) for (let k = 0; k < inF; k++) wT[k * this.width + o] = w[o * inF + k]!;
    if (bias) new Float32Array(buf, this.bias, this.width).set(bias);
  }

  /** y = x·Wᵀ (+ bias) for `batch` rows of x (`[batch, inF]`) into y (`[batch, out]`), as linearBatch computes it. */
  run(x: Float32Array, batch: number, y: Float32Array): void {
    if (batch === 0) return;
    const { inF, out, width } = this;
    const xAt = scratchOf((batch * inF + batch * width) * 4);
    const yAt = xAt + batch * inF * 4;
    const m = simdModule()!;
    new Float32Array(m.memory.buffer, xAt, batch * inF).set(x.subarray(0, batch * inF));
    m.g(xAt, this.wT, this.bias, yAt, batch, inF, width, this.bias ? 1 : 0);
    const ys = new Float32Array(m.memory.buffer, yAt, batch * width);
    if (width === out) y.set(ys);
    else for (let b = 0; b < batch; b++) y.set(ys.subarray(b * width, b * width + out), b * out);
  }
}
