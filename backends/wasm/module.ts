// The one file that imports binaryen. Kernel generators build Wasm through
// this thin layer: typed aliases for binaryen's references, the ops rmc uses
// (each with its Wasm mnemonic), a function builder that hands out typed
// locals and unique labels, and module set-up (features, memory import,
// optimisation, validation, emission). Binaryen rules kept here: feature flags
// set explicitly, `setMemory` before `addMemoryImport`, no expression
// reference used twice (builders take thunks or fresh `get()`s for that), and
// every module disposed however its generation ends (`WasmModule.generate`).

import binaryen from "binaryen";
import type { StageClock } from "../backend.js";

/** The one C-API entry point rmc calls directly (binaryen.js has no wrapper for relaxed-SIMD ternaries). */
interface CApi {
  _BinaryenSIMDTernary(module: number, op: number, a: number, b: number, c: number): number;
}

/** A binaryen expression reference. Use each one exactly once. */
export type Expr = number;
/** Wasm value types rmc's kernels use. */
export type ValType = "i32" | "i64" | "f32" | "v128";

const TYPES: Record<ValType, number> = { i32: binaryen.i32, i64: binaryen.i64, f32: binaryen.f32, v128: binaryen.v128 };

/** A local variable or parameter of the function being built. */
export class Local {
  constructor(
    private readonly m: binaryen.Module,
    readonly index: number,
    readonly type: ValType,
  ) {}
  /** `local.get` — a fresh expression each call. */
  get(): Expr {
    return this.m.local.get(this.index, TYPES[this.type]);
  }
  /** `local.set` */
  set(value: Expr): Expr {
    return this.m.local.set(this.index, value);
  }
}

/** Builds one function: parameters, extra locals, labels and structured loops. */
export class FunctionBuilder {
  readonly params: Local[];
  private readonly vars: ValType[] = [];
  private labels = 0;

  constructor(
    readonly w: WasmModule,
    paramTypes: ValType[],
  ) {
    this.params = paramTypes.map((t, i) => new Local(w.raw, i, t));
  }

  /** A new local of the given type. */
  local(type: ValType): Local {
    this.vars.push(type);
    return new Local(this.w.raw, this.params.length + this.vars.length - 1, type);
  }

  /** A label name unique within the function. */
  label(prefix: string): string {
    return `${prefix}${this.labels++}`;
  }

  /** `for (i = start; i < end; i += step) body` as block+loop; the check is at the top so zero trips run nothing. */
  forRange(i: Local, start: Expr, end: () => Expr, step: number, body: Expr[]): Expr {
    const m = this.w.raw;
    const exit = this.label("done");
    const top = this.label("loop");
    return m.block(exit, [
      i.set(start),
      m.loop(top, m.block(null, [m.br(exit, m.i32.ge_s(i.get(), end())), ...body, i.set(m.i32.add(i.get(), m.i32.const(step))), m.br(top)])),
    ]);
  }

  /**
   * Rows in register tiles: `tile(r, n)` for r = 0, n, 2n, ... while r + n
   * <= count, then `tile(r, 1)` for each remaining row.
   */
  rowTiles(count: () => Expr, n: number, tile: (r: () => Expr, rows: number) => Expr): Expr {
    const m = this.w;
    const r = this.local("i32");
    const exitTiles = this.label("tiles");
    const loopTiles = this.label("tile");
    const exitRest = this.label("rows");
    const loopRest = this.label("row");
    return m.block([
      r.set(m.i32(0)),
      m.block(
        [
          m.loop(
            loopTiles,
            m.block([
              m.br(exitTiles, m.gt(m.add(r.get(), m.i32(n)), count())),
              tile(() => r.get(), n),
              r.set(m.add(r.get(), m.i32(n))),
              m.br(loopTiles),
            ]),
          ),
        ],
        exitTiles,
      ),
      m.block(
        [
          m.loop(
            loopRest,
            m.block([m.br(exitRest, m.ge(r.get(), count())), tile(() => r.get(), 1), r.set(m.add(r.get(), m.i32(1))), m.br(loopRest)]),
          ),
        ],
        exitRest,
      ),
    ]);
  }

  /** Extra local types, for `addFunction`. */
  localTypes(): number[] {
    return this.vars.map((t) => TYPES[t]);
  }
}

