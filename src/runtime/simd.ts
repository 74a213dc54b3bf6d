/**
 * A few loops as WebAssembly SIMD code of our own, running on the wasm
 * backend's memory (the module imports the backend's `WebAssembly.Memory`,
 * so it reads and writes tensors in place). Used where a JavaScript loop is
 * the bottleneck because it handles one float at a time: the Adam step over
 * millions of parameters (kernels-fused.ts).
 *
 * The module is assembled here, byte by byte, from the WebAssembly binary
 * format (no toolchain, no binary file in the package): a type, an imported
 * memory, one function per loop, their exports, their code. Each function
 * processes four floats per iteration; callers handle the `n mod 4` tail.
 */

/** A `WebAssembly.Memory` (typed structurally: the library type-checks against ES2022 without the DOM's or Node's WebAssembly types). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** The part of the WebAssembly JavaScript API used here. */
interface WebAssemblyApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array<ArrayBuffer>) => object;
  Instance: new (module: object, imports: object) => { exports: object };
  validate(bytes: Uint8Array<ArrayBuffer>): boolean;
}

/** The global WebAssembly API, where there is one. */
export function webAssembly(): WebAssemblyApi | undefined {
  // Cast: every runtime we support has the WebAssembly global, but the ES2022 lib does not declare it.
  return (globalThis as unknown as { WebAssembly?: WebAssemblyApi }).WebAssembly;
}

/** Opcodes used below (WebAssembly core and SIMD proposals). */
const op = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  localGet: 0x20,
  localSet: 0x21,
  f32Load: 0x2a,
  f32Store: 0x38,
  i32Const: 0x41,
  f32Const: 0x43,
  f32Add: 0x92,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Mul: 0x6c,
  i32Shl: 0x74,
  simd: 0xfd,
} as const;
/** SIMD sub-opcodes (after the 0xfd prefix, as unsigned LEB128). */
const simd = {
  load: 0, store: 11, i32x4Splat: 17, f32x4Splat: 19, f32x4ExtractLane: 31, f32x4Gt: 68, v128And: 78, f32x4Nearest: 106,
  i32x4Shl: 171, i32x4Add: 174, f32x4Sqrt: 227, f32x4Add: 228, f32x4Sub: 229, f32x4Mul: 230, f32x4Div: 231, f32x4Min: 232, f32x4Max: 233,
  i32x4TruncSatF32x4S: 248,
} as const;
const type = { i32: 0x7f, f32: 0x7d, v128: 0x7b, func: 0x60, void: 0x40 } as const;

function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value;
  do {
    const low = v & 0x7f;
    v >>>= 7;
    out.push(v !== 0 ? low | 0x80 : low);
  } while (v !== 0);
  return out;
}

/** A non-negative i32 constant as signed LEB128 (a set bit 6 in the last byte would read as negative). */
function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value;
  for (;;) {
    const low = v & 0x7f;
    v >>>= 7;
    if (v === 0 && (low & 0x40) === 0) return [...out, low];
    out.push(low | 0x80);
  }
}

const vec = (items: readonly number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: readonly number[]) => [id, ...uleb(body.length), ...body];
const name = (s: string) => vec([...s].map((c) => [c.charCodeAt(0)]));
const get = (index: number) => [op.localGet, ...uleb(index)];
const set = (index: number) => [op.localSet, ...uleb(index)];
const i32 = (value: number) => [op.i32Const, ...sleb(value)];
const simdOp = (code: number) => [op.simd, ...uleb(code)];
/** memarg: 4-byte alignment hint (tensors are at least that aligned), offset 0. */
const load = [...simdOp(simd.load), 2, 0];
const store = [...simdOp(simd.store), 2, 0];
const add = (a: number, b: number) => [...get(a), ...get(b), op.i32Add];

/** `for (counter = 0; counter < end; counter += step) body` (end and step in bytes or elements, as the caller counts). */
function forLoop(counter: number, end: number, step: number, body: readonly number[]): number[] {
  return [
    ...i32(0), ...set(counter),
    op.block, type.void, op.loop, type.void,
    ...get(counter), ...get(end), op.i32GeU, op.brIf, 1,
    ...body,
    ...get(counter), ...i32(step), op.i32Add, ...set(counter),
    op.br, 0,
    op.end, op.end,
  ];
}

/** One function of the module: parameter types, extra locals, code. */
interface Fn {
  readonly name: string;
  readonly params: readonly number[];
  readonly locals: readonly [count: number, type: number][];
  readonly code: readonly number[];
}

