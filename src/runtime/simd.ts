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
  i32Const: 0x41,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Shl: 0x74,
  simd: 0xfd,
} as const;
/** SIMD sub-opcodes (after the 0xfd prefix, as unsigned LEB128). */
const simd = { load: 0, store: 11, f32x4Splat: 19, f32x4Sqrt: 227, f32x4Add: 228, f32x4Sub: 229, f32x4Mul: 230, f32x4Div: 231 } as const;
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

const vec = (items: readonly number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: readonly number[]) => [id, ...uleb(body.length), ...body];
const name = (s: string) => vec([...s].map((c) => [c.charCodeAt(0)]));
const get = (index: number) => [op.localGet, ...uleb(index)];
const set = (index: number) => [op.localSet, ...uleb(index)];
const simdOp = (code: number) => [op.simd, ...uleb(code)];
/** memarg: 4-byte alignment hint (tensors are at least that aligned), offset 0. */
const load = [...simdOp(simd.load), 2, 0];
const store = [...simdOp(simd.store), 2, 0];

/**
 * The Adam step of kernels-fused.ts, four parameters at a time:
 * `adam(w, g, m, v, wOut, mOut, vOut, n, β1, β2, 1 − β1, 1 − β2, lr / c1, c2, ε)`
 * with byte addresses and `n` a multiple of 4:
 *
 *     m' = β1 m + (1 − β1) g,   v' = β2 v + (1 − β2) g²,
 *     w' = w − (lr / c1) m' / (√(v' / c2) + ε)
 */
function adamFunction(): { params: number[]; body: number[] } {
  // Parameters 0–7 are i32 (seven addresses and n), 8–14 f32. Locals: 15 i (byte offset), 16 end, 17–23 the
  // splatted constants, 24 g, 25 m', 26 v'.
  const params = [...Array(8).fill(type.i32), ...Array(7).fill(type.f32)];
  const [i, end, g, m2, v2] = [15, 16, 24, 25, 26];
  const constant = (k: number) => 17 + k;
  const at = (pointer: number) => [...get(pointer), ...get(i), op.i32Add];
  const code = [
    ...[0, 1, 2, 3, 4, 5, 6].flatMap((k) => [...get(8 + k), ...simdOp(simd.f32x4Splat), ...set(constant(k))]),
    ...get(7), op.i32Const, 2, op.i32Shl, ...set(end),
    op.i32Const, 0, ...set(i),
    op.block, type.void, op.loop, type.void,
    ...get(i), ...get(end), op.i32GeU, op.brIf, 1,
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
    ...get(i), op.i32Const, 16, op.i32Add, ...set(i),
    op.br, 0,
    op.end, op.end,
  ];
  const locals = vec([[...uleb(2), type.i32], [...uleb(10), type.v128]]);
  return { params, body: [...locals, ...code, op.end] };
}

/** The assembled module: `adam` as above; imports `env.memory`. */
function moduleBytes(): Uint8Array<ArrayBuffer> {
  const adam = adamFunction();
  const types = vec([[type.func, ...vec(adam.params.map((p) => [p])), ...vec([])]]);
  const imports = vec([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]]);
  const functions = vec([uleb(0)]);
  const exports = vec([[...name('adam'), 0x00, ...uleb(0)]]);
  const code = vec([[...uleb(adam.body.length), ...adam.body]]);
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, functions),
    ...section(7, exports),
    ...section(10, code),
  ]);
}

/** The loops, bound to one memory. */
export interface SimdLoops {
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