/** binaryen's default inlining limits (its pass-options defaults), restored after a `keepFunctions` build. */
const DEFAULT_ONE_CALLER_INLINE = binaryen.getOneCallerInlineMaxSize();
const DEFAULT_FLEXIBLE_INLINE = binaryen.getFlexibleInlineMaxSize();
const DEFAULT_ALWAYS_INLINE = binaryen.getAlwaysInlineMaxSize();
/**
 * Above this many functions the kernels stay calls: -O3 on a `forward` with
 * every kernel inlined grows faster than linearly (an MLP of 1,000 layers
 * compiled in 170 s inlined against 13 s not), while a call costs nothing
 * next to a kernel's loop. DLRM-sized models have a few dozen functions.
 */
const INLINE_FUNCTION_LIMIT = 256;

/** Options fixing the module's features and memory. */
export interface ModuleOptions {
  /** Import a shared memory (for worker threads); needs the Atomics feature. */
  sharedMemory: boolean;
  /** Allow relaxed-SIMD instructions (`f32x4.relaxed_madd`, `i32x4.relaxed_dot_i8x16_i7x16_add_s`): the relaxed variant. */
  relaxed?: boolean;
}

/** How a generated module is emitted. */
export interface EmitOptions {
  /** Run binaryen's optimiser (-O3). */
  optimize: boolean;
  /** Keep kernels as named functions (the `profile` feature): no inlining into `forward`, and a name section. */
  keepFunctions?: boolean;
  /** Times codegen, binaryen's optimiser and emitting, each named `<stage> <label>`, for --time-passes. */
  clock?: StageClock;
  label?: string;
}

/** A Wasm module under construction; made only by `WasmModule.generate`. */
export class WasmModule {
  /** The underlying binaryen module, for this folder's op helpers only. */
  readonly raw: binaryen.Module;
  /** Functions added so far (they decide whether kernels are inlined). */
  private functions = 0;

  /**
   * Makes a module, has `build` add its functions and exports, then validates
   * and emits it. A binaryen module lives in binaryen's own heap, which no
   * garbage collector sees: it is disposed in `finally`, so a generator that
   * throws (a model the backend refuses, or a bug) does not leak it.
   */
  static generate(opts: ModuleOptions & EmitOptions, build: (w: WasmModule) => void): { binary: Uint8Array; text: string } {
    const w = new WasmModule(opts);
    const time = <T>(stage: string, run: () => T): T => (opts.clock ? opts.clock.time(`${stage} ${opts.label ?? "module"}`, run) : run());
    try {
      time("codegen", () => build(w));
      return w.emit(opts.optimize, opts.keepFunctions === true, time);
    } finally {
      w.raw.dispose();
    }
  }

  private constructor(readonly opts: ModuleOptions) {
    this.raw = new binaryen.Module();
    let features =
      binaryen.Features.SIMD128 |
      binaryen.Features.BulkMemory |
      binaryen.Features.BulkMemoryOpt |
      binaryen.Features.MutableGlobals |
      binaryen.Features.SignExt |
      binaryen.Features.NontrappingFPToInt;
    if (opts.sharedMemory) features |= binaryen.Features.Atomics;
    if (opts.relaxed) features |= binaryen.Features.RelaxedSIMD;
    this.raw.setFeatures(features);
    // A shared memory must declare a maximum; 65536 pages is the whole 4 GiB of wasm32.
    this.raw.setMemory(1, 65536, null, [], opts.sharedMemory);
    this.raw.addMemoryImport("0", "env", "memory", opts.sharedMemory);
  }

  /** Whether this module may use relaxed-SIMD instructions (kernels choose their forms by it). */
  get relaxed(): boolean {
    return this.opts.relaxed === true;
  }

  /** Imports `env.<name>` as a function `(f32) -> f32` (host math helpers). */
  importUnaryF32(name: string): void {
    this.raw.addFunctionImport(name, "env", name, binaryen.createType([binaryen.f32]), binaryen.f32);
  }

  /** Adds a function built by `build`, which returns the body's statements. */
  func(name: string, params: ValType[], build: (f: FunctionBuilder) => Expr[], exported = false): void {
    const f = new FunctionBuilder(this, params);
    const body = build(f);
    this.raw.addFunction(name, binaryen.createType(params.map((p) => TYPES[p])), binaryen.none, f.localTypes(), this.raw.block(null, body));
    this.functions++;
    if (exported) this.raw.addFunctionExport(name, name);
  }