/**
 * The Adam step of kernels-fused.ts, four parameters at a time:
 * `adam(w, g, m, v, wOut, mOut, vOut, n, β1, β2, 1 − β1, 1 − β2, lr / c1, c2, ε)`
 * with byte addresses and `n` a multiple of 4:
 *
 *     m' = β1 m + (1 − β1) g,   v' = β2 v + (1 − β2) g²,
 *     w' = w − (lr / c1) m' / (√(v' / c2) + ε)
 */
function adamFunction(): Fn {
  // Parameters 0–7 are i32 (seven addresses and n), 8–14 f32. Locals: 15 i (byte offset), 16 end, 17–23 the
  // splatted constants, 24 g, 25 m', 26 v'.
  const params = [...Array(8).fill(type.i32), ...Array(7).fill(type.f32)];
  const [i, end, g, m2, v2] = [15, 16, 24, 25, 26];
  const constant = (k: number) => 17 + k;
  const at = (pointer: number) => add(pointer, i);
  const body = [
    ...at(1), ...load, ...set(g),
    // m' = β1 m + (1 − β1) g
    ...get(constant(0)), ...at(2), ...load, ...simdOp(simd.f32x4Mul), ...get(constant(2)), ...get(g), ...simdOp(simd.f32x4Mul), ...simdOp(simd.f32x4Add), ...set(m2),
    // v' = β2 v + (1 − β2) g g
    ...get(constant(1)), ...at(3), ...load, ...simdOp(simd.f32x4Mul), ...get(constant(3)), ...get(g), ...simdOp(simd.f32x4Mul), ...get(g), ...simdOp(simd.f32x4Mul), ...simdOp(simd.f32x4Add), ...set(v2),
    ...at(5), ...get(m2), ...store,
    ...at(6), ...get(v2), ...store,
    // w' = w − step m' / (√(v' / c2) + ε)
    ...at(4),
    ...at(0), ...load,
    ...get(constant(4)), ...get(m2), ...simdOp(simd.f32x4Mul),
    ...get(v2), ...get(constant(5)), ...simdOp(simd.f32x4Div), ...simdOp(simd.f32x4Sqrt), ...get(constant(6)), ...simdOp(simd.f32x4Add),
    ...simdOp(simd.f32x4Div),
    ...simdOp(simd.f32x4Sub),
    ...store,
  ];
  const code = [
    ...[0, 1, 2, 3, 4, 5, 6].flatMap((k) => [...get(8 + k), ...simdOp(simd.f32x4Splat), ...set(constant(k))]),
    ...get(7), ...i32(2), op.i32Shl, ...set(end),
    ...forLoop(i, end, 16, body),
  ];
  return { name: 'adam', params, locals: [[2, type.i32], [10, type.v128]], code };
}

/**
 * The gradient through a ReLU, in place, with the bias gradient:
 * `reluMask(d, h, bias, rows, width)` sets `d[r, j] = 0` where `h[r, j] ≤ 0`
 * and adds `Σ_r d[r, j]` to `bias[j]`; byte addresses, `width` a multiple of 4.
 */
function reluMaskFunction(): Fn {
  // Parameters 0 d, 1 h, 2 bias, 3 rows, 4 width. Locals: 5 p (byte offset of the row), 6 j (byte offset in the
  // row), 7 end (bytes of d), 8 rowBytes, 9 v, 10 zero.
  const [p, j, end, rowBytes, v, zero] = [5, 6, 7, 8, 9, 10];
  const at = (pointer: number) => [...get(pointer), ...get(p), op.i32Add, ...get(j), op.i32Add];
  const inner = [
    // v = d & (h > 0)
    ...at(0), ...load, ...at(1), ...load, ...get(zero), ...simdOp(simd.f32x4Gt), ...simdOp(simd.v128And), ...set(v),
    ...at(0), ...get(v), ...store,
    ...add(2, j), ...add(2, j), ...load, ...get(v), ...simdOp(simd.f32x4Add), ...store,
  ];
  const code = [
    op.f32Const, 0, 0, 0, 0, ...simdOp(simd.f32x4Splat), ...set(zero),
    ...get(4), ...i32(2), op.i32Shl, ...set(rowBytes),
    ...get(3), ...get(rowBytes), op.i32Mul, ...set(end),
    ...forLoop(p, end, 0, [...forLoop(j, rowBytes, 16, inner), ...get(p), ...get(rowBytes), op.i32Add, ...set(p)]),
  ];
  return { name: 'reluMask', params: Array(5).fill(type.i32), locals: [[4, type.i32], [2, type.v128]], code };
}

/**
 * A weight gradient with a narrow first factor:
 * `rowsOuter(a, m, b, n, rows, out)` adds `Σ_r a[r, i] · b[r, :]` to
 * `out[i, :]` for each of the `m` columns of `a` (`out = aᵀ · b`, `[m, n]`);
 * byte addresses, `n` a multiple of 4.
 */
function rowsOuterFunction(): Fn {
  // Parameters 0 a, 1 m, 2 b, 3 n, 4 rows, 5 out. Locals: 6 r, 7 i, 8 jb (byte offset in a row), 9 rowBytes (n·4),
  // 10 aRow (byte address of a[r, 0]), 11 bRow, 12 oRow, 13 s (splat of a[r, i]).
  const [r, i, jb, rowBytes, aRow, bRow, oRow, sv] = [6, 7, 8, 9, 10, 11, 12, 13];
  const inner = [...add(oRow, jb), ...add(oRow, jb), ...load, ...get(sv), ...add(bRow, jb), ...load, ...simdOp(simd.f32x4Mul), ...simdOp(simd.f32x4Add), ...store];
  const overColumns = [
    // s = a[r, i]; oRow = out + i·rowBytes
    ...get(aRow), ...get(i), ...i32(2), op.i32Shl, op.i32Add, op.f32Load, 2, 0, ...simdOp(simd.f32x4Splat), ...set(sv),
    ...get(5), ...get(i), ...get(rowBytes), op.i32Mul, op.i32Add, ...set(oRow),
    ...forLoop(jb, rowBytes, 16, inner),
  ];
  const overRows = [
    ...get(0), ...get(r), ...get(1), op.i32Mul, ...i32(2), op.i32Shl, op.i32Add, ...set(aRow),
    ...get(2), ...get(r), ...get(rowBytes), op.i32Mul, op.i32Add, ...set(bRow),
    ...forLoop(i, 1, 1, overColumns),
  ];
  const code = [...get(3), ...i32(2), op.i32Shl, ...set(rowBytes), ...forLoop(r, 4, 1, overRows)];
  return { name: 'rowsOuter', params: Array(6).fill(type.i32), locals: [[7, type.i32], [1, type.v128]], code };
}

/** An f32 constant's four little-endian bytes. */
function f32Bytes(value: number): number[] {
  return [...new Uint8Array(new Float32Array([value]).buffer)];
}

/** `splat(value)` into a v128 local. */
const splatConst = (value: number, local: number) => [op.f32Const, ...f32Bytes(value), ...simdOp(simd.f32x4Splat), ...set(local)];

/** Locals the exp sequence needs: five v128 constants (splatted once) and one scratch. */
interface ExpLocals {
  readonly hi: number;
  readonly lo: number;
  readonly log2e: number;
  readonly ln2: number;
  readonly poly: readonly number[];
  readonly n: number;
}

/** The constants of {@link expOf}, splatted into their locals. */
function expSetup(l: ExpLocals): number[] {
  return [
    ...splatConst(88, l.hi), ...splatConst(-87, l.lo), ...splatConst(Math.LOG2E, l.log2e), ...splatConst(Math.LN2, l.ln2),
    ...[1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1].flatMap((c, k) => splatConst(c, l.poly[k])),
  ];
}

/**
 * `exp` of the v128 on the stack, four lanes at a time, left on the stack:
 * `x` clamped to [−87, 88], `n = nearest(x·log2 e)`, `r = x − n·ln 2`
 * (|r| ≤ ln 2 / 2), `exp(x) = 2^n · P(r)` with `P` the degree-6 Taylor
 * polynomial (relative error about 2e-7), `2^n` built from its exponent bits.
 */