  /**
   * Validates, optionally optimises (-O3), and emits the binary and the text
   * form. `keepFunctions` (the `profile` feature) stops the optimiser from
   * inlining kernels into `forward` and keeps a name section, so a CPU profile
   * attributes time to each kernel by name.
   */
  private emit(optimize: boolean, keepFunctions: boolean, time: <T>(stage: string, run: () => T) => T): { binary: Uint8Array; text: string } {
    if (!this.raw.validate())
      throw new Error("rmc generated an invalid Wasm module (binaryen's validator printed the details above); this is a bug in the wasm backend");
    // binaryen's settings are global to the library: set every one each time.
    binaryen.setDebugInfo(keepFunctions);
    const inline = !keepFunctions && this.functions <= INLINE_FUNCTION_LIMIT;
    binaryen.setOneCallerInlineMaxSize(inline ? DEFAULT_ONE_CALLER_INLINE : 0);
    binaryen.setFlexibleInlineMaxSize(inline ? DEFAULT_FLEXIBLE_INLINE : 0);
    binaryen.setAlwaysInlineMaxSize(inline ? DEFAULT_ALWAYS_INLINE : 0);
    if (optimize) {
      binaryen.setOptimizeLevel(3);
      binaryen.setShrinkLevel(0);
      time("binaryen -O3", () => this.raw.optimize());
    }
    return time("emit", () => ({ binary: this.raw.emitBinary(), text: this.raw.emitText() }));
  }

  // ---- ops (Wasm mnemonics in the doc comments) ----
  /** `i32.const` */ i32 = (v: number): Expr => this.raw.i32.const(v | 0);
  /** `i32.add` */ add = (a: Expr, b: Expr): Expr => this.raw.i32.add(a, b);
  /** `i32.sub` */ sub = (a: Expr, b: Expr): Expr => this.raw.i32.sub(a, b);
  /** `i32.mul` */ mul = (a: Expr, b: Expr): Expr => this.raw.i32.mul(a, b);
  /** `i32.shl` */ shl = (a: Expr, b: Expr): Expr => this.raw.i32.shl(a, b);
  /** `i32.shr_u` */ shrU = (a: Expr, b: Expr): Expr => this.raw.i32.shr_u(a, b);
  /** `i32.lt_s` */ lt = (a: Expr, b: Expr): Expr => this.raw.i32.lt_s(a, b);
  /** `i64.load` (`align` 1 for addresses that may be unaligned) */ loadI64 = (ptr: Expr, offset = 0, align = 8): Expr =>
    this.raw.i64.load(offset, align, ptr);
  /** `i64.extend_i32_u` */ i64FromU32 = (a: Expr): Expr => this.raw.i64.extend_u(a);
  /** `i32.wrap_i64` */ wrapI64 = (a: Expr): Expr => this.raw.i32.wrap(a);
  /** `i64.shl` */ shlI64 = (a: Expr, b: Expr): Expr => this.raw.i64.shl(a, b);
  /** `i64.shr_u` */ shrUI64 = (a: Expr, b: Expr): Expr => this.raw.i64.shr_u(a, b);
  /** `i64.and` */ andI64 = (a: Expr, b: Expr): Expr => this.raw.i64.and(a, b);
  /** `i64.sub` */ subI64 = (a: Expr, b: Expr): Expr => this.raw.i64.sub(a, b);
  /** `i64.popcnt` */ popcntI64 = (a: Expr): Expr => this.raw.i64.popcnt(a);
  /** `i64.const` */ i64 = (v: number): Expr => this.raw.i64.const(BigInt(v));
  /** `i32.lt_u` */ ltU = (a: Expr, b: Expr): Expr => this.raw.i32.lt_u(a, b);
  /** `i32.or` */ orI32 = (a: Expr, b: Expr): Expr => this.raw.i32.or(a, b);
  /** `i32.gt_s` */ gt = (a: Expr, b: Expr): Expr => this.raw.i32.gt_s(a, b);
  /** `i32.ge_s` */ ge = (a: Expr, b: Expr): Expr => this.raw.i32.ge_s(a, b);
  /** `i32.store` */ storeI32 = (ptr: Expr, value: Expr, offset = 0): Expr => this.raw.i32.store(offset, 4, ptr, value);
  /** `i32.eqz` */ eqz = (a: Expr): Expr => this.raw.i32.eqz(a);
  /** `i32.load` (`align` 1 for addresses that may be unaligned) */ loadI32 = (ptr: Expr, offset = 0, align = 4): Expr =>
    this.raw.i32.load(offset, align, ptr);
  /** `i32.load16_u` (`align` 1 for addresses that may be odd) */ loadU16 = (ptr: Expr, offset = 0, align = 2): Expr =>
    this.raw.i32.load16_u(offset, align, ptr);
  /** `i32.and` */ andI32 = (a: Expr, b: Expr): Expr => this.raw.i32.and(a, b);
  /** `f32.reinterpret_i32` */ f32FromBits = (a: Expr): Expr => this.raw.f32.reinterpret(a);
  /** `i32.reinterpret_f32` */ f32Bits = (a: Expr): Expr => this.raw.i32.reinterpret(a);
  /** `i32.store16` */ storeI16 = (ptr: Expr, value: Expr, offset = 0): Expr => this.raw.i32.store16(offset, 2, ptr, value);
  /** `i32.trunc_sat_f32_s` (NaN → 0, saturating) */ truncSatF32 = (a: Expr): Expr => this.raw.i32.trunc_s_sat.f32(a);
  /** `select` */ select = (cond: Expr, ifTrue: Expr, ifFalse: Expr): Expr => this.raw.select(cond, ifTrue, ifFalse);
  /** `f32.const` */ f32 = (v: number): Expr => this.raw.f32.const(v);
  /** `f32.load` (`align` 1 for addresses that may be unaligned) */ loadF32 = (ptr: Expr, offset = 0, align = 4): Expr =>
    this.raw.f32.load(offset, align, ptr);
  /** `f32.store` */ storeF32 = (ptr: Expr, value: Expr, offset = 0): Expr => this.raw.f32.store(offset, 4, ptr, value);
  /** `f32.add` */ addF32 = (a: Expr, b: Expr): Expr => this.raw.f32.add(a, b);
  /** `f32.mul` */ mulF32 = (a: Expr, b: Expr): Expr => this.raw.f32.mul(a, b);
  /** `f32.div` */ divF32 = (a: Expr, b: Expr): Expr => this.raw.f32.div(a, b);
  /** `f32.max` */ maxF32 = (a: Expr, b: Expr): Expr => this.raw.f32.max(a, b);
  /** `f32.min` */ minF32 = (a: Expr, b: Expr): Expr => this.raw.f32.min(a, b);
  /** `f32.nearest` (round half to even) */ nearestF32 = (a: Expr): Expr => this.raw.f32.nearest(a);
  /** `f32.eq` */ eqF32 = (a: Expr, b: Expr): Expr => this.raw.f32.eq(a, b);
  /** `f32.convert_i32_s` */ f32FromI32 = (a: Expr): Expr => this.raw.f32.convert_s.i32(a);
  /** `v128.const` of zeros */ zero = (): Expr => this.raw.v128.const(new Array(16).fill(0));
  /** `v128.const` of four equal i32 lanes */ i32x4 = (v: number): Expr => this.raw.i32x4.splat(this.raw.i32.const(v | 0));
  /** `v128.load` */ load = (ptr: Expr, offset = 0): Expr => this.raw.v128.load(offset, 16, ptr);
  /** `v128.store` */ store = (ptr: Expr, value: Expr, offset = 0): Expr => this.raw.v128.store(offset, 16, ptr, value);
  /** `v128.load32_splat` */ loadSplat = (ptr: Expr, offset = 0): Expr => this.raw.v128.load32_splat(offset, 4, ptr);
  /** `v128.store32_lane` */ storeLane = (ptr: Expr, value: Expr, lane: number, offset = 0): Expr =>
    this.raw.v128.store32_lane(offset, 4, lane, ptr, value);
  /** `v128.load16x4_u`: four u16 widened to i32 lanes */ loadU16x4 = (ptr: Expr, offset = 0): Expr => this.raw.v128.load16x4_u(offset, 2, ptr);
  /** `v128.load32_zero`: four bytes into lane 0, zeros above (any alignment) */ load32Zero = (ptr: Expr, offset = 0): Expr =>
    this.raw.v128.load32_zero(offset, 1, ptr);
  /** `v128.load8x8_s`: eight i8 sign-extended to i16 lanes (any alignment) */ loadI8x8 = (ptr: Expr, offset = 0): Expr =>
    this.raw.v128.load8x8_s(offset, 1, ptr);
  /** `v128.load8x8_u`: eight u8 widened to i16 lanes (any alignment) */ loadU8x8 = (ptr: Expr, offset = 0): Expr =>
    this.raw.v128.load8x8_u(offset, 1, ptr);
  /** `v128.const` of four i32 lanes */ i32x4Lanes = (lanes: [number, number, number, number]): Expr =>
    this.raw.v128.const(Array.from(new Uint8Array(Int32Array.from(lanes).buffer)));
  /** `i32x4.splat` */ splatI32 = (x: Expr): Expr => this.raw.i32x4.splat(x);
  /** `i8x16.shuffle` broadcasting 32-bit lane `lane` of `a` */ broadcastLane = (a: Expr, lane: number): Expr =>
    this.raw.i8x16.shuffle(
      a,
      this.raw.v128.const(new Array(16).fill(0)),
      Array.from({ length: 16 }, (_, i) => lane * 4 + (i % 4)),
    );
  /** `i8x16.shuffle` by 32-bit lanes: lane l of the result is lane `lanes[l]` of a (0-3) or of b (4-7) */ shuffle32 = (
    a: Expr,
    b: Expr,
    lanes: [number, number, number, number],
  ): Expr =>
    this.raw.i8x16.shuffle(
      a,
      b,
      lanes.flatMap((l) => [l * 4, l * 4 + 1, l * 4 + 2, l * 4 + 3]),
    );
  /** `i32x4.max_s` */ maxI32x4 = (a: Expr, b: Expr): Expr => this.raw.i32x4.max_s(a, b);
  /** `i32x4.extract_lane` */ laneI32 = (v: Expr, i: number): Expr => this.raw.i32x4.extract_lane(v, i);
  /** `i32x4.lt_s` */ ltI32x4 = (a: Expr, b: Expr): Expr => this.raw.i32x4.lt_s(a, b);
  /** `i32x4.bitmask` */ bitmaskI32x4 = (a: Expr): Expr => this.raw.i32x4.bitmask(a);
  /** `i32.popcnt` */ popcnt = (a: Expr): Expr => this.raw.i32.popcnt(a);
  /** `i16x8.lt_u` */ ltU16x8 = (a: Expr, b: Expr): Expr => this.raw.i16x8.lt_u(a, b);
  /** `i16x8.bitmask` */ bitmaskI16x8 = (a: Expr): Expr => this.raw.i16x8.bitmask(a);
  /** `i16x8.splat` */ splatI16 = (x: Expr): Expr => this.raw.i16x8.splat(x);
  /** `i32x4.sub` */ subI32x4 = (a: Expr, b: Expr): Expr => this.raw.i32x4.sub(a, b);
  /** `i32x4.add` */ addI32x4 = (a: Expr, b: Expr): Expr => this.raw.i32x4.add(a, b);
  /** `i32x4.mul` */ mulI32x4 = (a: Expr, b: Expr): Expr => this.raw.i32x4.mul(a, b);
  /** `i32x4.shr_u` */ shrUI32x4 = (a: Expr, bits: number): Expr => this.raw.i32x4.shr_u(a, this.raw.i32.const(bits));
  /** `i32x4.dot_i16x8_s`: lane i = a[2i]·b[2i] + a[2i+1]·b[2i+1] */ dotI16x8 = (a: Expr, b: Expr): Expr => this.raw.i32x4.dot_i16x8_s(a, b);
  /** `i32x4.extend_low_i16x8_u` */ extendLowU16 = (a: Expr): Expr => this.raw.i32x4.extend_low_i16x8_u(a);
  /** `i16x8.narrow_i32x4_s` */ narrowI32x4 = (a: Expr, b: Expr): Expr => this.raw.i16x8.narrow_i32x4_s(a, b);
  /** `i8x16.narrow_i16x8_u` */ narrowU8x16 = (a: Expr, b: Expr): Expr => this.raw.i8x16.narrow_i16x8_u(a, b);
  /** `i16x8.extend_low_i8x16_u` */ extendLowU8 = (a: Expr): Expr => this.raw.i16x8.extend_low_i8x16_u(a);
  /** `i32.store8` */ storeI8 = (ptr: Expr, value: Expr, offset = 0): Expr => this.raw.i32.store8(offset, 1, ptr, value);
  /** `f32x4.convert_i32x4_s` */ convertI32x4 = (a: Expr): Expr => this.raw.f32x4.convert_i32x4_s(a);
  /** `v128.and` */ and = (a: Expr, b: Expr): Expr => this.raw.v128.and(a, b);
  /** `v128.or` */ or = (a: Expr, b: Expr): Expr => this.raw.v128.or(a, b);
  /** `v128.bitselect` */ bitselect = (a: Expr, b: Expr, mask: Expr): Expr => this.raw.v128.bitselect(a, b, mask);
  /** `i32x4.shl` */ shlI32x4 = (a: Expr, bits: number): Expr => this.raw.i32x4.shl(a, this.raw.i32.const(bits));
  /** `i32x4.gt_s` */ gtI32x4 = (a: Expr, b: Expr): Expr => this.raw.i32x4.gt_s(a, b);
  /** `f32x4.splat` */ splat = (x: Expr): Expr => this.raw.f32x4.splat(x);
  /** `f32x4.add` */ addX4 = (a: Expr, b: Expr): Expr => this.raw.f32x4.add(a, b);
  /** `f32x4.mul` */ mulX4 = (a: Expr, b: Expr): Expr => this.raw.f32x4.mul(a, b);
  /** `f32x4.div` */ divX4 = (a: Expr, b: Expr): Expr => this.raw.f32x4.div(a, b);
  /** `f32x4.max` */ maxX4 = (a: Expr, b: Expr): Expr => this.raw.f32x4.max(a, b);
  /** `f32x4.eq` (all-ones lanes where equal; false for NaN) */ eqX4 = (a: Expr, b: Expr): Expr => this.raw.f32x4.eq(a, b);
  /** `f32x4.pmin`: b < a ? b : a (a NaN in `a` stays) */ pminX4 = (a: Expr, b: Expr): Expr => this.raw.f32x4.pmin(a, b);
  /** `f32x4.pmax`: a < b ? b : a (a NaN in `a` stays) */ pmaxX4 = (a: Expr, b: Expr): Expr => this.raw.f32x4.pmax(a, b);
  // binaryen.js wraps no relaxed-SIMD ops: they are built through its C API (BinaryenSIMDTernary).
  /** `f32x4.relaxed_madd`: a·b + c, fused (one rounding) or not, as the engine chooses; relaxed modules only */ relaxedMaddX4 = (
    a: Expr,
    b: Expr,
    c: Expr,
  ): Expr => this.ternary(binaryen.RelaxedMaddVecF32x4, a, b, c);
  /**
   * `i32x4.relaxed_dot_i8x16_i7x16_add_s`: lane i = c[i] + Σ_{k<4} a[4i+k]·b[4i+k],
   * a signed bytes, b bytes that must lie in 0..127 (then every engine gives
   * the exact sum); relaxed modules only.
   */
  relaxedDotI8I7Add = (a: Expr, b: Expr, c: Expr): Expr => this.ternary(binaryen.RelaxedDotI8x16I7x16AddSToVecI32x4, a, b, c);
  /**
   * `i32x4.relaxed_laneselect`: per lane, a where `mask` is all ones and b where it is all zeros (as
   * `v128.bitselect`; other masks are engine-defined, so give it a comparison's result); relaxed modules only.
   */
  relaxedLaneselectI32x4 = (a: Expr, b: Expr, mask: Expr): Expr => this.ternary(binaryen.RelaxedLaneselectI32x4, a, b, mask);
  private ternary(op: number, a: Expr, b: Expr, c: Expr): Expr {
    if (!this.relaxed) throw new Error("internal: a relaxed-SIMD instruction in a module without the relaxed-simd feature");
    return (binaryen as unknown as CApi)._BinaryenSIMDTernary(this.raw.ptr, op, a, b, c);
  }
  /** `f32x4.extract_lane` */ lane = (v: Expr, i: number): Expr => this.raw.f32x4.extract_lane(v, i);

  // ---- control ----
  /** `block` */ block = (body: Expr[], label: string | null = null): Expr => this.raw.block(label, body);
  /** `loop` */ loop = (label: string, body: Expr): Expr => this.raw.loop(label, body);
  /** `br` / `br_if` */ br = (label: string, cond?: Expr): Expr => this.raw.br(label, cond);
  /** `if` */ if = (cond: Expr, then: Expr, otherwise?: Expr): Expr => this.raw.if(cond, then, otherwise);
  /** `call` of a function returning nothing */ call = (name: string, args: Expr[]): Expr => this.raw.call(name, args, binaryen.none);
  /** `call` of an imported `(f32) -> f32` */ callF32 = (name: string, x: Expr): Expr => this.raw.call(name, [x], binaryen.f32);
  /** `memory.copy` */ copy = (dst: Expr, src: Expr, bytes: Expr): Expr => this.raw.memory.copy(dst, src, bytes);
  /** `memory.fill` */ fill = (dst: Expr, byte: Expr, bytes: Expr): Expr => this.raw.memory.fill(dst, byte, bytes);
  /** `nop` */ nop = (): Expr => this.raw.nop();
}