function expOf(l: ExpLocals, x: number): number[] {
  return [
    // x ← clamp(x); n ← nearest(x · log2 e)
    ...set(x), ...get(x), ...get(l.hi), ...simdOp(simd.f32x4Min), ...get(l.lo), ...simdOp(simd.f32x4Max), ...set(x),
    ...get(x), ...get(l.log2e), ...simdOp(simd.f32x4Mul), ...simdOp(simd.f32x4Nearest), ...set(l.n),
    // x ← r = x − n · ln 2
    ...get(x), ...get(l.n), ...get(l.ln2), ...simdOp(simd.f32x4Mul), ...simdOp(simd.f32x4Sub), ...set(x),
    // P(r) by Horner: ((((c6 r + c5) r + c4) r + c3) r + c2) r + 1) r + 1
    ...get(l.poly[0]),
    ...[1, 2, 3, 4, 5, 6].flatMap((k) => [...get(x), ...simdOp(simd.f32x4Mul), ...get(l.poly[k]), ...simdOp(simd.f32x4Add)]),
    // × 2^n: (n + 127) << 23 as float bits
    ...get(l.n), ...simdOp(simd.i32x4TruncSatF32x4S), ...i32(127), ...simdOp(simd.i32x4Splat), ...simdOp(simd.i32x4Add), ...i32(23), ...simdOp(simd.i32x4Shl),
    ...simdOp(simd.f32x4Mul),
  ];
}

/**
 * AllInOneBlock's coupling, forward, four channels at a time:
 * `coupling(a, x, th, e, o, sums, rows, len1, len2, channels, clamp)` reads
 * the subnet's output `a [rows, 2·len2]` and the input `x [rows, channels]`
 * and writes, for the active half (`len2` a multiple of 4),
 *
 *     th = tanh(0.1 a_s / clamp) = 1 − 2 / (exp(0.2 a_s / clamp) + 1),
 *     e = exp(clamp · th),   o = x2 · e + 0.1 a_t     (each [rows, len2]),
 *
 * and each row's Σ clamp · th into `sums [rows]`. Byte addresses.
 */
function couplingFunction(): Fn {
  // Parameters 0 a, 1 x, 2 th, 3 e, 4 o, 5 sums, 6 rows, 7 len1, 8 len2, 9 channels (i32), 10 clamp (f32).
  // Locals (i32) 11 r, 12 j, 13 aRow, 14 xRow, 15 oRow, 16 half (len2·4); (v128) 17 acc, 18 v, 19 th,
  // 20 scaleIn (0.2/clamp), 21 clampV, 22 one, 23 two, 24 tenth, 25–29 exp's hi, lo, log2e, ln2, n, 30–36 its
  // polynomial, 37 exp's scratch.
  const [r, j, aRow, xRow, oRow, half, acc, v, th, scaleIn, clampV, one, two, tenth] = [11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24];
  const e: ExpLocals = { hi: 25, lo: 26, log2e: 27, ln2: 28, n: 29, poly: [30, 31, 32, 33, 34, 35, 36] };
  const scratch = 37;
  const lane = (k: number) => [...get(acc), ...simdOp(simd.f32x4ExtractLane), k];
  const inner = [
    // th = 1 − 2 / (exp(0.2 a_s / clamp) + 1)
    ...add(aRow, j), ...load, ...get(scaleIn), ...simdOp(simd.f32x4Mul), ...expOf(e, scratch),
    ...get(one), ...simdOp(simd.f32x4Add), ...set(v), ...get(one), ...get(two), ...get(v), ...simdOp(simd.f32x4Div), ...simdOp(simd.f32x4Sub), ...set(th),
    ...add(2, oRow), ...get(j), op.i32Add, ...get(th), ...store,
    // s = clamp · th; acc += s; e = exp(s)
    ...get(th), ...get(clampV), ...simdOp(simd.f32x4Mul), ...set(v),
    ...get(acc), ...get(v), ...simdOp(simd.f32x4Add), ...set(acc),
    ...get(v), ...expOf(e, scratch), ...set(v),
    ...add(3, oRow), ...get(j), op.i32Add, ...get(v), ...store,
    // o = x2 · e + 0.1 a_t
    ...add(4, oRow), ...get(j), op.i32Add,
    ...add(xRow, j), ...load, ...get(v), ...simdOp(simd.f32x4Mul),
    ...add(aRow, half), ...get(j), op.i32Add, ...load, ...get(tenth), ...simdOp(simd.f32x4Mul), ...simdOp(simd.f32x4Add),
    ...store,
  ];
  const overRows = [
    // aRow = a + r · 2 · half; xRow = x + (r · channels + len1) · 4; oRow = r · half
    ...get(0), ...get(r), ...get(half), op.i32Mul, ...i32(1), op.i32Shl, op.i32Add, ...set(aRow),
    ...get(1), ...get(r), ...get(9), op.i32Mul, ...get(7), op.i32Add, ...i32(2), op.i32Shl, op.i32Add, ...set(xRow),
    ...get(r), ...get(half), op.i32Mul, ...set(oRow),
    op.f32Const, 0, 0, 0, 0, ...simdOp(simd.f32x4Splat), ...set(acc),
    ...forLoop(j, half, 16, inner),
    // sums[r] = the four lanes of acc
    ...get(5), ...get(r), ...i32(2), op.i32Shl, op.i32Add,
    ...lane(0), ...lane(1), op.f32Add, ...lane(2), op.f32Add, ...lane(3), op.f32Add,
    op.f32Store, 2, 0,
  ];
  const code = [
    ...get(8), ...i32(2), op.i32Shl, ...set(half),
    ...get(10), ...simdOp(simd.f32x4Splat), ...set(clampV),
    op.f32Const, ...f32Bytes(0.2), ...simdOp(simd.f32x4Splat), ...get(clampV), ...simdOp(simd.f32x4Div), ...set(scaleIn),
    ...splatConst(1, one), ...splatConst(2, two), ...splatConst(0.1, tenth),
    ...expSetup(e),
    ...forLoop(r, 6, 1, overRows),
  ];
  return { name: 'coupling', params: [...Array(10).fill(type.i32), type.f32], locals: [[6, type.i32], [21, type.v128]], code };
}

/**
 * The same coupling, backward, four channels at a time:
 * `couplingGrad(dz, x, th, e, a, dl, scale, dx, da, sums, rows, len1, len2, channels)`
 * with `dz [rows, channels]` the gradient before the global scale,
 * `dl [rows]` each row's log-det gradient, `scale [len2]` the active half's
 * global scale; per active channel (`len2` a multiple of 4):
 *
 *     o = x2 · e + 0.1 a_t,   dOut = dz · scale,   dx2 = dOut · e,
 *     da_s = 0.1 (dOut · x2 · e + dl) (1 − th²),   da_t = 0.1 dOut,
 *
 * writing `dx2` into `dx [rows, channels]` and `da_s, da_t` into
 * `da [rows, 2·len2]`, and adding over rows `Σ dz`, `Σ dz · o`, `Σ da_s`,
 * `Σ da_t` into `sums [4, len2]`. Byte addresses.
 */
function couplingGradFunction(): Fn {
  // Parameters 0 dz, 1 x, 2 th, 3 e, 4 a, 5 dl, 6 scale, 7 dx, 8 da, 9 sums, 10 rows, 11 len1, 12 len2, 13 channels.
  // Locals (i32) 14 r, 15 j, 16 half (len2·4), 17 zRow (byte offset of the active half in dz, x, dx), 18 aRow,
  // 19 eRow; (v128) 20 dzv, 21 ev, 22 x2, 23 dOut, 24 dS, 25 dT, 26 tenth, 27 one, 28 dl, 29 th.
  const [r, j, half, zRow, aRow, eRow, dzv, ev, x2, dOut, dS, dT, tenth, one, dl, thv] = [14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29];
  const at = (pointer: number, row: number) => [...get(pointer), ...get(row), op.i32Add, ...get(j), op.i32Add];
  /** `sums[k, j] += value` for the v128 local `value`. */
  const accumulate = (k: number, value: number[]) => [
    ...get(9), ...get(half), ...i32(k), op.i32Mul, op.i32Add, ...get(j), op.i32Add,
    ...get(9), ...get(half), ...i32(k), op.i32Mul, op.i32Add, ...get(j), op.i32Add, ...load,
    ...value, ...simdOp(simd.f32x4Add), ...store,
  ];
  const inner = [
    ...at(0, zRow), ...load, ...set(dzv),
    ...at(3, eRow), ...load, ...set(ev),
    ...at(1, zRow), ...load, ...set(x2),
    ...at(2, eRow), ...load, ...set(thv),
    // Σ dz, Σ dz · (x2 · e + 0.1 a_t)
    ...accumulate(0, get(dzv)),
    ...accumulate(1, [...get(dzv), ...get(x2), ...get(ev), ...simdOp(simd.f32x4Mul), ...at(4, aRow), ...get(half), op.i32Add, ...load, ...get(tenth), ...simdOp(simd.f32x4Mul), ...simdOp(simd.f32x4Add), ...simdOp(simd.f32x4Mul)]),
    // dOut = dz · scale; dx2 = dOut · e
    ...get(dzv), ...get(6), ...get(j), op.i32Add, ...load, ...simdOp(simd.f32x4Mul), ...set(dOut),
    ...at(7, zRow), ...get(dOut), ...get(ev), ...simdOp(simd.f32x4Mul), ...store,
    // dS = 0.1 (dOut x2 e + dl)(1 − th²); dT = 0.1 dOut
    ...get(dOut), ...get(x2), ...simdOp(simd.f32x4Mul), ...get(ev), ...simdOp(simd.f32x4Mul), ...get(dl), ...simdOp(simd.f32x4Add), ...get(tenth), ...simdOp(simd.f32x4Mul),
    ...get(one), ...get(thv), ...get(thv), ...simdOp(simd.f32x4Mul), ...simdOp(simd.f32x4Sub), ...simdOp(simd.f32x4Mul), ...set(dS),
    ...get(dOut), ...get(tenth), ...simdOp(simd.f32x4Mul), ...set(dT),
    ...at(8, aRow), ...get(dS), ...store,
    ...at(8, aRow), ...get(half), op.i32Add, ...get(dT), ...store,
    ...accumulate(2, get(dS)),
    ...accumulate(3, get(dT)),
  ];
  const overRows = [
    // zRow = (r · channels + len1) · 4; aRow = r · 2 · half; eRow = r · half; dl = splat(dl[r])
    ...get(r), ...get(13), op.i32Mul, ...get(11), op.i32Add, ...i32(2), op.i32Shl, ...set(zRow),
    ...get(r), ...get(half), op.i32Mul, ...i32(1), op.i32Shl, ...set(aRow),
    ...get(r), ...get(half), op.i32Mul, ...set(eRow),
    ...get(5), ...get(r), ...i32(2), op.i32Shl, op.i32Add, op.f32Load, 2, 0, ...simdOp(simd.f32x4Splat), ...set(dl),
    ...forLoop(j, half, 16, inner),
  ];
  const code = [
    ...get(12), ...i32(2), op.i32Shl, ...set(half),
    ...splatConst(0.1, tenth), ...splatConst(1, one),
    ...forLoop(r, 10, 1, overRows),
  ];
  return { name: 'couplingGrad', params: Array(14).fill(type.i32), locals: [[6, type.i32], [10, type.v128]], code };
}

/** The assembled module: every function above; imports `env.memory`. */
function moduleBytes(): Uint8Array<ArrayBuffer> {
  const fns = [adamFunction(), reluMaskFunction(), rowsOuterFunction(), couplingFunction(), couplingGradFunction()];
  const types = vec(fns.map((f) => [type.func, ...vec(f.params.map((p) => [p])), ...vec([])]));
  const imports = vec([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]]);
  const functions = vec(fns.map((_, k) => uleb(k)));
  const exports = vec(fns.map((f, k) => [...name(f.name), 0x00, ...uleb(k)]));
  const bodies = fns.map((f) => {
    const body = [...vec(f.locals.map(([count, t]) => [...uleb(count), t])), ...f.code, op.end];
    return [...uleb(body.length), ...body];
  });
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, functions),
    ...section(7, exports),
    ...section(10, vec(bodies)),
  ]);
}

/** The loops, bound to one memory (byte addresses; see each function above). */
export interface SimdLoops {
  couplingGrad(dz: number, x: number, th: number, e: number, a: number, dl: number, scale: number, dx: number, da: number, sums: number, rows: number, len1: number, len2: number, channels: number): void;
  coupling(a: number, x: number, th: number, e: number, o: number, sums: number, rows: number, len1: number, len2: number, channels: number, clamp: number): void;
  reluMask(d: number, h: number, bias: number, rows: number, width: number): void;
  rowsOuter(a: number, m: number, b: number, n: number, rows: number, out: number): void;
  adam(w: number, g: number, m: number, v: number, wOut: number, mOut: number, vOut: number, n: number, beta1: number, beta2: number, a1: number, a2: number, step: number, c2: number, epsilon: number): void;
}

const instances = new WeakMap<WasmMemory, SimdLoops | null>();

/** The loops on `memory`, or null where WebAssembly SIMD is not available. Instantiated once per memory. */
export function simdLoops(memory: WasmMemory): SimdLoops | null {
  if (!instances.has(memory)) {
    let loops: SimdLoops | null = null;
    const api = webAssembly();
    try {
      const bytes = moduleBytes();
      if (api?.validate(bytes)) {
        const instance = new api.Instance(new api.Module(bytes), { env: { memory } });
        // Cast: the module exports exactly the functions of SimdLoops.
        loops = instance.exports as unknown as SimdLoops;
      }
    } catch {
      loops = null;
    }
    instances.set(memory, loops);
  }
  return instances.get(memory) ?? null;
}
